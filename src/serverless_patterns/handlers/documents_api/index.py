"""Lambda entry point of the documents API (``documents_api.index.handler``).

Wiring only: the routes (``routing``), Powertools (logs, traces, metrics), AWS clients, and the
calls into the modules that decide. Nothing raises past :func:`handler`: malformed requests get a
4xx JSON error, unexpected failures a 500 JSON error carrying a correlation id that is also logged.
"""

from __future__ import annotations

import os
import uuid
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config as BotoConfig
from botocore.session import get_session

from . import operations
from .aws import DocumentStore
from .config import Config
from .errors import ApiError, error_body
from .request import allowed_methods, caller_of, json_body, normalise_event, require_level
from .routing import Router, rest_response
from .states import utc_now
from .tracing import xray_tracer
from .validation import parse_document_id, parse_list_query, parse_new_document
from .views import JSON_HEADERS, proxy_response, to_json

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "documents-api"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ServerlessPatterns/Documents"

logger: Logger = Logger(service=SERVICE)
tracer: Tracer = xray_tracer(service=SERVICE)
metrics: Metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
app: Router = Router()


@cache
def clients() -> tuple[Any, Any]:
    """The S3 and DynamoDB clients, made once per execution environment.

    Plain botocore: boto3 would add only import time. S3 signs with SigV4, so presigned POSTs
    carry a v4 policy.
    """
    session = get_session()
    retries = BotoConfig(retries={"mode": "standard"})
    s3 = session.create_client(
        "s3",
        config=retries.merge(
            BotoConfig(signature_version="s3v4", s3={"addressing_style": "virtual"})
        ),
    )
    return s3, session.create_client("dynamodb", config=retries)


def _context() -> tuple[Config, DocumentStore, dict[str, Any]]:
    config = Config.from_env()
    s3, dynamodb = clients()
    store = DocumentStore(
        s3=s3,
        dynamodb=dynamodb,
        bucket=config.bucket,
        table=config.table,
        status_index=config.status_index,
    )
    return config, store, app.current_event


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return rest_response(status, to_json(payload), {**JSON_HEADERS, **(headers or {})})


@app.post("/documents")
def create_document() -> dict[str, Any]:
    config, store, event = _context()
    caller = caller_of(event)
    require_level(caller, "read-write")
    request = parse_new_document(
        json_body(event),
        max_bytes=config.max_document_bytes,
        allowed_types=config.allowed_content_types,
    )
    payload = operations.create_document(
        store, config, caller, request, document_id=uuid.uuid4().hex, now=utc_now()
    )
    logger.info(
        "document registered",
        extra={"document_id": payload["document_id"], "client_id": caller.client_id},
    )
    metrics.add_metric(name="DocumentsAccepted", unit=MetricUnit.Count, value=1)
    return _json(201, payload)


@app.get("/documents")
def list_documents() -> dict[str, Any]:
    _, store, event = _context()
    require_level(caller_of(event), "read-only")
    query = parse_list_query(event["multiValueQueryStringParameters"] or {})
    return _json(200, operations.list_documents(store, query))


@app.get("/documents/<document_id>")
def read_document(document_id: str) -> dict[str, Any]:
    config, store, event = _context()
    require_level(caller_of(event), "read-only")
    return _json(200, operations.read_document(store, config, parse_document_id(document_id)))


@app.delete("/documents/<document_id>")
def delete_document(document_id: str) -> dict[str, Any]:
    _, store, event = _context()
    caller = caller_of(event)
    require_level(caller, "admin")
    view, transitioned = operations.delete_document(
        store, caller, parse_document_id(document_id), now=utc_now()
    )
    if transitioned:
        logger.info(
            "document deleted", extra={"document_id": document_id, "client_id": caller.client_id}
        )
        metrics.add_metric(name="DocumentsDeleted", unit=MetricUnit.Count, value=1)
    return _json(200, view)


@app.not_found
def no_route(_: Exception) -> dict[str, Any]:
    method, path = app.current_event["httpMethod"], app.current_event["path"]
    allowed = allowed_methods(path)
    if method in allowed and path.rstrip("/") != "/documents":
        # A known route and method the router did not match: the id segment holds characters
        # no route accepts (a quote, "?", "#"), so it is no document id.
        return _json(
            400,
            error_body(
                "invalid_document_id", "a document id is 32 lowercase hexadecimal characters"
            ),
        )
    if allowed:
        message = (
            f"{method} is not allowed on {path}; allowed: {', '.join(allowed)}"
        )
        return _json(
            405, error_body("method_not_allowed", message), headers={"Allow": ", ".join(allowed)}
        )
    return _json(
        404,
        error_body(
            "route_not_found", "no such route; the API serves /documents and /documents/{id}"
        ),
    )


@app.exception_handler(ApiError)
def refused(error: ApiError) -> dict[str, Any]:
    log = logger.warning if error.status == 403 else logger.info
    log(
        "request refused",
        extra={"status": error.status, "code": error.code, "detail": error.message},
    )
    return _json(error.status, error.body())


@app.exception_handler(Exception)
def failed(error: Exception) -> dict[str, Any]:
    correlation_id = _correlation_id(app.lambda_context)
    logger.exception("unexpected error", extra={"correlation_id": correlation_id})
    return _json(500, _internal_error(correlation_id))


def _correlation_id(context: Any) -> str:
    """The API Gateway request id, else the Lambda request id: what operators search logs for."""
    return (
        logger.get_correlation_id() or getattr(context, "aws_request_id", None) or uuid.uuid4().hex
    )


def _internal_error(correlation_id: str) -> dict[str, Any]:
    return error_body(
        "internal_error",
        "an unexpected error occurred; quote the correlation id",
        correlation_id=correlation_id,
    )


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@tracer.capture_lambda_handler(capture_response=False)  # answers carry presigned URLs
@metrics.log_metrics
def handler(event: Any, context: Any) -> dict[str, Any]:
    """API Gateway REST proxy handler; answers every event with a JSON response."""
    try:
        canonical = normalise_event(event)
    except ApiError as error:
        logger.info("malformed event", extra={"detail": error.message})
        return proxy_response(error.status, error.body())
    try:
        return app.resolve(canonical, context)
    except Exception:
        correlation_id = _correlation_id(context)
        logger.exception(
            "unexpected error outside the routes", extra={"correlation_id": correlation_id}
        )
        return proxy_response(500, _internal_error(correlation_id))
