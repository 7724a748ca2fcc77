"""What the API answers: the public view of a document and JSON bodies."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

#: Item attributes a caller may see. ``owner``, ``object_key`` and ``version_id`` stay internal.
PUBLIC_ATTRIBUTES = (
    "document_id",
    "status",
    "file_name",
    "declared_type",
    "declared_size",
    "declared_sha256",
    "created_at",
    "updated_at",
    "status_version",
    "detected_type",
    "size",
    "etag",
    "reason",
)
#: Every answer: JSON, never cached (some carry presigned URLs).
JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}


def document_view(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: item[name] for name in PUBLIC_ATTRIBUTES if name in item}


def list_view(
    status: str, items: Iterable[Mapping[str, Any]], next_token: str | None
) -> dict[str, Any]:
    return {"status": status, "items": [document_view(item) for item in items], "next": next_token}


def to_json(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


def proxy_response(status: int, payload: Any) -> dict[str, Any]:
    """A REST proxy response built without the router (for events it cannot be given)."""
    return {
        "statusCode": status,
        "headers": dict(JSON_HEADERS),
        "body": to_json(payload),
        "isBase64Encoded": False,
    }
