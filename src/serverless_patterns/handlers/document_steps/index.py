"""Lambda entry point of the step coordinator (``document_steps.index.handler``).

A batch handler with partial failures for both of its event sources: the metadata table's
stream (NEW_AND_OLD_IMAGES) and the step-results queue (invocation records). Inputs that can
never be acted on are logged, counted and dropped; AWS errors raise, so the record is retried
(the queue's redrive policy, the stream mapping's retries and on-failure destination).
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config as BotoConfig
from botocore.session import get_session

from . import workflow
from .aws import Documents, FailureQueues, StageStarter
from .batches import DYNAMODB_STREAMS, SQS, partial_batch_response, reportable_records
from .config import Config
from .stages import utc_now
from .stream_images import stream_image
from .tracing import xray_tracer
from .workflow import Outcome, Result

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "document-steps"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ServerlessPatterns/Documents"

logger: Logger = Logger(service=SERVICE)
tracer: Tracer = xray_tracer(service=SERVICE)
metrics: Metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

METRIC_OF = {
    Outcome.INVOKED: "StepsInvoked",
    Outcome.RECORDED: "StepResultsRecorded",
    Outcome.FAILED: "DocumentsFailed",
    Outcome.STALE: "DuplicateEvents",
    Outcome.MALFORMED: "EventsDropped",
}


@cache
def clients() -> tuple[Any, Any, Any]:
    """The DynamoDB, Lambda and SQS clients, made once per execution environment (plain botocore)."""
    session = get_session()
    settings = BotoConfig(retries={"mode": "standard"})
    return tuple(session.create_client(name, config=settings) for name in ("dynamodb", "lambda", "sqs"))  # type: ignore[return-value]


@cache
def stepfunctions_client() -> Any:
    """The Step Functions client, made on the first state-machine step (plain botocore)."""
    return get_session().create_client("stepfunctions", config=BotoConfig(retries={"mode": "standard"}))


def _log(result: Result, **details: Any) -> None:
    if result.outcome is Outcome.IGNORED:
        return
    log = logger.warning if result.outcome in (Outcome.MALFORMED, Outcome.FAILED) else logger.info
    log(f"document {result.outcome.value}", extra={**details, "document_id": result.document_id, "reason": result.reason})
    metrics.add_metric(name=METRIC_OF[result.outcome], unit=MetricUnit.Count, value=1)


def stream_record_handler(record: dict[str, Any]) -> None:
    """Start the document's next stage; raising marks the record failed (retried)."""
    config = Config.from_env()
    dynamodb, lambda_client, _ = clients()
    change = record.get("dynamodb")
    try:
        old, new = (stream_image(change, "OldImage"), stream_image(change, "NewImage")) if change else (None, None)
    except (TypeError, ValueError, LookupError, ArithmeticError, AttributeError):
        _log(Result(Outcome.MALFORMED, reason="the record's images are not DynamoDB attribute values"), event_id=record.get("eventID"))
        return
    starter = StageStarter(lambda_client=lambda_client, stepfunctions=stepfunctions_client)
    result = workflow.advance(config, Documents(dynamodb=dynamodb, table=config.table), starter, old, new, now=utc_now())
    _log(result, event_id=record.get("eventID"))


def queue_record_handler(record: dict[str, Any]) -> None:
    """Record one step's or validator's result; raising marks the message failed (retried)."""
    config = Config.from_env()
    dynamodb, _, sqs = clients()
    try:
        invocation_record = json.loads(record.get("body"))
    except (TypeError, ValueError, RecursionError):
        _log(Result(Outcome.MALFORMED, reason="the message body is not JSON"), message_id=record.get("messageId"))
        return
    result = workflow.record(config, Documents(dynamodb=dynamodb, table=config.table), FailureQueues(sqs=sqs), invocation_record, now=utc_now())
    _log(result, message_id=record.get("messageId"))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answers ``{"batchItemFailures": [...]}`` for the records to retry, for either source."""
    raw = event.get("Records") if isinstance(event, dict) else None
    first = raw[0] if isinstance(raw, list) and raw and isinstance(raw[0], dict) else {}
    from_stream = first.get("eventSource") == "aws:dynamodb"
    records, unusable = reportable_records(event, DYNAMODB_STREAMS if from_stream else SQS)
    if unusable or not isinstance(raw, list):
        logger.error("not a batch, or records without an identifier", extra={"unusable_records": unusable})
        metrics.add_metric(name="EventsDropped", unit=MetricUnit.Count, value=max(unusable, 1))
    if not records:
        return {"batchItemFailures": []}
    if from_stream:
        return partial_batch_response(records, stream_record_handler, DYNAMODB_STREAMS)
    return partial_batch_response(records, queue_record_handler, SQS)
