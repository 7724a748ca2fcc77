"""Usage of AlertingFunction, included in the docs and synthesized by the tests."""

from aws_cdk import CfnParameter, Duration, Stack
from aws_cdk import aws_secretsmanager as secretsmanager

from serverless_patterns.alert_topic import AlertTopic
from serverless_patterns.alerting_function import AlarmOptions, AlertingFunction
from serverless_patterns.handlers import handler_code, handler_entry


def build(stack: Stack) -> AlertingFunction:
    alert_email = CfnParameter(stack, "AlertEmail", type="String", description="Who receives alarms")
    # One topic for every function of the stack.
    alerts = AlertTopic(stack, "Alerts", emails=[alert_email.value_as_string])

    # Defaults: Python 3.14 on arm64, 256 MB, 10 s, X-Ray, an encrypted log group kept 30 days,
    # encrypted environment, an encrypted dead-letter queue, alarms on errors, throttles,
    # duration near the timeout and dead-letter messages.
    echo = AlertingFunction(
        stack,
        "Echo",
        code=handler_code("example_echo"),
        handler=handler_entry("example_echo"),
        powertools=True,  # the public Powertools for AWS Lambda (Python) layer of the Region
        alert_topic=alerts,
    )

    # A second function on the same topic, with a secret (its ARN arrives as DB_SECRET_ARN),
    # a longer timeout and tuned alarms: errors only from three on, no throttle alarm.
    db_secret = secretsmanager.Secret.from_secret_name_v2(stack, "DbSecret", "prod/db")
    AlertingFunction(
        stack,
        "Report",
        code=handler_code("example_echo"),
        handler=handler_entry("example_echo"),
        powertools=True,
        timeout=Duration.seconds(60),
        memory_size=1024,
        secrets={"DB_SECRET": db_secret},
        alarms=AlarmOptions(errors=3, throttles=None),
        alert_topic=alerts,
    )
    return echo
