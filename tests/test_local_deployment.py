"""The local deployment's template transform and stack checks (fast; no engine needed).

``make deploy-local`` runs the deployment itself (CI runs it after ``make test``); these tests
pin down the two pieces it relies on: what is left out of the deployed copy (and that nothing
left in dangles), and that the post-deploy check reports every way a stack can be incomplete.
"""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path

import pytest

from serverless_patterns.local.deploy import (
    UNSUPPORTED,
    Unsupported,
    dangling_references,
    describe_left_out,
    prepare_assembly,
    references,
    strip_unsupported,
)
from serverless_patterns.local.engine import check_stack, expected_resources

UNSUPPORTED_TYPES = {rule.type for rule in UNSUPPORTED}


def _template() -> dict:
    """A small template with each way a resource can be tied to a left-out one."""
    return {
        "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket"},
            "Trail": {"Type": "AWS::CloudTrail::Trail", "Properties": {"S3BucketName": {"Ref": "Bucket"}}},
            "Network": {"Type": "AWS::EC2::VPC"},
            "FlowLog": {"Type": "AWS::EC2::FlowLog", "Properties": {"ResourceId": {"Ref": "Network"}}},
            "Target": {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": {"MaxCapacity": 10}},
            "Policy": {"Type": "AWS::ApplicationAutoScaling::ScalingPolicy", "Properties": {"ScalingTargetId": {"Ref": "Target"}}},
            "PlainAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "Errors", "Threshold": 1}},
            "MathAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Metrics": [{"Id": "m1", "Expression": "a+b"}]}},
            # refers to the trail with GetAtt (list form): must go too
            "TrailWatcher": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Fn::GetAtt": ["Trail", "Arn"]}}},
            # refers to the watcher with Fn::Sub: goes transitively
            "WatcherQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "q-${TrailWatcher.TopicName}"}}},
            # Fn::Sub variable shadows the name: refers to nothing left out
            "Shadowed": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"QueueName": {"Fn::Sub": ["${Trail}-x", {"Trail": {"Ref": "Env"}}]}},
            },
            # waits for left-out resources only through DependsOn: stays, without those entries
            "Waiter": {"Type": "AWS::SQS::Queue", "DependsOn": ["FlowLog", "Bucket"]},
            "Waiter2": {"Type": "AWS::SQS::Queue", "DependsOn": "MathAlarm"},
        },
        "Outputs": {
            "TrailArn": {"Value": {"Fn::GetAtt": "Trail.Arn"}},
            "BucketName": {"Value": {"Ref": "Bucket"}},
        },
    }


def test_leaves_out_exactly_the_unsupported_resources_and_what_refers_to_them():
    local = strip_unsupported(_template(), stack="S")
    left = {item.logical_id: item for item in local.left_out}
    assert set(left) == {"Trail", "FlowLog", "Target", "Policy", "MathAlarm", "TrailWatcher", "WatcherQueue", "TrailArn"}
    assert set(local.template["Resources"]) == {"Bucket", "Network", "PlainAlarm", "Shadowed", "Waiter", "Waiter2"}
    assert left["Trail"].reason.startswith("engine: ")
    assert left["Policy"].kind == "AWS::ApplicationAutoScaling::ScalingPolicy"
    assert left["TrailWatcher"].reason == "refers to Trail (left out)"
    assert left["WatcherQueue"].reason == "refers to TrailWatcher (left out)"
    assert left["TrailArn"].kind == "Output"
    assert [item.logical_id for item in local.resources_left_out] == [k for k in left if k != "TrailArn"]
    assert all(item.stack == "S" for item in local.left_out)


def test_metric_math_alarms_go_and_plain_alarms_stay():
    local = strip_unsupported(_template())
    assert "PlainAlarm" in local.template["Resources"]
    assert "MathAlarm" not in local.template["Resources"]


def test_depends_on_entries_are_pruned_and_nothing_dangles():
    local = strip_unsupported(_template())
    resources = local.template["Resources"]
    assert resources["Waiter"]["DependsOn"] == ["Bucket"]
    assert "DependsOn" not in resources["Waiter2"]
    assert set(local.template["Outputs"]) == {"BucketName"}
    assert dangling_references(local.template) == []


