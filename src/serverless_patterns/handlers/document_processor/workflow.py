"""One object-created event, from the table item to the closing transition (at most 3 calls)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from .states import (
    AWAITING_UPLOAD,
    PROCESSED,
    REJECTED,
    completion,
    document_id_of,
    refusal,
    refused,
    registered_item,
    uploaded_document_id,
)

if TYPE_CHECKING:
    from .aws import DocumentStore
    from .config import Registration
    from .events import ObjectCreated
    from .states import ObjectHead


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
    registration: Registration | None = None,
) -> Result:
    """Check the uploaded object and close its document; the table item is the truth.

    With ``registration`` (a pipeline without an API) a key under ``documents/`` is a document
    of its own, whose id is derived from the key (:func:`.states.uploaded_document_id`): its
    first event registers it ``AWAITING_UPLOAD`` with one conditional put (a concurrent delivery
    that loses the race reads the winner's item), and from there it is closed exactly as a
    document registered through the API. A later upload to the same key is the same document,
    already closed: it is not checked again.

    Transient AWS errors propagate (the message is retried, then dead-lettered); everything
    that a retry cannot change is answered with a :class:`Result`.
    """
    document_id = uploaded_document_id(event.key) if registration else document_id_of(event.key)
    if event.bucket != bucket or document_id is None:
        return Result(
            Outcome.FOREIGN_OBJECT,
            document_id,
            "the object is not under documents/<id>/ in this bucket"
            if registration is None
            else "the object is not under documents/ in this bucket",
        )
    item = store.get(document_id)
    head: ObjectHead | None = None
    head_read = False
    if item is None and registration is not None:
        head, head_read = store.read_head(event.key, version_id=event.version_id), True
        candidate = registered_item(document_id, event.key, head, now)
        item = candidate if store.register(candidate) else store.get(document_id)
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
    if not head_read:
        head = store.read_head(event.key, version_id=event.version_id)
    reason = (
        refusal(
            item,
            allowed_content_types=registration.allowed_content_types,
            max_document_bytes=registration.max_document_bytes,
        )
        if registration is not None and head is not None
        else None
    )
    changes = (
        refused(item, head, reason, now)
        if (reason and head)
        else completion(item, head, now, accepted_status=accepted_status, validator_types=validator_types)
    )
    if not store.close(document_id, expected_version=item["status_version"], changes=changes):
        return Result(
            Outcome.ALREADY_HANDLED, document_id, "the document changed while it was being checked"
        )
    if changes["status"] == AWAITING_UPLOAD:
        return Result(Outcome.AWAITING_VALIDATOR, document_id, "handed to the validator of its content type")
    outcome = Outcome.REJECTED if changes["status"] == REJECTED else Outcome.PROCESSED
    return Result(outcome, document_id, changes.get("reason"))
