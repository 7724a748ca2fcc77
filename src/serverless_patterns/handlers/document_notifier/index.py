"""Lambda entry point of the document notifier (``document_notifier.index.handler``).

A DynamoDB Streams batch handler (NEW_AND_OLD_IMAGES) with partial failures. A record whose
status changed becomes one status event, published once on the SNS topic and once on the
EventBridge bus. Each channel is its own step in Powertools Idempotency on IDEMPOTENCY_TABLE,
keyed on ``[document_id, status_version]``: SNS first, then EventBridge. A failed step raises, so
the record is retried, and the retry skips the channel that already has the event.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from botocore.config import Config as BotoConfig

from .aws import StatusEventBus, StatusTopic
from .batches import DYNAMODB_STREAMS, partial_batch_response, reportable_records
from .config import Config
from .stream_images import stream_image
from .tracing import xray_tracer
from .transitions import MalformedImage, status_event, table_arn, transition_of

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "document-notifier"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ServerlessPatterns/Documents"
#: Longer than the 24 hours a stream keeps its records, so no replay outlives its record.
IDEMPOTENCY_SECONDS = 48 * 3600

logger: Logger = Logger(service=SERVICE)
tracer: Tracer = xray_tracer(service=SERVICE)
metrics: Metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
idempotency: IdempotencyConfig = IdempotencyConfig(
    event_key_jmespath="[document_id, status_version]",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=IDEMPOTENCY_SECONDS,
)


@cache
def clients() -> tuple[Any, Any, Any]:
    """The SNS, EventBridge and DynamoDB clients, made once per execution environment.

    boto3 here, unlike the other document handlers: the idempotency layer imports it anyway.
    """
    settings = BotoConfig(retries={"mode": "standard"})
    return (
        boto3.client("sns", config=settings),
        boto3.client("events", config=settings),
        boto3.client("dynamodb", config=settings),
    )


@cache
def publisher(topic_arn: str, bus: str, table: str) -> Callable[[dict[str, Any], list[str]], None]:
    """``announce(event, resources)`` on that topic and bus, each channel once per transition.

    The two publishes are separate idempotent steps (their ledger records differ by function
    name): after SNS succeeded and PutEvents failed, the retried record skips SNS.
    """
    sns, events, dynamodb = clients()
    topic = StatusTopic(sns=sns, topic_arn=topic_arn)
    event_bus = StatusEventBus(events=events, bus=bus)
    ledger = {"table_name": table, "boto3_client": dynamodb}

    @idempotent_function(
        data_keyword_argument="event",
        config=idempotency,
        persistence_store=DynamoDBPersistenceLayer(**ledger),
    )
    def publish(event: dict[str, Any]) -> dict[str, str]:
        message_id = topic.publish(event)
        _published(event, "status published", message_id=message_id)
        metrics.add_metric(name="NotificationsPublished", unit=MetricUnit.Count, value=1)
        return {"message_id": message_id}

    @idempotent_function(
        data_keyword_argument="event",
        config=idempotency,
        persistence_store=DynamoDBPersistenceLayer(**ledger),
    )
    def put_event(event: dict[str, Any], resources: list[str]) -> dict[str, str]:
        event_id = event_bus.put(event, resources)
        _published(event, "status event put", event_id=event_id)
        metrics.add_metric(name="StatusEventsPut", unit=MetricUnit.Count, value=1)
        return {"event_id": event_id}

    def announce(event: dict[str, Any], resources: list[str]) -> None:
        publish(event=event)
        put_event(event=event, resources=resources)

    return announce


def _published(event: dict[str, Any], what: str, **ids: str) -> None:
    logger.info(
        what,
        extra={
            "document_id": event["document_id"],
            "status": event["status"],
            "status_version": event["status_version"],
            **ids,
        },
    )


def record_handler(record: dict[str, Any]) -> None:
    """Publish the record's transition, if it is one; raising marks the record failed."""
    change = record.get("dynamodb")
    config = Config.from_env()
    try:
        try:
            old, new = (
                (stream_image(change, "OldImage"), stream_image(change, "NewImage")) if change else (None, None)
            )
        except (TypeError, ValueError, LookupError, ArithmeticError, AttributeError):
            raise MalformedImage("the record's images are not DynamoDB attribute values") from None
        transition = transition_of(
            old, new, announced=config.announced, recorded_at=_recorded_at(change)
        )
    except MalformedImage as error:
        logger.error(
            "stream record dropped", extra={"event_id": record.get("eventID"), "reason": str(error)}
        )
        metrics.add_metric(name="StreamRecordsDropped", unit=MetricUnit.Count, value=1)
        return
    if transition is None:
        return
    announce = publisher(config.topic_arn, config.event_bus, config.idempotency_table)
    table = table_arn(record.get("eventSourceARN"))  # the pipeline's metadata table: on a shared bus,
    announce(status_event(transition.as_dict()), [table] if table else [])  # whose event it is


def _recorded_at(change: Any) -> str | None:
    """When the stream recorded the change (ISO 8601 UTC), if the record says."""
    try:
        seconds = change.get("ApproximateCreationDateTime") if isinstance(change, dict) else None
        if seconds is None:
            return None
        moment = datetime.fromtimestamp(seconds, UTC)
    except (TypeError, ValueError, OverflowError, OSError, AttributeError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """DynamoDB Streams batch handler; answers ``{"batchItemFailures": [...]}``.

    Records without a ``dynamodb.SequenceNumber`` cannot be reported for a retry: they are logged
    and dropped, and the others are processed.
    """
    idempotency.register_lambda_context(context)
    records, unusable = reportable_records(event, DYNAMODB_STREAMS)
    if unusable or not isinstance(event, dict) or not isinstance(event.get("Records"), list):
        logger.error(
            "not a stream batch, or records without a sequence number",
            extra={"unusable_records": unusable},
        )
        metrics.add_metric(
            name="StreamRecordsDropped", unit=MetricUnit.Count, value=max(unusable, 1)
        )
    if not records:
        return {"batchItemFailures": []}
    return partial_batch_response(records, record_handler, DYNAMODB_STREAMS)
