"""object_metadata_writer on moto: real S3 objects and a real DynamoDB table, events as AWS sends them."""

from __future__ import annotations

import json

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from moto import mock_aws
from s3_object_events import (
    BUCKET,
    TABLE,
    TEST_EVENT,
    LambdaContext,
    create_table,
    eventbridge_event,
    notification,
    notification_record,
    sqs_event,
    sqs_record,
)

from serverless_patterns.handlers import handler_entry
from serverless_patterns.handlers.object_metadata_writer import index
from serverless_patterns.handlers.object_metadata_writer.logic import (
    LATEST_SK,
    SEQUENCER_WIDTH,
    object_pk,
)

REGION = "us-west-2"


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("TABLE_NAME", TABLE)
    monkeypatch.setenv("BUCKET_NAME", BUCKET)
    with mock_aws():
        index.store.cache_clear()
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        table = create_table(boto3.resource("dynamodb", region_name=REGION))
        yield s3, table
    index.store.cache_clear()


def _invoke(*bodies):
    records = [sqs_record(body) for body in bodies]
    response = index.handler(sqs_event(*records), LambdaContext())
    failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
    return [record["messageId"] in failed for record in records]


def _items(table, bucket, key):
    return {item["sk"]: item for item in table.query(KeyConditionExpression=Key("pk").eq(object_pk(bucket, key)))["Items"]}


def _put(s3, key, body=b"hello", content_type="text/plain"):
    response = s3.put_object(Bucket=BUCKET, Key=key, Body=body, ContentType=content_type)
    return response["VersionId"], response["ETag"].strip('"')


def test_the_entry_point_is_the_asset_handler():
    assert handler_entry("object_metadata_writer") == "object_metadata_writer.index.handler"


def test_an_eventbridge_event_records_the_version_and_the_latest_item(aws):
    s3, table = aws
    key = "inbox/Q1 report+final ü.pdf"
    version, etag = _put(s3, key, content_type="application/pdf")
    assert _invoke(eventbridge_event(key, sequencer="0055AED6DCD90281E5", version_id=version, etag=etag)) == [False]
    items = _items(table, BUCKET, key)
    assert set(items) == {f"VERSION#{version}", LATEST_SK}
    recorded = items[f"VERSION#{version}"]
    assert (recorded["bucket"], recorded["key"], recorded["size"], recorded["etag"]) == (BUCKET, key, 5, etag)
    assert recorded["content_type"] == "application/pdf"
    assert recorded["sequencer"] == "0055AED6DCD90281E5".rjust(SEQUENCER_WIDTH, "0")
    assert items[LATEST_SK]["version_sk"] == f"VERSION#{version}"


def test_an_s3_notification_with_an_encoded_key_is_decoded(aws):
    s3, table = aws
    key = "a b/c+d (1).txt"
    version, etag = _put(s3, key)
    assert _invoke(notification(notification_record(key, sequencer="1A", version_id=version, etag=etag))) == [False]
    assert set(_items(table, BUCKET, key)) == {f"VERSION#{version}", LATEST_SK}


def test_duplicate_deliveries_change_nothing(aws):
    s3, table = aws
    version, etag = _put(s3, "k")
    event = eventbridge_event("k", sequencer="1A", version_id=version, etag=etag)
    assert _invoke(event) == [False]
    before = _items(table, BUCKET, "k")
    assert _invoke(event, event) == [False, False]
    assert _items(table, BUCKET, "k") == before  # recorded_at included: nothing was rewritten


def test_a_late_event_does_not_replace_the_newer_latest(aws):
    s3, table = aws
    old_version, old_etag = _put(s3, "k", b"old")
    new_version, new_etag = _put(s3, "k", b"newer")
    newer = eventbridge_event("k", sequencer="2B", version_id=new_version, etag=new_etag, size=5)
    older = eventbridge_event("k", sequencer="1A", version_id=old_version, etag=old_etag, size=3)
    assert _invoke(newer) == [False]
    assert _invoke(older) == [False]
    items = _items(table, BUCKET, "k")
    assert set(items) == {f"VERSION#{old_version}", f"VERSION#{new_version}", LATEST_SK}
    assert items[LATEST_SK]["version_sk"] == f"VERSION#{new_version}"
    assert items[LATEST_SK]["size"] == 5


def test_a_newer_event_replaces_the_latest(aws):
    s3, table = aws
    first, _ = _put(s3, "k", b"one")
    second, _ = _put(s3, "k", b"two")
    assert _invoke(eventbridge_event("k", sequencer="1A", version_id=first)) == [False]
    assert _invoke(eventbridge_event("k", sequencer="00000000001B", version_id=second)) == [False]
    assert _items(table, BUCKET, "k")[LATEST_SK]["version_sk"] == f"VERSION#{second}"


