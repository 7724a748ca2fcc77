"""Every example app and every construct configuration the tests build deploys twice in a row.

One check over all templates (:mod:`deploy_readiness`): kept resources never have fixed names,
stateful resources are ``RetainExceptOnCreate``, server-access-log buckets are SSE-S3, and every
REST API stage that logs waits for API Gateway's account setting.
"""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from deploy_readiness import (
    all_problems,
    fixed_names_of_kept_resources,
    plain_retain_on_stateful_resources,
    rest_stages_logging_without_account,
    server_access_log_targets,
    server_access_log_targets_not_sse_s3,
)
from harness import TEST_ENV

from serverless_patterns import ApiGatewayAccount, ApiWithKeyedUsagePlan, SecureBucket
from serverless_patterns.compliance import COLLECT_FINDINGS_CONTEXT

#: (test module, builder functions): the configurations each construct's tests synthesize.
CONSTRUCT_CONFIGURATIONS = {
    "test_alert_topic": ("_default", "_maximal"),
    "test_alerting_function": ("_default", "_maximal", "_streams"),
    "test_audit_trail": ("_default", "_maximal"),
    "test_audited_table": ("_default", "_maximal", "_parameters"),
    "test_bucket_distribution": ("_default", "_maximal"),
    "test_conventions": ("_whole_app",),
    "test_document_pipeline": ("_default", "_vpc"),
    "test_isolated_network": ("_default", "_maximal"),
    "test_keyed_api": ("_default", "_vpc", "_maximal"),
    "test_secure_bucket": ("_default", "_maximal"),
    "test_secure_http_api": ("_default", "_maximal"),
    "test_secure_queue": ("_default", "_maximal"),
    "test_secure_secret": ("_default", "_maximal"),
}
#: Builders that need a concrete environment, as their own tests synthesize them.
NEEDS_ENV = {("test_conventions", "_whole_app"), ("test_bucket_distribution", "_maximal")}
SNIPPETS = (
    "alert_topic_usage",
    "alerting_function_usage",
    "audit_trail_usage",
    "audited_table_usage",
    "bucket_distribution_usage",
    "conventions_usage",
    "keyed_api_usage",
    "secure_bucket_usage",
    "secure_http_api_usage",
    "secure_queue_usage",
    "secure_secret_usage",
    "status_events_usage",
)
#: (example app, context): every app, in each configuration its tests synthesize.
APPS = (
    ("quickstart", {}),
    ("document_pipeline", {}),
    ("document_pipeline", {"env": "dev"}),
    ("document_pipeline", {"env": "staging"}),
    ("data_processing_stack", {}),
    ("audited_ingest", {}),
    ("audited_ingest", {"env": "prod", "alert_email": "ops@example.com"}),
    ("prod_http_api", {}),
    ("secure_data_api", {}),
)


def _stack_template(build: Callable[[Stack], Any], env: Environment | None = None) -> dict[str, Any]:
    app = App(outdir=tempfile.mkdtemp(prefix="sp-ready-"), context=COLLECT_FINDINGS_CONTEXT)
    stack = Stack(app, "Test", env=env)
    build(stack)
    return app.synth().get_stack_by_name("Test").template


def _app_template(name: str, context: Mapping[str, Any]) -> dict[str, Any]:
    app = App(outdir=tempfile.mkdtemp(prefix="sp-ready-"), context={**COLLECT_FINDINGS_CONTEXT, **context})
    (stack,) = importlib.import_module(f"examples.{name}.app").build(app)
    return app.synth().get_stack_by_name(stack.stack_name).template


CASES = [
    pytest.param(("construct", module, builder), id=f"{module.removeprefix('test_')}{builder}")
    for module, builders in CONSTRUCT_CONFIGURATIONS.items()
    for builder in builders
] + [pytest.param(("snippet", name, None), id=f"snippet-{name}") for name in SNIPPETS] + [
    pytest.param(("app", name, context), id=f"app-{name}-{'-'.join(map(str, context.values())) or 'default'}")
    for name, context in APPS
]


@pytest.fixture(scope="module")
def templates() -> dict[tuple, dict[str, Any]]:
    return {}


def _template(case: tuple, cache: dict[tuple, dict[str, Any]]) -> dict[str, Any]:
    key = (case[0], case[1], repr(case[2]))
    if key not in cache:
        kind, name, extra = case
        if kind == "construct":
            build = getattr(importlib.import_module(name), extra)
            cache[key] = _stack_template(build, TEST_ENV if (name, extra) in NEEDS_ENV else None)
        elif kind == "snippet":
            module = importlib.import_module(f"examples.snippets.{name}")
            cache[key] = _stack_template(module.build, TEST_ENV if name == "bucket_distribution_usage" else None)
        else:
            cache[key] = _app_template(name, extra)
    return cache[key]


@pytest.mark.parametrize("case", CASES)
def test_deploys_again_after_a_failed_create_and_after_a_delete(case, templates):
    template = _template(case, templates)
    problems = all_problems(template)
    assert not problems, "\n".join(problems)


def test_the_flagship_sets_the_account_role_once_and_its_stage_waits_for_it(templates):
    template = _template(("app", "document_pipeline", {}), templates)
    resources = template["Resources"]
    accounts = [i for i, r in resources.items() if r["Type"] == "AWS::ApiGateway::Account"]
    assert len(accounts) == 1
    assert accounts[0].startswith("ApiGatewayAccount")
    (stage,) = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert accounts[0] in stage["DependsOn"]


