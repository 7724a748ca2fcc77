"""Document processor, pure logic: both S3 event shapes, keys, and the closing transition."""

from __future__ import annotations

import hashlib
import json

import document_samples as samples
import pytest
from document_support import BUCKET, TEST_EVENT_BODY, eventbridge_body, notification_body
from hypothesis import given, settings
from hypothesis import strategies as st

from serverless_patterns.handlers.document_processor.config import Config
from serverless_patterns.handlers.document_processor.events import (
    ObjectCreated,
    Skipped,
    parse_message,
)
from serverless_patterns.handlers.document_processor.states import (
    ObjectHead,
    completion,
    document_id_of,
)

DOC = "0123456789abcdef0123456789abcdef"
KEY = f"documents/{DOC}/Q1 report ü+x.pdf"


def test_eventbridge_event_keys_are_used_as_they_are():
    (event,) = parse_message(eventbridge_body(KEY, size=42, version_id="v1"))
    assert event == ObjectCreated(
        bucket=BUCKET, key=KEY, size=42, etag="0123456789abcdef", version_id="v1"
    )


def test_classic_notification_keys_are_url_decoded():
    body = notification_body(KEY, f"documents/{DOC}/100%25 sure.pdf")
    raw = json.loads(body)["Records"][0]["s3"]["object"]["key"]
    assert raw == "documents%2F0123456789abcdef0123456789abcdef%2FQ1+report+%C3%BC%2Bx.pdf"
    first, second = parse_message(body)
    assert first.key == KEY and first.bucket == BUCKET and first.size == 1
    assert (
        second.key == f"documents/{DOC}/100%25 sure.pdf"
    )  # the literal key "100%25 sure.pdf", encoded once more


def test_test_event_and_other_event_types_are_skipped_not_malformed():
    assert parse_message(TEST_EVENT_BODY) == [Skipped("S3 test event")]
    deleted = json.loads(eventbridge_body(KEY))
    deleted["detail-type"] = "Object Deleted"
    assert parse_message(json.dumps(deleted)) == [
        Skipped("'Object Deleted' events are not processed")
    ]
    assert parse_message(notification_body(KEY, event_name="ObjectRemoved:Delete")) == [
        Skipped("'ObjectRemoved:Delete' events are not processed")
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "the message body is not JSON"),
        ("[1, 2]", "the message body is not a JSON object"),
        ('{"Records": []}', "the message is not an S3 event"),
        ('{"hello": "world"}', "the message is not an S3 event"),
        (
            '{"detail-type": "Object Created", "source": "aws.ec2"}',
            "the EventBridge event does not come from aws.s3",
        ),
        (
            '{"detail-type": "Object Created", "source": "aws.s3", "detail": {}}',
            "the S3 event names no bucket or object key",
        ),
        ('{"Records": [{"eventSource": "aws:sqs"}]}', "the record is not an S3 event record"),
        ('{"Records": [{"eventSource": "aws:s3"}]}', "the S3 record has no eventName"),
        (
            '{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"object": {"key": 5}}}]}',
            "the S3 event names no bucket or object key",
        ),
    ],
)
def test_malformed_messages_are_reported_not_raised(body, reason):
    assert parse_message(body) == [Skipped(reason, malformed=True)]


def test_document_ids_come_from_the_second_key_segment():
    assert document_id_of(KEY) == DOC
    for key in (
        "uploads/x.pdf",
        f"documents/{DOC}",
        f"documents/{DOC}/",
        "documents/not-an-id/x.pdf",
        f"other/{DOC}/x.pdf",
        f"documents/{DOC.upper()}/x.pdf",
    ):
        assert document_id_of(key) is None, key


def item(**overrides):
    return {
        "document_id": DOC,
        "status": "AWAITING_UPLOAD",
        "declared_type": "application/pdf",
        "declared_size": len(samples.pdf()),
        "status_version": 1,
        **overrides,
    }


def test_an_accepted_document_records_what_was_found():
    head = ObjectHead(samples.pdf(), len(samples.pdf()), etag='"abc"', version_id="v1")
    digest = hashlib.sha256(samples.pdf()).hexdigest()
    assert completion(item(declared_sha256=digest), head, "2026-01-01T00:00:00.000Z") == {
        "status": "PROCESSED",
        "status_version": 2,
        "updated_at": "2026-01-01T00:00:00.000Z",
        "size": len(samples.pdf()),
        "detected_type": "application/pdf",
        "etag": "abc",
        "version_id": "v1",
        "checksum_sha256": digest,
    }


def test_a_checksum_that_does_not_match_a_whole_file_rejects_it():
    head = ObjectHead(samples.pdf(), len(samples.pdf()))
    changes = completion(item(declared_sha256="f" * 64), head, "now")
    assert changes["status"] == "REJECTED" and "checksum_sha256" not in changes
    assert changes["reason"] == "checksum mismatch: the content's SHA-256 is not the declared one"


