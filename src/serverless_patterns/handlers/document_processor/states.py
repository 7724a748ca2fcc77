"""The processor's one transition: ``AWAITING_UPLOAD`` to ``PROCESSED`` or ``REJECTED``.

With processing steps the accepted status is ``VALIDATED`` (the step coordinator takes over); a
content type with a user validator stays ``AWAITING_UPLOAD`` with ``validation = PENDING`` once its
object is there at the declared size (the coordinator invokes the validator).
"""

from __future__ import annotations

import hashlib
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
    #: The object's Content-Type as S3 stores it (what the uploader declared).
    content_type: str | None = None


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


def uploaded_document_id(key: str) -> str | None:
    """The id of a document uploaded straight to the bucket: derived from its key alone.

    The first 32 hex digits of the key's SHA-256 (the shape of the API's ids), for any key
    under ``documents/`` that names an object (not a ``folder/`` marker); None otherwise. Every
    delivery of every event of one key names the same document, which is what makes its
    registration happen exactly once (a conditional put of this id).
    """
    if not key.startswith("documents/") or key == "documents/" or key.endswith("/"):
        return None
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def media_type(content_type: str | None) -> str:
    """``text/plain; charset=utf-8`` -> ``text/plain`` (lower case); empty when unknown."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def registered_item(document_id: str, key: str, head: ObjectHead | None, now: str) -> dict[str, Any]:
    """The table item of a document uploaded straight to the bucket, ``AWAITING_UPLOAD``.

    Its declared type and size are the object's own Content-Type and size (nobody declared them
    before the upload); the owner is the uploader S3 saw, which the event does not name.
    """
    item: dict[str, Any] = {
        "document_id": document_id,
        "status": AWAITING_UPLOAD,
        "file_name": key.rsplit("/", 1)[-1],
        "declared_type": media_type(head.content_type) if head else "",
        "declared_size": head.total_size if head else 0,
        "object_key": key,
        "owner": "direct-upload",
        "created_at": now,
        "updated_at": now,
        "status_version": 1,
    }
    return item


def refusal(item: dict[str, Any], *, allowed_content_types: frozenset[str], max_document_bytes: int) -> str | None:
    """Why a directly uploaded document is not accepted whatever its bytes say; None if it may be checked.

    The API refuses these before an upload; without an API they end REJECTED with this reason.
    """
    declared = item.get("declared_type") or ""
    if declared not in allowed_content_types:
        return f"content type {declared or '(none)'!r} is not accepted"
    if item.get("declared_size", 0) > max_document_bytes:
        return f"the object has {item['declared_size']} bytes, more than the {max_document_bytes} accepted"
    return None


def refused(item: dict[str, Any], head: ObjectHead, reason: str, now: str) -> dict[str, Any]:
    """The attributes that close ``item`` REJECTED for ``reason`` (see :func:`refusal`)."""
    changes: dict[str, Any] = {
        "status_version": item["status_version"] + 1,
        "updated_at": now,
        "status": REJECTED,
        "reason": reason,
        "size": head.total_size,
    }
    if head.version_id:
        changes["version_id"] = head.version_id
    if head.etag:
        changes["etag"] = head.etag.strip('"')
    return changes


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
