"""Pure logic of the request processor: parse the request, convert the record, build the result.

No AWS calls here, so every branch is testable without an emulator.

A request is an API Gateway REST proxy event for ``POST /process`` whose body is a JSON object
with a string ``id``. The result document is written under
``<prefix><URL-encoded id>/<invocation id>.json``, so every request gets an object of its own
(the bucket has Object Lock: results are never overwritten).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

#: Bodies larger than this are refused with a 413 (the API's web ACL already blocks bodies over 8 KB).
MAX_BODY_BYTES = 64 * 1024
#: Longest ``id`` accepted, in UTF-8 bytes; the URL-encoded id then fits in an S3 key.
MAX_ID_BYTES = 256
#: Longest result prefix, so that every result key stays within S3's 1024 bytes.
MAX_PREFIX_BYTES = 128
#: Deepest nesting of arrays and objects accepted in a body.
MAX_DEPTH = 32
JSON_HEADERS = {"Content-Type": "application/json"}

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_INVOCATION_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


class BadRequest(ValueError):
    """A request the function answers with ``status`` and ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers: dict[str, str] = headers or {}


@dataclass(frozen=True)
class ProcessRequest:
    """A parsed request: the record to process and the whole JSON body."""

    record_id: str
    payload: dict[str, Any]


def parse_request(event: Any) -> ProcessRequest:
    """The request in an API Gateway REST proxy event.

    Raises
    ------
    BadRequest
        405 for a method other than POST; 413 for a body over :data:`MAX_BODY_BYTES`; 400 when the
        event is not a proxy event, or the body is missing, not valid base64 or UTF-8, not JSON
        (``NaN``, ``Infinity`` and numbers beyond float range included), not a JSON object, or
        lacks a valid ``id``.
    """
    if not isinstance(event, dict):
        raise BadRequest(400, "invalid_event", "the event must be an API Gateway proxy event (a JSON object)")
    method = event.get("httpMethod")
    if method is not None and method != "POST":
        raise BadRequest(405, "method_not_allowed", f"{_show(method)} is not allowed; use POST", {"Allow": "POST"})
    raw = _body_bytes(event)
    try:
        payload = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float)
    except UnicodeDecodeError:
        raise BadRequest(400, "invalid_encoding", "the request body is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise BadRequest(400, "invalid_json", f"the request body is not valid JSON ({error.msg} at position {error.pos})") from None
    except (ValueError, RecursionError) as error:  # NaN/Infinity, numbers too long, nesting too deep
        raise BadRequest(400, "invalid_json", f"the request body is not valid JSON ({_reason(error)})") from None
    if not isinstance(payload, dict):
        raise BadRequest(400, "invalid_body", f"the request body must be a JSON object, not {_json_type(payload)}")
    if _depth(payload) > MAX_DEPTH:
        raise BadRequest(400, "invalid_body", f"the request body is nested deeper than {MAX_DEPTH} levels")
    return ProcessRequest(record_id=parse_id(payload.get("id")), payload=payload)


def parse_id(value: Any) -> str:
    """A record id: a non-empty string of at most :data:`MAX_ID_BYTES` UTF-8 bytes, no control characters."""
    if value is None:
        raise BadRequest(400, "missing_id", "the request body must have an 'id' (a string)")
    if not isinstance(value, str):
        raise BadRequest(400, "invalid_id", f"'id' must be a string, not {_json_type(value)}")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates such as "\ud800", which DynamoDB refuses
        raise BadRequest(400, "invalid_id", "'id' must be valid Unicode text") from None
    if not 0 < size <= MAX_ID_BYTES or _CONTROL.search(value):
        raise BadRequest(
            400, "invalid_id", f"'id' must be 1-{MAX_ID_BYTES} bytes of UTF-8 without control characters"
        )
    return value


def _body_bytes(event: dict[str, Any]) -> bytes:
    body = event.get("body")
    if body is None or body == "":
        raise BadRequest(400, "missing_body", "the request has no body; send a JSON object with an 'id'")
    if not isinstance(body, str):
        raise BadRequest(400, "invalid_event", "the request body must be a string")
    if event.get("isBase64Encoded") is True:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(400, "invalid_encoding", "the request body is marked base64 but is not valid base64") from None
    else:
        try:
            raw = body.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest(400, "invalid_encoding", "the request body is not UTF-8 text") from None
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest(413, "body_too_large", f"the request body is larger than {MAX_BODY_BYTES} bytes")
    return raw


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value`` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        current, level = stack.pop()
        children = current.values() if isinstance(current, dict) else current if isinstance(current, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    """A JSON number with a fraction or exponent; ``1e400`` would become infinity, which no JSON holds."""
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:40]} is out of range")
    return number


