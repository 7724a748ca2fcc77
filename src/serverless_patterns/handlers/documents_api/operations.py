"""The four operations of the API, over a :class:`~.aws.DocumentStore` given by the caller."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ApiError
from .pagination import encode_token
from .presigning import content_disposition, upload_form
from .states import DELETED, PROCESSED, deletion, new_item
from .views import document_view, list_view

if TYPE_CHECKING:
    from .aws import DocumentStore
    from .config import Config
    from .request import Caller
    from .validation import ListQuery, NewDocument

#: Attempts to mark a document deleted while the processor moves it on concurrently.
DELETE_ATTEMPTS = 3


def create_document(
    store: DocumentStore,
    config: Config,
    caller: Caller,
    request: NewDocument,
    *,
    document_id: str,
    now: str,
) -> dict[str, Any]:
    """Register the document (``AWAITING_UPLOAD``) and return the form to upload it with."""
    item = new_item(document_id, request, caller, now)
    if not store.insert(item):
        raise RuntimeError(f"document id {document_id} already exists; the id generator is broken")
    fields, conditions = upload_form(item)
    upload = store.upload_form(
        item["object_key"],
        fields=fields,
        conditions=conditions,
        expires=config.upload_url_expiry_seconds,
    )
    return {
        "document_id": document_id,
        "status": item["status"],
        "upload": {"url": upload["url"], "fields": upload["fields"]},
        "expires_in": config.upload_url_expiry_seconds,
    }


def read_document(store: DocumentStore, config: Config, document_id: str) -> dict[str, Any]:
    """The document's view, with a download URL of the validated version once PROCESSED."""
    item = _existing(store, document_id)
    view = document_view(item)
    if item["status"] == PROCESSED:
        url = store.download_url(
            item["object_key"],
            version_id=item.get("version_id"),
            disposition=content_disposition(item["file_name"]),
            expires=config.download_url_expiry_seconds,
        )
        view["download"] = {"url": url, "expires_in": config.download_url_expiry_seconds}
    return view


def list_documents(store: DocumentStore, query: ListQuery) -> dict[str, Any]:
    items, last_key = store.query_status(query.status, limit=query.limit, start_key=query.start_key)
    return list_view(query.status, items, encode_token(last_key) if last_key else None)


def delete_document(
    store: DocumentStore, caller: Caller, document_id: str, *, now: str
) -> tuple[dict[str, Any], bool]:
    """Delete the object and mark the item ``DELETED``; idempotent.

    Returns the document's view and whether this call made the transition (False when the
    document was already deleted).

    Raises
    ------
    ApiError
        404 for an unknown id; 409 when the item kept changing under every attempt.
    """
    item = _existing(store, document_id)
    if item["status"] == DELETED:
        return document_view(item), False
    store.delete_object(item["object_key"])
    for _ in range(DELETE_ATTEMPTS):
        changes = deletion(item, caller, now)
        if store.transition(
            document_id,
            expected_status=item["status"],
            expected_version=item["status_version"],
            changes=changes,
        ):
            return document_view({**item, **changes}), True
        item = _existing(store, document_id)
        if item["status"] == DELETED:
            return document_view(item), False
    raise ApiError(
        409, "conflict", "the document changed while it was being deleted; retry the request"
    )


def _existing(store: DocumentStore, document_id: str) -> dict[str, Any]:
    item = store.get(document_id)
    if item is None:
        raise ApiError(404, "not_found", f"no document {document_id}")
    return item
