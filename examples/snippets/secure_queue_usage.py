"""Usage of SecureQueue, included in the docs and synthesized by the tests."""

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_

from serverless_patterns.alert_topic import AlertTopic
from serverless_patterns.alerting_function import AlertingFunction, Invocation
from serverless_patterns.secure_bucket import SecureBucket
from serverless_patterns.secure_queue import SecureQueue


def build(stack: Stack) -> SecureQueue:
    alerts = AlertTopic(stack, "Alerts", emails=["oncall@example.com"])

    # Defaults: a customer-managed key for both queues, TLS only, 3 receives then the dead-letter
    # queue (kept 14 days), alarms on dead-letter messages and on messages older than an hour.
    uploads = SecureQueue(
        stack,
        "Uploads",
        visibility_timeout=Duration.minutes(3),  # six times the consumer's 30-second timeout
        alarm_topic=alerts,
    )

    # EventBridge delivers the bucket's object-created events; failed deliveries also go to the
    # dead-letter queue. Only this rule may send (aws:SourceArn in the queue policy).
    bucket = SecureBucket(stack, "Inbox", event_bridge_enabled=True)
    events.Rule(
        stack,
        "ObjectCreated",
        event_pattern=events.EventPattern(
            source=["aws.s3"], detail_type=["Object Created"], detail={"bucket": {"name": [bucket.bucket_name]}}
        ),
        targets=[uploads.rule_target()],
    )

    # A Lambda consumer with partial batch failures; its role gets exact SQS and KMS actions.
    worker = AlertingFunction(
        stack,
        "Worker",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {'batchItemFailures': []}\n"),
        handler="index.handler",
        timeout=Duration.seconds(30),
        # Fed only by the queue's event source mapping: failed messages follow the queue's
        # redrive policy, so the function gets no dead-letter queue of its own.
        invocation=Invocation.EVENT_SOURCE,
        alert_topic=alerts,
    )
    worker.add_sqs_source(uploads.queue)
    return uploads
