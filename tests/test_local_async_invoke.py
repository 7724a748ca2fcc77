"""The emulator runs a handler's asynchronous invocations as Lambda does: retries, then the
invocation record to the on-success or on-failure destination, or the event to the dead-letter queue.

Record format: AWS Lambda developer guide, "Capturing records of Lambda asynchronous invocations"
(``version``, ``timestamp``, ``requestContext`` with ``requestId``, ``functionArn``, ``condition``
and ``approximateInvokeCount``, ``requestPayload``, ``responseContext``, ``responsePayload``).
Dead-letter messages carry the event as the body and the attributes ``RequestID``, ``ErrorCode``
and ``ErrorMessage`` ("Dead-letter queues").
"""

from __future__ import annotations

import json

from moto import mock_aws

from serverless_patterns.local import ASYNC_INVOKE, EmulatedStack

CALLER = '''
import json, os
import boto3

client = boto3.client("lambda")


def handler(event, context):
    for target in event["targets"]:
        answer = client.invoke(FunctionName=os.environ[target], InvocationType="Event", Payload=json.dumps(event["payload"]))
        assert answer["StatusCode"] == 202
    return "queued"
'''
TARGET = '''
def handler(event, context):
    if event.get("fail"):
        raise ValueError(f"refused {event['n']}")
    return {"doubled": event["n"] * 2}
'''


def _function(asset: str, handler: str = "index.handler", **props):
    return {"Type": "AWS::Lambda::Function", "Metadata": {"aws:asset:path": asset},
            "Properties": {"Handler": handler, "Runtime": "python3.13", **props}}


TEMPLATE = {
    "Resources": {
        "Succeeded": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Failed": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "DeadLetters": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Caller": _function("caller", Environment={"Variables": {
            "WITH_DESTINATIONS": {"Fn::GetAtt": ["WithDestinations", "Arn"]}, "WITH_DLQ": {"Ref": "WithDlq"},
        }}),
        "WithDestinations": _function("target"),
        "WithDlq": _function("target", DeadLetterConfig={"TargetArn": {"Fn::GetAtt": ["DeadLetters", "Arn"]}}),
        "Config": {"Type": "AWS::Lambda::EventInvokeConfig", "Properties": {
            "FunctionName": {"Ref": "WithDestinations"}, "Qualifier": "$LATEST", "MaximumRetryAttempts": 1,
            "MaximumEventAgeInSeconds": 120,
            "DestinationConfig": {"OnSuccess": {"Destination": {"Fn::GetAtt": ["Succeeded", "Arn"]}},
                                  "OnFailure": {"Destination": {"Fn::GetAtt": ["Failed", "Arn"]}}},
        }},
    }
}


def _run(tmp_path, payload, targets):
    for name, code in (("caller", CALLER), ("target", TARGET)):
        (tmp_path / name).mkdir(exist_ok=True)
        (tmp_path / name / "index.py").write_text(code)
    calls = []
    with mock_aws():
        stack = EmulatedStack(TEMPLATE, tmp_path, quiet=True, on_call=calls.append).start()
        assert stack.invoke(stack.functions["Caller"], {"targets": targets, "payload": payload}) == "queued"
        assert stack.functions["WithDestinations"].invocations == 0, "asynchronous: nothing runs before pump"
        stack.pump()
        sqs = stack.client("sqs")
        received = {
            name: sqs.receive_message(QueueUrl=stack.physical[name]["QueueUrl"], MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])
            for name in ("Succeeded", "Failed", "DeadLetters")
        }
        arn = stack.physical["WithDestinations"]["Arn"]
        attempts = {name: stack.functions[name].invocations for name in ("WithDestinations", "WithDlq")}
    return received, arn, attempts, calls


def test_a_success_sends_the_invocation_record_to_the_on_success_destination(tmp_path):
    received, arn, attempts, calls = _run(tmp_path, {"n": 21}, ["WITH_DESTINATIONS"])
    (message,) = received["Succeeded"]
    record = json.loads(message["Body"])
    assert set(record) == {"version", "timestamp", "requestContext", "requestPayload", "responseContext", "responsePayload"}
    assert record["requestContext"]["condition"] == "Success" and record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestContext"]["functionArn"] == f"{arn}:$LATEST"
    assert (record["requestPayload"], record["responsePayload"]) == ({"n": 21}, {"doubled": 42})
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert not received["Failed"] and attempts["WithDestinations"] == 1
    sends = [c for c in calls if c.origin == ASYNC_INVOKE]
    assert [(c.function, c.operation) for c in sends] == [("WithDestinations", "SendMessage")], "sent with the function's role"
    assert [(c.function, c.params["FunctionName"]) for c in calls if c.operation == "Invoke"] == [("Caller", arn)]


def test_a_failure_is_retried_then_recorded_to_the_on_failure_destination(tmp_path):
    received, _, attempts, _ = _run(tmp_path, {"n": 1, "fail": True}, ["WITH_DESTINATIONS"])
    (message,) = received["Failed"]
    record = json.loads(message["Body"])
    assert attempts["WithDestinations"] == 2  # MaximumRetryAttempts 1
    assert record["requestContext"]["condition"] == "RetriesExhausted" and record["requestContext"]["approximateInvokeCount"] == 2
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"] == {"errorMessage": "refused 1", "errorType": "ValueError", "stackTrace": []}
    assert not received["Succeeded"]


def test_without_destinations_a_failed_event_goes_to_the_dead_letter_queue(tmp_path):
    received, _, attempts, _ = _run(tmp_path, {"n": 7, "fail": True}, ["WITH_DLQ"])
    (message,) = received["DeadLetters"]
    assert json.loads(message["Body"]) == {"n": 7, "fail": True}
    assert message["MessageAttributes"]["ErrorMessage"]["StringValue"] == "refused 7"
    assert set(message["MessageAttributes"]) == {"RequestID", "ErrorCode", "ErrorMessage"}
    assert attempts["WithDlq"] == 3  # Lambda's default: two retries
