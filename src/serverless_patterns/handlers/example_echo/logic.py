"""Pure logic of the echo handler: parse an API Gateway proxy event, build a response.

No AWS calls here, so every branch is testable without an emulator.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any

#: Bodies larger than this are refused with a 413 (API Gateway itself allows up to 10 MB).
MAX_BODY_BYTES = 64 * 1024
#: Deepest nesting of arrays and objects echoed.
MAX_DEPTH = 64


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
        too large, not strict JSON (``NaN``, ``Infinity`` and numbers beyond float range are
        refused), nested deeper than :data:`MAX_DEPTH`, or not a JSON object.
    """
    if not isinstance(event, dict):
        raise BadRequest("the event must be an API Gateway proxy event (a JSON object)")
    body = event.get("body")
    if body is None or body == "":
        raise BadRequest("the request has no body; send a JSON object")
    if not isinstance(body, str):
        raise BadRequest("the request body must be a string")
    try:
        raw = body.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate such as "\ud800": no UTF-8 text holds one
        raise BadRequest("the request body is not UTF-8 text") from None
    if event.get("isBase64Encoded") is True:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("the request body is marked base64 but is not valid base64") from None
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest(f"the request body is larger than {MAX_BODY_BYTES} bytes", status=413)
    try:
        payload = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float)
    except UnicodeDecodeError:
        raise BadRequest("the request body is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise BadRequest(f"the request body is not valid JSON ({error.msg} at position {error.pos})") from None
    except RecursionError:
        raise BadRequest(f"the request body is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:  # NaN, Infinity, 1e400, integers of more than 4300 digits
        raise BadRequest(f"the request body is not valid JSON ({str(error)[:120]})") from None
    if not isinstance(payload, dict):
        raise BadRequest(f"the request body must be a JSON object, not {type(payload).__name__}")
    _check_values(payload)
    return payload


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:40]} is out of range")
    return number


def _check_values(payload: dict[str, Any]) -> None:
    """Refuse what cannot be echoed as strict JSON: deep nesting, lone surrogates (no recursion)."""
    stack: list[tuple[Any, int]] = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:  # an escaped lone surrogate, "\ud800"
                raise BadRequest("the request body holds a string that is not valid Unicode") from None
            continue
        children = list(value.items()) if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        if depth > MAX_DEPTH:
            raise BadRequest(f"the request body is nested deeper than {MAX_DEPTH} levels")
        for child in children:
            if isinstance(child, tuple):  # a (name, value) pair of an object
                stack.append((child[0], depth))
                stack.append((child[1], depth + 1))
            else:
                stack.append((child, depth + 1))


def response(status: int, payload: dict[str, Any]) -> dict[str, Any]:
    """An API Gateway proxy response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(payload, separators=(",", ":"), sort_keys=True, allow_nan=False),
    }


def echo(event: Any) -> dict[str, Any]:
    """200 with ``{"echo": <body>}``, or the error status with ``{"error": <message>}``."""
    try:
        payload = parse_body(event)
    except BadRequest as error:
        return response(error.status, {"error": str(error)})
    return response(200, {"echo": payload})
