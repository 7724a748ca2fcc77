"""API key authorizer handler on a moto DynamoDB table: decisions, cache-safe policies, failures, logs."""

from __future__ import annotations

import fnmatch
import importlib
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from moto import mock_aws

from serverless_patterns.handlers.api_key_authorizer import index
from serverless_patterns.handlers.api_key_authorizer.decision import AuthorizerUnavailable
from serverless_patterns.handlers.api_key_authorizer.keys import api_key_digest
from serverless_patterns.handlers.api_key_authorizer.store import PermissionsTable

TABLE = "Permissions"
PREFIX = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod"
ROUTES = [
    {"method": "GET", "path": "/documents", "level": "read-only"},
    {"method": "GET", "path": "/documents/{id}", "level": "read-only"},
    {"method": "POST", "path": "/documents", "level": "read-write"},
    {"method": "PUT", "path": "/documents/{id}", "level": "read-write"},
    {"method": "DELETE", "path": "/documents/{id}", "level": "admin"},
    {"method": "GET", "path": "/admin/audit", "level": "admin"},
    {"method": "ANY", "path": "/admin/settings/{proxy+}", "level": "admin"},
]
# (method, concrete path, lowest level that may call it)
REQUESTS = [
    ("GET", "/documents", "read-only"),
    ("GET", "/documents/doc-42", "read-only"),
    ("POST", "/documents", "read-write"),
    ("PUT", "/documents/doc-42", "read-write"),
    ("DELETE", "/documents/doc-42", "admin"),
    ("GET", "/admin/audit", "admin"),
    ("PATCH", "/admin/settings/quota/daily", "admin"),
]
LEVELS = ("read-only", "read-write", "admin")
KEYS = {level: f"{level.replace('-', '').upper()}Key0123456789abcdefghijklmnop"[:40] for level in LEVELS}
REVOKED_KEY = "RevokedKey0123456789abcdefghijklmnopqrst"
UNKNOWN_KEY = "UnknownKey0123456789abcdefghijklmnopqrst"


@dataclass
class LambdaContext:
    function_name: str = "authorizer"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:authorizer"
    aws_request_id: str = "req-1"


def event(method: str = "GET", path: str = "/documents", headers: dict | None = None, method_arn: str | None = None):
    return {
        "type": "REQUEST",
        "methodArn": method_arn if method_arn is not None else f"{PREFIX}/{method}{path}",
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers if headers is not None else {},
        "requestContext": {"accountId": "123456789012", "apiId": "abcdef123", "stage": "prod", "httpMethod": method},
    }


def keyed(key: str, method: str = "GET", path: str = "/documents", header: str = "x-api-key"):
    return event(method, path, {header: key, "Host": "abcdef123.execute-api.us-east-1.amazonaws.com"})


def put_item(client, key: str, client_id: str, level: str, status: str = "active") -> None:
    client.put_item(
        TableName=TABLE,
        Item={
            "key_digest": {"S": api_key_digest(key)},
            "client_id": {"S": client_id},
            "level": {"S": level},
            "status": {"S": status},
            "api_key_id": {"S": f"id-{client_id}"},
            "created_at": {"S": "2026-11-01T00:00:00Z"},
        },
    )


@pytest.fixture(scope="module")
def moto_table():
    """One moto table for the module, holding a key per level and a revoked key."""
    saved = index._tables
    index._tables = {}  # clients created under this module's mock only
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "key_digest", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "key_digest", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for level, key in KEYS.items():
            put_item(client, key, f"client-{level}", level)
        put_item(client, REVOKED_KEY, "former-client", "admin", status="revoked")
        yield client
    index._tables = saved


@pytest.fixture
def table(moto_table, monkeypatch):
    monkeypatch.setenv("PERMISSIONS_TABLE", TABLE)
    monkeypatch.setenv("ROUTE_PERMISSIONS", json.dumps(ROUTES))
    yield moto_table
    moto_table.delete_item(TableName=TABLE, Key={"key_digest": {"S": api_key_digest(UNKNOWN_KEY)}})


def call(evt):
    return index.handler(evt, LambdaContext())


def allows(response: dict, method: str, path: str) -> bool:
    """IAM evaluation of the returned policy (explicit Deny wins), written independently of the handler."""
    arn = f"{PREFIX}/{method}{path}"
    statements = response["policyDocument"]["Statement"]

    def matching(effect):
        return any(
            fnmatch.fnmatchcase(arn, resource) for s in statements if s["Effect"] == effect for resource in s["Resource"]
        )

    return matching("Allow") and not matching("Deny")


