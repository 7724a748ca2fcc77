"""Integ test of examples/data_processing_stack (reference system 000) on a real account.

A record is written to the records table, a test client (API key on the read-write usage plan,
its record in the permissions table) calls ``POST /process`` over HTTPS with it, and the result
object the function wrote must be served by CloudFront at the URL the API answered.

The stack's ``ResourcePrefix`` is ``integ``; ``AlertEmail`` comes from the environment variable
``INTEG_ALERT_EMAIL`` (AWS mails a subscription confirmation there).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _support  # puts the repository root on sys.path (examples)
from aws_cdk import App, Environment
from aws_cdk import cloud_assembly_schema as schema
from aws_cdk.integ_tests_alpha import ActualResult, ExpectedResult, IntegTest

from examples.data_processing_stack.app import PROCESS_LEVEL, REGION, TAGS, DataProcessingStack
from serverless_patterns.conventions import (
    ALERT_EMAIL_PARAMETER,
    RESOURCE_PREFIX_PARAMETER,
    apply_required_tags,
)

STACK_NAME = "integ-data-processing"
RECORD_ID = "integ-record"
DEFAULT_ALERT_EMAIL = "integ-alerts@example.com"


def build(app: App) -> IntegTest:
    stack = DataProcessingStack(app, STACK_NAME, env=Environment(region=REGION))
    apply_required_tags(stack, TAGS)
    assertions = _support.assertion_stack(app, stack)
    parameters = {
        f"{STACK_NAME}:{RESOURCE_PREFIX_PARAMETER}": "integ",
        f"{STACK_NAME}:{ALERT_EMAIL_PARAMETER}": os.environ.get("INTEG_ALERT_EMAIL", DEFAULT_ALERT_EMAIL),
    }
    integ = IntegTest(
        app, "DataProcessing", test_cases=[stack], assertion_stack=assertions, regions=[REGION],
        cdk_command_options=schema.CdkCommands(
            deploy=schema.DeployCommand(args=schema.DeployOptions(parameters=parameters)),
            destroy=schema.DestroyCommand(args=schema.DestroyOptions(force=True)),
        ),
    )
    key = _support.test_api_key(app)
    client = _support.issue_test_client(integ, assertions, stack.api, level=PROCESS_LEVEL, key=key)

    record = integ.assertions.aws_api_call(
        "DynamoDB", "putItem",
        {"TableName": stack.table.table_name, "Item": {"id": {"S": RECORD_ID}, "payload": {"S": "integ test"}}},
    )
    _support.allow(record, ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"], _support.key_arn(stack.table.encryption_key))

    process = integ.assertions.http_api_call(
        f"{stack.api.url}process", method="POST",
        headers={"x-api-key": key, "Content-Type": "application/json"}, body=f'{{"id": "{RECORD_ID}"}}',
    )
    # The call's attributes are read below, so its response is flattened: assert on an attribute.
    integ.assertions.expect("Processed", ExpectedResult.exact(RECORD_ID), ActualResult.from_aws_api_call(process, "body.id"))

    served = integ.assertions.http_api_call(process.get_att_string("body.resultUrl"), method="GET")
    served.expect(ExpectedResult.object_like({"status": 200}))

    client.next(record).next(process).next(served)
    return integ


if __name__ == "__main__":
    app = App()
    build(app)
    app.synth()
