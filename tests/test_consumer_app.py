"""The consumer app (``tests/consumer/app``), run as a user runs it: outside the repo, from the wheel.

One module-scoped environment (:mod:`consumer_env`: the built wheel in a fresh virtualenv in a
temporary directory, the app copied beside it) and one ``cdk synth --strict`` through the
pinned CDK CLI. On the produced cloud assembly: the five cdk-nag packs and the deploy preflight
pack (run by the app itself, read from ``validation-report.json``), cfn-lint and checkov, then
the document flow with the user's own steps on the local emulator, with exact outcomes.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from consumer_env import ROOT, ConsumerEnvironment, consumer_environment

from serverless_patterns.compliance import (
    NAG_PACKS,
    read_nag_report,
    run_cfn_lint,
    run_checkov,
)

pytestmark = pytest.mark.slow

STACKS = ("dev-platform", "dev-documents")


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory) -> ConsumerEnvironment:
    return consumer_environment(tmp_path_factory.mktemp("consumer"))


@pytest.fixture(scope="module")
def synth(consumer: ConsumerEnvironment) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``cdk synth --strict`` of the dev stage, as the user types it in the app's directory."""
    outdir = consumer.app_dir / "cdk.out"
    result = consumer.run(str(ROOT / "node_modules" / ".bin" / "cdk"), "synth", "--strict", "--quiet", "--no-notices",
                          "--output", str(outdir))
    return result, outdir


def _synthesized(synth: tuple[subprocess.CompletedProcess[str], Path]) -> Path:
    result, outdir = synth
    assert result.returncode == 0, f"cdk synth --strict failed:\n{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
    return outdir


def _plugins(outdir: Path) -> set[str]:
    """The validation plugins that reported on the synth (read_nag_report assumes the five packs ran)."""
    report = json.loads((outdir / "validation-report.json").read_text())
    return {plugin["pluginName"] for plugin in report["pluginReports"]}


def _template(outdir: Path, stack: str) -> dict[str, Any]:
    return json.loads((outdir / f"{stack}.template.json").read_text())


# ---- the environment: a user's, not the checkout ------------------------------------------------


def test_the_app_imports_the_library_from_the_installed_wheel_not_the_checkout(consumer):
    info = consumer.python_json(
        "import json, sys, importlib.metadata as m, serverless_patterns, aws_cdk; "
        "d = m.distribution('serverless-patterns'); "
        "print(json.dumps({'file': serverless_patterns.__file__, 'version': serverless_patterns.__version__, "
        "'dist': str(d.locate_file('')), 'cdk': aws_cdk.__file__, 'path': sys.path}))"
    )
    library = Path(info["file"]).resolve()
    assert library.is_relative_to(consumer.root / "venv"), info["file"]
    assert not library.is_relative_to(ROOT), info["file"]
    assert Path(info["dist"]).resolve().is_relative_to(consumer.root / "venv"), info["dist"]
    assert consumer.wheel.name.startswith(f"serverless_patterns-{info['version']}-")
    assert not any(Path(p).resolve().is_relative_to(ROOT) for p in info["path"] if p), info["path"]
    # third-party packages are the repo venv's (pinned, no download), reached through the links
    assert Path(info["cdk"]).is_relative_to(consumer.root / "third-party"), info["cdk"]


