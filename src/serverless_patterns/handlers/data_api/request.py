"""The request side of an HTTP API (payload format 2.0) event: shape, route, key, body, query.

API Gateway sends well-formed events, but the handler does not rely on it: whatever arrives is
checked here, so a malformed event becomes a 4xx answer instead of an exception.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .errors import ApiError, bad_request, show

MAX_PATH_CHARS = 8192
#: Object keys: one path segment of letters, digits, '.', '_' and '-', starting with a letter or
#: digit. No '/', so no key can climb out of the prefix or look like a directory, and none is
#: '.' or '..'.
MAX_KEY_CHARS = 200
KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: Listing: a page holds at most this many objects.
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
#: Room for a cursor after any S3 key of up to 1024 bytes (see :mod:`.cursors`).
MAX_CURSOR_CHARS = 4096
DEFAULT_CONTENT_TYPE = "application/octet-stream"
_CONTENT_TYPE = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*([ \t]*;[ \t]*[ -~]*)?$"
)
_METHOD = re.compile(r"^[A-Za-z]{1,16}$")
_DIGITS = re.compile(r"^[0-9]{1,4}$")

HEALTH = "health"
PUT_OBJECT = "put_object"
GET_OBJECT = "get_object"
LIST_OBJECTS = "list_objects"


@dataclass(frozen=True)
class Request:
    """The parts of an HTTP API event the API reads, checked."""

    method: str
    path: str
    headers: Mapping[str, str]  # names lower case
    query: Mapping[str, str]
    body: str | None
    is_base64: bool
    request_id: str | None = None


@dataclass(frozen=True)
class Route:
    """What a request asks for: an operation and, for object routes, the object's key."""

    operation: str
    key: str | None = None


@dataclass(frozen=True)
class ListQuery:
    limit: int
    prefix: str
    cursor: str | None


def parse_event(event: Any) -> Request:
    """The method, path, headers, query and body of an HTTP API payload 2.0 event.

    Raises
    ------
    ApiError
        400 ``malformed_event`` naming the first field that is missing or of the wrong type.
    """
    if not isinstance(event, Mapping):
        raise bad_request(
            "the event is not an API Gateway HTTP API event (a JSON object)", "malformed_event"
        )
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, Mapping) else None
    method = http.get("method") if isinstance(http, Mapping) else None
    if not isinstance(method, str) or not _METHOD.fullmatch(method):
        raise bad_request("the event has no valid requestContext.http.method", "malformed_event")
    path = event.get("rawPath")
    if not isinstance(path, str) or not path.startswith("/") or len(path) > MAX_PATH_CHARS:
        raise bad_request("the event has no valid rawPath", "malformed_event")
    body = event.get("body")
    if body is not None and not isinstance(body, str):
        raise bad_request("the event body must be a string or null", "malformed_event")
    is_base64 = event.get("isBase64Encoded", False)
    if not isinstance(is_base64, bool):
        raise bad_request("isBase64Encoded must be a boolean", "malformed_event")
    request_id = context.get("requestId") if isinstance(context, Mapping) else None
    return Request(
        method=method.upper(),
        path=path,
        headers={name.lower(): value for name, value in _strings(event, "headers").items()},
        query=_strings(event, "queryStringParameters"),
        body=body,
        is_base64=is_base64,
        request_id=request_id if isinstance(request_id, str) else None,
    )


