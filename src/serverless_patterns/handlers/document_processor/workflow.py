"""One object-created event, from the table item to the closing transition (at most 3 calls)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from .states import AWAITING_UPLOAD, PROCESSED, REJECTED, completion, document_id_of

if TYPE_CHECKING:
    from .aws import DocumentStore
    from .events import ObjectCreated


class Outcome(str, Enum):
    #: Accepted: PROCESSED, or VALIDATED when processing steps follow.
    PROCESSED = "processed"
    REJECTED = "rejected"
    #: The object is there at its declared size; a user validator checks its content next.
    AWAITING_VALIDATOR = "awaiting_validator"
    #: The document already left AWAITING_UPLOAD: a repeated delivery, a second upload, a deletion.
    ALREADY_HANDLED = "already_handled"
    #: Dropped, not retried: no such document, or a key that is not a registered document's.
    UNKNOWN_DOCUMENT = "unknown_document"
    FOREIGN_OBJECT = "foreign_object"

    @property
    def dropped(self) -> bool:
        """The event was dropped unprocessed: worth a warning, never worth a retry."""
        return self in (Outcome.UNKNOWN_DOCUMENT, Outcome.FOREIGN_OBJECT)


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    document_id: str | None = None
    reason: str | None = None


def handle_object(
    store: DocumentStore,
    bucket: str,
    event: ObjectCreated,
    *,
    now: str,
    accepted_status: str = PROCESSED,
    validator_types: frozenset[str] = frozenset(),
) -> Result:
    """Check the uploaded object and close its document; the table item is the truth.

    Transient AWS errors propagate (the message is retried, then dead-lettered); everything
    that a retry cannot change is answered with a :class:`Result`.
    """
    document_id = document_id_of(event.key)
    if event.bucket != bucket or document_id is None:
        return Result(
            Outcome.FOREIGN_OBJECT,
            document_id,
            "the object is not under documents/<id>/ in this bucket",
        )
    item = store.get(document_id)
    if item is None:
        return Result(Outcome.UNKNOWN_DOCUMENT, document_id, "no such document")
    if item.get("object_key") != event.key:
        return Result(
            Outcome.FOREIGN_OBJECT,
            document_id,
            "the key is not the document's registered object key",
        )
    if item.get("status") != AWAITING_UPLOAD:
        return Result(
            Outcome.ALREADY_HANDLED, document_id, f"the document is already {item.get('status')}"
        )
    if item.get("validation"):
        return Result(Outcome.ALREADY_HANDLED, document_id, "the document is with its validator")
    head = store.read_head(event.key, version_id=event.version_id)
    changes = completion(item, head, now, accepted_status=accepted_status, validator_types=validator_types)
    if not store.close(document_id, expected_version=item["status_version"], changes=changes):
        return Result(
            Outcome.ALREADY_HANDLED, document_id, "the document changed while it was being checked"
        )
    if changes["status"] == AWAITING_UPLOAD:
        return Result(Outcome.AWAITING_VALIDATOR, document_id, "handed to the validator of its content type")
    outcome = Outcome.REJECTED if changes["status"] == REJECTED else Outcome.PROCESSED
    return Result(outcome, document_id, changes.get("reason"))
