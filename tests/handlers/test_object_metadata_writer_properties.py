"""object_metadata_writer properties on moto: no body crashes it; order and duplicates do not matter."""

from __future__ import annotations

import itertools
import json
import os

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from hypothesis import HealthCheck, given, settings
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


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(bodies, min_size=1, max_size=5))
def test_no_message_body_crashes_the_handler(table, batch):
    records = [sqs_record(body, message_id=f"m{i}") for i, body in enumerate(batch)]
    response = index.handler(sqs_event(*records), LambdaContext())
    failed = [failure["itemIdentifier"] for failure in response["batchItemFailures"]]
    assert set(failed) <= {record["messageId"] for record in records}
    assert len(failed) == len(set(failed))


# Versions of one object as S3 would report them: increasing sequencers of varying length.
versions = st.lists(st.integers(min_value=1, max_value=2**64), min_size=1, max_size=5, unique=True).map(sorted)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
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