def only_denies(response: dict) -> bool:
    statements = response["policyDocument"]["Statement"]
    return bool(statements) and all(s["Effect"] == "Deny" for s in statements)


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@dataclass
class Output:
    """Powertools log records (its handler keeps the stdout of import time, so they are redirected
    to ``logs``) and EMF metrics (printed to the current stdout)."""

    logs: io.StringIO
    capsys: pytest.CaptureFixture

    def read(self) -> tuple[list[dict], list[dict]]:
        """(log records, EMF metric records) written since the last read."""
        logs = self.logs.getvalue()
        self.logs.seek(0)
        self.logs.truncate()
        return _json_lines(logs), [r for r in _json_lines(self.capsys.readouterr().out) if "_aws" in r]

    def text(self) -> str:
        captured = self.capsys.readouterr()
        return self.logs.getvalue() + captured.out + captured.err


@pytest.fixture
def output(capsys):
    handler = index.logger.registered_handler
    original = handler.setStream(io.StringIO())
    yield Output(handler.stream, capsys)
    handler.setStream(original)


# ---- decisions per level ------------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(("method", "path", "required"), REQUESTS)
def test_each_level_gets_exactly_the_routes_it_grants(table, level, method, path, required):
    response = call(keyed(KEYS[level], method, path))
    expected = LEVELS.index(level) >= LEVELS.index(required)
    assert allows(response, method, path) is expected
    assert response["principalId"] == f"client-{level}"
    assert response["context"] == {"client_id": f"client-{level}", "level": level}


@pytest.mark.parametrize("level", LEVELS)
def test_policy_is_the_same_whatever_route_triggered_it_so_a_cached_answer_is_right_everywhere(table, level):
    responses = [call(keyed(KEYS[level], method, path)) for method, path, _ in REQUESTS]
    assert all(response == responses[0] for response in responses)
    cached = responses[0]
    for method, path, required in REQUESTS:
        assert allows(cached, method, path) is (LEVELS.index(level) >= LEVELS.index(required)), (method, path)


def test_read_only_policy_lists_read_routes_and_explicitly_denies_the_rest(table):
    statements = call(keyed(KEYS["read-only"], "DELETE", "/documents/x"))["policyDocument"]["Statement"]
    assert statements == [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [f"{PREFIX}/GET/documents", f"{PREFIX}/GET/documents/*"]},
        {
            "Action": "execute-api:Invoke",
            "Effect": "Deny",
            "Resource": [
                f"{PREFIX}/*/admin/settings/*",
                f"{PREFIX}/DELETE/documents/*",
                f"{PREFIX}/GET/admin/audit",
                f"{PREFIX}/POST/documents",
                f"{PREFIX}/PUT/documents/*",
            ],
        },
    ]


def test_header_name_is_matched_case_insensitively(table):
    response = call(keyed(KEYS["admin"], "DELETE", "/documents/1", header="X-API-Key"))
    assert allows(response, "DELETE", "/documents/1")


def test_stage_and_api_of_the_policy_come_from_the_method_arn(table):
    other = "arn:aws:execute-api:eu-west-1:210987654321:zyx987/staging"
    response = call(keyed(KEYS["read-only"]) | {"methodArn": f"{other}/GET/documents"})
    resources = [r for s in response["policyDocument"]["Statement"] for r in s["Resource"]]
    assert resources and all(r.startswith(f"{other}/") for r in resources)


# ---- denials ------------------------------------------------------------------------------------


