"""Pure logic of the echo handler: parse an API Gateway proxy event, build a response.

No AWS calls here, so every branch is testable without an emulator.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

#: Bodies larger than this are refused with a 413 (API Gateway itself allows up to 10 MB).
MAX_BODY_BYTES = 64 * 1024


class BadRequest(ValueError):
    """The event cannot be echoed; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def parse_body(event: Any) -> dict[str, Any]:
    """Return the JSON object in the body of an API Gateway proxy event (REST or HTTP API).

    Raises
    ------
    BadRequest
        When the event is not a proxy event, the body is missing, not valid base64 or UTF-8,
        too large, not JSON, or not a JSON object.
    """
    if not isinstance(event, dict):
        raise BadRequest("the event must be an API Gateway proxy event (a JSON object)")
    body = event.get("body")
    if body is None or body == "":
        raise BadRequest("the request has no body; send a JSON object")
    if not isinstance(body, str):
        raise BadRequest("the request body must be a string")
    raw = body.encode("utf-8")
    if event.get("isBase64Encoded") is True:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("the request body is marked base64 but is not valid base64") from None
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest(f"the request body is larger than {MAX_BODY_BYTES} bytes", status=413)
    try:
        payload = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("the request body is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise BadRequest(f"the request body is not valid JSON ({error.msg} at position {error.pos})") from None
    if not isinstance(payload, dict):
        raise BadRequest(f"the request body must be a JSON object, not {type(payload).__name__}")
    return payload


def response(status: int, payload: dict[str, Any]) -> dict[str, Any]:
    """An API Gateway proxy response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(payload, separators=(",", ":"), sort_keys=True),
    }


def echo(event: Any) -> dict[str, Any]:
    """200 with ``{"echo": <body>}``, or the error status with ``{"error": <message>}``."""
    try:
        payload = parse_body(event)
    except BadRequest as error:
        return response(error.status, {"error": str(error)})
    return response(200, {"echo": payload})
