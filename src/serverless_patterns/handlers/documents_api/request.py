"""The request side of an API Gateway REST proxy event: shape, caller, JSON body, routes.

API Gateway always sends well-formed events, but the handler must not trust that: whatever
arrives is checked and copied into a canonical event before the router sees it, so a malformed
event becomes a 400 answer instead of an exception deep inside the router.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, bad_request, show

#: Levels the authorizer grants, weakest first. Each level includes the ones before it.
LEVELS = {"read-only": 1, "read-write": 2, "admin": 3}
#: The create request is a few hundred bytes; anything far larger is not one.
MAX_BODY_BYTES = 16 * 1024
MAX_PATH_CHARS = 8192

_METHOD = re.compile(r"[A-Za-z]{1,16}")
_ITEM_PATH = re.compile(r"/documents/[^/]+")


@dataclass(frozen=True)
class Caller:
    """Who is calling, as established by the authorizer."""

    client_id: str
    level: str


def normalise_event(event: Any) -> dict[str, Any]:
    """A canonical REST proxy event holding only the fields the API reads, with checked types.

    Raises
    ------
    ApiError
        400 ``malformed_event`` naming the first field that is missing or of the wrong type.
    """
    if not isinstance(event, Mapping):
        raise bad_request(
            "the event is not an API Gateway proxy event (a JSON object)", "malformed_event"
        )
    method = event.get("httpMethod")
    if not isinstance(method, str) or not _METHOD.fullmatch(method):
        raise bad_request("the event has no valid httpMethod", "malformed_event")
    path = event.get("path")
    if not isinstance(path, str) or not path.startswith("/") or len(path) > MAX_PATH_CHARS:
        raise bad_request("the event has no valid path", "malformed_event")
    body = event.get("body")
    if body is not None and not isinstance(body, str):
        raise bad_request("the event body must be a string or null", "malformed_event")
    is_base64 = event.get("isBase64Encoded")
    if is_base64 is not None and not isinstance(is_base64, bool):
        raise bad_request("isBase64Encoded must be a boolean", "malformed_event")
    context = event.get("requestContext")
    if context is None:
        context = {}
    if not isinstance(context, Mapping):
        raise bad_request("requestContext must be an object", "malformed_event")
    authorizer = context.get("authorizer")
    request_id = context.get("requestId")
    headers, multi_headers = _pairs(event, "headers", "multiValueHeaders")
    query, multi_query = _pairs(event, "queryStringParameters", "multiValueQueryStringParameters")
    return {
        "httpMethod": method.upper(),
        "path": path,
        "resource": path,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": None,
        "body": body,
        "isBase64Encoded": bool(is_base64),
        "requestContext": {
            "requestId": request_id if isinstance(request_id, str) else None,
            "authorizer": dict(authorizer) if isinstance(authorizer, Mapping) else None,
        },
    }


def _pairs(
    event: Mapping[str, Any], single_name: str, multi_name: str
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Check a single-value/multi-value map pair and make the two agree."""
    single = event.get(single_name) or {}
    multi = event.get(multi_name) or {}
    if not isinstance(single, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in single.items()
    ):
        raise bad_request(f"{single_name} must map strings to strings", "malformed_event")
    if not isinstance(multi, Mapping) or not all(
        isinstance(k, str) and isinstance(v, list) and v and all(isinstance(i, str) for i in v)
        for k, v in multi.items()
    ):
        raise bad_request(
            f"{multi_name} must map strings to non-empty lists of strings", "malformed_event"
        )
    merged = {name: list(values) for name, values in multi.items()}
    for name, value in single.items():
        merged.setdefault(name, [value])
    return {name: values[-1] for name, values in merged.items()}, merged


def caller_of(event: Mapping[str, Any]) -> Caller:
    """The caller the authorizer vouched for (``requestContext.authorizer``).

    Raises
    ------
    ApiError
        403 when the context has no client id or an unknown level: deny by default.
    """
    authorizer = event["requestContext"]["authorizer"] or {}
    client_id = authorizer.get("client_id")
    level = authorizer.get("level")
    if (
        not isinstance(client_id, str)
        or not client_id.strip()
        or not isinstance(level, str)
        or level not in LEVELS
    ):
        raise ApiError(
            403, "forbidden", "the request carries no valid caller identity (authorizer context)"
        )
    return Caller(client_id=client_id, level=level)


def require_level(caller: Caller, minimum: str) -> None:
    """Defence in depth: the authorizer's policy already checked the route.

    Raises
    ------
    ApiError
        403 when ``caller`` holds a weaker level than ``minimum``.
    """
    if LEVELS[caller.level] < LEVELS[minimum]:
        raise ApiError(
            403,
            "forbidden",
            f"this operation needs the {minimum} level; the caller has {caller.level}",
        )


def header(event: Mapping[str, Any], name: str) -> str | None:
    """A request header, case-insensitively."""
    wanted = name.lower()
    for key, value in event["headers"].items():
        if key.lower() == wanted:
            return value
    return None


def json_body(event: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON object in the request body.

    Raises
    ------
    ApiError
        415 for a non-JSON content type, 413 for a body over :data:`MAX_BODY_BYTES`, 400 for a
        missing body, bad base64, text that is not UTF-8 or JSON, or JSON that is not an object.
    """
    content_type = header(event, "content-type")
    if (
        content_type is not None
        and content_type.split(";")[0].strip().lower() != "application/json"
    ):
        raise ApiError(
            415, "unsupported_media_type", f"send application/json, not {show(content_type)}"
        )
    body = event["body"]
    if not body:
        raise bad_request("the request has no body; send a JSON object", "missing_body")
    too_large = ApiError(
        413, "payload_too_large", f"the request body is larger than {MAX_BODY_BYTES} bytes"
    )
    if event["isBase64Encoded"]:
        if len(body) > (MAX_BODY_BYTES // 3 + 1) * 4:
            raise too_large
        try:
            raw = base64.b64decode(body, validate=True)
            text = raw.decode("utf-8")
        except (binascii.Error, ValueError):
            raise bad_request(
                "the request body is not valid base64-encoded UTF-8", "invalid_body"
            ) from None
        if len(raw) > MAX_BODY_BYTES:
            raise too_large
    else:
        text = body
        if len(text) > MAX_BODY_BYTES:
            raise too_large
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise bad_request(
            f"the request body is not valid JSON ({error.msg} at position {error.pos})",
            "invalid_json",
        ) from None
    except (ValueError, RecursionError):
        raise bad_request("the request body is not valid JSON", "invalid_json") from None
    if not isinstance(payload, dict):
        raise bad_request(
            f"the request body must be a JSON object, not {type(payload).__name__}", "invalid_json"
        )
    return payload


def allowed_methods(path: str) -> tuple[str, ...]:
    """The methods the API serves on ``path``; empty for a path it does not know.

    One trailing slash is ignored, as the router ignores it.
    """
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    if path == "/documents":
        return ("GET", "POST")
    if _ITEM_PATH.fullmatch(path):
        return ("DELETE", "GET")
    return ()
