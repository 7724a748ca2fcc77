"""AlertingFunction's snap_start opt-in: what it synthesizes, who invokes the snapshot, what it costs."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Stack as CdkStack
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from harness import assert_compliant, synthesize

from serverless_patterns.alerting_function import SNAP_START_ALIAS, AlertingFunction, Invocation
from serverless_patterns.cost import Stack, UsageProfile, estimate_stacks, load_prices
from serverless_patterns.cost.usage import Step
from serverless_patterns.handlers import handler_code, handler_entry
from serverless_patterns.secure_http_api import SecureHttpApi

PRICES = load_prices()
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:jobs"
MEMORY_MB = 512


def _build(snap_start: bool):
    def build(stack: CdkStack) -> AlertingFunction:
        fn = AlertingFunction(
            stack,
            "Worker",
            code=handler_code("example_echo"),
            handler=handler_entry("example_echo"),
            memory_size=MEMORY_MB,
            powertools=True,
            snap_start=snap_start,
            # Its SQS mapping and API Gateway invoke it, never asynchronously: no dead-letter queue.
            invocation=Invocation.EVENT_SOURCE,
            invoked_by="its SQS event source mapping and API Gateway (GET /health)",
        )
        fn.add_sqs_source(sqs.Queue.from_queue_arn(stack, "Jobs", QUEUE_ARN))
        api = SecureHttpApi(stack, "Api", authorizer=authorizers.HttpIamAuthorizer())
        api.add_route("GET", "/health", fn)
        return fn

    return build


@pytest.fixture(scope="module")
def snap():
    return synthesize(_build(True))


@pytest.fixture(scope="module")
def plain():
    return synthesize(_build(False))


def _only_id(synth, resource_type):
    (logical_id,) = synth.resources(resource_type)
    return logical_id


def test_the_function_snapshots_published_versions_and_the_alias_points_at_this_deployments_version(snap):
    function_id = _only_id(snap, "AWS::Lambda::Function")
    function = snap.template["Resources"][function_id]["Properties"]
    assert function["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert function["Runtime"] == "python3.14"

    version_id = _only_id(snap, "AWS::Lambda::Version")
    version = snap.template["Resources"][version_id]
    assert version["Properties"]["FunctionName"] == {"Ref": function_id}
    # The previous version (and its cached snapshot) goes when a deployment publishes a new one.
    assert version.get("DeletionPolicy", "Delete") == "Delete"

    (alias,) = snap.resources("AWS::Lambda::Alias").values()
    assert alias["Properties"]["Name"] == SNAP_START_ALIAS
    assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}


def _names_alias(value, alias_id) -> bool:
    """CDK names the alias by its ARN (``Ref``) or as ``<function name>:live`` taken from it."""
    text = json.dumps(value)
    return value == {"Ref": alias_id} or (alias_id in text and f":{SNAP_START_ALIAS}" in text)


def test_event_sources_and_api_integrations_invoke_the_alias_not_latest(snap):
    alias_id = _only_id(snap, "AWS::Lambda::Alias")
    (mapping,) = snap.resources("AWS::Lambda::EventSourceMapping").values()
    assert _names_alias(mapping["Properties"]["FunctionName"], alias_id)
    (integration,) = snap.resources("AWS::ApiGatewayV2::Integration").values()
    assert _names_alias(integration["Properties"]["IntegrationUri"], alias_id)
    permissions = [p["Properties"]["FunctionName"] for p in snap.resources("AWS::Lambda::Permission").values()]
    assert permissions and all(_names_alias(name, alias_id) for name in permissions)


def test_without_the_opt_in_nothing_is_published_and_callers_invoke_the_function(plain):
    assert not plain.resources("AWS::Lambda::Version") and not plain.resources("AWS::Lambda::Alias")
    function_id = _only_id(plain, "AWS::Lambda::Function")
    assert "SnapStart" not in plain.template["Resources"][function_id]["Properties"]
    (mapping,) = plain.resources("AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["FunctionName"] == {"Ref": function_id}


def test_compliance(snap):
    assert_compliant(snap)


def test_the_idle_cost_rises_by_one_cached_snapshot_of_the_functions_memory(snap, plain):
    with_snap = estimate_stacks([Stack("app", snap.template)], profile=None)
    without = estimate_stacks([Stack("app", plain.template)], profile=None)
    cache = MEMORY_MB / 1024 * PRICES.hours_per_month * 3600 * PRICES["lambda.snapstart_cache_gb_second"]
    assert with_snap.idle_total - without.idle_total == pytest.approx(cache)
    (line,) = [line for line in with_snap.idle if line.price_key == "lambda.snapstart_cache_gb_second"]
    assert "1 version(s)" in line.item and line.logical_id == _only_id(snap, "AWS::Lambda::Function")


def test_each_new_environment_is_priced_as_a_restore_of_the_functions_memory(snap, plain):
    profile = UsageProfile(
        name="echo", description="one run per document", api_requests=0,
        steps=(Step(handler="example_echo.", invocations=1, duration_ms=100, why="test"),),
    )
    with_snap = estimate_stacks([Stack("app", snap.template)], profile=profile)
    without = estimate_stacks([Stack("app", plain.template)], profile=profile)
    (restore,) = [line for line in with_snap.per_1000 if line.price_key == "lambda.snapstart_restore_gb"]
    assert restore.quantity == pytest.approx(1000 * 0.01 * MEMORY_MB / 1024)
    assert restore.cost == pytest.approx(restore.quantity * PRICES["lambda.snapstart_restore_gb"])
    assert not [line for line in without.per_1000 if line.price_key == "lambda.snapstart_restore_gb"]
    assert any("snapshot restore" in text for text in with_snap.notes.assumptions)


@pytest.mark.parametrize("runtime", [lambda_.Runtime.PYTHON_3_11, lambda_.Runtime.NODEJS_22_X])
def test_runtimes_without_snap_start_are_refused_naming_the_prop(runtime):
    def build(stack):
        AlertingFunction(stack, "Fn", code=handler_code("example_echo"), handler="index.handler",
                         runtime=runtime, snap_start=True)

    with pytest.raises(ValueError, match=rf"snap_start.*not {runtime.name}"):
        synthesize(build)


def test_snap_start_must_be_a_bool():
    def build(stack):
        AlertingFunction(stack, "Fn", code=handler_code("example_echo"), handler="index.handler", snap_start="yes")

    with pytest.raises(TypeError, match="snap_start"):
        synthesize(build)
