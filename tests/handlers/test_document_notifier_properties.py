"""The document notifier against whole DynamoDB stream batches of any shape, on moto.

Batches hold the real stream records of fresh documents (inserts, transitions, changes that are
no transition), records whose images are broken, records without a sequence number, values that
are not records, user statuses (announced or not), and publishes that fail for chosen documents
on SNS or on EventBridge (throttled, or a PutEvents partial failure). Invariants: the handler
never raises; ``batchItemFailures`` holds exactly the sequence numbers of the transitions whose
publish failed on either channel; every other transition is published exactly once on each
channel, also when the batch is replayed, as strict JSON valid against the status event schema
with the filterable attributes; a transition EventBridge refused is on SNS once all the same, and
the retry after the failures pass publishes only what is missing; nothing is published for a
broken record or a status nobody announced.
"""

from __future__ import annotations

import contextlib
import copy
import json
import uuid

from document_support import LambdaContext, Throttle, put_document
from hostile_events import HANDLER_EVENTS, json_values
from hypothesis import given
from hypothesis import strategies as st
from test_document_notifier import (  # noqa: F401 - the fixture
    RejectedEntries,
    assert_valid,
    aws,
    close,
    received,
    received_events,
)

from serverless_patterns.handlers.document_notifier import index

CORRUPTIONS = ["none", "no-sequence-number", "bad-image", "bad-status", "not-a-record", "no-dynamodb"]
#: User statuses of the examples: announced through ANNOUNCED_STATUSES, or not (dropped).
ANNOUNCED, UNANNOUNCED = "REVIEWED", "SHREDDED"
BUILT_IN = ("AWAITING_UPLOAD", "VALIDATED", "PROCESSED", "REJECTED", "DELETED")
FAILURES = ["none", "sns", "events-throttled", "events-partial"]
documents = st.lists(
    st.tuples(
        st.sampled_from([  # what happens after the insert
            [], ["PROCESSED"], ["REJECTED", "DELETED"], ["NOTE"],
            ["VALIDATED", ANNOUNCED, "PROCESSED"], [UNANNOUNCED, "DELETED"],
        ]),
        st.sampled_from(FAILURES),  # which channel refuses its publishes
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
def test_any_batch_publishes_each_transition_once_per_channel_and_fails_exactly_the_refused_ones(aws, monkeypatch, docs, corruptions):  # noqa: F811 - the fixture
    monkeypatch.setenv("ANNOUNCED_STATUSES", ANNOUNCED)  # as DocumentPipeline.announce_statuses sets it
    dynamodb = aws["dynamodb"]
    failing: dict[str, str] = {}
    ours = set()
    for changes, failure in docs:
        document_id = uuid.uuid4().hex
        ours.add(document_id)
        put_document(dynamodb, document_id, "a ü.pdf", "application/pdf", 10)
        for version, status in enumerate(changes, start=2):
            if status == "NOTE":
                dynamodb.update_item(TableName="documents", Key={"document_id": {"S": document_id}},
                                     UpdateExpression="SET note = :n", ExpressionAttributeValues={":n": {"S": "x"}})
            else:
                close(dynamodb, document_id, status, version)
        failing[document_id] = failure
    records = [r for r in _new_records(aws) if r["dynamodb"]["Keys"]["document_id"]["S"] in ours]
    batch, expected_failures = [], set()
    on_sns, on_bus, late = [], [], []  # (document_id, status) expected at first, and after the retry
    for number, record in enumerate(records):
        how, junk = corruptions[number] if number < len(corruptions) else ("none", None)
        batch.append(_corrupt(record, how, junk))
        if how != "none":
            continue
        image = record["dynamodb"]
        old = image.get("OldImage", {}).get("status", {}).get("S")
        new = image["NewImage"]["status"]["S"]
        if old == new or new == UNANNOUNCED:
            continue  # no transition, or one nobody announced (dropped)
        document_id = image["Keys"]["document_id"]["S"]
        failure = failing[document_id]
        if failure != "none":
            expected_failures.add(image["SequenceNumber"])
            late.append((document_id, new))
        if failure != "sns":
            on_sns.append((document_id, new))  # SNS goes first: it took the event
        if failure == "none":
            on_bus.append((document_id, new))

    def refused_on_sns(params):
        attributes = params.get("MessageAttributes", {})
        return failing.get(attributes.get("document_id", {}).get("StringValue")) == "sns"

    def refused_on_bus(kind):
        return lambda params: failing.get(json.loads(params["Entries"][0]["Detail"])["document_id"]) == kind

    event = {"Records": batch}
    with contextlib.ExitStack() as refusals:
        refusals.enter_context(Throttle(aws["sns"], "Publish", when=refused_on_sns))
        refusals.enter_context(Throttle(aws["events"], "PutEvents", when=refused_on_bus("events-throttled")))
        refusals.enter_context(RejectedEntries(aws["events"], when=refused_on_bus("events-partial")))
        first = index.handler(event, LambdaContext(function_name="notifier"))
        replay = index.handler(event, LambdaContext(function_name="notifier"))
    assert {f["itemIdentifier"] for f in first["batchItemFailures"]} == expected_failures
    assert {f["itemIdentifier"] for f in replay["batchItemFailures"]} == expected_failures
    envelopes = received(aws)  # each body valid against the schema
    published = [(json.loads(e["Message"])["document_id"], json.loads(e["Message"])["status"]) for e in envelopes]
    assert sorted(published) == sorted(on_sns)  # once each, replay included
    delivered = received_events(aws)  # each detail valid against the schema
    assert sorted((e["detail"]["document_id"], e["detail"]["status"]) for e in delivered) == sorted(on_bus)
    for envelope in envelopes:
        message = json.loads(envelope["Message"])
        assert set(envelope["MessageAttributes"]) == {"status", "schema_version", "document_id"}
        assert envelope["MessageAttributes"]["status"]["Value"] == message["status"]
        assert message["status"] in (*BUILT_IN, ANNOUNCED)
    for delivered_event in delivered:
        assert delivered_event["source"] == "serverless-patterns.document-pipeline"
        assert delivered_event["detail-type"] == "Document Status Changed"

    # The refusals end: the retry publishes what each channel is missing, and nothing twice.
    assert index.handler(event, LambdaContext(function_name="notifier")) == {"batchItemFailures": []}
    late_sns = [(json.loads(e["Message"])["document_id"], json.loads(e["Message"])["status"]) for e in received(aws)]
    late_bus = [(e["detail"]["document_id"], e["detail"]["status"]) for e in received_events(aws)]
    assert sorted(late_sns) == sorted((d, s) for d, s in late if failing[d] == "sns")
    assert sorted(late_bus) == sorted(late)
