"""Integ test of examples/audited_ingest (reference system 002) on a real account.

An object put into the ingest bucket must be recorded by the metadata writer (S3 -> EventBridge
-> queue -> function -> table): the test waits for the object's ``LATEST`` item.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _support  # puts the repository root on sys.path (examples)
from aws_cdk import App, Environment
from aws_cdk.integ_tests_alpha import ExpectedResult, IntegTest, Match

from examples.audited_ingest.app import REGION, SYSTEM, AuditedIngestStack
from serverless_patterns.conventions import apply_required_tags
from serverless_patterns.handlers.object_metadata_writer.logic import LATEST_SK, object_pk

STACK_NAME = "integ-audited-ingest"
#: The environment suffix of the app's resource names (``integ``: never a user's dev/prod names).
ENVIRONMENT = "integ"
KEY = "integ/report.txt"


def build(app: App) -> IntegTest:
    stack = AuditedIngestStack(app, STACK_NAME, environment=ENVIRONMENT, env=Environment(region=REGION))
    apply_required_tags(stack, {"Environment": ENVIRONMENT, "System": SYSTEM})
    integ = IntegTest(app, "AuditedIngest", test_cases=[stack], assertion_stack=_support.assertion_stack(app, stack), regions=[REGION])

    put = integ.assertions.aws_api_call(
        "S3", "putObject",
        {"Bucket": stack.bucket.bucket_name, "Key": KEY, "Body": "audited ingest integ test\n", "ContentType": "text/plain"},
    )
    _support.allow(put, ["kms:GenerateDataKey", "kms:Encrypt"], _support.key_arn(stack.bucket.encryption_key))

    pk = object_pk(stack.bucket.bucket_name, KEY)
    recorded = integ.assertions.aws_api_call(
        "DynamoDB", "getItem",
        {"TableName": stack.table.table_name, "Key": {"pk": {"S": pk}, "sk": {"S": LATEST_SK}}, "ConsistentRead": True},
    )
    recorded.expect(ExpectedResult.object_like({"Item": Match.object_like({"pk": {"S": pk}})})).wait_for_assertions(**_support.WAIT)
    _support.allow(recorded, ["kms:Decrypt", "kms:DescribeKey"], _support.key_arn(stack.table.encryption_key))

    put.next(recorded)
    return integ


if __name__ == "__main__":
    app = App()
    build(app)
    app.synth()
