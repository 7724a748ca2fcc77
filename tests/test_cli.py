"""``serverless-patterns clients`` on moto API Gateway and DynamoDB, down to the authorizer's answer."""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import json
import re
from dataclasses import dataclass

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from serverless_patterns.cli import main
from serverless_patterns.clients import TIER_TAG, ClientsError, create_client, list_clients
from serverless_patterns.handlers.api_key_authorizer import index

TABLE = "Permissions"
LEVELS = ("read-only", "read-write", "admin")
ROUTES = [
    {"method": "GET", "path": "/documents/{id}", "level": "read-only"},
    {"method": "PUT", "path": "/documents/{id}", "level": "read-write"},
    {"method": "DELETE", "path": "/documents/{id}", "level": "admin"},
]


@dataclass
class Api:
    api_id: str
    plans: dict[str, str]  # tier -> usage plan id
    dynamodb: object
    apigateway: object

    def method_arn(self, method: str, path: str) -> str:
        return f"arn:aws:execute-api:us-east-1:123456789012:{self.api_id}/prod/{method}{path}"


@dataclass
class LambdaContext:
    function_name: str = "authorizer"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:authorizer"
    aws_request_id: str = "req"


@pytest.fixture
def api(monkeypatch):
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "PERMISSIONS_TABLE": TABLE,
        "ROUTE_PERMISSIONS": json.dumps(ROUTES),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setattr(index, "_tables", {})
    # Every command builds a boto3 session; sharing one botocore session loads the service models once.
    shared = botocore.session.get_session()
    monkeypatch.setattr(boto3, "Session", functools.partial(boto3.Session, botocore_session=shared))
    with mock_aws():
        dynamodb, apigateway = boto3.client("dynamodb"), boto3.client("apigateway")
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "key_digest", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "key_digest", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        api_id = apigateway.create_rest_api(name="documents")["id"]
        root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
        apigateway.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
        apigateway.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
        apigateway.create_deployment(restApiId=api_id, stageName="prod")
        plans = {
            tier: apigateway.create_usage_plan(
                name=f"documents-{tier}", apiStages=[{"apiId": api_id, "stage": "prod"}], tags={TIER_TAG: tier}
            )["id"]
            for tier in (*LEVELS, "partner")
        }
        apigateway.create_usage_plan(name="unrelated", apiStages=[], tags={TIER_TAG: "read-only"})
        yield Api(api_id, plans, dynamodb, apigateway)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return status, captured.out, captured.err


def create(api, capsys, client: str, level: str, *extra: str) -> str:
    status, out, err = run(
        capsys, "clients", "create", "--table", TABLE, "--api-id", api.api_id, "--client", client, "--level", level, *extra
    )
    assert status == 0, err
    return out.strip()


def items(api) -> list[dict]:
    return api.dynamodb.scan(TableName=TABLE)["Items"]


def authorize(api, key: str, method: str, path: str = "/documents/d1") -> bool:
    response = index.handler(
        {"type": "REQUEST", "methodArn": api.method_arn(method, path), "headers": {"X-API-Key": key}}, LambdaContext()
    )
    statements = response["policyDocument"]["Statement"]

    def matching(effect: str) -> bool:
        patterns = [r for s in statements if s["Effect"] == effect for r in s["Resource"]]
        return any(fnmatch.fnmatchcase(api.method_arn(method, path), pattern) for pattern in patterns)

    return matching("Allow") and not matching("Deny")


# ---- create -------------------------------------------------------------------------------------


def test_create_prints_only_the_generated_key_on_stdout_and_warns_on_stderr(api, capsys):
    status, out, err = run(
        capsys, "clients", "create", "--table", TABLE, "--api-id", api.api_id, "--client", "acme", "--level", "read-write"
    )
    assert status == 0
    key = out.strip()
    assert out == key + "\n"
    assert re.fullmatch(r"[A-Za-z0-9]{20,128}", key)
    assert "shown this once" in err and "SHA-256 digest" in err
    assert api.plans["read-write"] in err
    assert key not in err


def test_create_at_each_level_records_the_digest_and_attaches_the_key_to_the_tier_plan(api, capsys):
    keys = {level: create(api, capsys, f"client-{level}", level) for level in LEVELS}
    assert len(set(keys.values())) == 3

    by_client = {item["client_id"]["S"]: item for item in items(api)}
    api_keys = {k["name"]: k for k in api.apigateway.get_api_keys(includeValues=True)["items"]}
    for level, key in keys.items():
        item = by_client[f"client-{level}"]
        assert item["key_digest"]["S"] == hashlib.sha256(key.encode()).hexdigest()
        assert (item["level"]["S"], item["status"]["S"]) == (level, "active")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", item["created_at"]["S"])
        assert "revoked_at" not in item
        api_key = api_keys[f"client-{level}"]
        assert (api_key["id"], api_key["value"], api_key["enabled"]) == (item["api_key_id"]["S"], key, True)
        plan_keys = api.apigateway.get_usage_plan_keys(usagePlanId=api.plans[level])["items"]
        assert [k["id"] for k in plan_keys] == [api_key["id"]]

    stored = json.dumps(items(api))
    assert all(key not in stored for key in keys.values())


