"""Lambda entry point of the request processor (``request_processor.index.handler``).

Wiring only: Powertools (logs, metrics), AWS clients, and the calls into :mod:`.logic`. Malformed
requests get a 4xx JSON error. A failing AWS call or a missing setting is logged and fails the
invocation, so the function's errors alarm notifies the alert topic (API Gateway then answers
``502 {"message": "Internal server error"}``): such failures are not hidden behind a 500.

Environment: ``TABLE_NAME``, ``BUCKET_NAME`` (required), ``RESULT_PREFIX`` (``results/``),
``RESULT_BASE_URL`` (``https://<distribution domain>``, optional).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config as BotoConfig

from .config import Config
from .logic import (
    BadRequest,
    created,
    encode_document,
    error_response,
    from_item,
    not_found,
    parse_request,
    result_document,
    result_key,
    result_url,
)
from .store import Store

logger: Logger = Logger()
metrics: Metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ServerlessPatterns/RequestProcessor")


@cache
def clients() -> tuple[Any, Any]:
    """The DynamoDB and S3 clients, made once per execution environment."""
    config = BotoConfig(retries={"mode": "standard"})
    return boto3.client("dynamodb", config=config), boto3.client("s3", config=config)


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """Answer ``POST /process``: 201 with the result's key, or a 4xx JSON error."""
    try:
        return process(event, context)
    except Exception:
        logger.exception("request failed")
        metrics.add_metric(name="RequestsFailed", unit=MetricUnit.Count, value=1)
        raise


def process(event: Any, context: Any) -> dict[str, Any]:
    """Parse, look the record up, write the result; refusals are answers, AWS failures raise."""
    config = Config.from_env()
    try:
        request = parse_request(event)
    except BadRequest as error:
        logger.info("request refused", extra={"status": error.status, "code": error.code, "detail": error.message})
        metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
        return error_response(error)

    dynamodb, s3 = clients()
    store = Store(dynamodb=dynamodb, s3=s3, table=config.table, bucket=config.bucket)
    item = store.get_record(request.record_id)
    if item is None:
        logger.info("record not found", extra={"record_id": request.record_id})
        metrics.add_metric(name="RecordsNotFound", unit=MetricUnit.Count, value=1)
        return not_found(request.record_id)

    invocation_id = context.aws_request_id
    processed_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    key = result_key(config.result_prefix, request.record_id, invocation_id)
    document = result_document(request, from_item(item), invocation_id=invocation_id, processed_at=processed_at)
    version = store.put_result(key, encode_document(document))
    logger.info("result written", extra={"record_id": request.record_id, "key": key, "version_id": version})
    metrics.add_metric(name="ResultsWritten", unit=MetricUnit.Count, value=1)
    return created(
        record_id=request.record_id,
        key=key,
        url=result_url(config.result_base_url, key),
        invocation_id=invocation_id,
        processed_at=processed_at,
    )
