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
