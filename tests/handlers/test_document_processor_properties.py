"""The document processor against whole SQS batches of any shape, on moto.

Batches mix S3 events as AWS sends them (EventBridge and classic notifications, keys URL-encoded)
for registered documents, test events, foreign and malformed messages, odd keys, records without
a messageId, and throttling of chosen documents. Invariants: the handler never raises;
``batchItemFailures`` holds exactly the messages of throttled documents (every other failure is
permanent and dropped); a document is closed only by an event naming its exact object, and its
item is never corrupt (a known status, status_version 1 or 2, PROCESSED only for the right type).
"""

from __future__ import annotations

import json
import uuid

import document_samples as samples
from document_support import (
    BUCKET,
    LambdaContext,
    Throttle,
    eventbridge_body,
    notification_body,
    put_document,
    read_item,
)
from hostile_events import HANDLER_EVENTS, json_values, odd_text
from hypothesis import given
from hypothesis import strategies as st
from test_document_processor import aws  # noqa: F401 - the fixture

from serverless_patterns.handlers.document_processor import index

NAMES = ["Q1 report+final.pdf", "100%.pdf", "a%2Bb & c=d?.pdf", "ü 中.pdf", "plain.pdf"]


def _message(kind, key, version_id, raw_key):
    if kind == "eventbridge":
        body = json.loads(eventbridge_body(key, size=8, version_id=version_id))
        if raw_key is not None:
            body["detail"]["object"]["key"] = raw_key
        return json.dumps(body)
    if kind == "notification":
        body = json.loads(notification_body(key))
        if raw_key is not None:
            body["Records"][0]["s3"]["object"]["key"] = raw_key
        return json.dumps(body)
    return raw_key if isinstance(raw_key, str) else json.dumps(raw_key)


messages = st.tuples(
    st.sampled_from(["eventbridge", "notification", "other"]),
    st.integers(0, len(NAMES) - 1),
    st.one_of(st.none(), odd_text, st.sampled_from(["%ZZ", "100%", "a%4", "%C3", "documents/x/y.pdf"]), json_values),
    st.booleans(),  # throttled
    st.booleans(),  # has a messageId
)


@HANDLER_EVENTS
@given(st.lists(messages, max_size=6))
def test_any_batch_fails_exactly_the_retryable_messages_and_never_corrupts_a_document(aws, batch):  # noqa: F811
    s3, dynamodb = aws
    documents = []
    for name in NAMES:
        document_id = uuid.uuid4().hex
        key = put_document(dynamodb, document_id, name, "application/pdf", 8)
        version = s3.put_object(Bucket=BUCKET, Key=key, Body=samples.pdf()[:8])["VersionId"]
        documents.append((document_id, key, version))
    records, throttled_ids, expected_failures = [], set(), set()
    for number, (kind, index_, raw_key, throttle, has_id) in enumerate(batch):
        document_id, key, version = documents[index_]
        body = _message(kind, key, version, None if kind != "other" and raw_key is None else raw_key)
        record = {"messageId": f"m-{number}", "receiptHandle": "h", "body": body, "attributes": {},
                  "messageAttributes": {}, "eventSource": "aws:sqs", "awsRegion": "us-east-1",
                  "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:document-events"}
        if not has_id:
            del record["messageId"]
        records.append(record)
        if throttle and kind != "other" and raw_key is None:
            throttled_ids.add(document_id)
    for number, (kind, index_, raw_key, _, has_id) in enumerate(batch):
        if has_id and kind != "other" and raw_key is None and documents[index_][0] in throttled_ids:
            expected_failures.add(f"m-{number}")  # GetItem is throttled for every event of that document

    def slow(params):
        return params.get("Key", {}).get("document_id", {}).get("S") in throttled_ids

    with Throttle(dynamodb, "GetItem", when=slow):
        response = index.handler({"Records": records}, LambdaContext())
    assert {f["itemIdentifier"] for f in response["batchItemFailures"]} == expected_failures

    for document_id, key, _ in documents:
        item = read_item(dynamodb, document_id)
        assert item["status"] in ("AWAITING_UPLOAD", "PROCESSED", "REJECTED")
        assert item["status_version"] == (1 if item["status"] == "AWAITING_UPLOAD" else 2)
        assert item["object_key"] == key
        named = any(
            k != "other" and r is None and documents[i][0] == document_id and has_id and document_id not in throttled_ids
            for k, i, r, _, has_id in batch
        )
        assert (item["status"] != "AWAITING_UPLOAD") == named, (key, item)
        if item["status"] == "PROCESSED":
            assert item["detected_type"] == "application/pdf"
