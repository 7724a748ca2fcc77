"""Status transitions from stream images, and the status event that announces each one.

The event is version 1 of the documented status event (``docs/schemas/document-status-event.v1.json``,
shipped as ``serverless_patterns/schemas/``): the SNS message body and the EventBridge ``detail``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

#: The statuses the library writes. User statuses are announced only when the pipeline lists
#: them (``DocumentPipeline.announce_statuses``, the ANNOUNCED_STATUSES variable).
STATUSES = ("AWAITING_UPLOAD", "VALIDATED", "PROCESSED", "REJECTED", "DELETED")
#: What a status looks like, built-in or announced.
STATUS_PATTERN = re.compile(r"[A-Z][A-Z0-9_]{0,39}")
SCHEMA_VERSION = "1"
#: EventBridge ``source`` and ``detail-type`` of status events.
EVENT_SOURCE = "serverless-patterns.document-pipeline"
EVENT_DETAIL_TYPE = "Document Status Changed"
_DOCUMENT_ID = re.compile(r"[0-9a-f]{32}")


class MalformedImage(ValueError):
    """A changed item that is not a document item: it can never be published, only dropped."""


@dataclass(frozen=True)
class Transition:
    document_id: str
    status: str
    previous_status: str | None
    status_version: int
    file_name: str | None = None
    at: str | None = None
    reason: str | None = None
    key: str | None = None
    version_id: str | None = None
    size: int | None = None
    content_type: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def announced_statuses(text: str | None) -> frozenset[str]:
    """The user statuses of a comma-separated ANNOUNCED_STATUSES value (malformed names ignored)."""
    names = (name.strip() for name in (text or "").split(","))
    return frozenset(name for name in names if STATUS_PATTERN.fullmatch(name))


def transition_of(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    *,
    announced: Iterable[str] = (),
    recorded_at: str | None = None,
) -> Transition | None:
    """The transition between two images of an item, or None when the status did not change.

    An INSERT (no old image) of ``AWAITING_UPLOAD`` is a transition from nothing; a REMOVE (no
    new image) is not one (documents are never removed, only marked ``DELETED``). A status is
    announced when it is one of :data:`STATUSES` or of ``announced``. The transition occurred at
    the item's ``updated_at``, else at ``recorded_at`` (when the stream recorded the change).

    Raises
    ------
    MalformedImage
        When the new image changes status but lacks a valid id, a known status, status_version
        or a time.
    """
    if not new:
        return None
    status = new.get("status")
    previous = old.get("status") if old else None
    if status == previous:
        return None
    document_id = new.get("document_id")
    if not isinstance(document_id, str) or not _DOCUMENT_ID.fullmatch(document_id):
        raise MalformedImage("the item has no valid document_id")
    if status not in STATUSES and status not in frozenset(announced):
        raise MalformedImage(f"the item has an unknown status {str(status)[:40]!r}")
    at = _text(new.get("updated_at")) or recorded_at
    if not at:
        raise MalformedImage("the item has no updated_at")
    return Transition(
        document_id=document_id,
        status=status,
        previous_status=previous if isinstance(previous, str) and STATUS_PATTERN.fullmatch(previous) else None,
        status_version=_version(new.get("status_version")),
        file_name=_text(new.get("file_name")),
        at=at,
        reason=_text(new.get("reason")),
        key=_text(new.get("object_key")),
        version_id=_text(new.get("version_id")),
        size=_size(new.get("size"), new.get("declared_size")),
        content_type=_text(new.get("detected_type")) or _text(new.get("declared_type")),
    )


def status_event(transition: Mapping[str, Any]) -> dict[str, Any]:
    """The status event (schema version 1) of a transition."""
    return {
        "schema_version": SCHEMA_VERSION,
        "document_id": transition["document_id"],
        "status": transition["status"],
        "previous_status": transition["previous_status"],
        "status_version": transition["status_version"],
        "occurred_at": transition["at"],
        "file_name": transition.get("file_name"),
        "object": {name: transition.get(name) for name in ("key", "version_id", "size", "content_type")},
        "reason": transition.get("reason"),
    }


def message(event: Mapping[str, Any]) -> tuple[str, dict[str, dict[str, str]]]:
    """The SNS message body (the event as JSON) and the attributes subscribers filter on."""
    attributes = {
        "status": {"DataType": "String", "StringValue": event["status"]},
        "schema_version": {"DataType": "String", "StringValue": event["schema_version"]},
        "document_id": {"DataType": "String", "StringValue": event["document_id"]},
    }
    return _json(event), attributes


def bus_entry(event: Mapping[str, Any], bus: str, resources: Iterable[str] = ()) -> dict[str, Any]:
    """The PutEvents entry of the event on ``bus`` (a name or ARN); ``resources`` (the metadata
    table's ARN) tells the events of one pipeline from another's on a shared bus."""
    entry: dict[str, Any] = {
        "EventBusName": bus,
        "Source": EVENT_SOURCE,
        "DetailType": EVENT_DETAIL_TYPE,
        "Detail": _json(event),
    }
    if resources:
        entry["Resources"] = list(resources)
    return entry


def table_arn(stream_arn: str | None) -> str | None:
    """The table of a stream ARN (``arn:...:table/<name>/stream/<label>``), or None."""
    if isinstance(stream_arn, str) and stream_arn.startswith("arn:") and "/stream/" in stream_arn:
        return stream_arn.split("/stream/", 1)[0]
    return None


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _version(value: Any) -> int:
    """A positive integral ``status_version`` (an int, or the Decimal the stream decodes to)."""
    number = _whole(value)
    if number is not None and number >= 1:
        return number
    raise MalformedImage("the item has no valid status_version")


def _size(*values: Any) -> int | None:
    """The first of ``values`` that is a whole number of bytes (measured size, then declared)."""
    for value in values:
        number = _whole(value)
        if number is not None and number >= 0:
            return number
    return None


def _whole(value: Any) -> int | None:
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        try:
            number = int(value)
        except (ValueError, OverflowError):
            return None
        if number == value:
            return number
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
