"""The step coordinator's handler on moto: its AWS calls, and whole batches of any shape.

Invariants: the handler never raises; an invocation record of a real document is recorded with a
conditional write (once, also when delivered twice); a failure lands in the step's failure queue
with the document FAILED; malformed records and events are dropped, not retried, and start nothing.
"""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from document_support import BUCKET, TABLE, LambdaContext, create_documents_table, put_document
from hostile_events import HANDLER_EVENTS, json_values
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from serverless_patterns.handlers.document_steps import index


@pytest.fixture
def aws(monkeypatch):
    with mock_aws():
        index.clients.cache_clear()
        dynamodb, _, sqs = index.clients()
        create_documents_table(dynamodb)
        failures = sqs.create_queue(QueueName="tag-failures")["QueueUrl"]
        steps = [{"name": "Tag", "function": "arn:aws:lambda:us-east-1:123456789012:function:tag", "statuses": ["TAGGED"], "failure_queue": failures}]
        monkeypatch.setenv("DOCUMENTS_BUCKET", BUCKET)
        monkeypatch.setenv("DOCUMENTS_TABLE", TABLE)
        monkeypatch.setenv("PIPELINE_STEPS", json.dumps(steps))
        monkeypatch.setenv("PIPELINE_VALIDATORS", "{}")
        yield {"dynamodb": dynamodb, "sqs": sqs, "failures": failures}
    index.clients.cache_clear()


def validated(dynamodb, document_id: str) -> None:
    put_document(dynamodb, document_id, "a.txt", "text/plain", 3)
    dynamodb.update_item(
        TableName=TABLE, Key={"document_id": {"S": document_id}},
        UpdateExpression="SET #s = :s, status_version = :v", ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "VALIDATED"}, ":v": {"N": "2"}},
    )


def message(record) -> dict:
    return {"messageId": str(uuid.uuid4()), "receiptHandle": "r", "body": json.dumps(record), "attributes": {},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:results",
            "awsRegion": "us-east-1"}


def invocation_record(document_id: str, condition: str, response) -> dict:
    payload = {"schema_version": "1", "document_id": document_id, "bucket": BUCKET, "key": f"documents/{document_id}/a.txt",
               "version_id": "v1", "content_type": "text/plain", "size": 3, "status": "VALIDATED", "status_version": 2, "step": "Tag"}
    return {"version": "1.0", "timestamp": "2026-12-02T06:00:00.000Z",
            "requestContext": {"requestId": "req-" + document_id, "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:tag:$LATEST",
                               "condition": condition, "approximateInvokeCount": 3 if condition != "Success" else 1},
            "requestPayload": payload, "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"}, "responsePayload": response}


def item(dynamodb, document_id: str) -> dict:
    raw = dynamodb.get_item(TableName=TABLE, Key={"document_id": {"S": document_id}})["Item"]
    return {k: next(iter(v.values())) for k, v in raw.items()}


def test_a_success_record_is_recorded_once(aws):
    document_id = uuid.uuid4().hex
    validated(aws["dynamodb"], document_id)
    record = invocation_record(document_id, "Success", {"status": "TAGGED", "detail": {"pages": 3}})
    for _ in range(2):  # delivered twice
        assert index.handler({"Records": [message(record)]}, LambdaContext()) == {"batchItemFailures": []}
    stored = item(aws["dynamodb"], document_id)
    assert (stored["status"], stored["status_version"], stored["steps_done"]) == ("TAGGED", "3", "1")
    assert json.loads(stored["step_detail_Tag"]) == {"pages": 3}


def test_a_failure_record_fails_the_document_and_lands_in_the_failure_queue_once(aws):
    document_id = uuid.uuid4().hex
    validated(aws["dynamodb"], document_id)
    record = invocation_record(document_id, "RetriesExhausted", {"errorMessage": "boom", "errorType": "RuntimeError"})
    for _ in range(2):
        assert index.handler({"Records": [message(record)]}, LambdaContext()) == {"batchItemFailures": []}
    stored = item(aws["dynamodb"], document_id)
    assert (stored["status"], stored["failed_step"]) == ("FAILED", "Tag")
    assert stored["reason"] == "processing step Tag failed: RuntimeError: boom (RetriesExhausted after 3 attempts)"
    assert stored["failure_forwarded"] == "req-" + document_id
    sent = aws["sqs"].receive_message(QueueUrl=aws["failures"], MaxNumberOfMessages=10, MessageAttributeNames=["All"])["Messages"]
    assert [json.loads(m["Body"]) for m in sent] == [record]
    assert sent[0]["MessageAttributes"]["document_id"]["StringValue"] == document_id


