"""Lambda entry point of the document notifier (``document_notifier.index.handler``).

A DynamoDB Streams batch handler (NEW_AND_OLD_IMAGES) with partial failures. A record whose
status changed is published once, through Powertools Idempotency on IDEMPOTENCY_TABLE keyed on
``[document_id, status_version]``; a failed publish raises, so the record is retried.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.shared.dynamodb_deserializer import TypeDeserializer
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from botocore.config import Config as BotoConfig

from .aws import StatusTopic
from .batches import DYNAMODB_STREAMS, partial_batch_response, reportable_records
from .config import Config
from .tracing import xray_tracer
from .transitions import MalformedImage, transition_of

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "document-notifier"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ServerlessPatterns/Documents"
#: Longer than the 24 hours a stream keeps its records, so no replay outlives its record.
IDEMPOTENCY_SECONDS = 48 * 3600

logger = Logger(service=SERVICE)
tracer = xray_tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
#: What Powertools' ``DynamoDBRecord`` decodes the images with (numbers as 38-digit Decimals).
deserializer = TypeDeserializer()
idempotency = IdempotencyConfig(
    event_key_jmespath="[document_id, status_version]",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=IDEMPOTENCY_SECONDS,
)


@cache
def clients() -> tuple[Any, Any]:
    """The SNS and DynamoDB clients, made once per execution environment.

    boto3 here, unlike the other document handlers: the idempotency layer imports it anyway.
    """
    settings = BotoConfig(retries={"mode": "standard"})
    return boto3.client("sns", config=settings), boto3.client("dynamodb", config=settings)


@cache
def publisher(topic_arn: str, table: str) -> Callable[..., dict[str, str]]:
    """An idempotent ``publish(transition=...)`` for that topic and idempotency table."""
    sns, dynamodb = clients()
    topic = StatusTopic(sns=sns, topic_arn=topic_arn)
    persistence = DynamoDBPersistenceLayer(table_name=table, boto3_client=dynamodb)

    @idempotent_function(
        data_keyword_argument="transition", config=idempotency, persistence_store=persistence
    )
    def publish(transition: dict[str, Any]) -> dict[str, str]:
        message_id = topic.publish(transition)
        logger.info(
            "status published",
            extra={
                "document_id": transition["document_id"],
                "status": transition["status"],
                "status_version": transition["status_version"],
                "message_id": message_id,
            },
        )
        metrics.add_metric(name="NotificationsPublished", unit=MetricUnit.Count, value=1)
        return {"message_id": message_id}

    return publish


def image(change: dict[str, Any], name: str) -> dict[str, Any]:
    """The ``OldImage`` or ``NewImage`` of a stream record in Python types (``{}`` without one)."""
    return {key: deserializer.deserialize(value) for key, value in (change.get(name) or {}).items()}


def record_handler(record: dict[str, Any]) -> None:
    """Publish the record's transition, if it is one; raising marks the record failed."""
    change = record.get("dynamodb")
    try:
        try:
            old, new = (
                (image(change, "OldImage"), image(change, "NewImage")) if change else (None, None)
            )
        except (TypeError, ValueError, KeyError, ArithmeticError, AttributeError):
            raise MalformedImage("the record's images are not DynamoDB attribute values") from None
        transition = transition_of(old, new)
    except MalformedImage as error:
        logger.error(
            "stream record dropped", extra={"event_id": record.get("eventID"), "reason": str(error)}
        )
        metrics.add_metric(name="StreamRecordsDropped", unit=MetricUnit.Count, value=1)
        return
    if transition is None:
        return
    config = Config.from_env()
    publisher(config.topic_arn, config.idempotency_table)(transition=transition.as_dict())


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