def test_a_rejected_document_records_the_reason_and_no_checksum():
    head = ObjectHead(samples.png(), len(samples.png()), etag="e")
    changes = completion(
        item(declared_size=len(samples.png()), declared_sha256="a" * 64), head, "now"
    )
    assert changes == {
        "status": "REJECTED",
        "status_version": 2,
        "updated_at": "now",
        "size": len(samples.png()),
        "detected_type": "image/png",
        "etag": "e",
        "reason": "declared application/pdf but the content is image/png",
    }


def test_a_vanished_object_rejects_the_document():
    assert completion(item(status_version=4), None, "now") == {
        "status": "REJECTED",
        "status_version": 5,
        "updated_at": "now",
        "reason": "the object no longer exists",
    }


def test_with_processing_steps_an_accepted_document_becomes_validated():
    head = ObjectHead(samples.pdf(), len(samples.pdf()), version_id="v1")
    assert completion(item(), head, "now", accepted_status="VALIDATED")["status"] == "VALIDATED"
    rejected = completion(item(declared_size=3), head, "now", accepted_status="VALIDATED")
    assert rejected["status"] == "REJECTED"


def test_a_type_with_a_user_validator_waits_for_it_once_its_object_has_the_declared_size():
    head = ObjectHead(b"FOO1 data", 9, etag='"e"', version_id="v1")
    pending = completion(item(declared_type="application/x-foo", declared_size=9), head, "now", validator_types=frozenset({"application/x-foo"}))
    assert pending == {
        "status": "AWAITING_UPLOAD", "validation": "PENDING", "status_version": 2, "updated_at": "now", "size": 9,
        "etag": "e", "version_id": "v1",
    }
    short = completion(item(declared_type="application/x-foo", declared_size=10), head, "now", validator_types=frozenset({"application/x-foo"}))
    assert (short["status"], short["reason"]) == ("REJECTED", "size mismatch: declared 10 bytes, the object has 9")
    assert completion(item(declared_type="application/x-foo"), None, "now", validator_types=frozenset({"application/x-foo"}))["status"] == "REJECTED"


def test_config_reads_the_accepted_status_and_the_validator_types():
    env = {"DOCUMENTS_BUCKET": "b", "DOCUMENTS_TABLE": "t", "ACCEPTED_STATUS": "VALIDATED", "VALIDATOR_TYPES": "application/x-foo, Application/X-Bar"}
    assert Config.from_env(env) == Config("b", "t", "VALIDATED", frozenset({"application/x-foo", "application/x-bar"}))
    with pytest.raises(ValueError, match="ACCEPTED_STATUS='DONE'"):
        Config.from_env({**env, "ACCEPTED_STATUS": "DONE"})


def test_config_names_missing_variables():
    with pytest.raises(ValueError, match="not set: DOCUMENTS_BUCKET, DOCUMENTS_TABLE"):
        Config.from_env({})
    assert Config.from_env({"DOCUMENTS_BUCKET": "b", "DOCUMENTS_TABLE": "t"}) == Config("b", "t")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
s3_like = st.fixed_dictionaries(
    {
        "Records": st.lists(
            st.fixed_dictionaries(
                {
                    "eventSource": st.just("aws:s3"),
                    "eventName": st.text(max_size=20),
                    "s3": json_values,
                }
            ),
            max_size=3,
        )
    }
) | st.fixed_dictionaries(
    {
        "detail-type": st.sampled_from(["Object Created", "Object Deleted"]),
        "source": st.just("aws.s3"),
        "detail": st.fixed_dictionaries({"bucket": json_values, "object": json_values}),
    }
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), json_values.map(json.dumps), s3_like.map(json.dumps)))
def test_arbitrary_bodies_parse_to_events_or_skips(body):
    parsed = parse_message(body)
    assert parsed
    for entry in parsed:
        assert isinstance(entry, (ObjectCreated, Skipped))
        if isinstance(entry, ObjectCreated):
            assert entry.bucket and entry.key


def test_a_redelivered_event_of_a_document_with_its_validator_changes_nothing():
    from serverless_patterns.handlers.document_processor.workflow import Outcome, handle_object

    class Store:
        def get(self, document_id):
            return item(declared_type="application/x-foo", validation="PENDING", status_version=2, object_key=KEY)

        def read_head(self, key, *, version_id):
            raise AssertionError("a handed-over document is not read again")

        def close(self, document_id, *, expected_version, changes):
            raise AssertionError("a handed-over document is not written again")

    result = handle_object(Store(), BUCKET, ObjectCreated(bucket=BUCKET, key=KEY), now="now", validator_types=frozenset({"application/x-foo"}))
    assert (result.outcome, result.reason) == (Outcome.ALREADY_HANDLED, "the document is with its validator")
