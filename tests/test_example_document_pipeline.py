"""The flagship app (reference system 003): requirements, compliance, and its document flow on moto."""

from __future__ import annotations

import importlib

import jsonschema
import pytest

from harness import Synthesized, assert_compliant, normalise_template, synthesize_app
from serverless_patterns.schemas import document_status_event_schema

app_module = importlib.import_module("examples.document_pipeline.app")
local_flow = importlib.import_module("examples.document_pipeline.local_flow")


def _synth(tmp_path_factory, env: str) -> Synthesized:
    return synthesize_app(app_module.build, context={"env": env})


@pytest.fixture(scope="module")
def prod(tmp_path_factory):
    return _synth(tmp_path_factory, "prod")


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    return _synth(tmp_path_factory, "dev")


@pytest.fixture(scope="module")
def flow(dev):
    return local_flow.run(dev.template, dev.outdir)


def test_stack_names_carry_the_configuration_prefix(prod, dev):
    assert prod.stack_name == "prod-document-processing"
    assert dev.stack_name == "dev-document-processing"


def test_prod_runs_functions_in_an_isolated_network_with_a_trail(prod):
    functions = [f["Properties"] for f in prod.resources("AWS::Lambda::Function").values() if f["Properties"].get("Handler", "").endswith(".index.handler")]
    assert len(functions) == 4 and all("VpcConfig" in f for f in functions)
    assert not prod.resources("AWS::EC2::NatGateway")
    (trail,) = prod.resources("AWS::CloudTrail::Trail").values()
    assert trail["Properties"]["IsMultiRegionTrail"] is True
    assert trail["Properties"]["EnableLogFileValidation"] is True


def test_dev_has_no_network_and_no_trail(dev):
    assert not dev.resources("AWS::EC2::VPC")
    assert not dev.resources("AWS::CloudTrail::Trail")


def test_usage_plans_rate_limit_each_tier(prod):
    plans = [p["Properties"] for p in prod.resources("AWS::ApiGateway::UsagePlan").values()]
    assert len(plans) == 3
    assert all(p["Quota"]["Limit"] == 100_000 and p["Quota"]["Period"] == "DAY" for p in plans)
    assert all("RateLimit" in p["Throttle"] and "BurstLimit" in p["Throttle"] for p in plans)


def test_every_method_requires_an_api_key_and_the_authorizer(prod):
    methods = [m["Properties"] for m in prod.resources("AWS::ApiGateway::Method").values() if m["Properties"]["HttpMethod"] != "OPTIONS"]
    assert len(methods) == 4
    assert all(m["ApiKeyRequired"] is True and m["AuthorizationType"] == "CUSTOM" for m in methods)


def test_kms_encrypts_bucket_tables_queues_topics_logs_and_environment(prod):
    for bucket in prod.resources("AWS::S3::Bucket").values():
        assert "BucketEncryption" in bucket["Properties"]
    for table in prod.resources("AWS::DynamoDB::Table").values():
        assert table["Properties"]["SSESpecification"]["SSEEnabled"] is True
    for group in prod.resources("AWS::Logs::LogGroup").values():
        assert "KmsKeyId" in group["Properties"]
    for function in prod.resources("AWS::Lambda::Function").values():
        if function["Properties"].get("Handler", "").endswith(".index.handler"):
            assert "KmsKeyArn" in function["Properties"]


def test_tables_are_on_demand_and_buckets_have_lifecycle_rules(prod):
    assert all(t["Properties"]["BillingMode"] == "PAY_PER_REQUEST" for t in prod.resources("AWS::DynamoDB::Table").values())
    assert all("LifecycleConfiguration" in b["Properties"] for b in prod.resources("AWS::S3::Bucket").values() if "LoggingConfiguration" in b["Properties"])


@pytest.mark.parametrize("configuration", ["prod", "dev"])
def test_compliance(configuration, request):
    assert_compliant(request.getfixturevalue(configuration))


def test_prod_snapshot(prod, snapshot_json):
    assert normalise_template(prod.template) == snapshot_json


# ---- the document flow, end to end on moto ----------------------------------------------------


def test_every_document_ends_as_expected(flow):
    assert {d.file_name: (d.http_status, d.detected_type, d.status) for d in flow.documents} == local_flow.EXPECTED_OUTCOMES


