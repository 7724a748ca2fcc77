"""Document statuses and the item changes of the transitions the API makes.

A document starts ``AWAITING_UPLOAD``; the processor moves it to ``PROCESSED`` or ``REJECTED``;
the API moves any status to ``DELETED``. Every transition adds one to ``status_version``, which
the notifier uses to publish each transition exactly once.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .request import Caller
    from .validation import NewDocument

AWAITING_UPLOAD = "AWAITING_UPLOAD"
PROCESSED = "PROCESSED"
REJECTED = "REJECTED"
DELETED = "DELETED"
STATUSES = (AWAITING_UPLOAD, PROCESSED, REJECTED, DELETED)
#: A document id: ``uuid4().hex``.
DOCUMENT_ID = re.compile(r"[0-9a-f]{32}")


def utc_now() -> str:
    """ISO-8601 UTC with milliseconds, e.g. ``2026-01-31T09:15:00.123Z`` (sorts as text)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def object_key(document_id: str, file_name: str) -> str:
    return f"documents/{document_id}/{file_name}"


def new_item(document_id: str, request: NewDocument, caller: Caller, now: str) -> dict[str, Any]:
    """The table item of a freshly registered document."""
    item: dict[str, Any] = {
        "document_id": document_id,
        "status": AWAITING_UPLOAD,
        "file_name": request.file_name,
        "declared_type": request.content_type,
        "declared_size": request.size,
        "object_key": object_key(document_id, request.file_name),
        "owner": caller.client_id,
        "created_at": now,
        "updated_at": now,
        "status_version": 1,
    }
    if request.sha256 is not None:
        item["declared_sha256"] = request.sha256
    return item


def deletion(item: dict[str, Any], caller: Caller, now: str) -> dict[str, Any]:
    """The attributes that mark ``item`` deleted (the item itself stays, as the audit trail).

    Who deleted it is kept in ``deleted_by``, which no caller sees: the public ``reason`` names
    no client.
    """
    return {
        "status": DELETED,
        "status_version": item["status_version"] + 1,
        "updated_at": now,
        "reason": "deleted through the API",
        "deleted_by": caller.client_id,
    }
