"""Integ test of examples/quickstart on a real account: one SecureBucket with no arguments.

Puts an object and reads it back: S3 must report it encrypted with the bucket's KMS key
(``aws:kms``) without the writer asking for it, and return the same content.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _support  # puts the repository root on sys.path (examples)
from aws_cdk import App
from aws_cdk.integ_tests_alpha import ExpectedResult, IntegTest

from examples.quickstart.app import QuickstartStack

STACK_NAME = "integ-quickstart"
KEY = "integ/hello.txt"
CONTENT = "hello from the integ test\n"


def build(app: App) -> IntegTest:
    stack = QuickstartStack(app, STACK_NAME)
    bucket = stack.documents
    integ = IntegTest(app, "Quickstart", test_cases=[stack], assertion_stack=_support.assertion_stack(app, stack))
    key_arns = _support.key_arn(bucket.encryption_key)

    put = integ.assertions.aws_api_call("S3", "putObject", {"Bucket": bucket.bucket_name, "Key": KEY, "Body": CONTENT})
    put.expect(ExpectedResult.object_like({"ServerSideEncryption": "aws:kms"}))
    _support.allow(put, ["kms:GenerateDataKey", "kms:Encrypt"], key_arns)

    get = integ.assertions.aws_api_call("S3", "getObject", {"Bucket": bucket.bucket_name, "Key": KEY})
    get.expect(ExpectedResult.object_like({"Body": CONTENT, "ServerSideEncryption": "aws:kms"}))
    _support.allow(get, ["kms:Decrypt"], key_arns)

    put.next(get)
    return integ


if __name__ == "__main__":
    app = App()
    build(app)
    app.synth()
