"""Status transitions from stream images, and the SNS message that announces each one."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

STATUSES = ("AWAITING_UPLOAD", "PROCESSED", "REJECTED", "DELETED")
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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def transition_of(
    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> Transition | None:
    """The transition between two images of an item, or None when the status did not change.

    An INSERT (no old image) of ``AWAITING_UPLOAD`` is a transition from nothing; a REMOVE (no
    new image) is not one (documents are never removed, only marked ``DELETED``).

    Raises
    ------
    MalformedImage
        When the new image changes status but lacks a valid id, status or status_version.
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
    if status not in STATUSES:
        raise MalformedImage(f"the item has an unknown status {str(status)[:40]!r}")
    return Transition(
        document_id=document_id,
        status=status,
        previous_status=previous if isinstance(previous, str) else None,
        status_version=_version(new.get("status_version")),
        file_name=_text(new.get("file_name")),
        at=_text(new.get("updated_at")),
        reason=_text(new.get("reason")),
    )


def message(transition: Mapping[str, Any]) -> tuple[str, dict[str, dict[str, str]]]:
    """The SNS message body (JSON) and the attributes subscribers filter on."""
    body = {
        name: transition[name]
        for name in ("document_id", "status", "previous_status", "status_version")
    }
    body["file_name"] = transition.get("file_name")
    body["at"] = transition.get("at")
    if transition.get("reason"):
        body["reason"] = transition["reason"]
    attributes = {
        "status": {"DataType": "String", "StringValue": transition["status"]},
        "document_id": {"DataType": "String", "StringValue": transition["document_id"]},
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True), attributes


def _version(value: Any) -> int:
    """A positive integral ``status_version`` (an int, or the Decimal the stream decodes to)."""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        try:
            number = int(value)
        except (ValueError, OverflowError):
            number = 0
        if number == value and number >= 1:
            return number
    raise MalformedImage("the item has no valid status_version")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