def test_a_failing_call_is_reported_for_a_retry(aws):
    document_id = uuid.uuid4().hex
    validated(aws["dynamodb"], document_id)
    stream_record = {"eventID": "1", "eventName": "MODIFY", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
                     "dynamodb": {"SequenceNumber": "100", "NewImage": {"document_id": {"S": document_id}, "status": {"S": "VALIDATED"},
                                                                         "status_version": {"N": "2"}}}}
    # moto has no function "tag": the asynchronous Invoke fails, so the record is retried.
    assert index.handler({"Records": [stream_record]}, LambdaContext()) == {"batchItemFailures": [{"itemIdentifier": "100"}]}


def stream_record(document_id: str, sequence: str = "100") -> dict:
    return {"eventID": sequence, "eventName": "MODIFY", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
            "dynamodb": {"SequenceNumber": sequence, "NewImage": {
                "document_id": {"S": document_id}, "status": {"S": "VALIDATED"}, "status_version": {"N": "2"},
                "object_key": {"S": f"documents/{document_id}/a.txt"}, "declared_type": {"S": "text/plain"}}}}


@pytest.fixture
def runner(aws, monkeypatch):
    """A state-machine step: the coordinator starts its runner (a Standard state machine on moto)."""
    index.stepfunctions_client.cache_clear()
    stepfunctions = index.stepfunctions_client()
    arn = stepfunctions.create_state_machine(
        name="ocr-runner", roleArn="arn:aws:iam::123456789012:role/runner",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
    )["stateMachineArn"]
    steps = [{"name": "Ocr", "state_machine": arn, "statuses": ["READ"], "failure_queue": aws["failures"]}]
    monkeypatch.setenv("PIPELINE_STEPS", json.dumps(steps))
    yield {"client": stepfunctions, "arn": arn}
    index.stepfunctions_client.cache_clear()


def test_a_state_machine_step_starts_one_runner_execution_per_status_version(aws, runner):
    document_id = uuid.uuid4().hex
    validated(aws["dynamodb"], document_id)
    for sequence in ("100", "101"):  # the stream record, then a replay of it
        assert index.handler({"Records": [stream_record(document_id, sequence)]}, LambdaContext()) == {"batchItemFailures": []}
    executions = runner["client"].list_executions(stateMachineArn=runner["arn"])["executions"]
    assert [e["name"] for e in executions] == [f"{document_id}-v2"]
    started = json.loads(runner["client"].describe_execution(executionArn=executions[0]["executionArn"])["input"])
    assert (started["document_id"], started["step"], started["status_version"], started["key"]) == (
        document_id, "Ocr", 2, f"documents/{document_id}/a.txt")


def test_a_replay_after_the_runner_finished_starts_nothing_and_is_not_retried(aws, runner):
    document_id = uuid.uuid4().hex
    validated(aws["dynamodb"], document_id)
    assert index.handler({"Records": [stream_record(document_id)]}, LambdaContext()) == {"batchItemFailures": []}
    execution = runner["client"].list_executions(stateMachineArn=runner["arn"])["executions"][0]
    runner["client"].stop_execution(executionArn=execution["executionArn"])  # closed: the name cannot be used again
    assert index.handler({"Records": [stream_record(document_id, "101")]}, LambdaContext()) == {"batchItemFailures": []}
    assert len(runner["client"].list_executions(stateMachineArn=runner["arn"])["executions"]) == 1


def test_a_runner_that_cannot_be_started_is_reported_for_a_retry(aws, runner, monkeypatch):
    steps = [{"name": "Ocr", "state_machine": runner["arn"] + "-gone", "statuses": ["READ"], "failure_queue": aws["failures"]}]
    monkeypatch.setenv("PIPELINE_STEPS", json.dumps(steps))
    document_id = uuid.uuid4().hex
    validated(aws["dynamodb"], document_id)
    assert index.handler({"Records": [stream_record(document_id)]}, LambdaContext()) == {"batchItemFailures": [{"itemIdentifier": "100"}]}


records = st.one_of(
    json_values,
    st.builds(lambda body: message(body), json_values),
    st.builds(lambda body: {**message({}), "body": body}, st.text(max_size=30)),
    st.builds(lambda image: {"eventSource": "aws:dynamodb", "dynamodb": {"SequenceNumber": "1", "NewImage": image}},
              st.dictionaries(st.text(max_size=8), json_values, max_size=3)),
)


@HANDLER_EVENTS
@given(st.one_of(json_values, st.builds(lambda rs: {"Records": rs}, st.lists(records, max_size=5))))
def test_any_event_is_answered_and_malformed_records_are_dropped(aws, event):
    response = index.handler(event, LambdaContext())
    assert response == {"batchItemFailures": []}
    assert "Messages" not in aws["sqs"].receive_message(QueueUrl=aws["failures"])
