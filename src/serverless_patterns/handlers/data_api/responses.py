"""HTTP API (payload format 2.0) responses: JSON documents and stored objects."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}
_TEXT_SUBTYPES = ("json", "xml", "javascript", "yaml", "csv")


def json_response(
    status: int, payload: Any, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {**JSON_HEADERS, **(headers or {})},
        "body": json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str),
        "isBase64Encoded": False,
    }


def is_text(content_type: str) -> bool:
    """True for ``text/*`` and JSON, XML, YAML, CSV and JavaScript media types."""
    media = content_type.split(";", 1)[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "text" or any(subtype == s or subtype.endswith("+" + s) for s in _TEXT_SUBTYPES)


def object_response(
    body: bytes, *, content_type: str, etag: str | None, version_id: str | None
) -> dict[str, Any]:
    """The object as stored: text as text, anything else base64-encoded (API Gateway decodes it)."""
    headers = {"Content-Type": content_type, "Cache-Control": "no-store"}
    if etag:
        headers["ETag"] = etag
    if version_id:
        headers["X-Object-Version"] = version_id
    if is_text(content_type):
        try:
            return {
                "statusCode": 200,
                "headers": headers,
                "body": body.decode("utf-8"),
                "isBase64Encoded": False,
            }
        except UnicodeDecodeError:
            pass  # labelled text but is not UTF-8: send the bytes unchanged
    return {
        "statusCode": 200,
        "headers": headers,
        "body": base64.b64encode(body).decode("ascii"),
        "isBase64Encoded": True,
    }
