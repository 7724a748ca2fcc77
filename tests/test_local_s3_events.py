"""The emulator sends S3 events to EventBridge in S3's shape; buckets outside a stack keep moto's."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from serverless_patterns.local import EmulatedStack, s3_eventbridge_event

TEMPLATE = {
    "Resources": {
        "Uploads": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}},
                           "VersioningConfiguration": {"Status": "Enabled"}},
        },
        "Events": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "ObjectCreated": {
            "Type": "AWS::Events::Rule",
            "Properties": {"EventPattern": {"source": ["aws.s3"], "detail-type": ["Object Created"]},
                           "Targets": [{"Id": "queue", "Arn": {"Fn::GetAtt": ["Events", "Arn"]}}]},
        },
    }
}


def _events(stack):
    sqs = stack.client("sqs")
    url = stack.physical["Events"]["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_a_put_reaches_eventbridge_with_the_key_encoded_as_s3_encodes_it(tmp_path):
    with mock_aws():
        stack = EmulatedStack(TEMPLATE, tmp_path).start()
        bucket = stack.physical["Uploads"]["Ref"]
        s3 = stack.client("s3")
        first = s3.put_object(Bucket=bucket, Key="in/Q1 report+final ü/100%.pdf", Body=b"x")
        s3.put_object(Bucket=bucket, Key="in/Q1 report+final ü/100%.pdf", Body=b"yy")
        older, newer = _events(stack)

    assert older["source"] == "aws.s3" and older["detail-type"] == "Object Created"
    obj = older["detail"]["object"]
    assert obj["key"] == "in/Q1+report%2Bfinal+%C3%BC/100%25.pdf"
    assert obj["etag"] == first["ETag"].strip('"') and "eTag" not in obj
    assert obj["version-id"] == first["VersionId"] and obj["size"] == 1
    assert older["detail"]["reason"] == "PutObject" and older["time"].endswith("Z")
    assert newer["detail"]["object"]["sequencer"] > obj["sequencer"]
    assert len(obj["sequencer"]) == len(newer["detail"]["object"]["sequencer"])


def test_buckets_outside_an_emulated_stack_keep_motos_events(tmp_path):
    with mock_aws():
        stack = EmulatedStack(TEMPLATE, tmp_path).start()
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="not-in-the-stack")
        s3.put_bucket_notification_configuration(
            Bucket="not-in-the-stack", NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
        s3.put_object(Bucket="not-in-the-stack", Key="a b.txt", Body=b"x")
        (event,) = _events(stack)
    assert event["detail"]["object"]["key"] == "a b.txt"  # moto's own shape, untouched


def test_the_event_builder_matches_the_documented_shape():
    event = s3_eventbridge_event("b", "a b/c+d.pdf", size=5, etag='"e1"', version_id="null")
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert event["detail"]["object"] == {
        "key": "a+b/c%2Bd.pdf", "size": 5, "etag": "e1", "sequencer": event["detail"]["object"]["sequencer"]
    }
    assert event["resources"] == ["arn:aws:s3:::b"]