def test_the_content_type_of_an_overwritten_unversioned_object_is_not_guessed(aws):
    s3, table = aws
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"first", ContentType="text/plain")
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"second!", ContentType="image/png")
    # The first PUT's event arrives after the second PUT: HeadObject sees the second object.
    assert _invoke(eventbridge_event("k", sequencer="1A", etag="8b04d5e3775d298e78455efc5ca404d5")) == [False]
    (item,) = [i for sk, i in _items(table, BUCKET, "k").items() if sk != LATEST_SK]
    assert "content_type" not in item


def test_a_deleted_object_is_still_recorded_without_content_type(aws):
    _, table = aws
    assert _invoke(eventbridge_event("vanished", sequencer="1A", version_id="3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY")) == [False]
    assert "content_type" not in _items(table, BUCKET, "vanished")[LATEST_SK]


def test_test_events_are_ignored_and_malformed_messages_fail_alone(aws):
    s3, table = aws
    version, _ = _put(s3, "good")
    results = _invoke(
        TEST_EVENT,
        "{not json",
        eventbridge_event("good", sequencer="1A", version_id=version),
        eventbridge_event("other", sequencer="1A", bucket="someone-elses-bucket"),
    )
    assert results == [False, True, False, True]
    assert LATEST_SK in _items(table, BUCKET, "good")


def test_every_message_failing_is_reported_not_raised(aws):
    assert _invoke("{", "[]") == [True, True]


def test_aws_errors_fail_the_message_so_it_is_retried(aws, monkeypatch):
    s3, _ = aws
    version, _ = _put(s3, "k")
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    index.store.cache_clear()
    assert _invoke(eventbridge_event("k", sequencer="1A", version_id=version)) == [True]


@pytest.mark.parametrize("event", [{}, {"Records": "x"}, [], "text", None, {"Records": [{"body": "{}"}]}])
def test_events_that_are_not_sqs_batches_are_answered_not_raised(aws, event):
    assert index.handler(event, LambdaContext()) == {"batchItemFailures": []}


def test_messages_from_moto_s3_notifications_are_decoded(aws):
    """S3 -> SQS on the emulator: the test event first, then the object with its key URL-encoded."""
    s3, table = aws
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    key = "scans/2026 März/a+b.pdf"
    version, _ = _put(s3, key)
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    bodies = [json.loads(m["Body"]) for m in messages]
    assert bodies[0]["Event"] == "s3:TestEvent"
    record = bodies[1]["Records"][0]
    raw_key = record["s3"]["object"]["key"]
    assert "2026+M%C3%A4rz" in raw_key and raw_key.endswith("a%2Bb.pdf")  # space as +, + as %2B
    # moto leaves out the sequencer and version id that AWS sends with every object-created record.
    record["s3"]["object"].update(sequencer="0062E99A88DC407460", versionId=version)
    assert _invoke(*bodies) == [False, False]
    assert set(_items(table, BUCKET, key)) == {f"VERSION#{version}", LATEST_SK}


# ---- hostile input (issue 14) -------------------------------------------------------------------


def test_a_stale_event_whose_sequencer_ends_in_a_newline_never_overwrites_latest(aws):
    s3, table = aws
    key = "ingest/report.txt"
    version, etag = _put(s3, key)
    assert _invoke(eventbridge_event(key, sequencer="2", version_id=version, etag=etag)) == [False]
    stale = eventbridge_event(key, sequencer="1\n", version_id="older-version", etag=etag)
    assert _invoke(stale) == [True]  # malformed: reported, so it ends in the dead-letter queue
    items = _items(table, BUCKET, key)
    assert set(items) == {LATEST_SK, f"VERSION#{version}"}
    assert items[LATEST_SK]["version_id"] == version


@pytest.mark.parametrize("raw_key", ["ingest/%ZZ", "ingest/100%", "ingest/a%4", "ingest/%C3"])
@pytest.mark.parametrize("shape", ["eventbridge", "notification"])
def test_a_key_with_a_broken_escape_is_reported_as_malformed_and_writes_nothing(aws, raw_key, shape):
    _, table = aws
    if shape == "eventbridge":
        body = eventbridge_event("placeholder", sequencer="1A")
        body["detail"]["object"]["key"] = raw_key
    else:
        record = notification_record("placeholder", sequencer="1A")
        record["s3"]["object"]["key"] = raw_key
        body = notification(record)
    assert _invoke(body) == [True]
    assert table.scan()["Items"] == []
