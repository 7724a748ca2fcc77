"""The emulator delivers an SNS topic's messages to its Lambda subscriptions as SNS does.

AWS Lambda developer guide, "Using Lambda with Amazon SNS": SNS invokes the function
asynchronously with an event of one record (``EventSource`` ``aws:sns``, ``EventSubscriptionArn``,
and ``Sns`` with ``Type``, ``MessageId``, ``TopicArn``, ``Subject`` (null when none), ``Message``,
``Timestamp``, ``SigningCertUrl``, ``UnsubscribeUrl`` and ``MessageAttributes`` as ``{"Type",
"Value"}``), so the function's asynchronous retries and destinations apply. The subscription's
filter policy decides which messages are delivered. SNS may invoke the function only if its
resource policy lets ``sns.amazonaws.com`` in; when it does not (a client-side error), the message
goes to the subscription's dead-letter queue ("Amazon SNS dead-letter queues").
"""

from __future__ import annotations

import json

from moto import mock_aws

from serverless_patterns.local import EmulatedStack

SUBSCRIBER = '''
import json

def handler(event, context):
    record, = event["Records"]
    if json.loads(record["Sns"]["Message"]).get("fail"):
        raise RuntimeError("refused")
    return record
'''


def _function(**props):
    return {"Type": "AWS::Lambda::Function", "Metadata": {"aws:asset:path": "subscriber"},
            "Properties": {"Handler": "index.handler", "Runtime": "python3.13", **props}}


def _permission(function: str, source_arn: object = None) -> dict:
    props = {"Action": "lambda:InvokeFunction", "FunctionName": {"Fn::GetAtt": [function, "Arn"]},
             "Principal": "sns.amazonaws.com"}
    if source_arn is not None:
        props["SourceArn"] = source_arn
    return {"Type": "AWS::Lambda::Permission", "Properties": props}


def _subscription(function: str, **props) -> dict:
    return {"Type": "AWS::SNS::Subscription", "Properties": {
        "Protocol": "lambda", "TopicArn": {"Ref": "Topic"}, "Endpoint": {"Fn::GetAtt": [function, "Arn"]}, **props}}


TEMPLATE = {
    "Resources": {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "OtherTopic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "Records": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Failures": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "SubscriptionDlq": {"Type": "AWS::SQS::Queue", "Properties": {}},
        # allowed for this topic; only REJECTED messages; records of every invocation to queues
        "Rejections": _function(),
        "RejectionsAllowed": _permission("Rejections", {"Ref": "Topic"}),
        "RejectionsSubscription": _subscription(
            "Rejections", FilterPolicy={"status": ["REJECTED"]}),
        "RejectionsConfig": {"Type": "AWS::Lambda::EventInvokeConfig", "Properties": {
            "FunctionName": {"Ref": "Rejections"}, "Qualifier": "$LATEST", "MaximumRetryAttempts": 1,
            "DestinationConfig": {"OnSuccess": {"Destination": {"Fn::GetAtt": ["Records", "Arn"]}},
                                  "OnFailure": {"Destination": {"Fn::GetAtt": ["Failures", "Arn"]}}}}},
        # its permission names another topic: SNS cannot invoke it for this one
        "Refused": _function(),
        "RefusedAllowed": _permission("Refused", {"Ref": "OtherTopic"}),
        "RefusedSubscription": _subscription(
            "Refused", RedrivePolicy={"deadLetterTargetArn": {"Fn::GetAtt": ["SubscriptionDlq", "Arn"]}}),
        # no permission and no dead-letter queue
        "Unreachable": _function(),
        "UnreachableSubscription": _subscription("Unreachable"),
    }
}


def _run(tmp_path, publishes):
    (tmp_path / "subscriber").mkdir(exist_ok=True)
    (tmp_path / "subscriber" / "index.py").write_text(SUBSCRIBER)
    with mock_aws():
        stack = EmulatedStack(TEMPLATE, tmp_path, quiet=True).start()
        topic = stack.physical["Topic"]["TopicArn"]
        for message, status, subject in publishes:
            extra = {"Subject": subject} if subject else {}
            stack.client("sns").publish(
                TopicArn=topic, Message=json.dumps(message),
                MessageAttributes={"status": {"DataType": "String", "StringValue": status}}, **extra)
        stack.pump()
        sqs = stack.client("sqs")
        received = {
            name: [json.loads(m["Body"]) for m in sqs.receive_message(
                QueueUrl=stack.physical[name]["QueueUrl"], MaxNumberOfMessages=10).get("Messages", [])]
            for name in ("Records", "Failures", "SubscriptionDlq")
        }
        return stack, topic, received


def test_a_matching_message_invokes_the_function_asynchronously_with_the_sns_event(tmp_path):
    stack, topic, received = _run(tmp_path, [({"n": 1}, "REJECTED", "Rejected"), ({"n": 2}, "PROCESSED", None)])
    assert stack.functions["Rejections"].invocations == 1, "the filter policy lets REJECTED through only"
    record = received["Records"][0]
    assert record["requestContext"]["condition"] == "Success"
    (sns_record,) = record["requestPayload"]["Records"]
    assert record["responsePayload"] == sns_record
    assert sns_record["EventSource"] == "aws:sns" and sns_record["EventVersion"] == "1.0"
    assert sns_record["EventSubscriptionArn"].startswith(topic + ":")
    sns = sns_record["Sns"]
    assert sns["Type"] == "Notification" and sns["TopicArn"] == topic and sns["Subject"] == "Rejected"
    assert json.loads(sns["Message"]) == {"n": 1}
    assert sns["MessageAttributes"] == {"status": {"Type": "String", "Value": "REJECTED"}}
    assert {"SigningCertUrl", "UnsubscribeUrl", "Timestamp", "MessageId", "Signature", "SignatureVersion"} <= set(sns)


def test_without_a_subject_the_event_carries_null(tmp_path):
    _, _, received = _run(tmp_path, [({"n": 1}, "REJECTED", None)])
    assert received["Records"][0]["requestPayload"]["Records"][0]["Sns"]["Subject"] is None


def test_a_failing_subscriber_is_retried_then_recorded_like_any_asynchronous_invocation(tmp_path):
    stack, _, received = _run(tmp_path, [({"fail": True}, "REJECTED", None)])
    assert stack.functions["Rejections"].invocations == 2, "the first attempt and MaximumRetryAttempts=1"
    (failure,) = received["Failures"]
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["responsePayload"]["errorMessage"] == "refused"


def test_sns_cannot_invoke_a_function_whose_policy_does_not_let_the_topic_in(tmp_path):
    stack, topic, received = _run(tmp_path, [({"n": 1}, "PROCESSED", None)])
    assert stack.functions["Refused"].invocations == 0
    assert stack.functions["Unreachable"].invocations == 0
    # to the subscription's dead-letter queue, the notification kept whole
    (kept,) = received["SubscriptionDlq"]
    assert kept["TopicArn"] == topic and json.loads(kept["Message"]) == {"n": 1}
    # without a dead-letter queue: reported, with the reason, never silently dropped
    ((logical_id, reason, notification),) = stack.undelivered_notifications
    assert logical_id == "UnreachableSubscription"
    assert "no AWS::Lambda::Permission" in reason and "Unreachable" in reason
    assert json.loads(notification["Message"]) == {"n": 1}
