"""The processor's one transition: ``AWAITING_UPLOAD`` to ``PROCESSED`` or ``REJECTED``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .formats import check

AWAITING_UPLOAD = "AWAITING_UPLOAD"
PROCESSED = "PROCESSED"
REJECTED = "REJECTED"

_DOCUMENT_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class ObjectHead:
    """The first bytes of one object version and what S3 said about the whole object."""

    data: bytes
    total_size: int
    etag: str | None = None
    version_id: str | None = None


def utc_now() -> str:
    """ISO-8601 UTC with milliseconds, e.g. ``2026-01-31T09:15:00.123Z`` (sorts as text)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def document_id_of(key: str) -> str | None:
    """The id in ``documents/<id>/<file name>``; None for any other key."""
    parts = key.split("/", 2)
    if (
        len(parts) == 3
        and parts[0] == "documents"
        and _DOCUMENT_ID.fullmatch(parts[1])
        and parts[2]
    ):
        return parts[1]
    return None


def completion(item: dict[str, Any], head: ObjectHead | None, now: str) -> dict[str, Any]:
    """The attributes that close ``item``: PROCESSED or REJECTED (with a reason).

    ``head`` is None when the object no longer exists (deleted before it could be read).
    """
    changes: dict[str, Any] = {"status_version": item["status_version"] + 1, "updated_at": now}
    if head is None:
        return {**changes, "status": REJECTED, "reason": "the object no longer exists"}
    verdict = check(
        declared_type=item["declared_type"],
        declared_size=item["declared_size"],
        head=head.data,
        total_size=head.total_size,
        declared_sha256=item.get("declared_sha256"),
    )
    changes["status"] = PROCESSED if verdict.accepted else REJECTED
    changes["size"] = head.total_size
    optional = {
        "detected_type": verdict.detected_type,
        "etag": head.etag.strip('"') if head.etag else None,
        "version_id": head.version_id,
        "checksum_sha256": item.get("declared_sha256") if verdict.accepted else None,
        "reason": verdict.reason,
    }
    changes.update({name: value for name, value in optional.items() if value})
    return changes