def test_created_keys_are_authorized_at_their_level(api, capsys):
    keys = {level: create(api, capsys, f"client-{level}", level) for level in LEVELS}
    expected = {"read-only": ["GET"], "read-write": ["GET", "PUT"], "admin": ["GET", "PUT", "DELETE"]}
    for level, key in keys.items():
        for method in ("GET", "PUT", "DELETE"):
            assert authorize(api, key, method) is (method in expected[level]), (level, method)


def test_an_explicit_usage_plan_and_a_tier_override(api, capsys):
    create(api, capsys, "partner-a", "read-only", "--tier", "partner")
    create(api, capsys, "partner-b", "read-only", "--usage-plan-id", api.plans["partner"])
    plan_keys = api.apigateway.get_usage_plan_keys(usagePlanId=api.plans["partner"])["items"]
    assert sorted(k["name"] for k in plan_keys) == ["partner-a", "partner-b"]


# ---- list ---------------------------------------------------------------------------------------


def test_list_shows_clients_without_keys_or_digests(api, capsys):
    keys = [create(api, capsys, f"client-{level}", level) for level in LEVELS]
    assert run(capsys, "clients", "revoke", "--table", TABLE, "--client", "client-admin")[0] == 0

    status, out, _ = run(capsys, "clients", "list", "--table", TABLE)
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["CLIENT", "LEVEL", "STATUS", "CREATED", "REVOKED"]
    rows = [line.split() for line in lines[1:]]
    assert [row[:3] for row in rows] == [
        ["client-admin", "admin", "revoked"],
        ["client-read-only", "read-only", "active"],
        ["client-read-write", "read-write", "active"],
    ]
    assert rows[0][4] != "-" and rows[1][4] == "-"

    status, out_json, _ = run(capsys, "clients", "list", "--table", TABLE, "--json")
    listed = json.loads(out_json)
    assert [(c["client_id"], c["status"]) for c in listed] == [(r[0], r[2]) for r in rows]
    for key in keys:
        digest = hashlib.sha256(key.encode()).hexdigest()
        for output in (out, out_json):
            assert key not in output and digest not in output and digest[:8] not in output


def test_list_of_an_empty_table(api, capsys):
    assert run(capsys, "clients", "list", "--table", TABLE) == (0, "", "No clients.\n")
    assert run(capsys, "clients", "list", "--table", TABLE, "--json")[:2] == (0, "[]\n")


# ---- revoke -------------------------------------------------------------------------------------


def test_revoke_marks_the_item_disables_the_key_and_the_authorizer_denies_it(api, capsys):
    keys = {level: create(api, capsys, f"client-{level}", level) for level in LEVELS}
    assert authorize(api, keys["read-write"], "PUT")

    status, out, err = run(capsys, "clients", "revoke", "--table", TABLE, "--client", "client-read-write")
    assert status == 0
    assert "Revoked client 'client-read-write'" in out and "disabled" in out
    assert "cache" in err and "300 seconds" in err

    item = next(i for i in items(api) if i["client_id"]["S"] == "client-read-write")
    assert item["status"]["S"] == "revoked" and item["revoked_at"]["S"] >= item["created_at"]["S"]
    assert api.apigateway.get_api_key(apiKey=item["api_key_id"]["S"])["enabled"] is False
    assert not any(authorize(api, keys["read-write"], method) for method in ("GET", "PUT", "DELETE"))
    assert authorize(api, keys["read-only"], "GET") and authorize(api, keys["admin"], "DELETE")


def test_revoke_can_delete_the_api_key(api, capsys):
    create(api, capsys, "acme", "admin")
    status, out, _ = run(capsys, "clients", "revoke", "--table", TABLE, "--client", "acme", "--delete-api-key")
    assert status == 0 and "deleted" in out
    assert api.apigateway.get_api_keys()["items"] == []
    assert [i["status"]["S"] for i in items(api)] == ["revoked"]


def test_a_revoked_client_can_be_issued_a_new_key(api, capsys):
    old = create(api, capsys, "acme", "read-only")
    run(capsys, "clients", "revoke", "--table", TABLE, "--client", "acme")
    new = create(api, capsys, "acme", "admin")
    assert old != new
    assert not authorize(api, old, "GET") and authorize(api, new, "DELETE")
    assert sorted(i["status"]["S"] for i in items(api)) == ["active", "revoked"]