def test_the_dangling_check_finds_what_a_naive_removal_leaves_behind():
    naive = copy.deepcopy(_template())
    for name in ("Trail", "FlowLog", "MathAlarm"):
        del naive["Resources"][name]
    assert set(dangling_references(naive)) == {
        "TrailWatcher -> Trail", "Waiter -> FlowLog", "Waiter2 -> MathAlarm", "Outputs.TrailArn -> Trail",
    }


def test_the_input_template_is_not_changed():
    template = _template()
    before = json.dumps(template, sort_keys=True)
    strip_unsupported(template)
    assert json.dumps(template, sort_keys=True) == before


def test_a_template_without_unsupported_types_comes_back_unchanged():
    template = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}, "Outputs": {"B": {"Value": {"Ref": "Bucket"}}}}
    local = strip_unsupported(template)
    assert local.template == template and local.left_out == []


def test_the_list_of_types_is_a_parameter():
    local = strip_unsupported(_template(), unsupported=[Unsupported("AWS::EC2::VPC", "test")])
    assert {item.logical_id for item in local.left_out} == {"Network", "FlowLog"}  # FlowLog refers to it


def test_references_reads_ref_getatt_and_sub():
    value = {
        "A": {"Ref": "One"},
        "B": {"Fn::GetAtt": ["Two", "Arn"]},
        "C": {"Fn::GetAtt": "Three.Arn"},
        "D": {"Fn::Sub": "${Four}-${Five.Name}-${AWS::Region}"},
        "E": {"Fn::Join": ["", [{"Ref": "Six"}]]},
    }
    assert set(references(value)) == {"One", "Two", "Three", "Four", "Five", "Six"}


def test_prepare_assembly_rewrites_each_stack_template_and_reports_by_stack_name():
    with tempfile.TemporaryDirectory() as directory:
        assembly = Path(directory)
        (assembly / "One.template.json").write_text(json.dumps(_template()))
        (assembly / "manifest.json").write_text(json.dumps({"artifacts": {
            "One": {"type": "aws:cloudformation:stack", "environment": "aws://unknown-account/us-east-1",
                    "properties": {"templateFile": "One.template.json", "stackName": "one-dev"}},
            "Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}},
        }}))
        prepared = prepare_assembly(assembly)
        assert list(prepared) == ["one-dev"]
        written = json.loads((assembly / "One.template.json").read_text())
        assert written == prepared["one-dev"].template
        assert "Trail" not in written["Resources"]
        lines = describe_left_out(prepared)
        assert lines[-1].strip() == "7 resources and 1 outputs left out of the local deployment"
        assert any("one-dev  Trail  AWS::CloudTrail::Trail" in line for line in lines)


# ---- the real templates --------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_templates():
    from aws_cdk import App

    from examples.data_processing_stack.app import build as build_data_processing
    from examples.document_pipeline.app import build as build_flagship

    app = App(outdir=tempfile.mkdtemp(prefix="sp-local-"))
    stacks = build_flagship(app) + build_data_processing(app)
    assembly = app.synth()
    return {stack.stack_name: assembly.get_stack_by_name(stack.stack_name).template for stack in stacks}


def test_the_deployed_copies_of_the_examples_leave_nothing_dangling(example_templates):
    for stack_name, template in example_templates.items():
        assert dangling_references(template) == [], stack_name  # the synthesized template is whole
        local = strip_unsupported(template, stack=stack_name)
        assert dangling_references(local.template) == [], stack_name
        kept_types = {resource["Type"] for resource in local.template["Resources"].values()}
        assert not (kept_types & (UNSUPPORTED_TYPES - {"AWS::CloudWatch::Alarm"})), stack_name
        assert not any("Metrics" in r.get("Properties", {}) for r in local.template["Resources"].values()
                       if r["Type"] == "AWS::CloudWatch::Alarm")
        # every left-out resource is of a listed type or refers to one that is
        for item in local.resources_left_out:
            assert item.kind in UNSUPPORTED_TYPES or item.reason.startswith("refers to "), item