def test_rejections_say_why(flow):
    assert flow.by_name("invoice.pdf").reason == "declared application/pdf but the content is image/png"
    assert "truncated PNG" in flow.by_name("scan.png").reason
    assert "size must be between 1 and" in flow.by_name("archive.zip-too-big.pdf").reason


def test_permission_levels_are_enforced(flow):
    assert {(level, method, path): status for level, method, path, status in flow.access_checks} == local_flow.EXPECTED_ACCESS


def test_one_notification_per_transition_and_none_for_the_duplicate_event(flow):
    assert flow.duplicate_redeliveries == 1
    transitions = [(n["document_id"], n["previous_status"], n["status"]) for n in flow.notifications]
    assert len(transitions) == len(set(transitions)) == 13
    assert all(set(n["attributes"]) >= {"status", "schema_version", "document_id"} for n in flow.notifications)


def test_every_transition_is_one_status_event_on_each_channel_valid_against_the_schema(flow):
    validator = jsonschema.Draft202012Validator(document_status_event_schema())
    on_sns = [{k: v for k, v in n.items() if k != "attributes"} for n in flow.notifications]
    on_bus = [e["detail"] for e in flow.status_events]
    assert len(on_bus) == 13
    assert sorted(on_bus, key=_identity) == sorted(on_sns, key=_identity)  # the same events, once each
    assert all(
        e["source"] == "serverless-patterns.document-pipeline" and e["detail-type"] == "Document Status Changed"
        for e in flow.status_events
    )
    for event in on_bus:
        assert not list(validator.iter_errors(event)), event
    assert {e["status"] for e in on_bus} == {"AWAITING_UPLOAD", "PROCESSED", "REJECTED", "DELETED"}
    processed = [e for e in on_bus if e["status"] == "PROCESSED"]
    assert all(e["object"]["version_id"] and e["object"]["size"] for e in processed)  # what the processor read


def _identity(event):
    return (event["document_id"], event["status_version"])


def test_nothing_is_lost_or_dead_lettered(flow):
    assert flow.dead_letters == 0
    assert local_flow.problems(flow) == []


def test_a_key_with_spaces_plus_and_non_ascii_is_processed(flow):
    assert flow.by_name("Résumé final + notes 2026.txt").status == "PROCESSED"


# ---- deploy-readiness: someone is notified, no async path that can never fill --------------------


def test_prod_alarms_email_the_required_alert_email_parameter(prod, dev):
    parameter = prod.template["Parameters"]["AlertEmail"]
    assert "Default" not in parameter  # required at deploy time: prod alarms must reach someone
    subscriptions = [s["Properties"] for s in prod.resources("AWS::SNS::Subscription").values()]
    assert {"Endpoint": {"Ref": "AlertEmail"}, "Protocol": "email"} in [
        {k: s[k] for k in ("Endpoint", "Protocol")} for s in subscriptions
    ]
    assert "AlertEmail" not in dev.template.get("Parameters", {})


def test_no_function_of_the_flagship_has_an_async_dead_letter_queue_or_event_invoke_config(prod):
    """The API handler and the authorizer are invoked synchronously, processor and notifier by mappings."""
    assert not prod.resources("AWS::Lambda::EventInvokeConfig")
    functions = [f["Properties"] for f in prod.resources("AWS::Lambda::Function").values() if f["Properties"].get("Handler", "").endswith(".index.handler")]
    assert len(functions) == 4 and not [f for f in functions if "DeadLetterConfig" in f]


def test_every_rule_alarms_on_failed_invocations(prod):
    rules = prod.resources("AWS::Events::Rule")
    alarmed = {
        a["Properties"]["Dimensions"][0]["Value"]["Ref"]
        for a in prod.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "FailedInvocations"
    }
    assert alarmed == set(rules) and rules


def test_availability_zones_from_context_place_the_isolated_subnets():
    synth = synthesize_app(app_module.build, context={"env": "prod", "availability_zones": "us-east-1b,us-east-1c"})
    zones = sorted(s["Properties"]["AvailabilityZone"] for s in synth.resources("AWS::EC2::Subnet").values())
    assert zones == ["us-east-1b", "us-east-1c"]
