"""Integ test of examples/prod_http_api (reference system 004) on a real account.

``GET /`` over HTTPS must answer 200 with the environment and version, and the function must
have recorded the request under ``requests/`` in the log bucket.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _support  # puts the repository root on sys.path (examples)
from aws_cdk import App, Environment
from aws_cdk.integ_tests_alpha import ExpectedResult, IntegTest, Match

from examples.prod_http_api.app import (
    DEFAULT_VERSION,
    ENVIRONMENT_NAME,
    LOG_PREFIX,
    REGION,
    ProdHttpApiStack,
)

STACK_NAME = "integ-prod-http-api"


def build(app: App) -> IntegTest:
    stack = ProdHttpApiStack(app, STACK_NAME, version=DEFAULT_VERSION, env=Environment(region=REGION))
    integ = IntegTest(app, "ProdHttpApi", test_cases=[stack], assertion_stack=_support.assertion_stack(app, stack), regions=[REGION])

    info = integ.assertions.http_api_call(stack.api.url, method="GET")
    info.expect(
        ExpectedResult.object_like(
            {"status": 200, "body": Match.object_like({"environment": ENVIRONMENT_NAME, "version": DEFAULT_VERSION})}
        )
    )

    recorded = integ.assertions.aws_api_call(
        "S3", "listObjectsV2", {"Bucket": stack.log_bucket.bucket_name, "Prefix": LOG_PREFIX}
    )
    recorded.expect(ExpectedResult.object_like({"KeyCount": 1})).wait_for_assertions(**_support.WAIT)
    # The provider grants "s3:ListObjectsV2", which is no IAM action: listing needs s3:ListBucket.
    _support.allow(recorded, ["s3:ListBucket"], [stack.log_bucket.bucket_arn])

    info.next(recorded)
    return integ


if __name__ == "__main__":
    app = App()
    build(app)
    app.synth()
