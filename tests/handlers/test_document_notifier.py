"""Document notifier: transitions from stream images, one status event each on SNS and on
EventBridge, valid against the published schema; replays deduplicated per channel."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path

import boto3
import jsonschema
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
from serverless_patterns.handlers.document_notifier.aws import EventNotAccepted, StatusEventBus
from serverless_patterns.handlers.document_notifier.config import Config
from serverless_patterns.handlers.document_notifier.transitions import (
    MalformedImage,
    Transition,
    announced_statuses,
    bus_entry,
    message,
    status_event,
    table_arn,
    transition_of,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

#: The schema as the docs publish it (the package ships the same file: test_status_event_schema).
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "document-status-event.v1.json"
VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
BUS = "arn:aws:events:us-east-1:123456789012:event-bus/default"
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/documents"

DOC = "0123456789abcdef0123456789abcdef"
AWAITING = {
    "document_id": DOC,
    "status": "AWAITING_UPLOAD",
    "status_version": Decimal(1),
    "file_name": "a.pdf",
    "declared_type": "application/pdf",
    "declared_size": Decimal(10),
    "object_key": f"documents/{DOC}/a.pdf",
    "updated_at": "2026-01-01T00:00:00.000Z",
}
REJECTED = {
    **AWAITING,
    "status": "REJECTED",
    "status_version": Decimal(2),
    "reason": "the object is empty",
    "size": Decimal(0),
    "version_id": "v1",
    "updated_at": "2026-01-01T00:01:00.000Z",
}


def assert_valid(event):
    """The event validates against the schema file; the errors are listed when it does not."""
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(event)]
    assert not errors, errors


# ---- pure logic --------------------------------------------------------------------------------


def test_an_insert_is_a_transition_from_nothing():
    assert transition_of(None, AWAITING) == Transition(
        DOC, "AWAITING_UPLOAD", None, 1, "a.pdf", "2026-01-01T00:00:00.000Z",
        key=f"documents/{DOC}/a.pdf", size=10, content_type="application/pdf",
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
        key=f"documents/{DOC}/a.pdf",
        version_id="v1",
        size=0,
        content_type="application/pdf",
    )


def test_the_object_is_described_by_what_the_processor_measured_once_it_did():
    processed = {**REJECTED, "status": "PROCESSED", "size": Decimal(2048), "detected_type": "image/png"}
    transition = transition_of(AWAITING, processed)
    assert (transition.size, transition.content_type) == (2048, "image/png")
    assert (transition_of(None, AWAITING).size, transition_of(None, AWAITING).content_type) == (10, "application/pdf")


def test_changes_without_a_status_change_and_removals_are_not_transitions():
    assert transition_of(AWAITING, {**AWAITING, "file_name": "b.pdf"}) is None
    assert transition_of(AWAITING, None) is None
    assert transition_of(AWAITING, {}) is None


@pytest.mark.parametrize(
    ("new", "message_text"),
    [
        ({**REJECTED, "document_id": "x"}, "the item has no valid document_id"),
        ({**REJECTED, "status": "LOST"}, "the item has an unknown status 'LOST'"),
        ({**REJECTED, "status": "lost"}, "the item has an unknown status 'lost'"),
        ({k: v for k, v in REJECTED.items() if k != "updated_at"}, "the item has no updated_at"),
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


def test_announced_statuses_are_transitions_and_the_others_stay_unknown():
    reviewed = {**REJECTED, "status": "REVIEWED"}
    assert transition_of(AWAITING, reviewed, announced={"REVIEWED"}).status == "REVIEWED"
    with pytest.raises(MalformedImage, match="unknown status 'REVIEWED'"):
        transition_of(AWAITING, reviewed, announced={"ARCHIVED"})
    later = transition_of(reviewed, {**reviewed, "status": "DELETED", "status_version": Decimal(3)})
    assert later.previous_status == "REVIEWED"  # a user status before is reported as it was


def test_the_announced_statuses_variable_keeps_only_status_names():
    assert announced_statuses("REVIEWED, ARCHIVED_2,,lower,TOO-LONG-" + "X" * 40) == {"REVIEWED", "ARCHIVED_2"}
    assert announced_statuses("") == frozenset() and announced_statuses(None) == frozenset()


def test_without_updated_at_the_transition_occurred_when_the_stream_recorded_it():
    undated = {k: v for k, v in REJECTED.items() if k != "updated_at"}
    assert transition_of(AWAITING, undated, recorded_at="2026-01-01T00:02:00.000Z").at == "2026-01-01T00:02:00.000Z"


def test_the_status_event_is_version_1_of_the_schema():
    event = status_event(transition_of(AWAITING, REJECTED).as_dict())
    assert event == {
        "schema_version": "1",
        "document_id": DOC,
        "status": "REJECTED",
        "previous_status": "AWAITING_UPLOAD",
        "status_version": 2,
        "occurred_at": "2026-01-01T00:01:00.000Z",
        "file_name": "a.pdf",
        "object": {"key": f"documents/{DOC}/a.pdf", "version_id": "v1", "size": 0, "content_type": "application/pdf"},
        "reason": "the object is empty",
    }
    assert_valid(event)
    first = status_event(transition_of(None, AWAITING).as_dict())
    assert_valid(first)
    assert first["previous_status"] is None and first["reason"] is None and first["object"]["version_id"] is None


def test_the_schema_refuses_what_no_consumer_should_see():
    good = status_event(transition_of(AWAITING, REJECTED).as_dict())
    for broken in (
        {**good, "schema_version": "2"},
        {**good, "status": "rejected"},
        {**good, "document_id": "not-an-id"},
        {**good, "status_version": 0},
        {k: v for k, v in good.items() if k != "occurred_at"},
        {**good, "object": {"key": None}},
    ):
        assert not VALIDATOR.is_valid(broken), broken


def test_the_message_body_is_the_event_with_filterable_attributes():
    event = status_event(transition_of(AWAITING, REJECTED).as_dict())
    body, attributes = message(event)
    assert json.loads(body) == event
    assert attributes == {
        "status": {"DataType": "String", "StringValue": "REJECTED"},
        "schema_version": {"DataType": "String", "StringValue": "1"},
        "document_id": {"DataType": "String", "StringValue": DOC},
    }


def test_the_eventbridge_entry_carries_the_event_as_detail():
    event = status_event(transition_of(AWAITING, REJECTED).as_dict())
    entry = bus_entry(event, BUS, [TABLE_ARN])
    assert {k: v for k, v in entry.items() if k != "Detail"} == {
        "EventBusName": BUS,
        "Source": "serverless-patterns.document-pipeline",
        "DetailType": "Document Status Changed",
        "Resources": [TABLE_ARN],
    }
    assert json.loads(entry["Detail"]) == event
    assert "Resources" not in bus_entry(event, BUS)


def test_a_rejected_entry_raises_so_the_record_is_retried():
    class Events:
        def put_events(self, Entries):
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}]}

    event = status_event(transition_of(AWAITING, REJECTED).as_dict())
    with pytest.raises(EventNotAccepted, match="InternalFailure: try again"):
        StatusEventBus(events=Events(), bus=BUS).put(event)


def test_config_names_missing_variables():
    with pytest.raises(ValueError, match="not set: STATUS_TOPIC_ARN, STATUS_EVENT_BUS, IDEMPOTENCY_TABLE"):
        Config.from_env({})


def test_config_reads_the_announced_statuses_and_the_bucket():
    config = Config.from_env({
        "STATUS_TOPIC_ARN": "t", "STATUS_EVENT_BUS": BUS, "IDEMPOTENCY_TABLE": "l",
        "ANNOUNCED_STATUSES": "REVIEWED,ARCHIVED",
    })
    assert config.announced == {"REVIEWED", "ARCHIVED"}


def test_the_events_resource_is_the_table_of_the_stream():
    stream = f"{TABLE_ARN}/stream/2026-01-01T00:00:00.000"
    assert table_arn(stream) == TABLE_ARN
    assert table_arn(None) is None and table_arn("not an arn/stream/x") is None and table_arn(TABLE_ARN) is None


# ---- handler on moto ---------------------------------------------------------------------------


@pytest.fixture
def aws(monkeypatch):
    with mock_aws():
        index.clients.cache_clear()
        index.publisher.cache_clear()
        sns, events, dynamodb = index.clients()
        stream_arn = create_documents_table(dynamodb)
        create_idempotency_table(dynamodb)
        topic_arn = sns.create_topic(Name=TOPIC)["TopicArn"]
        sqs = boto3.client("sqs")
        queue_url, queue_arn = _queue(sqs, "status-subscriber")
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        # An EventBridge consumer: a rule on the default bus for this pipeline's status events.
        events_url, events_arn = _queue(sqs, "status-events-subscriber")
        events.put_rule(Name="status-events", EventPattern=json.dumps({
            "source": ["serverless-patterns.document-pipeline"],
            "detail-type": ["Document Status Changed"],
            "resources": [stream_arn.split("/stream/")[0]],  # the pipeline's metadata table
        }))
        events.put_targets(Rule="status-events", Targets=[{"Id": "queue", "Arn": events_arn}])
        monkeypatch.setenv("STATUS_TOPIC_ARN", topic_arn)
        monkeypatch.setenv("STATUS_EVENT_BUS", BUS)
        monkeypatch.setenv("IDEMPOTENCY_TABLE", IDEMPOTENCY_TABLE)
        yield {
            "sns": sns,
            "events": events,
            "dynamodb": dynamodb,
            "sqs": sqs,
            "queue": queue_url,
            "events_queue": events_url,
            "stream": stream_arn,
            "streams": streams_client(),
        }
    index.clients.cache_clear()
    index.publisher.cache_clear()


def _queue(sqs, name):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def received(aws) -> list[dict]:
    """The SNS notifications the subscriber queue holds (SNS envelopes); each body validates."""
    envelopes = [json.loads(message["Body"]) for message in drain(aws["sqs"], aws["queue"])]
    for envelope in envelopes:
        assert_valid(json.loads(envelope["Message"]))
    return envelopes


def received_events(aws) -> list[dict]:
    """The EventBridge events the rule delivered to its queue; each detail validates."""
    delivered = [json.loads(message["Body"]) for message in drain(aws["sqs"], aws["events_queue"])]
    for event in delivered:
        assert_valid(event["detail"])
    return delivered


class RejectedEntries:
    """PutEvents answers 200 with ``FailedEntryCount`` 1 (nothing put) while ``when(params)``."""

    def __init__(self, client, when=lambda params: True):
        self.client, self.when, self.hits = client, when, 0

    def _remember(self, params, context, **_):
        context["test_api_params"] = dict(params)

    def _answer(self, context, **_):
        if not self.when(context.get("test_api_params", {})):
            return None
        self.hits += 1
        body = {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}]}
        return _Http(200), {**body, "ResponseMetadata": {"HTTPStatusCode": 200}}

    def __enter__(self):
        self.client.meta.events.register("before-parameter-build.eventbridge.PutEvents", self._remember)
        self.client.meta.events.register("before-call.eventbridge.PutEvents", self._answer)
        return self

    def __exit__(self, *exc):
        self.client.meta.events.unregister("before-parameter-build.eventbridge.PutEvents", self._remember)
        self.client.meta.events.unregister("before-call.eventbridge.PutEvents", self._answer)


class _Http:
    def __init__(self, status_code):
        self.status_code, self.headers = status_code, {}


def detail_status(params) -> str:
    return json.loads(params["Entries"][0]["Detail"])["status"]


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
        "schema_version": "1",
        "document_id": document_id,
        "status": "AWAITING_UPLOAD",
        "previous_status": None,
        "status_version": 1,
        "occurred_at": "2026-01-01T00:00:00.000Z",
        "file_name": "Q1 ü.pdf",
        "object": {
            "key": f"documents/{document_id}/Q1 ü.pdf",
            "version_id": None,
            "size": 10,
            "content_type": "application/pdf",
        },
        "reason": None,
    }
    assert (
        second["previous_status"] == "AWAITING_UPLOAD" and second["reason"] == "the object is empty"
    )
    assert envelopes[1]["MessageAttributes"] == {
        "status": {"Type": "String", "Value": "REJECTED"},
        "schema_version": {"Type": "String", "Value": "1"},
        "document_id": {"Type": "String", "Value": document_id},
    }
    events = received_events(aws)
    assert [e["detail"] for e in events] == [first, second]  # the same event on both channels
    assert all(
        e["source"] == "serverless-patterns.document-pipeline"
        and e["detail-type"] == "Document Status Changed"
        and e["resources"] == [aws["stream"].split("/stream/")[0]]
        for e in events
    )
    assert metrics_emitted(capsys.readouterr().out) == {"NotificationsPublished": 2, "StatusEventsPut": 2}

    records = dynamodb.scan(TableName=IDEMPOTENCY_TABLE)["Items"]
    assert len(records) == 4  # one per transition and channel
    assert all(r["status"]["S"] == "COMPLETED" and int(r["expiration"]["N"]) > 0 for r in records)


def test_replays_do_not_publish_again(aws):
    dynamodb = aws["dynamodb"]
    document_id = uuid.uuid4().hex
    put_document(dynamodb, document_id, "a.pdf", "application/pdf", 10)
    close(dynamodb, document_id, "PROCESSED", 2)
    event = stream_event(aws["streams"], aws["stream"])
    assert process(event) == {"batchItemFailures": []}
    assert len(received(aws)) == 2 and len(received_events(aws)) == 2
    for _ in range(2):
        assert process(event) == {"batchItemFailures": []}
    index.publisher.cache_clear()  # a new execution environment replaying the same records
    assert process(event) == {"batchItemFailures": []}
    assert received(aws) == [] and received_events(aws) == []


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

    assert [e["detail"]["status"] for e in received_events(aws)] == ["AWAITING_UPLOAD"]

    assert process(event) == {"batchItemFailures": []}  # the retry, from the failed record on
    assert [json.loads(e["Message"])["status"] for e in received(aws)] == ["PROCESSED"]
    assert [e["detail"]["status"] for e in received_events(aws)] == ["PROCESSED"]


@pytest.mark.parametrize("failure", ["partial", "throttled"])
def test_an_event_eventbridge_did_not_take_is_retried_without_publishing_twice_on_sns(aws, failure):
    dynamodb = aws["dynamodb"]
    document_id = uuid.uuid4().hex
    put_document(dynamodb, document_id, "a.pdf", "application/pdf", 10)
    close(dynamodb, document_id, "PROCESSED", 2)
    event = stream_event(aws["streams"], aws["stream"])
    processed_sequence = event["Records"][1]["dynamodb"]["SequenceNumber"]

    def processed_only(params):
        return detail_status(params) == "PROCESSED"

    refusing = (
        RejectedEntries(aws["events"], when=processed_only)
        if failure == "partial"
        else Throttle(aws["events"], "PutEvents", when=processed_only)
    )
    with refusing:
        assert process(event) == {"batchItemFailures": [{"itemIdentifier": processed_sequence}]}
        assert process(event) == {"batchItemFailures": [{"itemIdentifier": processed_sequence}]}
    assert refusing.hits >= 2
    # SNS took both transitions at the first attempt; EventBridge only the first.
    assert [json.loads(e["Message"])["status"] for e in received(aws)] == ["AWAITING_UPLOAD", "PROCESSED"]
    assert [e["detail"]["status"] for e in received_events(aws)] == ["AWAITING_UPLOAD"]

    assert process(event) == {"batchItemFailures": []}  # EventBridge takes it now
    assert received(aws) == []  # never twice on SNS
    assert [e["detail"]["status"] for e in received_events(aws)] == ["PROCESSED"]
    assert process(event) == {"batchItemFailures": []}
    assert received(aws) == [] and received_events(aws) == []


def test_announced_statuses_are_published_and_unknown_ones_dropped(aws, monkeypatch, caplog):
    monkeypatch.setenv("ANNOUNCED_STATUSES", "REVIEWED,ARCHIVED")
    dynamodb = aws["dynamodb"]
    document_id = uuid.uuid4().hex
    put_document(dynamodb, document_id, "a.pdf", "application/pdf", 10)
    close(dynamodb, document_id, "REVIEWED", 2, reason="looks fine")
    close(dynamodb, document_id, "SHREDDED", 3)  # a status nobody announced
    close(dynamodb, document_id, "ARCHIVED", 4)
    event = stream_event(aws["streams"], aws["stream"])

    assert process(event) == {"batchItemFailures": []}

    published = [json.loads(e["Message"]) for e in received(aws)]
    assert [(m["previous_status"], m["status"]) for m in published] == [
        (None, "AWAITING_UPLOAD"), ("AWAITING_UPLOAD", "REVIEWED"), ("SHREDDED", "ARCHIVED"),
    ]
    assert published[1]["reason"] == "looks fine"
    assert [e["detail"] for e in received_events(aws)] == published
    assert any(
        r.getMessage() == "stream record dropped" and r.reason == "the item has an unknown status 'SHREDDED'"
        for r in caplog.records
    )


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


@pytest.mark.parametrize("variable", ["STATUS_TOPIC_ARN", "STATUS_EVENT_BUS"])
def test_missing_configuration_fails_the_record(aws, monkeypatch, variable):
    monkeypatch.delenv(variable)
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
