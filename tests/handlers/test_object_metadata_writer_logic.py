"""object_metadata_writer: parsing S3 events and building the idempotent writes, without AWS."""

from __future__ import annotations

import json
from urllib.parse import quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st
from s3_object_events import (
    BUCKET,
    TEST_EVENT,
    eventbridge_event,
    notification,
    notification_record,
)

from serverless_patterns.handlers.object_metadata_writer.logic import (
    LATEST_CONDITION,
    LATEST_SK,
    MAX_KEY_BYTES,
    SEQUENCER_WIDTH,
    VERSION_CONDITION,
    MalformedMessage,
    decode_key,
    latest_put,
    normalise_sequencer,
    parse_message,
    trusted_content_type,
    version_put,
)

SEQ = "0055AED6DCD90281E5"
NORMALISED = SEQ.rjust(SEQUENCER_WIDTH, "0")


def _parse(message, **kwargs):
    return parse_message(json.dumps(message), **kwargs)


# ---- parsing ----------------------------------------------------------------------------------


def test_an_eventbridge_object_created_event_is_decoded():
    message = _parse(eventbridge_event("reports/Q1 2026+final ü.pdf", sequencer=SEQ, version_id="3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"))
    (event,) = message.events
    assert event.key == "reports/Q1 2026+final ü.pdf"
    assert event.bucket == BUCKET
    assert event.size == 5
    assert event.etag == "b1946ac92492d2347c6235b4d2611184"
    assert event.version_id == "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"
    assert event.sequencer == NORMALISED
    assert event.event_time == "2026-03-01T12:00:00Z"
    assert event.event_name == "PutObject"
    assert event.requester == "123456789012"
    assert event.source == "eventbridge"
    assert event.pk == f"OBJECT#{BUCKET}/reports/Q1 2026+final ü.pdf"
    assert event.version_sk == "VERSION#3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"
    assert message.ignored == ()


def test_notification_records_are_decoded_and_non_created_records_ignored():
    message = _parse(
        notification(
            notification_record("a b/c+d.txt", sequencer="1A"),
            notification_record("gone.txt", sequencer="1B", event_name="ObjectRemoved:Delete"),
            notification_record("x.txt", sequencer="1C", version_id="v2", event_name="ObjectCreated:CompleteMultipartUpload"),
        )
    )
    first, second = message.events
    assert (first.key, first.event_name, first.requester, first.source) == (
        "a b/c+d.txt", "ObjectCreated:Put", "AWS:AIDAEXAMPLE", "s3-notification",
    )
    assert first.version_id is None and first.version_sk == "VERSION#" + "1A".rjust(SEQUENCER_WIDTH, "0")
    assert second.version_sk == "VERSION#v2"
    assert message.ignored == ("Records[1].eventName 'ObjectRemoved:Delete'",)


def test_the_s3_test_event_is_ignored():
    assert _parse(TEST_EVENT).events == ()
    assert _parse(TEST_EVENT).ignored == ("s3:TestEvent",)


def test_other_s3_detail_types_are_ignored_not_failed():
    message = _parse(eventbridge_event("k", sequencer=SEQ, detail_type="Object Deleted"))
    assert message.events == ()
    assert message.ignored == ("EventBridge detail-type 'Object Deleted'",)


def test_the_version_id_null_of_unversioned_objects_falls_back_to_the_sequencer():
    (event,) = _parse(eventbridge_event("k", sequencer=SEQ, version_id="null")).events
    assert event.version_id is None
    assert event.version_sk == f"VERSION#{NORMALISED}"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "not JSON (Expecting property name enclosed in double quotes at position 1)"),
        ("[1, 2]", "must be a JSON object, not list"),
        ('{"hello": "world"}', "neither an EventBridge S3 event nor an S3 event notification"),
        (json.dumps({"Records": []}), "Records must be a non-empty list"),
        (json.dumps({"Records": ["x"]}), "Records[0] must be an object, not str"),
        (json.dumps({"Records": [{"eventSource": "aws:sns"}]}), "Records[0].eventSource is 'aws:sns', not aws:s3"),
        (json.dumps({**eventbridge_event("k", sequencer=SEQ), "source": "aws.ec2"}), "from source 'aws.ec2', not aws.s3"),
        (json.dumps(eventbridge_event("k", sequencer="not-hex")), "sequencer 'not-hex' is not 1-64 hexadecimal digits"),
        (json.dumps(eventbridge_event("k", sequencer="F" * 65)), "is not 1-64 hexadecimal digits"),
        (json.dumps(eventbridge_event("k", sequencer=SEQ, size=-1)), "detail.object.size must be a whole number of bytes, not -1"),
        (json.dumps(eventbridge_event("k", sequencer=SEQ, size=True)), "must be a whole number of bytes, not True"),
        (json.dumps(eventbridge_event("k", sequencer=SEQ, time="yesterday")), "time must be an ISO 8601 timestamp, not 'yesterday'"),
        (json.dumps(eventbridge_event("k", sequencer=SEQ, bucket="other")), "event for bucket 'other', expected 'ingest-bucket'"),
        (json.dumps({**eventbridge_event("k", sequencer=SEQ), "detail": None}), "event.detail must be an object, not None"),
    ],
)
def test_malformed_messages_are_refused_with_the_reason(body, reason):
    with pytest.raises(MalformedMessage) as error:
        parse_message(body, expected_bucket=BUCKET)
    assert reason in str(error.value)


