"""Integ test of examples/secure_data_api (reference system 001) on a real account.

Over HTTPS: the public health route answers 200 ``{"status": "ok"}``, and the data routes refuse
a request that is not signed with SigV4 (IAM authorization) with 403. Then an object is written and
read back through the data function, invoked with the events API Gateway sends for signed
``PUT``/``GET /api/data/{key}`` requests (the HTTP assertion provider cannot sign requests).
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
KEY = "integ.txt"
CONTENT = "secure data api integ test"


def build(app: App) -> IntegTest:
    stack = SecureDataApiStack(app, STACK_NAME, cors_origins=list(DEFAULT_CORS_ORIGINS))
    apply_required_tags(stack, {"System": SYSTEM})
    integ = IntegTest(app, "SecureDataApi", test_cases=[stack], assertion_stack=_support.assertion_stack(app, stack))

    health = integ.assertions.http_api_call(f"{stack.api.url}api/health", method="GET")
    health.expect(ExpectedResult.object_like({"status": 200, "body": Match.object_like({"status": "ok"})}))

    unsigned = integ.assertions.http_api_call(f"{stack.api.url}api/data/integ.txt", method="PUT", body="not signed")
    unsigned.expect(ExpectedResult.object_like({"status": 403}))

    def invoke(method: str, **event):
        call = integ.assertions.aws_api_call(
            "Lambda", "invoke",
            {"FunctionName": stack.function.function_name,
             "Payload": _support.http_api_event(method, f"/api/data/{KEY}", **event)},
        )
        _support.allow(call, ["lambda:InvokeFunction"], [stack.function.function_arn])
        return call

    written = invoke("PUT", body=CONTENT, content_type="text/plain")
    written.expect(ExpectedResult.object_like(
        {"Payload": Match.serialized_json(Match.object_like({"statusCode": 200}))}
    ))
    read = invoke("GET")
    read.expect(ExpectedResult.object_like(
        {"Payload": Match.serialized_json(Match.object_like({"statusCode": 200, "body": CONTENT}))}
    ))

    health.next(unsigned).next(written).next(read)
    return integ


if __name__ == "__main__":
    app = App()
    build(app)
    app.synth()
