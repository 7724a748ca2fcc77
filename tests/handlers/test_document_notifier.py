"""Document notifier: transitions from stream images, one SNS message each, replays deduplicated."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import boto3
import pytest
from document_support import (
    IDEMPOTENCY_TABLE,
    TABLE,
    TOPIC,
    LambdaContext,
    Throttle,
    create_documents_table,
    create_idempotency_table,
    drain,
    metrics_emitted,
    put_document,
    stream_event,
    streams_client,
)
from moto import mock_aws

from serverless_patterns.handlers.document_notifier import index
from serverless_patterns.handlers.document_notifier.config import Config
from serverless_patterns.handlers.document_notifier.transitions import (
    MalformedImage,
    Transition,
    message,
    transition_of,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

DOC = "0123456789abcdef0123456789abcdef"
AWAITING = {
    "document_id": DOC,
    "status": "AWAITING_UPLOAD",
    "status_version": Decimal(1),
    "file_name": "a.pdf",
    "updated_at": "2026-01-01T00:00:00.000Z",
}
REJECTED = {
    **AWAITING,
    "status": "REJECTED",
    "status_version": Decimal(2),
    "reason": "the object is empty",
    "updated_at": "2026-01-01T00:01:00.000Z",
}


# ---- pure logic --------------------------------------------------------------------------------


def test_an_insert_is_a_transition_from_nothing():
    assert transition_of(None, AWAITING) == Transition(
        DOC, "AWAITING_UPLOAD", None, 1, "a.pdf", "2026-01-01T00:00:00.000Z"
    )


def test_a_status_change_is_a_transition():
    assert transition_of(AWAITING, REJECTED) == Transition(
        DOC,
        "REJECTED",
        "AWAITING_UPLOAD",
        2,
        "a.pdf",
        "2026-01-01T00:01:00.000Z",
        "the object is empty",
    )


def test_changes_without_a_status_change_and_removals_are_not_transitions():
    assert transition_of(AWAITING, {**AWAITING, "file_name": "b.pdf"}) is None
    assert transition_of(AWAITING, None) is None
    assert transition_of(AWAITING, {}) is None


@pytest.mark.parametrize(
    ("new", "message_text"),
    [
        ({**REJECTED, "document_id": "x"}, "the item has no valid document_id"),
        ({**REJECTED, "status": "LOST"}, "the item has an unknown status 'LOST'"),
        ({**REJECTED, "status_version": Decimal("1.5")}, "the item has no valid status_version"),
        ({**REJECTED, "status_version": Decimal("NaN")}, "the item has no valid status_version"),
        ({**REJECTED, "status_version": True}, "the item has no valid status_version"),
        ({**REJECTED, "status_version": 0}, "the item has no valid status_version"),
        (
            {k: v for k, v in REJECTED.items() if k != "status_version"},
            "the item has no valid status_version",
        ),
    ],
)
def test_malformed_images_are_reported(new, message_text):
    with pytest.raises(MalformedImage, match=message_text):
        transition_of(AWAITING, new)


def test_the_message_carries_the_transition_and_filterable_attributes():
    body, attributes = message(transition_of(AWAITING, REJECTED).as_dict())
    assert json.loads(body) == {
        "document_id": DOC,
        "status": "REJECTED",
        "previous_status": "AWAITING_UPLOAD",
        "status_version": 2,
        "file_name": "a.pdf",
        "at": "2026-01-01T00:01:00.000Z",
        "reason": "the object is empty",
    }
    assert attributes == {
        "status": {"DataType": "String", "StringValue": "REJECTED"},
        "document_id": {"DataType": "String", "StringValue": DOC},
    }
    assert "reason" not in json.loads(message(transition_of(None, AWAITING).as_dict())[0])


def test_config_names_missing_variables():
    with pytest.raises(ValueError, match="not set: STATUS_TOPIC_ARN, IDEMPOTENCY_TABLE"):
        Config.from_env({})


# ---- handler on moto ---------------------------------------------------------------------------


@pytest.fixture
def aws(monkeypatch):
    with mock_aws():
        index.clients.cache_clear()
        index.publisher.cache_clear()
        sns, dynamodb = index.clients()
        stream_arn = create_documents_table(dynamodb)
        create_idempotency_table(dynamodb)
        topic_arn = sns.create_topic(Name=TOPIC)["TopicArn"]
        sqs = boto3.client("sqs")
        queue_url = sqs.create_queue(QueueName="status-subscriber")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        monkeypatch.setenv("STATUS_TOPIC_ARN", topic_arn)
        monkeypatch.setenv("IDEMPOTENCY_TABLE", IDEMPOTENCY_TABLE)
        yield {
            "sns": sns,
            "dynamodb": dynamodb,
            "sqs": sqs,
            "queue": queue_url,
            "stream": stream_arn,
            "streams": streams_client(),
        }
    index.clients.cache_clear()
    index.publisher.cache_clear()


def received(aws) -> list[dict]:
    """The SNS notifications the subscriber queue holds (SNS envelopes)."""
    return [json.loads(message["Body"]) for message in drain(aws["sqs"], aws["queue"])]


def process(event) -> dict:
    return index.handler(event, LambdaContext(function_name="notifier"))


def close(dynamodb, document_id, status, version, **extra):
    values = {
        ":s": {"S": status},
        ":v": {"N": str(version)},
        ":t": {"S": "2026-01-02T00:00:00.000Z"},
    }
    expression = "SET #s = :s, status_version = :v, updated_at = :t"
    for name, value in extra.items():
        expression += f", {name} = :{name}"
        values[f":{name}"] = {"S": value}
    dynamodb.update_item(
        TableName=TABLE,
        Key={"document_id": {"S": document_id}},
        UpdateExpression=expression,
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues=values,
    )


def test_each_transition_is_published_once_with_attributes(aws, capsys):
    dynamodb = aws["dynamodb"]
    document_id = uuid.uuid4().hex
    put_document(dynamodb, document_id, "Q1 ü.pdf", "application/pdf", 10)
    close(dynamodb, document_id, "REJECTED", 2, reason="the object is empty")
    dynamodb.update_item(  # not a transition: the status stays REJECTED
        TableName=TABLE,
        Key={"document_id": {"S": document_id}},
        UpdateExpression="SET note = :n",
        ExpressionAttributeValues={":n": {"S": "x"}},
    )
    event = stream_event(aws["streams"], aws["stream"])
    assert [r["eventName"] for r in event["Records"]] == ["INSERT", "MODIFY", "MODIFY"]

    assert process(event) == {"batchItemFailures": []}

    envelopes = received(aws)
    assert [json.loads(e["Message"])["status"] for e in envelopes] == [
        "AWAITING_UPLOAD",
        "REJECTED",
    ]
    first, second = (json.loads(e["Message"]) for e in envelopes)
    assert first == {
        "document_id": document_id,
        "status": "AWAITING_UPLOAD",
        "previous_status": None,
        "status_version": 1,
        "file_name": "Q1 ü.pdf",
        "at": "2026-01-01T00:00:00.000Z",
    }
    assert (
        second["previous_status"] == "AWAITING_UPLOAD" and second["reason"] == "the object is empty"
    )
    assert envelopes[1]["MessageAttributes"] == {
        "status": {"Type": "String", "Value": "REJECTED"},
        "document_id": {"Type": "String", "Value": document_id},
    }
    assert metrics_emitted(capsys.readouterr().out) == {"NotificationsPublished": 2}

    records = dynamodb.scan(TableName=IDEMPOTENCY_TABLE)["Items"]
    assert len(records) == 2
    assert all(r["status"]["S"] == "COMPLETED" and int(r["expiration"]["N"]) > 0 for r in records)


def test_replays_do_not_publish_again(aws):
    dynamodb = aws["dynamodb"]
    document_id = uuid.uuid4().hex
    put_document(dynamodb, document_id, "a.pdf", "application/pdf", 10)
    close(dynamodb, document_id, "PROCESSED", 2)
    event = stream_event(aws["streams"], aws["stream"])
    assert process(event) == {"batchItemFailures": []}
    assert len(received(aws)) == 2
    for _ in range(2):
        assert process(event) == {"batchItemFailures": []}
    index.publisher.cache_clear()  # a new execution environment replaying the same records
    assert process(event) == {"batchItemFailures": []}
    assert received(aws) == []


def test_a_failed_publish_is_retried_and_then_sent_once(aws):
    dynamodb = aws["dynamodb"]
    document_id = uuid.uuid4().hex
    put_document(dynamodb, document_id, "a.pdf", "application/pdf", 10)
    close(dynamodb, document_id, "PROCESSED", 2)
    event = stream_event(aws["streams"], aws["stream"])
    processed_sequence = event["Records"][1]["dynamodb"]["SequenceNumber"]

    def processed_only(params):
        return json.loads(params["Message"])["status"] == "PROCESSED"

    with Throttle(aws["sns"], "Publish", when=processed_only):
        assert process(event) == {"batchItemFailures": [{"itemIdentifier": processed_sequence}]}
    assert [json.loads(e["Message"])["status"] for e in received(aws)] == ["AWAITING_UPLOAD"]

    assert process(event) == {"batchItemFailures": []}  # the retry, from the failed record on
    assert [json.loads(e["Message"])["status"] for e in received(aws)] == ["PROCESSED"]


def test_records_that_are_not_documents_are_dropped(aws, caplog):
    record = {
        "eventID": "1",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "NewImage": {"document_id": {"S": "not-a-document"}, "status": {"S": "PROCESSED"}},
            "SequenceNumber": "100",
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    assert process({"Records": [record]}) == {"batchItemFailures": []}
    assert received(aws) == []
    assert any(
        r.getMessage() == "stream record dropped"
        and r.reason == "the item has no valid document_id"
        for r in caplog.records
    )


def test_missing_configuration_fails_the_record(aws, monkeypatch):
    monkeypatch.delenv("STATUS_TOPIC_ARN")
    put_document(aws["dynamodb"], uuid.uuid4().hex, "a.pdf", "application/pdf", 10)
    event = stream_event(aws["streams"], aws["stream"])
    assert process(event) == {
        "batchItemFailures": [{"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}]
    }


# ---- hostile input (issue 14) -------------------------------------------------------------------


def test_an_empty_batch_is_answered_with_no_failures(aws):
    assert process({"Records": []}) == {"batchItemFailures": []}
    assert received(aws) == []


def test_records_without_a_sequence_number_do_not_fail_the_batch(aws):
    put_document(aws["dynamodb"], "d" * 32, "a.pdf", "application/pdf", 10)
    event = stream_event(aws["streams"], aws["stream"])
    event["Records"].append({"eventName": "INSERT", "dynamodb": {"NewImage": {"status": {"S": "X"}}}})
    event["Records"].append("not a record")
    assert process(event) == {"batchItemFailures": []}
    assert [json.loads(n["Message"])["status"] for n in received(aws)] == ["AWAITING_UPLOAD"]
