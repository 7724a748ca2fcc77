"""object_metadata_writer properties on moto: no body crashes it; order and duplicates do not matter;
a whole batch fails exactly its malformed messages and records exactly the objects its events name."""

from __future__ import annotations

import itertools
import json
import os

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from hostile_events import HANDLER_EVENTS, odd_text
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws
from s3_object_events import (
    BUCKET,
    TABLE,
    LambdaContext,
    create_table,
    eventbridge_event,
    notification,
    notification_record,
    sqs_event,
    sqs_record,
)

from serverless_patterns.handlers.object_metadata_writer import index
from serverless_patterns.handlers.object_metadata_writer.logic import (
    LATEST_SK,
    normalise_sequencer,
    object_pk,
)

REGION = "us-west-2"
_keys = itertools.count(1)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def _mutations():
    """Valid events with one field replaced by any JSON value (or removed)."""
    paths = [
        ("detail-type",), ("source",), ("time",), ("detail",), ("detail", "bucket"), ("detail", "bucket", "name"),
        ("detail", "object"), ("detail", "object", "key"), ("detail", "object", "size"),
        ("detail", "object", "sequencer"), ("detail", "object", "version-id"), ("detail", "object", "etag"),
    ]

    def mutate(path, value, remove):
        event = eventbridge_event("k e+y", sequencer="1A")
        target = event
        for part in path[:-1]:
            target = target[part]
        if remove:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value
        return json.dumps(event)

    return st.builds(mutate, st.sampled_from(paths), json_values, st.booleans())


def _record_mutations():
    def mutate(field, value):
        record = notification_record("a b", sequencer="1A")
        record["s3"]["object"][field] = value
        return json.dumps(notification(record))

    return st.builds(mutate, st.sampled_from(["key", "size", "sequencer", "versionId", "eTag"]), json_values)


bodies = st.one_of(
    st.text(max_size=200),
    json_values.map(json.dumps),
    _mutations(),
    _record_mutations(),
)


@pytest.fixture(scope="module")
def table():
    """One bucket and table for the module; each example uses keys of its own."""
    names = {"TABLE_NAME": TABLE, "BUCKET_NAME": BUCKET, "AWS_DEFAULT_REGION": REGION}
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    with mock_aws():
        index.store.cache_clear()
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield create_table(boto3.resource("dynamodb", region_name=REGION))
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    index.store.cache_clear()


@settings(parent=HANDLER_EVENTS, max_examples=2 * HANDLER_EVENTS.max_examples)
@given(st.lists(bodies, min_size=1, max_size=5))
def test_no_message_body_crashes_the_handler(table, batch):
    records = [sqs_record(body, message_id=f"m{i}") for i, body in enumerate(batch)]
    response = index.handler(sqs_event(*records), LambdaContext())
    failed = [failure["itemIdentifier"] for failure in response["batchItemFailures"]]
    assert set(failed) <= {record["messageId"] for record in records}
    assert len(failed) == len(set(failed))


# Versions of one object as S3 would report them: increasing sequencers of varying length.
versions = st.lists(st.integers(min_value=1, max_value=2**64), min_size=1, max_size=5, unique=True).map(sorted)


@HANDLER_EVENTS
@given(versions, st.data())
def test_duplicates_and_order_do_not_change_the_result(table, sequencers, data):
    key = f"same key {next(_keys)}"
    events = [
        eventbridge_event(key, sequencer=f"{number:X}", version_id=f"v{number}", size=number % 1000)
        for number in sequencers
    ]
    deliveries = data.draw(st.lists(st.sampled_from(events), min_size=len(events), max_size=3 * len(events)))
    deliveries = data.draw(st.permutations(deliveries + events))  # every event at least once, any order
    for start in range(0, len(deliveries), 4):
        records = [sqs_record(event) for event in deliveries[start : start + 4]]
        assert index.handler(sqs_event(*records), LambdaContext()) == {"batchItemFailures": []}

    items = table.query(KeyConditionExpression=Key("pk").eq(object_pk(BUCKET, key)))["Items"]
    by_sk = {item["sk"]: item for item in items}
    assert set(by_sk) == {f"VERSION#v{number}" for number in sequencers} | {LATEST_SK}
    newest = sequencers[-1]
    assert by_sk[LATEST_SK]["version_sk"] == f"VERSION#v{newest}"
    assert by_sk[LATEST_SK]["sequencer"] == normalise_sequencer(f"{newest:X}")
    for number in sequencers:
        assert by_sk[f"VERSION#v{number}"]["size"] == number % 1000


# Messages that can never be recorded: the writer reports them, so they reach the dead-letter queue.
MALFORMED = {
    "sequencer-with-newline": lambda key: eventbridge_event(key, sequencer="1A\n"),
    "sequencer-not-hex": lambda key: eventbridge_event(key, sequencer="0x1A"),
    "broken-escape": lambda key: _with_raw_key(eventbridge_event(key, sequencer="1A"), "ingest/%ZZ"),
    "trailing-percent": lambda key: _with_raw_key(notification(notification_record(key, sequencer="1A")), "ingest/100%"),
    "short-escape": lambda key: _with_raw_key(notification(notification_record(key, sequencer="1A")), "ingest/a%4"),
    "other-bucket": lambda key: eventbridge_event(key, sequencer="1A", bucket="someone-elses"),
    "not-json": lambda key: "{",
}


def _with_raw_key(body, raw_key):
    if "detail" in body:
        body["detail"]["object"]["key"] = raw_key
    else:
        body["Records"][0]["s3"]["object"]["key"] = raw_key
    return body


messages = st.tuples(
    st.sampled_from(["eventbridge", "notification", *MALFORMED]),
    odd_text.filter(lambda text: text.strip() != ""),
    st.booleans(),  # has a messageId
)


@HANDLER_EVENTS
@given(st.lists(messages, min_size=1, max_size=5))
def test_a_batch_fails_exactly_its_malformed_messages_and_records_exactly_its_objects(table, batch):
    s3 = boto3.client("s3", region_name=REGION)
    records, expected_failures, recorded, keys = [], set(), set(), []
    for number, (kind, name, has_id) in enumerate(batch):
        key = f"p{next(_keys)}/{name}"
        try:
            key.encode("utf-8")
        except UnicodeEncodeError:
            key = f"p{next(_keys)}/x"
        keys.append(key)
        version = s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")["VersionId"]
        if kind == "eventbridge":
            body = eventbridge_event(key, sequencer="1A", version_id=version)
        elif kind == "notification":
            body = notification(notification_record(key, sequencer="1A", version_id=version))
        else:
            body = MALFORMED[kind](key)
        record = sqs_record(body, message_id=f"m{number}")
        if not has_id:
            del record["messageId"]
        elif kind in MALFORMED:
            expected_failures.add(f"m{number}")
        else:
            recorded.add(key)
        records.append(record)
    response = index.handler(sqs_event(*records), LambdaContext())
    assert {f["itemIdentifier"] for f in response["batchItemFailures"]} == expected_failures
    for key in recorded:
        latest = table.get_item(Key={"pk": object_pk(BUCKET, key), "sk": LATEST_SK})["Item"]
        assert latest["key"] == key
        assert s3.head_object(Bucket=BUCKET, Key=latest["key"], VersionId=latest["version_id"])
    for key in set(keys) - recorded:  # nothing is written for a message that is not recorded
        assert table.query(KeyConditionExpression=Key("pk").eq(object_pk(BUCKET, key)))["Items"] == []