def test_the_platform_stack_alone_synthesizes_from_the_wheel_with_zero_open_findings(consumer):
    """The part of the app that uses only long-standing API (SecureBucket, AlertTopic, the user's own
    key and VPC): five packs and preflight, findings collected instead of raised."""
    driver = consumer.root / "platform_only.py"
    driver.write_text(PLATFORM_ONLY)
    result = consumer.run(str(consumer.python), str(driver), str(consumer.root / "platform.out"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    report = read_nag_report(consumer.root / "platform.out")
    assert set(NAG_PACKS) <= _plugins(consumer.root / "platform.out")
    template = consumer.root / "platform.out" / "dev-platform.template.json"
    report.extend(run_cfn_lint([template], regions=["us-east-1"]))
    report.extend(run_checkov([template]))
    assert report.findings == [], "\n".join(map(str, report.findings))
    assert all(a.reason.strip() for a in report.acknowledged)
    resources = _template(consumer.root / "platform.out", "dev-platform")["Resources"]
    kinds = [r["Type"] for r in resources.values()]
    assert kinds.count("AWS::EC2::VPC") == 1 and kinds.count("AWS::EC2::FlowLog") == 1
    assert kinds.count("AWS::KMS::Key") == 1  # the data key only: bucket and topic use it
    assert not [k for k in kinds if k == "AWS::IAM::Policy"], "inline policies (HIPAA/NIST/PCI IAMNoInlinePolicy)"


PLATFORM_ONLY = """
import json, sys
sys.path.insert(0, ".")
from aws_cdk import App, Environment, RemovalPolicy
from serverless_patterns.compliance import COLLECT_FINDINGS_CONTEXT, add_nag_packs, add_preflight_checks
from platform_stack import PlatformStack

context = json.load(open("cdk.json"))["context"]
app = App(outdir=sys.argv[1], context={**context, **COLLECT_FINDINGS_CONTEXT})
PlatformStack(app, "dev-platform", removal_policy=RemovalPolicy.DESTROY, ops_email="ops@example.com",
              env=Environment(region="us-east-1"))
add_nag_packs(app)
add_preflight_checks(app)
app.synth()
"""


# ---- the whole app: cdk synth --strict, compliance, the document flow ----------------------------


def test_cdk_synth_strict_through_the_pinned_cli_builds_both_stacks(synth):
    outdir = _synthesized(synth)
    result, _ = synth
    assert "end-of-life" not in result.stdout + result.stderr  # jsii runs on the pinned Node
    for stack in STACKS:
        assert (outdir / f"{stack}.template.json").exists(), stack


def test_five_packs_preflight_cfn_lint_and_checkov_report_zero_open_findings(synth):
    outdir = _synthesized(synth)
    report = read_nag_report(outdir)  # the app added the packs itself; synth would have failed on a finding
    assert set(NAG_PACKS) <= _plugins(outdir)
    templates = [outdir / f"{stack}.template.json" for stack in STACKS]
    report.extend(run_cfn_lint(templates, regions=["us-east-1"]))
    report.extend(run_checkov(templates))
    assert report.findings == [], "unacknowledged findings:\n" + "\n".join(map(str, report.findings))
    unreasoned = [a for a in report.acknowledged if not (a.reason or "").strip()]
    assert not unreasoned, "\n".join(map(str, unreasoned))


def test_user_acknowledgements_cover_only_the_users_own_grants(synth):
    """What the app acknowledges itself is exactly what fires on its own functions, never on the library's."""
    outdir = _synthesized(synth)
    user_reasons = ("CDK's grant_write_data", "CDK's grant_publish", "An SQS event source has no on-failure")
    mine = {(a.rule, a.path.split("/")[1]) for a in read_nag_report(outdir).acknowledged if a.reason.startswith(user_reasons)}
    # The library's grants on its constructs name exact KMS actions: the app needs no acknowledgement
    # for grant_write_data or grant_publish any more, only for its own SQS event source.
    assert mine == {("Serverless-LambdaEventSourceMappingDestination", "StatusAudit")}


def test_the_pipeline_uses_the_platforms_resources_and_the_users_extensions(synth):
    outdir = _synthesized(synth)
    documents = _template(outdir, "dev-documents")
    kinds = [r["Type"] for r in documents["Resources"].values()]
    # brought in, not created: the documents bucket and the VPC are the platform's
    for kind in ("AWS::S3::Bucket", "AWS::EC2::VPC"):
        assert kind not in kinds, f"the documents stack creates its own {kind}"
    assert kinds.count("AWS::SNS::Topic") == 1, "only the status topic: alerts go to the platform's topic"
    imported = set(re.findall(r'"Fn::ImportValue": "([^"]+)"', json.dumps(documents)))
    exported = {o["Export"]["Name"] for o in _template(outdir, "dev-platform").get("Outputs", {}).values()}
    assert imported <= exported, imported - exported
    for resource in ("DataKey", "OpsAlerts", "Vpc"):  # each passed in as a CDK object
        assert any(resource in name for name in imported), (resource, sorted(imported))
    assert "dev-platform-documents-bucket-arn" in imported  # the bucket, by its published ARN
    # every alarm of the stack (the pipeline's and ours) notifies the platform's ops topic
    alarms = [r["Properties"] for r in documents["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert alarms
    for alarm in alarms:
        assert "OpsAlerts" in json.dumps(alarm.get("AlarmActions")), alarm.get("AlarmDescription")
    # one key for the pipeline's data: its tables are encrypted with the platform's data key
    table_keys = [json.dumps(r["Properties"].get("SSESpecification", {})) for r in documents["Resources"].values()
                  if r["Type"] in ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")]
    assert sum("DataKey" in key for key in table_keys) >= 3, table_keys  # metadata, ledger, our catalog
    # dev stage: DESTROY, so no table (the pipeline's or ours) keeps deletion protection
    tables = {lid: r for lid, r in documents["Resources"].items() if r["Type"] in ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")}
    assert len(tables) >= 4, sorted(tables)  # metadata, notification ledger, API permissions, our catalog
    for logical_id, resource in tables.items():
        assert resource.get("DeletionPolicy") == "Delete", logical_id
        assert not resource["Properties"].get("DeletionProtectionEnabled"), logical_id
    handlers = {r["Properties"].get("Handler") for r in documents["Resources"].values() if r["Type"] == "AWS::Lambda::Function"}
    for mine in ("classify_step", "catalog_step", "status_audit", "rejection_notice", "daily_digest"):
        assert f"{mine}.index.handler" in handlers, mine


#: What each upload must end as, through the API: (status, detected type).
EXPECTED_DOCUMENTS = {
    "handbook.txt": {"status": "PROCESSED", "detected_type": "text/plain"},
    "salaries.txt": {"status": "PROCESSED", "detected_type": "text/plain"},
    "forged.pdf": {"status": "REJECTED", "detected_type": "image/gif"},
}
#: What our steps and our status-event consumer recorded in our catalog.
EXPECTED_CATALOG = {
    "handbook.txt": {"classification": "CLASSIFIED",
                     "statuses": ["AWAITING_UPLOAD", "VALIDATED", "CLASSIFIED", "CATALOGUED", "PROCESSED"]},
    "salaries.txt": {"classification": "NEEDS_REVIEW",
                     "statuses": ["AWAITING_UPLOAD", "VALIDATED", "NEEDS_REVIEW", "CATALOGUED", "PROCESSED"]},
    "forged.pdf": {"classification": None, "statuses": ["AWAITING_UPLOAD", "REJECTED"]},  # no step runs
}


def test_document_flow_with_the_users_steps_on_the_local_emulator(synth, consumer):
    outdir = _synthesized(synth)
    result = consumer.run(str(consumer.python), "local_run.py", str(outdir), timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-8000:]
    run = json.loads(result.stdout.strip().splitlines()[-1])
    assert run["documents"] == EXPECTED_DOCUMENTS
    assert run["catalog"] == EXPECTED_CATALOG
    assert run["digest"] == {"CLASSIFIED": 1, "NEEDS_REVIEW": 1}
    # the rejection notice (a Lambda subscription of the status topic, filtered on status REJECTED)
    # ran once, for the one rejected document only; then the digest
    assert run["ops_messages"] == ["Document forged.pdf rejected", "Daily document digest"]
    assert run["skipped_subscriptions"] == [] and run["undelivered_notifications"] == [], run


# ---- the app's own handler code, in-process ------------------------------------------------------


def test_the_audit_handler_records_a_status_event_and_reports_what_it_cannot_read(monkeypatch):
    """A message that is not a version 1 status event is a batch item failure (retried, then kept in the
    dead-letter queue), never dropped; the others are recorded."""
    import importlib.util

    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("CATALOG_TABLE", "catalog")
    with mock_aws():
        table = boto3.resource("dynamodb").create_table(
            TableName="catalog", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "document_id", "KeyType": "HASH"}, {"AttributeName": "entry", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "document_id", "AttributeType": "S"},
                                  {"AttributeName": "entry", "AttributeType": "S"}],
        )
        spec = importlib.util.spec_from_file_location(
            "consumer_status_audit", ROOT / "tests" / "consumer" / "app" / "handlers" / "status_audit" / "index.py")
        audit = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(audit)
        event = {"source": "serverless-patterns.document-pipeline", "detail-type": "Document Status Changed",
                 "detail": {"schema_version": "1", "document_id": "d" * 32, "status": "REJECTED",
                            "previous_status": "AWAITING_UPLOAD", "occurred_at": "2026-01-01T00:00:00Z",
                            "reason": "content is image/gif, declared application/pdf"}}
        records = [
            {"messageId": "good", "body": json.dumps(event)},
            {"messageId": "not-json", "body": "{"},
            {"messageId": "future-version", "body": json.dumps({**event, "detail": {**event["detail"], "schema_version": "2"}})},
            {"messageId": "no-status", "body": json.dumps({"detail": {"schema_version": "1", "document_id": "x"}})},
        ]
        response = audit.handler({"Records": records}, None)
        assert response == {"batchItemFailures": [{"itemIdentifier": m} for m in ("not-json", "future-version", "no-status")]}
        assert table.scan()["Items"] == [{
            "document_id": "d" * 32, "entry": "status#REJECTED", "status": "REJECTED", "previous_status": "AWAITING_UPLOAD",
            "occurred_at": "2026-01-01T00:00:00Z", "reason": "content is image/gif, declared application/pdf",
        }]