# ---- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["revoke", "--client", "nobody"], "error: unknown client 'nobody'\n"),
        (
            ["create", "--client", "acme", "--level", "admin"],
            "error: client 'acme' already has an active key; revoke it before issuing another\n",
        ),
        (
            ["create", "--client", "new", "--level", "admin", "--usage-plan-id", "nope"],
            "error: usage plan nope does not exist\n",
        ),
        (
            ["create", "--client", "new", "--level", "admin"],
            "error: pass --usage-plan-id, or --api-id to find the usage plan by its tier tag\n",
        ),
        (
            ["create", "--client", "new", "--level", "admin", "--api-id", "zzz"],
            f"error: no usage plan of API zzz is tagged {TIER_TAG}=admin; pass --usage-plan-id explicitly\n",
        ),
        (
            ["create", "--client", "bad name", "--level", "admin", "--usage-plan-id", "x"],
            (
                "error: invalid client name 'bad name': use 1-128 letters, digits, '.', '_', '@' or '-', "
                "starting with a letter or digit\n"
            ),
        ),
    ],
)
def test_operator_errors_exit_1_with_one_clear_line(api, capsys, argv, message):
    create(api, capsys, "acme", "read-only")
    action, *rest = argv
    assert run(capsys, "clients", action, "--table", TABLE, *rest) == (1, "", message)
    assert len(api.apigateway.get_api_keys()["items"]) == 1  # nothing half-created


def test_plan_of_another_api_is_refused(api, capsys):
    other = api.apigateway.create_usage_plan(name="other", apiStages=[])["id"]
    status, _, err = run(
        capsys, "clients", "create", "--table", TABLE, "--api-id", api.api_id, "--usage-plan-id", other,
        "--client", "acme", "--level", "admin",
    )
    assert (status, err) == (1, f"error: usage plan {other} is not attached to API {api.api_id}\n")


def test_several_plans_with_the_same_tier_tag_are_ambiguous(api, capsys):
    twin = api.apigateway.create_usage_plan(
        name="twin", apiStages=[{"apiId": api.api_id, "stage": "prod"}], tags={TIER_TAG: "admin"}
    )["id"]
    status, _, err = run(
        capsys, "clients", "create", "--table", TABLE, "--api-id", api.api_id, "--client", "acme", "--level", "admin"
    )
    assert status == 1
    assert err == (
        f"error: usage plans {', '.join(sorted([api.plans['admin'], twin]))} of API {api.api_id} are all tagged "
        f"{TIER_TAG}=admin; pass --usage-plan-id explicitly\n"
    )


def test_revoking_twice_is_an_error(api, capsys):
    create(api, capsys, "acme", "read-only")
    assert run(capsys, "clients", "revoke", "--table", TABLE, "--client", "acme")[0] == 0
    assert run(capsys, "clients", "revoke", "--table", TABLE, "--client", "acme") == (
        1, "", "error: client 'acme' has no active key (already revoked)\n"
    )


@pytest.mark.parametrize("action", [["list"], ["revoke", "--client", "acme"]])
def test_aws_errors_exit_1_without_a_traceback(api, capsys, action):
    status, out, err = run(capsys, "clients", action[0], "--table", "Missing", *action[1:])
    assert (status, out) == (1, "")
    assert err.startswith("error: An error occurred (ResourceNotFoundException) when calling the Scan operation")


def test_usage_errors_exit_2(api, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["clients", "create", "--table", TABLE, "--client", "acme", "--level", "root"])
    assert exit_.value.code == 2
    assert "invalid choice: 'root'" in capsys.readouterr().err


def test_a_failure_after_the_key_exists_deletes_it_again(api):
    session = boto3.Session()

    def refuse(**kwargs):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "PutItem")

    session.events.register("before-call.dynamodb.PutItem", refuse)
    with pytest.raises(ClientError):
        create_client(table=TABLE, client_id="acme", level="admin", api_id=api.api_id, session=session)
    assert api.apigateway.get_api_keys()["items"] == []
    assert items(api) == []


def test_library_functions_raise_clients_error(api):
    with pytest.raises(ClientsError, match="invalid level 'root'"):
        create_client(table=TABLE, client_id="acme", level="root", usage_plan_id="x")
    assert list_clients(table=TABLE) == []


def test_key_rotation_snippet(api, capsys):
    from examples.snippets.clients_usage import rotate_key

    old = create(api, capsys, "acme", "read-write")
    new = rotate_key(table=TABLE, client_id="acme", api_id=api.api_id)
    assert new != old
    assert authorize(api, new, "PUT") and not authorize(api, old, "GET")
    with pytest.raises(ClientsError, match="client 'nobody' has no active key to rotate"):
        rotate_key(table=TABLE, client_id="nobody", api_id=api.api_id)


def test_aws_configuration_errors_exit_1(api, capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(boto3, "Session", boto3.session.Session)  # a session of its own, as in real use
    assert run(capsys, "clients", "list", "--table", TABLE, "--profile", "nosuch") == (
        1,
        "",
        "error: The config profile (nosuch) could not be found\n",
    )
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    assert run(capsys, "clients", "list", "--table", TABLE) == (1, "", "error: You must specify a region.\n")


def test_a_generated_key_the_authorizer_would_reject_is_deleted_again(api):
    session = boto3.Session()

    def odd_value(parsed, **kwargs):
        parsed["value"] = "not-alphanumeric-" + parsed["value"]

    session.events.register("after-call.api-gateway.CreateApiKey", odd_value)
    with pytest.raises(ClientsError, match=r"API Gateway generated key \w+ in a form the authorizer rejects"):
        create_client(table=TABLE, client_id="acme", level="admin", api_id=api.api_id, session=session)
    assert api.apigateway.get_api_keys()["items"] == []
    assert items(api) == []
