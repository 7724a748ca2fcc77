"""The emulator runs an app of several stacks: a stack's Fn::ImportValue resolves to another's export."""

from __future__ import annotations

import os

import pytest
from moto import mock_aws

from serverless_patterns.local import EmulatedStack

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")  # moto never calls AWS; boto3 wants credentials
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

PRODUCER = {
    "Resources": {"Shared": {"Type": "AWS::SQS::Queue", "Properties": {}}},
    "Outputs": {
        "ExportsOutputFnGetAttSharedArn": {
            "Value": {"Fn::GetAtt": ["Shared", "Arn"]},
            "Export": {"Name": "producer:ExportsOutputFnGetAttSharedArn"},
        },
        "NotExported": {"Value": {"Ref": "Shared"}},
    },
}
CONSUMER = {
    "Resources": {
        "Rule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventPattern": {"source": ["test"]},
                "Targets": [{"Id": "q", "Arn": {"Fn::ImportValue": "producer:ExportsOutputFnGetAttSharedArn"}}],
            },
        }
    }
}


def test_exports_feed_the_next_stacks_imports_and_events_reach_the_producers_queue():
    with mock_aws():
        producer = EmulatedStack(PRODUCER, ".").start()
        exports = producer.exports()
        assert list(exports) == ["producer:ExportsOutputFnGetAttSharedArn"]  # only exported outputs
        assert exports["producer:ExportsOutputFnGetAttSharedArn"] == producer.physical["Shared"]["Arn"]
        consumer = EmulatedStack(CONSUMER, ".", imports=exports).start()
        consumer.client("events").put_events(Entries=[{"Source": "test", "DetailType": "t", "Detail": "{}"}])
        url = producer.physical["Shared"]["QueueUrl"]
        assert len(producer.client("sqs").receive_message(QueueUrl=url).get("Messages", [])) == 1


def test_an_import_no_started_stack_exports_names_the_export():
    with mock_aws(), pytest.raises(KeyError, match="producer:ExportsOutputFnGetAttSharedArn"):
        EmulatedStack(CONSUMER, ".").start()
