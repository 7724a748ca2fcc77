"""The preflight pack as a CDK validation plugin, end to end through real app synthesis:
findings in CDK's validation report, acknowledgements with ``Validations.of(...).acknowledge``
(CDK matches ``DeployPreflight::<RuleId>`` to the plugin's name and rule, on the construct or
any ancestor), failing synthesis, and the harness's sixth engine."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from aws_cdk import Acknowledgment, App, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from harness import COMPLIANCE_RESULTS, Synthesized, assert_compliant, synthesize

from serverless_patterns.compliance import COLLECT_FINDINGS_CONTEXT, ComplianceReport, acknowledge
from serverless_patterns.preflight import DeployPreflightChecks

REASON = "The account quota is 1,000; checked with service-quotas get-service-quota L-B99A9384."


def build(stack: Stack) -> None:
    logs.LogGroup(stack, "Fixed", log_group_name="fixed-audit", removal_policy=RemovalPolicy.RETAIN)
    logs.LogGroup(stack, "Generated", removal_policy=RemovalPolicy.RETAIN)
    acked = logs.LogGroup(stack, "Acked", log_group_name="acked-audit", removal_policy=RemovalPolicy.RETAIN)
    Validations.of(acked).acknowledge(
        Acknowledgment(id="DeployPreflight::RetainWithFixedName", reason="Imported by name from another stack.")
    )
    function = lambda_.Function(
        stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
        reserved_concurrent_executions=5, timeout=Duration.seconds(3),
    )
    acknowledge(function, "DeployPreflight::ReservedConcurrency", REASON)


def synth_report(build_stack, *, context=None) -> dict:
    outdir = tempfile.mkdtemp(prefix="sp-preflight-")
    app = App(outdir=outdir, context={**COLLECT_FINDINGS_CONTEXT, **(context or {})})
    build_stack(Stack(app, "S"))
    Validations.of(app).add_plugins(DeployPreflightChecks())
    app.synth()
    return json.loads((Path(outdir) / "validation-report.json").read_text())


@pytest.fixture(scope="module")
def report() -> dict:
    (plugin,) = [p for p in synth_report(build)["pluginReports"] if p["pluginName"] == "DeployPreflight"]
    return plugin


def paths(violations: list[dict]) -> set[tuple[str, str]]:
    return {(v["ruleName"], c["constructPath"]) for v in violations for c in v["violatingConstructs"]}


def test_findings_name_the_rule_and_the_construct(report):
    assert paths(report["violations"]) == {("RetainWithFixedName", "S/Fixed/Resource")}
    (violation,) = report["violations"]
    assert violation["severity"] == "error"
    assert "fixed-audit" in violation["description"] and "DeletionPolicy attribute" in violation["description"]
    assert violation["violatingConstructs"][0]["cloudFormationResource"]["propertyPaths"] == ["Properties.LogGroupName"]
    assert report["conclusion"] == "failure"


def test_acknowledgements_keep_their_reason_in_the_report(report):
    suppressed = {(v["ruleName"], v["acknowledgedAt"], v["reason"]) for v in report["suppressedViolations"]}
    assert suppressed == {
        ("RetainWithFixedName", "S/Acked", "Imported by name from another stack."),
        ("ReservedConcurrency", "S/Fn", REASON),
    }


def test_an_acknowledgement_on_an_ancestor_covers_the_resource():
    def build_scoped(stack: Stack) -> None:
        logs.LogGroup(stack, "Fixed", log_group_name="fixed", removal_policy=RemovalPolicy.RETAIN)
        Validations.of(stack).acknowledge(Acknowledgment(id="DeployPreflight::RetainWithFixedName", reason="stack-wide"))

    (plugin,) = [p for p in synth_report(build_scoped)["pluginReports"] if p["pluginName"] == "DeployPreflight"]
    assert plugin["violations"] == []
    assert [(v["acknowledgedAt"], v["reason"]) for v in plugin["suppressedViolations"]] == [("S", "stack-wide")]


def test_an_unacknowledged_finding_fails_synthesis_by_default():
    app = App(outdir=tempfile.mkdtemp(prefix="sp-preflight-"))
    stack = Stack(app, "S")
    logs.LogGroup(stack, "Fixed", log_group_name="fixed", removal_policy=RemovalPolicy.RETAIN)
    Validations.of(app).add_plugins(DeployPreflightChecks())
    with pytest.raises(Exception, match="RetainWithFixedName"):
        app.synth()


def test_a_clean_app_synthesizes_with_the_plugin():
    app = App(outdir=tempfile.mkdtemp(prefix="sp-preflight-"))
    logs.LogGroup(Stack(app, "S"), "Generated", removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
    Validations.of(app).add_plugins(DeployPreflightChecks())
    assert app.synth().get_stack_by_name("S").template["Resources"]


def test_warnings_can_be_reported_without_failing():
    app = App(outdir=tempfile.mkdtemp(prefix="sp-preflight-"))
    lambda_.Function(
        Stack(app, "S"), "Fn", runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler",
        code=lambda_.Code.from_inline("def handler(e, c):\n    return {}\n"), reserved_concurrent_executions=5,
    )
    Validations.of(app).add_plugins(DeployPreflightChecks(fail_on_warnings=False))
    app.synth()  # a warning alone does not fail


def test_the_plugin_declares_its_rules():
    plugin = DeployPreflightChecks(rules=["ReservedConcurrency"])
    assert plugin.name == "DeployPreflight" and plugin.rule_ids == ["ReservedConcurrency"]
    with pytest.raises(ValueError, match="unknown rule ids"):
        DeployPreflightChecks(rules=["Nope"])


def test_compliance_acknowledge_checks_preflight_rule_ids():
    stack = Stack(App(), "S")
    with pytest.raises(ValueError, match="names no preflight rule"):
        acknowledge(stack, "DeployPreflight::NoSuchRule", "because")


# -- CDK's own RestApi, and the harness's sixth engine ----------------------------------------------
def rest_api(cloud_watch_role: bool):
    def build_api(stack: Stack) -> None:
        api = apigateway.RestApi(
            stack, "Api", cloud_watch_role=cloud_watch_role,
            deploy_options=apigateway.StageOptions(logging_level=apigateway.MethodLoggingLevel.ERROR),
        )
        api.root.add_method("GET", apigateway.MockIntegration())

    return build_api


@pytest.fixture(scope="module")
def api_without_role():
    return synthesize(rest_api(False))


def test_cdk_rest_api_with_logging_and_no_account_role_is_a_finding(api_without_role):
    assert [(f.tool, f.rule) for f in api_without_role.preflight.findings] == [
        ("DeployPreflight", "RestApiLoggingWithoutAccountRole")
    ]
    assert api_without_role.preflight.findings[0].path.startswith("Test/Api/DeploymentStage.prod")
    assert "DeployPreflight" not in {f.tool for f in api_without_role.nag.findings}


def test_cdk_rest_api_with_its_cloudwatch_role_passes():
    synth = synthesize(rest_api(True))
    assert [f.rule for f in synth.preflight.findings] == []


def test_harness_fails_on_preflight_findings_by_default_and_records_them_on_opt_out(api_without_role, monkeypatch):
    # only the preflight findings of the synthesized API; the other engines count as clean here
    gate = Synthesized(stack_name="Test", outdir=api_without_role.outdir, template=api_without_role.template,
                       nag=ComplianceReport(), preflight=api_without_role.preflight)
    gate.__dict__.update(cfn_lint=ComplianceReport(), checkov=ComplianceReport())
    try:
        monkeypatch.delenv("SP_PREFLIGHT", raising=False)
        with pytest.raises(AssertionError, match="RestApiLoggingWithoutAccountRole"):
            assert_compliant(gate)
        monkeypatch.setenv("SP_PREFLIGHT", "record")
        assert_compliant(gate)
        monkeypatch.setenv("SP_PREFLIGHT", "enforce")
        with pytest.raises(AssertionError, match="RestApiLoggingWithoutAccountRole"):
            assert_compliant(gate)
        monkeypatch.setenv("SP_PREFLIGHT", "sometimes")
        with pytest.raises(ValueError, match="SP_PREFLIGHT must be"):
            assert_compliant(gate)
    finally:
        COMPLIANCE_RESULTS[:] = [r for r in COMPLIANCE_RESULTS if "test_harness_fails_on_preflight" not in r["test"]]


def test_each_stack_is_checked_with_its_own_region():
    from aws_cdk import Environment
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_kms as kms

    def encrypted_group(stack: Stack, principal_region: str) -> None:
        key = kms.Key(stack, "Key", enable_key_rotation=True)
        key.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{principal_region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
        ))
        logs.LogGroup(stack, "Group", encryption_key=key, removal_policy=RemovalPolicy.DESTROY)

    outdir = tempfile.mkdtemp(prefix="sp-preflight-")
    app = App(outdir=outdir, context=dict(COLLECT_FINDINGS_CONTEXT))
    encrypted_group(Stack(app, "Right", env=Environment(account="123456789012", region="eu-west-1")), "eu-west-1")
    encrypted_group(Stack(app, "Wrong", env=Environment(account="123456789012", region="eu-west-1")), "us-east-1")
    Validations.of(app).add_plugins(DeployPreflightChecks(rules=["LogGroupKeyDeniesLogs"]))
    app.synth()
    (plugin,) = [p for p in json.loads((Path(outdir) / "validation-report.json").read_text())["pluginReports"]
                 if p["pluginName"] == "DeployPreflight"]
    assert paths(plugin["violations"]) == {("LogGroupKeyDeniesLogs", "Wrong/Key/Resource")}
