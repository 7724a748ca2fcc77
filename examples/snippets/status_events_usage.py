"""Usage of DocumentPipeline's status events, included in the docs and synthesized by the tests."""

from aws_cdk import Stack
from aws_cdk import aws_events as events

from serverless_patterns import SecureQueue
from serverless_patterns.document_pipeline import DocumentPipeline


def build(stack: Stack) -> DocumentPipeline:
    # Status events go to the account's default bus unless you name one; the notifier may put
    # events on that bus only (events:PutEvents on exactly its ARN).
    bus = events.EventBus(stack, "DocumentEvents")
    pipeline = DocumentPipeline(stack, "Documents", status_event_bus=bus)

    # Statuses your own code writes to the metadata table are announced once listed here
    # (processing steps list theirs themselves); any other status is dropped by the notifier.
    pipeline.announce_statuses(["REVIEWED", "ARCHIVED"])

    # A rule for this pipeline's events only (their resources name its metadata table), here for
    # two statuses, to a queue of the consumer with a dead-letter queue for undeliverable events.
    review = SecureQueue(stack, "ReviewQueue", alarm_topic=pipeline.alert_topic)
    pipeline.status_events_rule("ToReview", statuses=["REVIEWED", "REJECTED"], targets=[review.rule_target()])

    # Every status, added to later.
    audit = pipeline.status_events_rule("AllStatuses")
    audit.add_target(SecureQueue(stack, "AuditQueue", alarm_topic=pipeline.alert_topic).rule_target())
    return pipeline
