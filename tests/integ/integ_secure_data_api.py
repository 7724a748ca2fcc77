"""Integ test of examples/secure_data_api (reference system 001) on a real account.

Over HTTPS: the public health route answers 200 ``{"status": "ok"}``, and the data routes refuse
a request that is not signed with SigV4 (IAM authorization) with 403.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _support  # puts the repository root on sys.path (examples)
from aws_cdk import App
from aws_cdk.integ_tests_alpha import ExpectedResult, IntegTest, Match

from examples.secure_data_api.app import DEFAULT_CORS_ORIGINS, SYSTEM, SecureDataApiStack
from serverless_patterns.conventions import apply_required_tags

STACK_NAME = "integ-secure-data-api"


def build(app: App) -> IntegTest:
    stack = SecureDataApiStack(app, STACK_NAME, cors_origins=list(DEFAULT_CORS_ORIGINS))
    apply_required_tags(stack, {"System": SYSTEM})
    integ = IntegTest(app, "SecureDataApi", test_cases=[stack], assertion_stack=_support.assertion_stack(app, stack))

    health = integ.assertions.http_api_call(f"{stack.api.url}api/health", method="GET")
    health.expect(ExpectedResult.object_like({"status": 200, "body": Match.object_like({"status": "ok"})}))

    unsigned = integ.assertions.http_api_call(f"{stack.api.url}api/data/integ.txt", method="PUT", body="not signed")
    unsigned.expect(ExpectedResult.object_like({"status": 403}))

    health.next(unsigned)
    return integ


if __name__ == "__main__":
    app = App()
    build(app)
    app.synth()
