"""Lambda entry point of the document processor (``document_processor.index.handler``).

An SQS batch handler with partial failures: each message is one S3 object-created event (or a
classic notification with records). Messages that can never succeed (malformed, test events,
unknown documents, keys outside ``documents/``) are logged, counted and dropped; with
``REGISTER_UPLOADS=true`` (a pipeline without an API) each new key under ``documents/`` is
registered from its event instead (see :func:`.workflow.handle_object`); AWS errors
raise, so the message is retried and, after ``maxReceiveCount``, dead-lettered.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config as BotoConfig
from botocore.session import get_session

from .aws import DocumentStore
from .batches import SQS, partial_batch_response, reportable_records
from .config import Config
from .events import Skipped, parse_message
from .states import utc_now
from .tracing import xray_tracer
from .workflow import Outcome, handle_object

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "document-processor"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ServerlessPatterns/Documents"

logger: Logger = Logger(service=SERVICE)
tracer: Tracer = xray_tracer(service=SERVICE)
metrics: Metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

METRIC_OF = {
    Outcome.PROCESSED: "DocumentsProcessed",
    Outcome.REJECTED: "DocumentsRejected",
    Outcome.AWAITING_VALIDATOR: "DocumentsToValidators",
    Outcome.ALREADY_HANDLED: "DuplicateEvents",
    Outcome.UNKNOWN_DOCUMENT: "EventsDropped",
    Outcome.FOREIGN_OBJECT: "EventsDropped",
}


@cache
def clients() -> tuple[Any, Any]:
    """The S3 and DynamoDB clients, made once per execution environment.

    Plain botocore: boto3 would add only import time.
    """
    session = get_session()
    settings = BotoConfig(retries={"mode": "standard"})
    return session.create_client("s3", config=settings), session.create_client(
        "dynamodb", config=settings
    )


def store() -> tuple[Config, DocumentStore]:
    config = Config.from_env()
    s3, dynamodb = clients()
    return config, DocumentStore(s3=s3, dynamodb=dynamodb, bucket=config.bucket, table=config.table)


def record_handler(record: dict[str, Any]) -> None:
    """Handle every event in one message; raising marks the message failed (retried)."""
    config, documents = store()
    message_id = record["messageId"]
    for event in parse_message(record["body"]):
        if isinstance(event, Skipped):
            log = logger.warning if event.malformed else logger.info
            log("message skipped", extra={"message_id": message_id, "reason": event.reason})
            metrics.add_metric(
                name="EventsDropped" if event.malformed else "EventsIgnored",
                unit=MetricUnit.Count,
                value=1,
            )
            continue
        result = handle_object(
            documents,
            config.bucket,
            event,
            now=utc_now(),
            accepted_status=config.accepted_status,
            validator_types=config.validator_types,
            registration=config.registration,
        )
        details = {
            "message_id": message_id,
            "key": event.key,
            "document_id": result.document_id,
        }
        log = logger.warning if result.outcome.dropped else logger.info
        log(f"document {result.outcome.value}", extra={**details, "reason": result.reason})
        metrics.add_metric(name=METRIC_OF[result.outcome], unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS batch handler; answers ``{"batchItemFailures": [...]}`` for the messages to retry.

    Records without a ``messageId`` cannot be reported for a retry: they are logged and dropped,
    and the others are processed.
    """
    records, unusable = reportable_records(event, SQS)
    if unusable or not isinstance(event, dict) or not isinstance(event.get("Records"), list):
        logger.error(
            "not an SQS batch, or records without a messageId",
            extra={"unusable_records": unusable},
        )
        metrics.add_metric(name="EventsDropped", unit=MetricUnit.Count, value=max(unusable, 1))
    if not records:
        return {"batchItemFailures": []}
    return partial_batch_response(records, record_handler, SQS)
