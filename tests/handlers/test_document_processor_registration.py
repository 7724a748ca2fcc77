"""Document processor without an API: documents registered from their object events, exactly once."""

from __future__ import annotations

import hashlib
from typing import Any

import document_samples as samples
import pytest

from serverless_patterns.handlers.document_processor.config import Config, Registration
from serverless_patterns.handlers.document_processor.events import ObjectCreated
from serverless_patterns.handlers.document_processor.states import (
    ObjectHead,
    media_type,
    uploaded_document_id,
)
from serverless_patterns.handlers.document_processor.workflow import Outcome, handle_object

BUCKET = "docs-bucket"
KEY = "documents/reports/Q3 ü+x.pdf"
REGISTRATION = Registration(allowed_content_types=frozenset({"application/pdf", "text/plain"}), max_document_bytes=10_000)


class FakeStore:
    """The processor's four calls on an in-memory table and one object; ``rival`` wins every race."""

    def __init__(self, head: ObjectHead | None, *, rival: dict[str, Any] | None = None, rival_closes: bool = False) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.head, self.rival, self.rival_closes = head, rival, rival_closes
        self.calls: list[str] = []

    def get(self, document_id: str) -> dict[str, Any] | None:
        self.calls.append("GetItem")
        item = self.items.get(document_id)
        return dict(item) if item else None

    def register(self, item: dict[str, Any]) -> bool:
        self.calls.append("PutItem")
        if self.rival is not None:  # another delivery registered it between our GetItem and PutItem
            self.items[item["document_id"]] = dict(self.rival)
            return False
        if item["document_id"] in self.items:
            return False
        self.items[item["document_id"]] = dict(item)
        return True

    def read_head(self, key: str, *, version_id: str | None) -> ObjectHead | None:
        self.calls.append("GetObject")
        return self.head

    def close(self, document_id: str, *, expected_version: int, changes: dict[str, Any]) -> bool:
        self.calls.append("UpdateItem")
        item = self.items[document_id]
        if self.rival_closes or item["status"] != "AWAITING_UPLOAD" or item["status_version"] != expected_version:
            return False
        item.update(changes)
        return True


def _event(key: str = KEY) -> ObjectCreated:
    return ObjectCreated(bucket=BUCKET, key=key, size=None, version_id="v1")


def _head(data: bytes, content_type: str | None = "application/pdf") -> ObjectHead:
    return ObjectHead(data, len(data), etag='"abc"', version_id="v1", content_type=content_type)


def _run(store: FakeStore, key: str = KEY):
    return handle_object(store, BUCKET, _event(key), now="2026-01-01T00:00:00.000Z", registration=REGISTRATION)


def test_the_first_event_registers_and_closes_the_document_in_four_calls():
    store = FakeStore(_head(samples.pdf()))
    result = _run(store)
    document_id = hashlib.sha256(KEY.encode()).hexdigest()[:32]
    assert (result.outcome, result.document_id) == (Outcome.PROCESSED, document_id)
    assert store.calls == ["GetItem", "GetObject", "PutItem", "UpdateItem"]
    item = store.items[document_id]
    assert (item["status"], item["status_version"], item["object_key"], item["file_name"]) == ("PROCESSED", 2, KEY, "Q3 ü+x.pdf")
    assert (item["declared_type"], item["declared_size"], item["detected_type"]) == ("application/pdf", len(samples.pdf()), "application/pdf")


def test_a_repeated_event_finds_the_document_closed_and_changes_nothing():
    store = FakeStore(_head(samples.pdf()))
    _run(store)
    before = {k: dict(v) for k, v in store.items.items()}
    store.calls.clear()
    assert _run(store).outcome is Outcome.ALREADY_HANDLED
    assert store.calls == ["GetItem"] and store.items == before


def test_a_delivery_that_loses_the_registration_race_continues_with_the_winners_item():
    document_id = uploaded_document_id(KEY)
    winner = {"document_id": document_id, "status": "AWAITING_UPLOAD", "status_version": 1, "object_key": KEY,
              "declared_type": "application/pdf", "declared_size": len(samples.pdf())}
    store = FakeStore(_head(samples.pdf()), rival=winner)
    assert _run(store).outcome is Outcome.PROCESSED
    assert store.calls == ["GetItem", "GetObject", "PutItem", "GetItem", "UpdateItem"]
    racing = FakeStore(_head(samples.pdf()), rival=winner, rival_closes=True)
    assert _run(racing).outcome is Outcome.ALREADY_HANDLED, "the rival closed it first: no second close"


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (_head(b"\x00binary", "application/x-foo"), "content type 'application/x-foo' is not accepted"),
        (_head(b"plain", None), "content type '(none)' is not accepted"),
        (_head(b"a" * 10_001, "text/plain"), "the object has 10001 bytes, more than the 10000 accepted"),
        (_head(samples.png()), "image/png"),
        (None, "the object no longer exists"),
    ],
)
def test_uploads_that_cannot_be_accepted_end_rejected_with_the_reason(head, reason):
    store = FakeStore(head)
    result = _run(store)
    assert result.outcome is Outcome.REJECTED
    assert reason in store.items[result.document_id]["reason"]
    assert store.items[result.document_id]["status_version"] == 2


@pytest.mark.parametrize("key", ["documents/", "documents/folder/", "elsewhere/a.pdf"])
def test_keys_that_name_no_document_are_foreign(key):
    store = FakeStore(_head(samples.pdf()))
    assert _run(store, key).outcome is Outcome.FOREIGN_OBJECT
    assert store.calls == [] and uploaded_document_id(key) is None


def test_an_object_of_another_bucket_is_foreign():
    store = FakeStore(_head(samples.pdf()))
    event = ObjectCreated(bucket="other", key=KEY)
    assert handle_object(store, BUCKET, event, now="t", registration=REGISTRATION).outcome is Outcome.FOREIGN_OBJECT


def test_media_types_drop_parameters_and_case():
    assert media_type("Text/Plain; charset=UTF-8") == "text/plain"
    assert media_type(None) == ""


def test_config_reads_the_registration_settings():
    env = {"DOCUMENTS_BUCKET": "b", "DOCUMENTS_TABLE": "t"}
    assert Config.from_env(env).registration is None
    config = Config.from_env({**env, "REGISTER_UPLOADS": "true", "ALLOWED_CONTENT_TYPES": "application/pdf, Text/Plain",
                              "MAX_DOCUMENT_BYTES": "42"})
    assert config.registration == Registration(frozenset({"application/pdf", "text/plain"}), 42)
    with pytest.raises(ValueError, match="ALLOWED_CONTENT_TYPES, MAX_DOCUMENT_BYTES"):
        Config.from_env({**env, "REGISTER_UPLOADS": "true"})
    with pytest.raises(ValueError, match="MAX_DOCUMENT_BYTES must be a positive integer"):
        Config.from_env({**env, "REGISTER_UPLOADS": "true", "ALLOWED_CONTENT_TYPES": "a/b", "MAX_DOCUMENT_BYTES": "0"})
