"""The processor's one transition: ``AWAITING_UPLOAD`` to ``PROCESSED`` or ``REJECTED``.

With processing steps the accepted status is ``VALIDATED`` (the step coordinator takes over); a
content type with a user validator stays ``AWAITING_UPLOAD`` with ``validation = PENDING`` once its
object is there at the declared size (the coordinator invokes the validator).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .formats import check

AWAITING_UPLOAD = "AWAITING_UPLOAD"
PROCESSED = "PROCESSED"
REJECTED = "REJECTED"
#: ``validation`` of a document whose content type a user validator checks, until it answers.
VALIDATION_PENDING = "PENDING"

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


def completion(
    item: dict[str, Any],
    head: ObjectHead | None,
    now: str,
    *,
    accepted_status: str = PROCESSED,
    validator_types: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The attributes that close ``item``: ``accepted_status`` or REJECTED (with a reason).

    ``head`` is None when the object no longer exists (deleted before it could be read). A
    declared type in ``validator_types`` is checked for size only and left to its validator:
    the status stays ``AWAITING_UPLOAD`` with ``validation = PENDING``.
    """
    changes: dict[str, Any] = {"status_version": item["status_version"] + 1, "updated_at": now}
    if head is None:
        return {**changes, "status": REJECTED, "reason": "the object no longer exists"}
    if str(item["declared_type"]).lower() in validator_types:
        if head.total_size != item["declared_size"]:
            reason = f"size mismatch: declared {item['declared_size']} bytes, the object has {head.total_size}"
            return {**changes, "status": REJECTED, "size": head.total_size, "reason": reason}
        pending = {**changes, "status": AWAITING_UPLOAD, "validation": VALIDATION_PENDING, "size": head.total_size}
        pending.update({k: v for k, v in (("etag", head.etag.strip('"') if head.etag else None), ("version_id", head.version_id)) if v})
        return pending
    verdict = check(
        declared_type=item["declared_type"],
        declared_size=item["declared_size"],
        head=head.data,
        total_size=head.total_size,
        declared_sha256=item.get("declared_sha256"),
    )
    changes["status"] = accepted_status if verdict.accepted else REJECTED
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
