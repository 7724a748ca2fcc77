"""Lambda entry point of the object metadata writer (``object_metadata_writer.index.handler``).

An SQS batch handler with partial batch failures. Each message is an EventBridge ``Object
Created`` event or an S3 event notification; ``s3:TestEvent`` and other event types are logged and
dropped. A malformed message is logged with its reason and reported as a failed item, so after
the queue's ``maxReceiveCount`` it lands in the dead-letter queue (whose alarm fires) instead of
being lost. AWS errors are reported the same way and retried. The handler never raises.

Environment: ``TABLE_NAME`` (required), ``BUCKET_NAME`` (events of other buckets are refused;
optional).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config

from .batches import SQS, partial_batch_response, reportable_records
from .logic import MalformedMessage, parse_message
from .store import MetadataStore, Outcome

logger: Logger = Logger()
metrics: Metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ServerlessPatterns/ObjectMetadata")

_METRIC_OF = {
    Outcome.RECORDED: "ObjectsRecorded",
    Outcome.RECORDED_OUT_OF_ORDER: "ObjectsRecordedOutOfOrder",
    Outcome.DUPLICATE: "DuplicateEvents",
}


@cache
def store() -> MetadataStore:
    """The S3 client and table, made once per execution environment."""
    config = Config(retries={"mode": "standard"})
    table = boto3.resource("dynamodb", config=config).Table(os.environ["TABLE_NAME"])
    return MetadataStore(table=table, s3=boto3.client("s3", config=config))


def record_handler(record: dict[str, Any]) -> None:
    """Record every object-created event of one message; raise to report the message as failed."""
    message_id = record["messageId"]
    try:
        message = parse_message(record["body"], expected_bucket=os.environ.get("BUCKET_NAME") or None)
    except MalformedMessage as error:
        logger.error("malformed message", extra={"message_id": message_id, "reason": str(error)})
        metrics.add_metric(name="MalformedMessages", unit=MetricUnit.Count, value=1)
        raise
    for reason in message.ignored:
        logger.info("ignored", extra={"message_id": message_id, "reason": reason})
        metrics.add_metric(name="IgnoredEvents", unit=MetricUnit.Count, value=1)
    recorded_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    for event in message.events:
        try:
            outcome = store().record(event, recorded_at=recorded_at)
        except Exception:
            logger.exception("could not record", extra={"message_id": message_id, "key": event.key})
            raise
        logger.info(
            outcome.value,
            extra={"message_id": message_id, "bucket": event.bucket, "key": event.key, "sk": event.version_sk},
        )
        metrics.add_metric(name=_METRIC_OF[outcome], unit=MetricUnit.Count, value=1)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """Process an SQS batch; the answer lists the messages to retry (``batchItemFailures``)."""
    records, unusable = reportable_records(event, SQS)
    if unusable or not isinstance(event, dict) or not isinstance(event.get("Records"), list):
        logger.error("not an SQS batch, or records without a messageId", extra={"unusable_records": unusable})
    if not records:
        return {"batchItemFailures": []}
    return partial_batch_response(records, record_handler, SQS)
