"""``cdk synth --strict``: no construct's default configuration and no example app emits a warning.

``--strict`` makes the CDK CLI fail on any warning annotation. The library emits warnings only for a
user's mistake (an imported topic or key it cannot let CloudWatch into); the defaults make none.
Every configuration checked with ``assert_compliant`` is held to the same (CDK's own warnings fail it).
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from aws_cdk import aws_dynamodb as dynamodb
from harness import synthesize, synthesize_app

from serverless_patterns import (
    AlertingFunction,
    AlertTopic,
    ApiWithKeyedUsagePlan,
    AuditedTable,
    AuditTrail,
    BucketDistribution,
    DocumentPipeline,
    IsolatedNetwork,
    SecureBucket,
    SecureQueue,
    SecureSecret,
)
from serverless_patterns.alerting_function import Invocation
from serverless_patterns.handlers import handler_code, handler_entry

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ["quickstart", "audited_ingest", "data_processing_stack", "document_pipeline", "prod_http_api", "secure_data_api"]


def _every_construct(stack):
    """Each construct with its defaults, the README one-liner ``SecureBucket(stack, "Bucket")`` first."""
    SecureBucket(stack, "Bucket")
    AuditedTable(stack, "Table", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING))
    AlertingFunction(stack, "Fn", code=handler_code("example_echo"), handler=handler_entry("example_echo"))
    AlertTopic(stack, "Topic")
    SecureQueue(stack, "Queue")
    SecureSecret(stack, "Secret")
    IsolatedNetwork(stack, "Network")
    AuditTrail(stack, "Trail")
    BucketDistribution(stack, "Site")
    api = ApiWithKeyedUsagePlan(stack, "Api")
    api.add_route(
        "GET", "/items", AlertingFunction(
            stack, "Items", code=handler_code("example_echo"), handler=handler_entry("example_echo"),
            invocation=Invocation.SYNCHRONOUS,
        ), level="read-only",
    )
    DocumentPipeline(stack, "Docs")


def test_no_construct_default_emits_a_warning():
    synth = synthesize(_every_construct)
    assert not synth.warnings, "\n".join(f"{path}: {message}" for path, message in synth.warnings)


@pytest.mark.parametrize("example", EXAMPLES)
def test_no_example_app_emits_a_warning(example):
    synth = synthesize_app(importlib.import_module(f"examples.{example}.app").build)
    assert not synth.warnings, "\n".join(f"{path}: {message}" for path, message in synth.warnings)


def test_the_pinned_cli_synthesizes_the_flagship_app_with_strict(tmp_path):
    """The flagship app through the pinned CLI (``make setup`` installs it), as a user runs it."""
    cdk = ROOT / "node_modules" / ".bin" / "cdk"
    env = {**os.environ, "CDK_HOME": str(tmp_path / "cdk-home"), "CDK_DISABLE_VERSION_CHECK": "1"}
    result = subprocess.run(
        [str(cdk), "synth", "--strict", "--quiet", "--no-notices", "--output", str(tmp_path / "cdk.out")],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert any((tmp_path / "cdk.out").glob("*.template.json"))
    shutil.rmtree(tmp_path / "cdk.out", ignore_errors=True)
