"""Pure logic of the info function: parse an HTTP API event, build the answer and the request record.

No AWS calls here, so every branch is testable without an emulator.

Events are API Gateway HTTP API events, payload format 2.0. A request that carries a request
context is answered (200, or 400/405 as JSON) and recorded; an event without one (a direct invoke
with anything else) is answered with 400 and not recorded, having no request id to record under.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

#: The method the route serves.
METHOD = "GET"
JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}
#: Longest text kept from caller-controlled fields (path, user agent) in a record.
MAX_FIELD_CHARS = 512

_REQUEST_ID = re.compile(r"[A-Za-z0-9+/=_-]{1,128}")


class BadRequest(ValueError):
    """A request answered with ``status`` and ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers: dict[str, str] = headers or {}


@dataclass(frozen=True)
class InfoRequest:
    """What is known about a request from its HTTP API request context."""

    request_id: str
    time_epoch_ms: int
    method: str
    path: str
    source_ip: str | None
    user_agent: str | None

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.time_epoch_ms / 1000, tz=UTC)


def parse_request(event: Any) -> InfoRequest:
    """The request context of an HTTP API (payload 2.0) event.

    Raises
    ------
    BadRequest
        400 ``invalid_event`` when the event is not an HTTP API 2.0 event with a request id, a
        request time and an HTTP method.
    """
    if not isinstance(event, dict):
        raise BadRequest(400, "invalid_event", "the event must be an API Gateway HTTP API event (a JSON object)")
    if event.get("version") != "2.0":
        raise BadRequest(400, "invalid_event", "the event must be an HTTP API event of payload format 2.0")
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, dict) else None
    if not isinstance(http, dict):
        raise BadRequest(400, "invalid_event", "the event has no requestContext.http")
    request_id = context.get("requestId")
    if not isinstance(request_id, str) or not _REQUEST_ID.fullmatch(request_id):
        raise BadRequest(400, "invalid_event", "requestContext.requestId is missing or malformed")
    epoch = context.get("timeEpoch")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 0 <= epoch < 253402300800000:
        raise BadRequest(400, "invalid_event", "requestContext.timeEpoch is missing or not a time in milliseconds")
    method = http.get("method")
    if not isinstance(method, str) or not method:
        raise BadRequest(400, "invalid_event", "requestContext.http.method is missing")
    return InfoRequest(
        request_id=request_id,
        time_epoch_ms=epoch,
        method=_text(method) or "",
        path=_text(http.get("path")) or "",
        source_ip=_text(http.get("sourceIp")),
        user_agent=_text(http.get("userAgent")),
    )


def check_request(request: InfoRequest, event: dict[str, Any]) -> None:
    """Refuse what the route does not serve: other methods (405) and requests with a body (400)."""
    if request.method != METHOD:
        raise BadRequest(
            405, "method_not_allowed", f"{request.method[:20]!r} is not allowed; use {METHOD}", {"Allow": METHOD}
        )
    body = event.get("body")
    if body not in (None, ""):
        raise BadRequest(400, "unexpected_body", f"{METHOD} requests take no body")


def info(*, environment: str, version: str, request_id: str) -> dict[str, Any]:
    """The 200 answer: which environment and version served the request."""
    return response(200, {"environment": environment, "version": version, "requestId": request_id})


def record_key(prefix: str, request: InfoRequest) -> str:
    """``<prefix>YYYY/MM/DD/<request id>.json``, by the request's UTC date (URL-encoded id)."""
    return f"{prefix}{request.time:%Y/%m/%d}/{quote(request.request_id, safe='')}.json"


def request_record(request: InfoRequest, *, status: int, environment: str, version: str) -> bytes:
    """The JSON object recorded for one request: who asked what, when, and the status answered."""
    record = {
        "requestId": request.request_id,
        "time": request.time.isoformat(timespec="milliseconds"),
        "method": request.method,
        "path": request.path,
        "sourceIp": request.source_ip,
        "userAgent": request.user_agent,
        "status": status,
        "environment": environment,
        "version": version,
    }
    return json.dumps(record, sort_keys=True, separators=(",", ":")).encode("ascii")


def response(status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An HTTP API response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {**JSON_HEADERS, **(headers or {})},
        "body": json.dumps(payload, separators=(",", ":"), sort_keys=True),
    }


def error_response(error: BadRequest) -> dict[str, Any]:
    """The answer to a refused request: ``{"error": {"code", "message"}}``."""
    return response(error.status, {"error": {"code": error.code, "message": error.message}}, error.headers)


def _text(value: Any) -> str | None:
    """Caller-controlled text, cut to :data:`MAX_FIELD_CHARS`; anything but a string is dropped."""
    return value[:MAX_FIELD_CHARS] if isinstance(value, str) else None