def _strings(event: Mapping[str, Any], name: str) -> dict[str, str]:
    value = event.get(name) or {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise bad_request(f"{name} must map strings to strings", "malformed_event")
    return dict(value)


#: The API's routes: path pattern -> {method: operation}. ``{key}`` is one path segment.
ROUTES: Mapping[tuple[str, ...], Mapping[str, str]] = {
    ("api", "health"): {"GET": HEALTH},
    ("api", "data"): {"GET": LIST_OBJECTS},
    ("api", "data", "{key}"): {"GET": GET_OBJECT, "PUT": PUT_OBJECT},
}


def route(request: Request) -> Route:
    """The operation and key a request names.

    Raises
    ------
    ApiError
        404 for an unknown path, 405 (with ``Allow``) for a method the path does not serve, 400
        for an invalid object key.
    """
    segments = tuple(request.path.split("/")[1:])
    for pattern, methods in ROUTES.items():
        if len(pattern) != len(segments) or any(
            p != s for p, s in zip(pattern, segments) if p != "{key}"
        ):
            continue
        operation = methods.get(request.method)
        if operation is None:
            allowed = ", ".join(sorted(methods))
            raise ApiError(
                405,
                "method_not_allowed",
                f"{show(request.method)} is not allowed here; allowed: {allowed}",
                headers={"Allow": allowed},
            )
        key = object_key(segments[-1]) if pattern[-1] == "{key}" else None
        return Route(operation, key)
    raise ApiError(
        404, "route_not_found", "no such route; the API serves /api/health and /api/data[/{key}]"
    )


def object_key(segment: str) -> str:
    """The object key in a (percent-encoded) path segment.

    Raises
    ------
    ApiError
        400 ``invalid_key`` unless the decoded key is 1-200 letters, digits, '.', '_' or '-',
        starting with a letter or digit (so never '.', '..', or anything with '/').
    """
    try:
        key = unquote(segment, errors="strict")
    except UnicodeDecodeError:
        raise bad_request("the key is not percent-encoded UTF-8", "invalid_key") from None
    if not key or len(key) > MAX_KEY_CHARS or not KEY_PATTERN.fullmatch(key):
        raise bad_request(
            f"the key {show(key)} must be 1-{MAX_KEY_CHARS} letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            "invalid_key",
        )
    return key


def header(request: Request, name: str) -> str | None:
    return request.headers.get(name.lower())


def body_bytes(request: Request, max_bytes: int) -> bytes:
    """The request body as bytes, at most ``max_bytes``.

    Raises
    ------
    ApiError
        400 for a missing or empty body or invalid base64, 413 for a body over ``max_bytes``
        (checked before decoding, so an oversized body costs no memory).
    """
    body = request.body
    if not body:
        raise bad_request("the request has no body; send the object's content", "missing_body")
    too_large = ApiError(413, "payload_too_large", f"the object is larger than {max_bytes} bytes")
    if request.is_base64:
        if len(body) > (max_bytes + 2) // 3 * 4:
            raise too_large
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise bad_request(
                "the request body is marked base64 but is not valid base64", "invalid_body"
            ) from None
        if not raw:
            raise bad_request("the request has no body; send the object's content", "missing_body")
    else:
        if len(body) > max_bytes:  # each character is at least one byte
            raise too_large
        try:
            raw = body.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates cannot come from JSON text, but do not crash
            raise bad_request("the request body is not valid text", "invalid_body") from None
    if len(raw) > max_bytes:
        raise too_large
    return raw


def content_type(request: Request) -> str:
    """The request's ``Content-Type``, or ``application/octet-stream`` when it sends none.

    Raises
    ------
    ApiError
        415 for a value that is not a media type (``type/subtype`` with optional parameters).
    """
    value = header(request, "content-type")
    if value is None or not value.strip():
        return DEFAULT_CONTENT_TYPE
    value = value.strip()
    if len(value) > 200 or not _CONTENT_TYPE.fullmatch(value):
        raise ApiError(
            415, "unsupported_media_type", f"Content-Type {show(value)} is not a media type"
        )
    return value


def list_query(request: Request) -> ListQuery:
    """``limit`` (1-1000, default 100), ``prefix`` (a key prefix) and ``cursor`` of a listing.

    Raises
    ------
    ApiError
        400 naming the parameter that is invalid or unknown.
    """
    unknown = sorted(set(request.query) - {"limit", "prefix", "cursor"})
    if unknown:
        raise bad_request(f"unknown query parameter(s): {show(unknown)}; use limit, prefix, cursor")
    raw_limit = request.query.get("limit")
    limit = DEFAULT_PAGE_SIZE
    if raw_limit is not None:
        if not _DIGITS.fullmatch(raw_limit) or not 1 <= int(raw_limit) <= MAX_PAGE_SIZE:
            raise bad_request(
                f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}, got {show(raw_limit)}"
            )
        limit = int(raw_limit)
    prefix = request.query.get("prefix", "")
    if prefix and (len(prefix) > MAX_KEY_CHARS or not KEY_PATTERN.fullmatch(prefix)):
        raise bad_request(
            f"prefix {show(prefix)} must be the start of a key: letters, digits, '.', '_' or '-'",
            "invalid_key",
        )
    cursor = request.query.get("cursor")
    if cursor is not None and (not cursor or len(cursor) > MAX_CURSOR_CHARS):
        raise bad_request("cursor must be a value returned as next_cursor", "invalid_cursor")
    return ListQuery(limit=limit, prefix=prefix, cursor=cursor)