def _assert_stage_denied(response, principal="anonymous"):
    assert response["principalId"] == principal
    assert response["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [f"{PREFIX}/*"]}
    ]
    assert "context" not in response
    for method, path, _ in REQUESTS:
        assert not allows(response, method, path)


def test_unknown_key_is_denied_everywhere(table):
    _assert_stage_denied(call(keyed(UNKNOWN_KEY)))


def test_revoked_key_is_denied_everywhere_and_named(table):
    _assert_stage_denied(call(keyed(REVOKED_KEY, "GET", "/documents")), principal="former-client")


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-headers"),
        pytest.param(None, id="headers-null"),
        pytest.param({"x-api-token": KEYS["admin"]}, id="wrong-header-name"),
        pytest.param({"Authorization": KEYS["admin"]}, id="authorization-header"),
        pytest.param({"x-api-key": ""}, id="empty"),
        pytest.param({"x-api-key": "A" * 513}, id="longer-than-512"),
        pytest.param({"x-api-key": "A" * 200}, id="longer-than-api-gateway-keys"),
        pytest.param({"x-api-key": "Schlüssel0123456789abcdefghijklmnopqrst"}, id="non-ascii"),
        pytest.param({"x-api-key": KEYS["admin"][:-1] + "!"}, id="outside-key-alphabet"),
        pytest.param({"x-api-key": "short"}, id="too-short"),
        pytest.param({"x-api-key": 12345}, id="not-a-string"),
        pytest.param({"x-api-key": KEYS["admin"], "X-Api-Key": KEYS["read-only"]}, id="two-spellings"),
    ],
)
def test_missing_and_malformed_keys_are_denied_without_a_lookup(table, headers, monkeypatch):
    monkeypatch.setattr(PermissionsTable, "get", lambda self, digest: pytest.fail("looked up a malformed key"))
    _assert_stage_denied(call(event("DELETE", "/documents/1", headers)))


@pytest.mark.parametrize(
    "method_arn",
    [
        "",
        "not-an-arn",
        "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod",
        "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/GET",
        "arn:aws:lambda:us-east-1:123456789012:function:x/prod/GET/documents",
        "arn:aws:execute-api:us-east-1:1234:abcdef123/prod/GET/documents",
        "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/get/documents",
        f"{PREFIX}/GET/documents".replace("prod", "pr*d"),
        f"{PREFIX}/GET/" + "a" * 3000,
    ],
)
def test_malformed_method_arn_is_denied_everywhere(table, method_arn):
    response = call(keyed(KEYS["admin"]) | {"methodArn": method_arn})
    assert response["principalId"] == "anonymous"
    assert response["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": ["*"]}
    ]


@pytest.mark.parametrize("bad_event", [None, [], "event", {"methodArn": None}, {"methodArn": 42}])
def test_non_events_are_denied(table, bad_event):
    assert only_denies(call(bad_event))


def test_token_authorizer_event_is_denied(table):
    response = call({"type": "TOKEN", "authorizationToken": KEYS["admin"], "methodArn": f"{PREFIX}/GET/documents"})
    _assert_stage_denied(response)


def _assert_unavailable(evt, reason: str) -> None:
    """The handler raises instead of returning a policy: API Gateway answers 500 and caches nothing."""
    with pytest.raises(AuthorizerUnavailable) as raised:
        call(evt)
    assert raised.value.reason == reason
    assert str(raised.value) == f"authorizer unavailable: {reason}"
    assert str(raised.value) != "Unauthorized"  # that one would be a 401 blaming the caller


def test_missing_table_is_an_uncached_failure_not_a_deny(table, monkeypatch):
    monkeypatch.setenv("PERMISSIONS_TABLE", "NoSuchTable")
    _assert_unavailable(keyed(KEYS["admin"]), "table_error")


def test_unset_table_name_is_an_uncached_failure(table, monkeypatch):
    monkeypatch.delenv("PERMISSIONS_TABLE")
    _assert_unavailable(keyed(KEYS["admin"]), "config_error")


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException", "AccessDeniedException"])
def test_table_errors_raise_so_api_gateway_caches_no_deny(table, code, output, monkeypatch):
    client = boto3.client("dynamodb", config=Config(retries={"max_attempts": 1}))
    stubber = Stubber(client)
    stubber.add_client_error("get_item", service_error_code=code, http_status_code=400)
    monkeypatch.setitem(index._tables, TABLE, PermissionsTable(TABLE, client=client))
    with stubber:
        _assert_unavailable(keyed(KEYS["admin"]), "table_error")
    stubber.assert_no_pending_responses()
    (log,), (metric,) = output.read()
    assert (log["level"], log["reason"], log["detail"]) == ("ERROR", "table_error", f"GetItem failed: {code}")
    assert (metric["AuthorizationDenied"], metric["reason"]) == ([1.0], "table_error")
    assert KEYS["admin"] not in json.dumps(log)


def test_a_valid_key_is_allowed_on_the_request_after_a_transient_table_error(table, monkeypatch):
    """The failed request left nothing behind: the next lookup (and answer) is the key's own."""
    client = boto3.client("dynamodb", config=Config(retries={"max_attempts": 1}))
    stubber = Stubber(client)
    stubber.add_client_error("get_item", service_error_code="ThrottlingException", http_status_code=400)
    monkeypatch.setitem(index._tables, TABLE, PermissionsTable(TABLE, client=client))
    with stubber:
        _assert_unavailable(keyed(KEYS["admin"]), "table_error")
    monkeypatch.setitem(index._tables, TABLE, PermissionsTable(TABLE, client=table))
    assert allows(call(keyed(KEYS["admin"])), "GET", "/documents")


def test_the_default_client_retries_briefly_before_denying():
    retries = PermissionsTable(TABLE).client.meta.config.retries
    assert retries == {"mode": "standard", "total_max_attempts": 3}


@pytest.mark.parametrize(
    "item",
    [
        {"client_id": {"S": "x"}, "level": {"S": "superuser"}, "status": {"S": "active"}},
        {"client_id": {"S": "x"}, "level": {"S": "admin"}, "status": {"S": "suspended"}},
        {"client_id": {"S": "x"}, "level": {"S": "admin"}},
        {"level": {"S": "admin"}, "status": {"S": "active"}},
        {"client_id": {"N": "1"}, "level": {"S": "admin"}, "status": {"S": "active"}},
        {"client_id": {"S": "bad id with spaces"}, "level": {"S": "admin"}, "status": {"S": "active"}},
    ],
)
def test_invalid_table_items_are_uncached_failures(table, item):
    table.put_item(TableName=TABLE, Item={"key_digest": {"S": api_key_digest(UNKNOWN_KEY)}, **item})
    _assert_unavailable(keyed(UNKNOWN_KEY), "invalid_record")


@pytest.mark.parametrize(
    "routes",
    [None, "", "not json", "{}", "[]", json.dumps([{"method": "GET", "path": "/x", "level": "root"}])],
)
def test_bad_route_permissions_fail_every_key_uncached(table, monkeypatch, routes):
    if routes is None:
        monkeypatch.delenv("ROUTE_PERMISSIONS")
    else:
        monkeypatch.setenv("ROUTE_PERMISSIONS", routes)
    _assert_unavailable(keyed(KEYS["admin"]), "config_error")


def test_an_unexpected_failure_is_never_an_allow_and_never_cached(table, monkeypatch, output):
    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(index, "authorize", broken)
    _assert_unavailable(keyed(KEYS["admin"]), "internal_error")
    logs, metrics = output.read()
    assert logs[-1]["reason"] == "internal_error"
    assert metrics[-1]["reason"] == "internal_error"


# ---- logs and metrics ---------------------------------------------------------------------------


def test_allowed_attempt_is_logged_and_counted(table, output):
    call(keyed(KEYS["read-write"], "PUT", "/documents/doc-42"))
    (log,), (metric,) = output.read()
    assert log["level"] == "INFO"
    assert {k: log.get(k) for k in ("decision", "reason", "client_id", "permission_level", "method", "path")} == {
        "decision": "allow",
        "reason": "allowed",
        "client_id": "client-read-write",
        "permission_level": "read-write",
        "method": "PUT",
        "path": "/documents/doc-42",
    }
    assert log["key_digest_prefix"] == api_key_digest(KEYS["read-write"])[:8]
    assert metric["AuthorizationAllowed"] == [1.0]
    assert metric["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"], ["service", "level"]]
    assert metric["level"] == "read-write"


@pytest.mark.parametrize(
    ("headers", "method", "reason", "level"),
    [
        ({"x-api-key": KEYS["read-only"]}, "DELETE", "insufficient_level", "WARNING"),
        ({"x-api-key": KEYS["read-only"]}, "OPTIONS", "unmapped_route", "WARNING"),
        ({"x-api-key": UNKNOWN_KEY}, "GET", "unknown_key", "WARNING"),
        ({"x-api-key": REVOKED_KEY}, "GET", "revoked_key", "WARNING"),
        ({}, "GET", "missing_key", "WARNING"),
        ({"x-api-key": "é" * 30}, "GET", "malformed_key", "WARNING"),
    ],
)
def test_denied_attempt_is_logged_and_counted_by_reason(table, output, headers, method, reason, level):
    call(event(method, "/documents/doc-42", headers))
    (log,), (metric,) = output.read()
    assert (log["level"], log["decision"], log["reason"]) == (level, "deny", reason)
    assert (log["method"], log["path"]) == (method, "/documents/doc-42")
    assert metric["AuthorizationDenied"] == [1.0]
    assert metric["reason"] == reason
    assert metric["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"], ["service", "reason"]]


def test_keys_never_reach_the_logs_or_metrics(table, output):
    keys = [*KEYS.values(), REVOKED_KEY, UNKNOWN_KEY, "A" * 600, "Schlüssel0123456789abcdefghijk"]
    for key in keys:
        for method, path, _ in REQUESTS:
            call(keyed(key, method, path))
    written = output.text()
    assert written.count('"decision"') == len(keys) * len(REQUESTS)
    for key in keys:
        assert key not in written
    for key in [*KEYS.values(), REVOKED_KEY, UNKNOWN_KEY]:
        assert api_key_digest(key) not in written
        assert api_key_digest(key)[:8] in written


# ---- packaging ----------------------------------------------------------------------------------


def test_handler_imports_from_the_lambda_asset_root(monkeypatch):
    """Lambda loads ``api_key_authorizer.index.handler`` with the handlers directory as its root."""
    root = Path(index.__file__).resolve().parent.parent
    monkeypatch.syspath_prepend(str(root))
    for name in [m for m in sys.modules if m == "api_key_authorizer" or m.startswith("api_key_authorizer.")]:
        monkeypatch.delitem(sys.modules, name)
    module = importlib.import_module("api_key_authorizer.index")
    assert callable(module.handler)
    assert module.__file__ == index.__file__
