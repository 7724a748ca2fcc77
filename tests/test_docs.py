"""The documentation as a user reads it: its code runs, and the built site is complete offline."""

from __future__ import annotations

import importlib
import os

import pytest

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")  # moto never calls AWS; boto3 wants credentials
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")


def test_compliance_page_report_only_mode_lists_every_finding(tmp_path):
    usage = importlib.import_module("examples.snippets.compliance_usage")
    report = usage.report_only(str(tmp_path))
    assert sorted(f.rule for f in report.findings) == sorted([
        "AwsSolutions-KMS5", "AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy",
        "NIST.800.53.R5-KMSBackingKeyRotationEnabled", "PCI.DSS.321-KMSBackingKeyRotationEnabled",
    ])  # the five findings docs/compliance.md names


def test_compliance_page_fixed_and_acknowledged_queue_synthesizes_with_the_reason_in_the_report(tmp_path):
    usage = importlib.import_module("examples.snippets.compliance_usage")
    report = usage.enforced(str(tmp_path))  # would raise on any open finding
    assert report.clean
    assert [(f.rule, f.path) for f in report.acknowledged] == [("Serverless-SQSRedrivePolicy", "Jobs/DeadLetters/Resource")]
    assert "dead-letter queue has no dead-letter queue" in report.acknowledged[0].reason


def test_acknowledge_refuses_an_empty_reason_and_an_unknown_pack():
    from aws_cdk import App, Stack

    from serverless_patterns.compliance import acknowledge

    stack = Stack(App(), "S")
    with pytest.raises(ValueError, match="reason is required"):
        acknowledge(stack, "AwsSolutions-S1", " ")
    with pytest.raises(ValueError, match="names no known pack"):
        acknowledge(stack, "Nope-S1", "because")


def test_emulator_page_registers_a_document_through_the_emulated_api():
    usage = importlib.import_module("examples.snippets.emulator_usage")
    status, body = usage.run()
    assert status == 201, body
    assert body["upload"]["url"] and body["upload"]["fields"]["key"].startswith(f"documents/{body['document_id']}/")