def test_every_server_access_log_bucket_of_the_flagship_is_sse_s3(templates):
    template = _template(("app", "document_pipeline", {}), templates)
    targets = server_access_log_targets(template)
    assert len(targets) >= 2  # the documents bucket's and the trail bucket's log sinks
    for logical_id in targets:
        rules = template["Resources"][logical_id]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert [r["ServerSideEncryptionByDefault"] for r in rules] == [{"SSEAlgorithm": "AES256"}]


# ---- the checks themselves fire on the templates they exist for ------------------------------


def _api(stack: Stack, **props: Any) -> ApiWithKeyedUsagePlan:
    from test_keyed_api import _function

    api = ApiWithKeyedUsagePlan(stack, "Api", **props)
    api.add_route("GET", "/documents", _function(stack), level="read-only")
    return api


def test_opting_out_of_the_account_role_removes_it_and_the_check_then_fires():
    template = _stack_template(lambda stack: _api(stack, cloud_watch_role=False))
    types = {r["Type"] for r in template["Resources"].values()}
    assert "AWS::ApiGateway::Account" not in types
    assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role" and "apigateway.amazonaws.com" in str(r)]
    assert len(rest_stages_logging_without_account(template)) == 1
    assert not all_problems(template, account_role=False)


def test_two_apis_in_one_stack_share_one_account_setting():
    def build(stack: Stack) -> None:
        _api(stack)
        second = ApiWithKeyedUsagePlan(stack, "Second")
        from test_keyed_api import _function

        second.add_route("GET", "/things", _function(stack, "Things"), level="read-only")

    template = _stack_template(build)
    resources = template["Resources"]
    (account,) = [i for i, r in resources.items() if r["Type"] == "AWS::ApiGateway::Account"]
    stages = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert len(stages) == 2 and all(account in s["DependsOn"] for s in stages)
    assert account.startswith("ApiGatewayAccount")


def test_the_account_role_uses_a_customer_managed_policy_with_the_seven_log_actions():
    template = _stack_template(lambda stack: ApiGatewayAccount.of(stack))
    resources = template["Resources"]
    (role,) = [r for r in resources.values() if r["Type"] == "AWS::IAM::Role"]
    assert "ManagedPolicyArns" not in role["Properties"] or all(
        "Ref" in arn for arn in role["Properties"]["ManagedPolicyArns"]
    )
    (policy,) = [r for r in resources.values() if r["Type"] == "AWS::IAM::ManagedPolicy"]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == sorted(
        [
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:DescribeLogGroups",
            "logs:DescribeLogStreams",
            "logs:PutLogEvents",
            "logs:GetLogEvents",
            "logs:FilterLogEvents",
        ]
    )
    for resource in resources.values():
        if resource["Type"] in ("AWS::IAM::Role", "AWS::IAM::ManagedPolicy", "AWS::ApiGateway::Account"):
            assert resource["DeletionPolicy"] == "RetainExceptOnCreate"


def test_of_refuses_a_foreign_construct_with_its_id():
    app = App()
    stack = Stack(app, "S")
    SecureBucket(stack, "ApiGatewayAccount")
    with pytest.raises(ValueError, match="ApiGatewayAccount.of: .* is a SecureBucket"):
        ApiGatewayAccount.of(stack)


def test_the_checks_fire_on_fixed_names_plain_retain_and_kms_log_buckets():
    template = {
        "Resources": {
            "Logs": {
                "Type": "AWS::Logs::LogGroup",
                "DeletionPolicy": "Retain",
                "Properties": {"LogGroupName": "/fixed", "Tags": [{"Key": "serverless-patterns:construct", "Value": "X"}]},
            },
            "UsersOwn": {"Type": "AWS::KMS::Key", "DeletionPolicy": "Retain", "Properties": {}},
            "Unique": {
                "Type": "AWS::Logs::LogGroup",
                "DeletionPolicy": "RetainExceptOnCreate",
                "Properties": {"LogGroupName": {"Fn::Join": ["", ["/x-", {"Ref": "AWS::StackId"}]]}},
            },
            "Named": {
                "Type": "AWS::SQS::Queue",
                "DeletionPolicy": "RetainExceptOnCreate",
                "Properties": {"QueueName": {"Fn::Join": ["-", [{"Ref": "Prefix"}, "jobs"]]}},
            },
            "Sink": {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "RetainExceptOnCreate",
                "Properties": {
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
                    }
                },
            },
            "Data": {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "RetainExceptOnCreate",
                "Properties": {"LoggingConfiguration": {"DestinationBucketName": {"Ref": "Sink"}}},
            },
            "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {"AccessLogSetting": {"DestinationArn": "x"}}},
        },
        "Parameters": {"Prefix": {"Type": "String"}},
    }
    assert [p.split(" ")[0] for p in fixed_names_of_kept_resources(template)] == ["Logs", "Named"]
    assert [p.split(" ")[0] for p in plain_retain_on_stateful_resources(template)] == ["Logs"]
    assert [p.split(":")[0] for p in server_access_log_targets_not_sse_s3(template)] == ["Sink"]
    assert [p.split(":")[0] for p in rest_stages_logging_without_account(template)] == ["Stage"]
