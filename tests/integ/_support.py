"""What the integ tests (``integ_*.py`` beside this file) share.

Importing this module puts the repository root on ``sys.path`` so the apps can import
``examples``. The integ apps are test apps: no cdk-nag packs run on them.
"""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aws_cdk import App, Duration, Environment, Stack, Token
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_kms as kms
from aws_cdk.integ_tests_alpha import IApiCall, IntegTest

from serverless_patterns.handlers.api_key_authorizer.keys import API_KEY_PATTERN, api_key_digest
from serverless_patterns.handlers.api_key_authorizer.records import ACTIVE, PARTITION_KEY
from serverless_patterns.keyed_api import ApiWithKeyedUsagePlan

#: Context key fixing the test client's API key (the snapshot tests do; a deployment should not).
API_KEY_CONTEXT = "integ_api_key"
#: Name of the test client in the permissions table (its principalId in the authorizer's policy).
TEST_CLIENT = "integ-test-client"
#: How long the waiters poll before the test fails: an S3 event reaches the processor in seconds.
WAIT = {"total_timeout": Duration.minutes(5), "interval": Duration.seconds(10), "backoff_rate": 1}


def assertion_stack(app: App, test_stack: Stack) -> Stack:
    """The stack of the assertions: same environment as ``test_stack`` (references need that)."""
    region = None if Token.is_unresolved(test_stack.region) else test_stack.region
    return Stack(
        app,
        f"{test_stack.stack_name}-assertions",
        env=Environment(region=region) if region else None,
        description=f"Integ test assertions against {test_stack.stack_name} (test resources only)",
    )


def test_api_key(app: App) -> str:
    """The test client's API key: context ``integ_api_key``, else a fresh random one per synth.

    The value is in the assertion stack's template (CloudFormation creates the key with it), so
    each run gets its own; the key and its usage-plan link are deleted with the stack.
    """
    value = app.node.try_get_context(API_KEY_CONTEXT) or secrets.token_hex(24)
    if not isinstance(value, str) or not API_KEY_PATTERN.fullmatch(value):
        raise ValueError(f"context {API_KEY_CONTEXT}: must be 20-128 letters and digits, got {value!r}")
    return value


def allow(call: IApiCall, actions: list[str], resources: list[str]) -> None:
    """Let the roles making ``call`` do ``actions`` on ``resources`` (e.g. a table's KMS key).

    That is the provider's role and, once ``wait_for_assertions`` was called, the waiter's: call
    this after it. The providers grant the SDK action itself on ``*`` (test resources only).
    """
    statement = {"Effect": "Allow", "Action": actions, "Resource": resources}
    for provider in (call.provider, getattr(call, "waiter_provider", None)):
        if provider is not None:
            provider.add_to_role_policy(statement)


def key_arn(key: kms.IKey | None) -> list[str]:
    return [key.key_arn] if key is not None else []


def issue_test_client(
    integ: IntegTest, stack: Stack, api: ApiWithKeyedUsagePlan, *, level: str, key: str, tier: str | None = None
) -> IApiCall:
    """What ``serverless-patterns clients create`` does, as test resources.

    An API key with ``key`` as its value on the usage plan of ``tier`` (default: ``level``), and
    its record (SHA-256 digest, client, level, active) in the API's permissions table. Returns the
    table write; chain the first request after it (``.next(...)``) so the authorizer finds it.
    """
    api_key = apigw.CfnApiKey(stack, "TestClientKey", enabled=True, value=key, description="Integ test client")
    plan_key = apigw.CfnUsagePlanKey(
        stack,
        "TestClientUsagePlanKey",
        key_id=api_key.ref,
        key_type="API_KEY",
        usage_plan_id=api.usage_plans[tier or level].usage_plan_id,
    )
    record = integ.assertions.aws_api_call(
        "DynamoDB",
        "putItem",
        {
            "TableName": api.permissions_table.table_name,
            "Item": {
                PARTITION_KEY: {"S": api_key_digest(key)},
                "client_id": {"S": TEST_CLIENT},
                "level": {"S": level},
                "status": {"S": ACTIVE},
                "api_key_id": {"S": api_key.ref},
            },
        },
    )
    allow(record, ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"], key_arn(api.permissions_table.encryption_key))
    record.node.add_dependency(plan_key)
    return record


def rest_proxy_event(method: str, path: str, *, body: Any, client_id: str, level: str) -> str:
    """A REST API proxy event as API Gateway sends it after the authorizer allowed the caller."""
    return json.dumps(
        {
            "resource": path,
            "path": path,
            "httpMethod": method,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {"Content-Type": ["application/json"]},
            "queryStringParameters": None,
            "multiValueQueryStringParameters": None,
            "pathParameters": None,
            "body": json.dumps(body),
            "isBase64Encoded": False,
            "requestContext": {
                "requestId": "integ-test-request",
                "httpMethod": method,
                "resourcePath": path,
                "authorizer": {"principalId": client_id, "client_id": client_id, "level": level},
            },
        }
    )


def http_api_event(method: str, path: str, *, body: str | None = None, content_type: str | None = None) -> str:
    """An HTTP API (payload format 2.0) event as API Gateway sends it after IAM authorization."""
    headers = {"content-type": content_type} if content_type else {}
    return json.dumps(
        {
            "version": "2.0",
            "routeKey": f"{method} {path}",
            "rawPath": path,
            "rawQueryString": "",
            "headers": headers,
            "requestContext": {
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1"},
                "requestId": "integ-test-request",
                "stage": "$default",
                "time": "01/Jan/2026:00:00:00 +0000",
                "timeEpoch": 1767225600000,
            },
            "body": body,
            "isBase64Encoded": False,
        }
    )
