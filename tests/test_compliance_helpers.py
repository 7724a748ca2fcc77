"""The compliance module's own behaviour: acknowledgements, report parsing, checkov skips."""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, Stack, aws_sqs as sqs

from serverless_patterns.compliance import ComplianceReport, Finding, acknowledge, read_nag_report


def test_acknowledge_requires_a_reason():
    queue = sqs.Queue(Stack(App(), "S"), "Q")
    with pytest.raises(ValueError, match="a reason is required for 'AwsSolutions-SQS3'"):
        acknowledge(queue, "AwsSolutions-SQS3", " ")


def test_acknowledge_rejects_unknown_packs():
    queue = sqs.Queue(Stack(App(), "S"), "Q")
    with pytest.raises(ValueError, match="names no known pack"):
        acknowledge(queue, "Made-Up-Rule", "because")


def test_checkov_skips_become_resource_metadata_and_merge():
    queue = sqs.Queue(Stack(App(), "S"), "Q")
    acknowledge(queue, "CKV_AWS_27", "first")
    acknowledge(queue, "CKV_AWS_28", "second")
    acknowledge(queue, "CKV_AWS_27", "replaced")
    assert queue.node.default_child.get_metadata("checkov") == {
        "skip": [{"id": "CKV_AWS_28", "comment": "second"}, {"id": "CKV_AWS_27", "comment": "replaced"}]
    }


def test_read_nag_report_separates_open_and_acknowledged(tmp_path):
    report = {
        "pluginReports": [
            {
                "pluginName": "AwsSolutions",
                "violations": [
                    {"ruleName": "AwsSolutions-SQS3", "severity": "error", "violatingConstructs": [{"constructPath": "S/Q/Resource"}]}
                ],
                "suppressedViolations": [
                    {
                        "ruleName": "AwsSolutions-SQS4",
                        "reason": "why",
                        "violatingConstructs": [{"constructPath": "S/Q/Resource"}],
                    }
                ],
            }
        ]
    }
    (tmp_path / "validation-report.json").write_text(json.dumps(report))
    parsed = read_nag_report(tmp_path)
    assert parsed.findings == [Finding("AwsSolutions", "AwsSolutions-SQS3", "S/Q/Resource")]
    assert parsed.acknowledged == [Finding("AwsSolutions", "AwsSolutions-SQS4", "S/Q/Resource", "error", "why")]
    assert parsed.by_tool()["AwsSolutions"] == (1, 1)
    assert parsed.by_tool()["PCI.DSS.321"] == (0, 0)
    assert not parsed.clean


def test_missing_report_means_every_pack_passed(tmp_path):
    assert read_nag_report(tmp_path).clean
    assert ComplianceReport().clean


def test_acknowledge_all_mixes_nag_rules_and_checkov_ids_on_one_construct():
    from aws_cdk import CfnResource
    from serverless_patterns.compliance import acknowledge_all

    app = App()
    stack = Stack(app, "S")
    queue = sqs.Queue(stack, "Q")
    acknowledge_all(queue, ["AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy", "CKV_AWS_27"], "a reason")
    resource = queue.node.default_child
    assert isinstance(resource, CfnResource)
    assert resource.get_metadata("checkov") == {"skip": [{"id": "CKV_AWS_27", "comment": "a reason"}]}
    acknowledged = [e.data for e in queue.node.metadata if e.type == "aws:cdk:acknowledged-rules"]
    assert acknowledged == [{"AwsSolutions::AwsSolutions-SQS3": "a reason"},
                            {"Serverless::Serverless-SQSRedrivePolicy": "a reason"}]


@pytest.mark.parametrize("make", [
    lambda s: True, lambda s: 0, lambda s: -7, lambda s: 2**60, lambda s: 1.5, lambda s: "plain",
    lambda s: "${Token[ x ]}", lambda s: s.region, lambda s: f"a-{s.account}-b",
    lambda s: __import__("aws_cdk").Token.as_number(s.region), lambda s: ["a"],
    lambda s: __import__("aws_cdk").Fn.split(",", s.region),
    lambda s: __import__("aws_cdk").Duration.seconds(3),
    lambda s: __import__("aws_cdk").Duration.seconds(__import__("aws_cdk").Token.as_number(s.region)),
    lambda s: __import__("aws_cdk").Duration.minutes(__import__("aws_cdk").Token.as_number(s.region)),
    lambda s: __import__("aws_cdk").Duration.days(3650),
])
def test_is_token_answers_like_the_jsii_kernel(make):
    from aws_cdk import Duration, Token
    from serverless_patterns._validation import is_token

    value = make(Stack(App(), "S"))
    expected = value.is_unresolved() if isinstance(value, Duration) else Token.is_unresolved(value)
    assert is_token(value) is expected
    assert is_token(value) is expected  # a Duration's answer is cached: still the same
def test_preflight_findings_are_read_from_the_same_report_and_split_off(tmp_path):
    report = {"pluginReports": [
        {"pluginName": "AwsSolutions", "violations": [
            {"ruleName": "AwsSolutions-SQS3", "severity": "error", "violatingConstructs": [{"constructPath": "S/Q/Resource"}]}]},
        {"pluginName": "DeployPreflight", "violations": [
            {"ruleName": "RetainWithFixedName", "severity": "error", "violatingConstructs": [{"constructPath": "S/L/Resource"}]}],
         "suppressedViolations": [
            {"ruleName": "ReservedConcurrency", "severity": "warning", "reason": "quota 1000",
             "violatingConstructs": [{"constructPath": "S/F/Resource"}]}]},
    ]}
    (tmp_path / "validation-report.json").write_text(json.dumps(report))
    nag, preflight = read_nag_report(tmp_path).partition("DeployPreflight")
    assert [f.rule for f in nag.findings] == ["AwsSolutions-SQS3"] and "DeployPreflight" not in nag.packs_run
    assert preflight.findings == [Finding("DeployPreflight", "RetainWithFixedName", "S/L/Resource")]
    assert preflight.acknowledged == [Finding("DeployPreflight", "ReservedConcurrency", "S/F/Resource", "warning", "quota 1000")]
    assert preflight.by_tool() == {"DeployPreflight": (1, 1)}


def test_a_reference_names_the_export_only_across_stacks():
    """``referenced_from``: another stack's attribute through CDK's own export of it; a stack never
    exports to itself, and a value that is no resource attribute stays as it is."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_s3 as s3

    from serverless_patterns._kernel import referenced_from

    app = App()
    platform, documents = Stack(app, "Platform"), Stack(app, "Documents")
    bucket = s3.Bucket(platform, "Bucket")
    imported = s3.Bucket.from_bucket_name(platform, "Imported", "landing-zone-documents")
    same = referenced_from(platform, bucket, bucket.bucket_arn)
    assert platform.resolve(same) == platform.resolve(bucket.bucket_arn)
    across = documents.resolve(referenced_from(documents, bucket, bucket.bucket_arn))
    assert set(across) == {"Fn::ImportValue"} and across["Fn::ImportValue"].startswith("Platform:ExportsOutputFnGetAtt")
    assert referenced_from(documents, imported, imported.bucket_arn) == imported.bucket_arn
    outputs = app.synth().get_stack_by_name("Platform").template.get("Outputs", {})
    assert [o["Export"]["Name"] for o in outputs.values()] == [across["Fn::ImportValue"]]
