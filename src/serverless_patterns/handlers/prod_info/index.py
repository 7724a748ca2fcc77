"""Lambda entry point of the info function (``prod_info.index.handler``).

Wiring only: Powertools (logs, metrics), the S3 client, and the calls into :mod:`.logic`. Every
request with a request context is recorded in the log bucket before it is answered, so no answer
goes unrecorded; malformed events get a 4xx JSON error. A failing S3 call or a missing setting is
logged and fails the invocation, so the function's errors alarm notifies the alert topic
(API Gateway then answers ``500 {"message": "Internal Server Error"}``).

Environment: ``ENVIRONMENT_NAME``, ``APP_VERSION``, ``LOG_BUCKET`` (required), ``LOG_PREFIX``
(``requests/``).
"""

from __future__ import annotations

import os
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
    check_request,
    error_response,
    info,
    parse_request,
    record_key,
    request_record,
)
from .store import RequestLog

logger: Logger = Logger()
metrics: Metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ServerlessPatterns/ProdInfo")


@cache
def s3_client() -> Any:
    """The S3 client, made once per execution environment."""
    return boto3.client("s3", config=BotoConfig(retries={"mode": "standard"}))


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """Answer ``GET /`` with the environment and version, after recording the request."""
    try:
        return answer(event)
    except Exception:
        logger.exception("request failed")
        metrics.add_metric(name="RequestsFailed", unit=MetricUnit.Count, value=1)
        raise


def answer(event: Any) -> dict[str, Any]:
    """Parse, decide, record, answer; refusals are answers, S3 failures raise."""
    config = Config.from_env()
    try:
        request = parse_request(event)
    except BadRequest as error:
        logger.info("malformed event", extra={"code": error.code, "detail": error.message})
        metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
        return error_response(error)
    try:
        check_request(request, event)
        result = info(environment=config.environment, version=config.version, request_id=request.request_id)
    except BadRequest as error:
        logger.info("request refused", extra={"status": error.status, "code": error.code, "detail": error.message})
        metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
        result = error_response(error)
    key = record_key(config.log_prefix, request)
    body = request_record(
        request, status=result["statusCode"], environment=config.environment, version=config.version
    )
    RequestLog(s3=s3_client(), bucket=config.log_bucket).put(key, body)
    logger.info("request recorded", extra={"status": result["statusCode"], "key": key})
    metrics.add_metric(name="RequestsRecorded", unit=MetricUnit.Count, value=1)
    return result