# ---- DynamoDB records -----------------------------------------------------------------------------


def from_attribute_value(value: dict[str, Any]) -> Any:
    """A DynamoDB attribute value (as the low-level client returns it) as a JSON-compatible value.

    Strings, booleans and null map to themselves; numbers to ``int`` when whole, else ``float``;
    binary values to base64 text; sets to sorted lists; maps and lists recursively.
    """
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError(f"not a DynamoDB attribute value: {_show(value)}")
    ((kind, data),) = value.items()
    if kind in ("S", "BOOL"):
        return data
    if kind == "NULL":
        return None
    if kind == "N":
        return _number(data)
    if kind == "B":
        return _base64(data)
    if kind == "SS":
        return sorted(data)
    if kind == "NS":
        return sorted(_number(n) for n in data)
    if kind == "BS":
        return sorted(_base64(b) for b in data)
    if kind == "M":
        return {name: from_attribute_value(item) for name, item in data.items()}
    if kind == "L":
        return [from_attribute_value(item) for item in data]
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item (attribute name -> attribute value) as a JSON object."""
    return {name: from_attribute_value(value) for name, value in item.items()}


def _number(text: str) -> int | float:
    number = Decimal(text)
    return int(number) if number == number.to_integral_value() else float(number)


def _base64(data: bytes | str) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return base64.b64encode(raw).decode("ascii")


# ---- results --------------------------------------------------------------------------------------


def result_key(prefix: str, record_id: str, invocation_id: str) -> str:
    """``<prefix><URL-encoded id>/<invocation id>.json``: one object per request.

    The id is URL-encoded completely (``/`` included), so any id makes exactly one key segment;
    an id of only dots (``.``, ``..``) has its dots encoded too (``%2E``), so no key or URL holds a
    dot segment that a URL resolver would collapse.
    """
    if len(prefix.encode("utf-8")) > MAX_PREFIX_BYTES:
        raise ValueError(f"result prefix {prefix!r} is longer than {MAX_PREFIX_BYTES} bytes")
    if not _INVOCATION_ID.fullmatch(invocation_id):
        raise ValueError(f"invocation id {invocation_id!r} is not 1-64 letters, digits and '-'")
    segment = quote(record_id, safe="")
    if not segment.strip("."):
        segment = segment.replace(".", "%2E")
    return f"{prefix}{segment}/{invocation_id}.json"


def result_url(base_url: str | None, key: str) -> str | None:
    """The HTTPS URL of a result behind the CloudFront distribution, or ``None`` without one."""
    if not base_url:
        return None
    return f"{base_url.rstrip('/')}/{quote(key, safe='/')}"


def result_document(
    request: ProcessRequest, record: dict[str, Any], *, invocation_id: str, processed_at: str
) -> dict[str, Any]:
    """What is written to S3: the record as stored, the request as sent, and when it was processed."""
    return {
        "id": request.record_id,
        "invocationId": invocation_id,
        "processedAt": processed_at,
        "record": record,
        "request": request.payload,
    }


def encode_document(document: dict[str, Any]) -> bytes:
    """The document as JSON text (keys sorted; non-ASCII escaped, so any string can be encoded)."""
    return json.dumps(document, sort_keys=True, allow_nan=False, separators=(",", ":")).encode("ascii")


# ---- responses ------------------------------------------------------------------------------------


def response(status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway proxy response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {**JSON_HEADERS, **(headers or {})},
        "body": json.dumps(payload, separators=(",", ":"), sort_keys=True),
    }


def error_response(error: BadRequest) -> dict[str, Any]:
    """The answer to a refused request: ``{"error": {"code", "message"}}``."""
    return response(error.status, {"error": {"code": error.code, "message": error.message}}, error.headers)


def not_found(record_id: str) -> dict[str, Any]:
    return error_response(BadRequest(404, "record_not_found", f"no record with id {_show(record_id)}"))


def created(*, record_id: str, key: str, url: str | None, invocation_id: str, processed_at: str) -> dict[str, Any]:
    """201 with where the result was written (and its URL behind CloudFront, if any)."""
    payload = {"id": record_id, "invocationId": invocation_id, "processedAt": processed_at, "resultKey": key}
    if url:
        payload["resultUrl"] = url
    return response(201, payload, {"Location": url} if url else None)


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _show(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _reason(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return str(error)[:120]