def test_a_body_that_is_not_a_string_is_refused():
    with pytest.raises(MalformedMessage, match="must be a string, not NoneType"):
        parse_message(None)


def test_a_deeply_nested_body_is_refused_not_a_crash():
    with pytest.raises(MalformedMessage):
        parse_message("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "is not a non-empty string"),
        (None, "is not a non-empty string"),
        ("%FF%FE", "is not URL-encoded UTF-8"),
        ("%ED%A0%80", "is not URL-encoded UTF-8"),  # an encoded surrogate is not UTF-8
        ("a" * (MAX_KEY_BYTES + 1), f"must decode to 1-{MAX_KEY_BYTES} bytes"),
        ("\ud800", "is not URL-encoded UTF-8"),  # a lone surrogate
        ("%ZZ", "starts no escape"),
        ("100%", "starts no escape"),
        ("a%4", "starts no escape"),
    ],
)
def test_bad_keys_are_refused(raw, reason):
    with pytest.raises(MalformedMessage, match=reason):
        decode_key(raw)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=200))
def test_any_key_survives_url_encoding(key):
    assert decode_key(quote_plus(key)) == key


@given(st.integers(min_value=0, max_value=16**SEQUENCER_WIDTH - 1), st.integers(min_value=0, max_value=16**SEQUENCER_WIDTH - 1))
def test_normalised_sequencers_order_as_their_numbers(a, b):
    # S3 sequencers of different lengths compare after zero-padding: the stored strings must too.
    left, right = normalise_sequencer(f"{a:x}"), normalise_sequencer(f"{b:X}")
    assert (left < right) == (a < b)
    assert len(left) == len(right) == SEQUENCER_WIDTH


# ---- items ------------------------------------------------------------------------------------


def _event(**kwargs):
    (event,) = _parse(eventbridge_event("docs/a.pdf", sequencer=SEQ, **kwargs)).events
    return event


def test_the_version_item_is_written_only_once():
    arguments = version_put(_event(version_id="v1"), content_type="application/pdf", recorded_at="2026-03-01T12:00:01.000+00:00")
    assert arguments["ConditionExpression"] == VERSION_CONDITION == "attribute_not_exists(pk)"
    assert arguments["Item"] == {
        "pk": f"OBJECT#{BUCKET}/docs/a.pdf",
        "sk": "VERSION#v1",
        "bucket": BUCKET,
        "key": "docs/a.pdf",
        "size": 5,
        "etag": "b1946ac92492d2347c6235b4d2611184",
        "version_id": "v1",
        "sequencer": NORMALISED,
        "event_time": "2026-03-01T12:00:00Z",
        "event_name": "PutObject",
        "event_source": "eventbridge",
        "requester": "123456789012",
        "content_type": "application/pdf",
        "recorded_at": "2026-03-01T12:00:01.000+00:00",
    }


def test_the_latest_item_is_replaced_only_by_a_greater_sequencer():
    arguments = latest_put(_event(etag=None), content_type=None, recorded_at="t")
    assert arguments["ConditionExpression"] == LATEST_CONDITION
    assert arguments["ExpressionAttributeValues"] == {":sequencer": NORMALISED}
    item = arguments["Item"]
    assert (item["sk"], item["version_sk"]) == (LATEST_SK, f"VERSION#{NORMALISED}")
    assert "etag" not in item and "content_type" not in item and "version_id" not in item


@pytest.mark.parametrize(
    ("version_id", "event_etag", "head_etag", "expected"),
    [
        ("v1", "aa", '"bb"', "text/plain"),  # a head by version id reads exactly that version
        (None, "aa", '"aa"', "text/plain"),  # no version id: the same content
        (None, "aa", '"bb"', None),  # overwritten since the event
        (None, None, '"aa"', None),  # nothing to compare with
    ],
)
def test_the_content_type_is_kept_only_for_the_events_own_version(version_id, event_etag, head_etag, expected):
    event = _event(version_id=version_id, etag=event_etag)
    assert trusted_content_type(event, head_etag, "text/plain") == expected


def test_batch_records_keeps_only_reportable_records():
    from serverless_patterns.handlers.object_metadata_writer.batches import SQS, reportable_records

    def batch_records(event):
        return reportable_records(event, SQS)

    good = {"messageId": "m1", "body": "{}"}
    assert batch_records({"Records": [good, {"body": "{}"}, "x", {"messageId": ""}]}) == ([good], 3)
    assert batch_records({"Records": "nope"}) == ([], 0)
    assert batch_records(["not", "an", "event"]) == ([], 0)