def test_the_flagship_keeps_its_document_flow(example_templates):
    local = strip_unsupported(example_templates["prod-document-processing"])
    kept = {resource["Type"] for resource in local.template["Resources"].values()}
    for needed in ("AWS::ApiGateway::RestApi", "AWS::ApiGateway::Authorizer", "AWS::ApiGateway::UsagePlan",
                   "AWS::Lambda::EventSourceMapping", "AWS::Events::Rule", "AWS::SNS::Topic", "AWS::DynamoDB::Table"):
        assert needed in kept, needed
    assert not [item for item in local.left_out if item.kind == "Output"]


# ---- the post-deploy check -----------------------------------------------------------------


class _FakeCloudFormation:
    """Answers DescribeStacks and ListStackResources from canned data."""

    def __init__(self, status: str, resources: list[tuple[str, str, str, str]], outputs: dict[str, str]) -> None:
        self.stack = {"StackStatus": status, "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]}
        self.summaries = [
            {"LogicalResourceId": lid, "ResourceType": kind, "ResourceStatus": state, "PhysicalResourceId": physical}
            for lid, kind, state, physical in resources
        ]

    def describe_stacks(self, StackName):
        return {"Stacks": [self.stack]}

    def get_paginator(self, name):
        assert name == "list_stack_resources"
        summaries = self.summaries

        class _Paginator:
            def paginate(self, StackName):
                return [{"StackResourceSummaries": summaries}]

        return _Paginator()


_CHECKED = {
    "Parameters": {"Mode": {"Type": "String", "Default": "off"}},
    "Conditions": {"On": {"Fn::Equals": [{"Ref": "Mode"}, "on"]}},
    "Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket"},
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Optional": {"Type": "AWS::SNS::Topic", "Condition": "On"},
    },
    "Outputs": {"BucketName": {"Value": {"Ref": "Bucket"}}, "QueueArn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}}},
}


def test_expected_resources_follow_the_conditions():
    assert set(expected_resources(_CHECKED, {})) == {"Bucket", "Queue"}
    assert set(expected_resources(_CHECKED, {"Mode": "on"})) == {"Bucket", "Queue", "Optional"}


def test_check_stack_passes_a_complete_stack():
    fake = _FakeCloudFormation(
        "CREATE_COMPLETE",
        [("Bucket", "AWS::S3::Bucket", "CREATE_COMPLETE", "b-1"), ("Queue", "AWS::SQS::Queue", "CREATE_COMPLETE", "http://q")],
        {"BucketName": "b-1", "QueueArn": "arn:aws:sqs:us-east-1:000000000000:q"},
    )
    check = check_stack(fake, "S", _CHECKED, {})
    assert check.problems == [] and (check.created, check.expected) == (2, 2)
    assert check.outputs["BucketName"] == "b-1"


def test_check_stack_reports_every_kind_of_gap():
    fake = _FakeCloudFormation(
        "CREATE_COMPLETE",
        [("Bucket", "AWS::S3::Bucket", "CREATE_FAILED", "b-1"), ("Stray", "AWS::SQS::Queue", "CREATE_COMPLETE", "x")],
        {"BucketName": "another-bucket", "QueueArn": "${Token[TOKEN.12]}"},
    )
    problems = check_stack(fake, "S", _CHECKED, {}).problems
    assert any(p.startswith("Bucket (AWS::S3::Bucket): CREATE_FAILED") for p in problems)
    assert "Queue (AWS::SQS::Queue) was not created" in problems
    assert "Stray is not in the template" in problems
    assert any(p.startswith("output QueueArn is not resolved") for p in problems)
    assert any(p.startswith("output BucketName = 'another-bucket', but Bucket is 'b-1'") for p in problems)


def test_check_stack_reports_a_failed_stack_and_missing_outputs():
    fake = _FakeCloudFormation("ROLLBACK_COMPLETE", [], {})
    problems = check_stack(fake, "S", _CHECKED, {}).problems
    assert problems[0].startswith("stack status ROLLBACK_COMPLETE")
    assert "output BucketName is missing or empty" in problems


