"""The document notifier against whole DynamoDB stream batches of any shape, on moto.

Batches hold the real stream records of fresh documents (inserts, transitions, changes that are
no transition), records whose images are broken, records without a sequence number, values that
are not records, and publishes that are throttled for chosen documents. Invariants: the handler
never raises; ``batchItemFailures`` holds exactly the sequence numbers of the transitions whose
publish failed; every other transition is published exactly once, also when the batch is
replayed, as strict JSON with the filterable attributes; nothing is published for a broken record.
"""

from __future__ import annotations

import copy
import json
import uuid

from document_support import LambdaContext, Throttle, put_document
from hostile_events import HANDLER_EVENTS, json_values
from hypothesis import given
from hypothesis import strategies as st
from test_document_notifier import aws, close, received  # noqa: F401 - the fixture

from serverless_patterns.handlers.document_notifier import index

CORRUPTIONS = ["none", "no-sequence-number", "bad-image", "bad-status", "not-a-record", "no-dynamodb"]
documents = st.lists(
    st.tuples(
        st.sampled_from([[], ["PROCESSED"], ["REJECTED", "DELETED"], ["NOTE"]]),  # what happens after the insert
        st.booleans(),  # its publishes are throttled
    ),
    min_size=1, max_size=3,
)


_last_read: dict[str, str] = {}  # shard id -> last sequence number read (examples share the table)


def _new_records(resources):
    """The stream records written since the last call, as Lambda delivers them."""
    streams, stream_arn = resources["streams"], resources["stream"]
    records = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        where = {"StreamArn": stream_arn, "ShardId": shard["ShardId"]}
        after = _last_read.get(f"{stream_arn}/{shard['ShardId']}")
        position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after} if after else {"ShardIteratorType": "TRIM_HORIZON"}
        iterator = streams.get_shard_iterator(**where, **position)["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator)["Records"]:
            record = json.loads(json.dumps(record, default=str))
            record["eventSourceARN"] = stream_arn
            records.append(record)
            _last_read[f"{stream_arn}/{shard['ShardId']}"] = record["dynamodb"]["SequenceNumber"]
    return records


def _corrupt(record, how, junk):
    record = copy.deepcopy(record)
    if how == "no-sequence-number":
        record["dynamodb"].pop("SequenceNumber")
    elif how == "bad-image":
        record["dynamodb"]["NewImage"] = {"status": junk if isinstance(junk, dict) and junk else {"X": 1}}
    elif how == "bad-status":
        record["dynamodb"]["NewImage"]["status"] = {"S": "HACKED"}
    elif how == "not-a-record":
        return junk
    elif how == "no-dynamodb":
        record.pop("dynamodb")
    return record


@HANDLER_EVENTS
@given(documents, st.lists(st.tuples(st.sampled_from(CORRUPTIONS), json_values), max_size=8))
def test_any_batch_publishes_each_transition_once_and_fails_exactly_the_throttled_ones(aws, docs, corruptions):  # noqa: F811 - the fixture
    dynamodb = aws["dynamodb"]
    throttled, ours = set(), set()
    for changes, slow in docs:
        document_id = uuid.uuid4().hex
        ours.add(document_id)
        put_document(dynamodb, document_id, "a ü.pdf", "application/pdf", 10)
        for version, status in enumerate(changes, start=2):
            if status == "NOTE":
                dynamodb.update_item(TableName="documents", Key={"document_id": {"S": document_id}},
                                     UpdateExpression="SET note = :n", ExpressionAttributeValues={":n": {"S": "x"}})
            else:
                close(dynamodb, document_id, status, version)
        if slow:
            throttled.add(document_id)
    records = [r for r in _new_records(aws) if r["dynamodb"]["Keys"]["document_id"]["S"] in ours]
    batch, expected_failures, expected_published = [], set(), []
    for number, record in enumerate(records):
        how, junk = corruptions[number] if number < len(corruptions) else ("none", None)
        batch.append(_corrupt(record, how, junk))
        if how != "none":
            continue
        image = record["dynamodb"]
        old = image.get("OldImage", {}).get("status", {}).get("S")
        new = image["NewImage"]["status"]["S"]
        if old == new:
            continue  # no transition
        document_id = image["Keys"]["document_id"]["S"]
        if document_id in throttled:
            expected_failures.add(image["SequenceNumber"])
        else:
            expected_published.append((document_id, new))

    def slow(params):
        attributes = params.get("MessageAttributes", {})
        return attributes.get("document_id", {}).get("StringValue") in throttled

    event = {"Records": batch}
    with Throttle(aws["sns"], "Publish", when=slow):
        first = index.handler(event, LambdaContext(function_name="notifier"))
        replay = index.handler(event, LambdaContext(function_name="notifier"))
    assert {f["itemIdentifier"] for f in first["batchItemFailures"]} == expected_failures
    assert {f["itemIdentifier"] for f in replay["batchItemFailures"]} == expected_failures
    envelopes = received(aws)
    published = [(json.loads(e["Message"])["document_id"], json.loads(e["Message"])["status"]) for e in envelopes]
    assert sorted(published) == sorted(expected_published)  # once each, replay included
    for envelope in envelopes:
        message = json.loads(envelope["Message"])
        assert set(envelope["MessageAttributes"]) == {"status", "document_id"}
        assert message["status"] in ("AWAITING_UPLOAD", "PROCESSED", "REJECTED", "DELETED")
