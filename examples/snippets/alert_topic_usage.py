"""Usage of AlertTopic, included in the docs and synthesized by the tests."""

from aws_cdk import CfnParameter, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch

from serverless_patterns.alert_topic import AlertTopic


def build(stack: Stack) -> AlertTopic:
    # The address comes from a CloudFormation parameter, so one template serves every team.
    alert_email = CfnParameter(stack, "AlertEmail", type="String", description="Who receives alarms")

    # KMS-encrypted with a customer-managed key, TLS-only, publishable by CloudWatch alarms of
    # this account; undeliverable alerts are kept in a dead-letter queue for 14 days.
    alerts = AlertTopic(stack, "Alerts", emails=[alert_email.value_as_string], display_name="Ops alerts")

    # Any alarm can notify the topic, when it fires and when it recovers.
    queue_age = cloudwatch.Metric(
        namespace="AWS/SQS",
        metric_name="ApproximateAgeOfOldestMessage",
        dimensions_map={"QueueName": "orders"},
        statistic="Maximum",
        period=Duration.minutes(5),
    )
    alarm = queue_age.create_alarm(stack, "OrdersBacklog", threshold=600, evaluation_periods=1)
    alerts.add_alarm(alarm)
    return alerts
