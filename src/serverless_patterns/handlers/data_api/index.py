"""Lambda entry point of the data API (``data_api.index.handler``).

Wiring only: Powertools (logs, traces), AWS clients, and the calls into the modules that decide.
Nothing raises past :func:`handler`: malformed requests get a 4xx JSON error, unexpected failures
a 500 JSON error carrying a correlation id that is also logged. Object bodies and the secret's
value are never logged or traced.

Environment: ``BUCKET_NAME``, ``CURSOR_KEY_ARN`` (the ARN of the secret that signs listing
cursors, never its value), optionally ``KEY_PREFIX``, ``MAX_OBJECT_BYTES``,
``SECRET_CACHE_SECONDS``, ``CURSOR_TTL_SECONDS`` (see :mod:`.config`).
"""

from __future__ import annotations

import time
import uuid
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging import correlation_paths
from botocore.config import Config as BotoConfig
from botocore.session import get_session

from . import operations
from .config import Config
from .errors import ApiError, error_body
from .request import GET_OBJECT, HEALTH, PUT_OBJECT, Request, parse_event, route
from .responses import json_response
from .store import ObjectStore, SecretValues
from .tracing import xray_tracer

logger: Logger = Logger()
tracer: Tracer = xray_tracer()


@cache
def config() -> Config:
    return Config.from_env()


@cache
def botocore_session() -> Any:
    """One botocore session for both clients, so its loader reads each data file once."""
    return get_session()


@cache
def object_store() -> ObjectStore:
    """The S3 client, made once per execution environment.

    Plain botocore: boto3 would add only import time (the handler uses no boto3 extension).
    """
    settings = config()
    s3 = botocore_session().create_client("s3", config=BotoConfig(retries={"mode": "standard"}))
    return ObjectStore(s3, bucket=settings.bucket, prefix=settings.key_prefix)


@cache
def secret_values() -> SecretValues:
    """The secret's values, cached in the execution environment for ``SECRET_CACHE_SECONDS``."""
    settings = config()
    client = botocore_session().create_client(
        "secretsmanager", config=BotoConfig(retries={"mode": "standard"})
    )
    return SecretValues(
        client, secret_arn=settings.secret_arn, max_age=settings.secret_cache_seconds
    )


def dispatch(request: Request) -> dict[str, Any]:
    """Answer one parsed request; raises :class:`ApiError` for requests the API refuses."""
    target = route(request)
    tracer.put_annotation("operation", target.operation)
    if target.operation == HEALTH:
        return operations.health()
    if target.operation == PUT_OBJECT:
        return operations.put_object(object_store(), config(), request, target.key or "")
    if target.operation == GET_OBJECT:
        return operations.get_object(object_store(), config(), target.key or "")
    # LIST_OBJECTS, the only operation left
    return operations.list_objects(
        object_store(), config(), request, secret_values(), now=int(time.time())
    )


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
)
@tracer.capture_lambda_handler(capture_response=False)  # responses carry object contents
def handler(event: Any, context: Any) -> dict[str, Any]:
    """HTTP API (payload 2.0) handler; answers every event with a JSON error or the result."""
    try:
        request = parse_event(event)
        response = dispatch(request)
    except ApiError as error:
        logger.info(
            "request refused",
            extra={"status": error.status, "code": error.code, "detail": error.message},
        )
        return json_response(error.status, error.body(), error.headers)
    except Exception:
        correlation_id = (
            logger.get_correlation_id()
            or getattr(context, "aws_request_id", None)
            or uuid.uuid4().hex
        )
        logger.exception("unexpected error", extra={"correlation_id": correlation_id})
        return json_response(
            500,
            error_body(
                "internal_error",
                "an unexpected error occurred; quote the correlation id",
                correlation_id=correlation_id,
            ),
        )
    logger.info(
        "request answered",
        extra={"method": request.method, "path": request.path, "status": response["statusCode"]},
    )
    return response