def test_the_docs_list_exactly_the_types_left_out():
    """docs/local_deployment.md keeps the refused types visible: one table row per UNSUPPORTED entry."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "local_deployment.md").read_text()
    rows = [line for line in page.splitlines() if line.startswith("| `AWS::")]
    documented = {line.split("`")[1] for line in rows}
    assert documented == UNSUPPORTED_TYPES
    assert len(rows) == len(UNSUPPORTED)


def test_fixed_names_are_the_ones_known_before_the_stack_exists():
    from serverless_patterns.local.engine import fixed_names

    template = {
        "Parameters": {"Prefix": {"Type": "String"}},
        "Resources": {
            "Literal": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "objects-dev"}},
            "FromParameter": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Join": ["-", [{"Ref": "Prefix"}, "q"]]}}},
            "FromStackName": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": {"Fn::Sub": "/x/${AWS::StackName}"}}},
            "PerInstance": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": {"Fn::Join": ["", [
                "/x/", {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}]]}}},
            "FromResource": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": {"Fn::Join": ["", [
                "API-Gateway-Execution-Logs_", {"Ref": "Api"}, "/prod"]]}}},
            "Generated": {"Type": "AWS::S3::Bucket"},
            "OtherType": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "fixed"}},
        },
    }
    found = fixed_names(template, stack_name="S", region="us-east-1", parameters={"Prefix": "local"})
    assert {(f.logical_id, f.name) for f in found} == {
        ("Literal", "objects-dev"), ("FromParameter", "local-q"), ("FromStackName", "/x/S"),
    }


# ---- run-time deviations of the engine -----------------------------------------------------


def test_every_engine_deviation_names_a_sample_of_the_flow_and_changes_its_outcome():
    from examples.document_pipeline import local_flow
    from serverless_patterns.local.deploy import ENGINE_DEVIATIONS, expected_on_engine

    on_engine = expected_on_engine(local_flow.EXPECTED_OUTCOMES)
    for deviation in ENGINE_DEVIATIONS:
        for name, outcome in deviation.outcomes.items():
            assert local_flow.EXPECTED_OUTCOMES[name] != outcome, f"{name}: the deviation changes nothing"
            assert on_engine[name] == outcome
    untouched = {n for n in local_flow.EXPECTED_OUTCOMES} - {n for d in ENGINE_DEVIATIONS for n in d.outcomes}
    assert untouched and all(on_engine[n] == local_flow.EXPECTED_OUTCOMES[n] for n in untouched)


def test_a_deviation_naming_no_sample_is_refused(monkeypatch):
    from serverless_patterns.local import deploy

    monkeypatch.setattr(deploy, "ENGINE_DEVIATIONS", (deploy.EngineDeviation("x", {"no-such.pdf": (201, None, None)}),))
    with pytest.raises(ValueError, match="no-such.pdf"):
        deploy.expected_on_engine({"a.pdf": (201, "application/pdf", "PROCESSED")})


def _flow_result(outcomes, notifications):
    from examples.document_pipeline import local_flow

    result = local_flow.FlowResult()
    for index, (name, (status, detected, final)) in enumerate(outcomes.items()):
        result.documents.append(local_flow.DocumentOutcome(
            file_name=name, declared_type="x", http_status=status,
            document_id=f"d{index}" if status == 201 else None, detected_type=detected, status=final,
        ))
    result.notifications = [{"document_id": f"n{i}", "status": "S"} for i in range(notifications)]
    result.status_events = [{"detail": n} for n in result.notifications]
    result.access_checks = [(*key, status) for key, status in local_flow.EXPECTED_ACCESS.items()]
    return result


def test_the_engine_run_is_judged_by_the_deviated_outcomes_and_fails_once_the_engine_is_fixed():
    from examples.document_pipeline import local_flow
    from serverless_patterns.local.deploy import expected_on_engine

    on_engine = expected_on_engine(local_flow.EXPECTED_OUTCOMES)
    registered = sum(1 for status, _, _ in on_engine.values() if status == 201)
    never_uploaded = sum(1 for _, _, final in on_engine.values() if final == "AWAITING_UPLOAD")
    # one notification per registration, one per processed/rejected upload, one deletion
    engine_run = _flow_result(on_engine, 2 * registered - never_uploaded + 1)
    assert local_flow.problems(engine_run, on_engine) == []
    assert local_flow.problems(engine_run) != []  # judged as on AWS, the engine's run is wrong
    fixed_engine = _flow_result(local_flow.EXPECTED_OUTCOMES, 2 * registered + 1)
    assert local_flow.problems(fixed_engine) == []
    assert local_flow.problems(fixed_engine, on_engine) != []  # the stale deviation entry is reported
