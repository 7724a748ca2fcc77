"""Usage of SecureSecret, included in the docs and synthesized by the tests."""

from aws_cdk import Duration, Stack

from serverless_patterns.alert_topic import AlertTopic
from serverless_patterns.alerting_function import AlertingFunction
from serverless_patterns.handlers import handler_code, handler_entry
from serverless_patterns.secure_secret import SecureSecret


def build(stack: Stack) -> SecureSecret:
    alerts = AlertTopic(stack, "Alerts")

    # Defaults: 64 generated letters and digits (never in code or in the template), a
    # customer-managed key, and rotation every 30 days by the built-in rotation function.
    signing_key = SecureSecret(
        stack,
        "SigningKey",
        description="Signs the API's continuation tokens",
        rotation_schedule=Duration.days(7),
        alert_topic=alerts,  # the rotation function's alarms
    )

    # The function finds the ARN (never the value) in SIGNING_KEY_ARN and may read the value.
    AlertingFunction(
        stack,
        "Api",
        code=handler_code("example_echo"),
        handler=handler_entry("example_echo"),
        secrets={"SIGNING_KEY": signing_key.secret},
        alert_topic=alerts,
    )

    # A value another system issued (here: pasted in by an operator) is not rotated by a generator.
    SecureSecret(
        stack,
        "PartnerToken",
        rotation_opt_out_reason="Issued by the partner, who rotates it yearly; replaced by the on-call runbook.",
    )
    return signing_key
