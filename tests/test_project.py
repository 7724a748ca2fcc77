"""Project-level checks: docs build strictly, the pinned CDK CLI synthesizes, the wheel installs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NODE_BIN = ROOT / "node_modules" / ".bin"
EOL_BANNER = "end-of-life"


@pytest.mark.docs_last
def test_docs_build_strictly_with_the_security_page_from_this_run(tmp_path):
    """Runs last (see conftest): the security page is rendered from this session's compliance checks."""
    from harness import COMPLIANCE_RESULTS

    results_file = ROOT / "build" / "compliance-results.json"
    if COMPLIANCE_RESULTS:
        import json
        import time

        results_file.parent.mkdir(exist_ok=True)
        results_file.write_text(json.dumps({"generated": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                            "results": COMPLIANCE_RESULTS}, indent=1))
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    page = (tmp_path / "site" / "security" / "index.html").read_text()
    for recorded in COMPLIANCE_RESULTS:
        assert recorded["test"].split("::")[-1] in page


def test_cdk_cli_synth_through_pinned_cli_without_node_banner(tmp_path):
    env = {**os.environ, "JSII_NODE": str(NODE_BIN / "node"), "PATH": f"{NODE_BIN}:{os.environ['PATH']}"}
    result = subprocess.run(
        [str(NODE_BIN / "cdk"), "synth", "--quiet", "--output", str(tmp_path / "cdk.out")],
        cwd=ROOT, capture_output=True, text=True, env=env, check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert EOL_BANNER not in output
    assert list((tmp_path / "cdk.out").glob("*.template.json"))


def test_version_is_single_sourced():
    import serverless_patterns
    from importlib.metadata import version

    assert serverless_patterns.__version__ == version("serverless-patterns")


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_a_consumer_app_synthesizes_clean(tmp_path):
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        capture_output=True, text=True, check=False,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    (wheel,) = dist.glob("serverless_patterns-*.whl")

    env_dir = tmp_path / "consumer-venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
        capture_output=True, text=True, check=False,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]

    app_dir = tmp_path / "consumer-app"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(CONSUMER_APP)
    env = {**os.environ, "JSII_NODE": str(NODE_BIN / "node")}
    env.pop("PYTHONPATH", None)
    run = subprocess.run([str(python), "app.py"], cwd=app_dir, capture_output=True, text=True, env=env, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "open findings: 0" in run.stdout, run.stdout[-5000:]
    assert "idle cost priced: True" in run.stdout, run.stdout[-3000:]
    assert str(ROOT / "src") not in run.stdout  # imported from the wheel, not the checkout


CONSUMER_APP = """
import serverless_patterns as sp
from aws_cdk import App, Stack, aws_dynamodb as dynamodb
from serverless_patterns.compliance import COLLECT_FINDINGS_CONTEXT, add_nag_packs, read_nag_report
from serverless_patterns.handlers import handler_code, handler_entry

app = App(outdir="cdk.out", context=dict(COLLECT_FINDINGS_CONTEXT))
stack = Stack(app, "Consumer")
sp.SecureBucket(stack, "Docs")
sp.AuditedTable(stack, "Table", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING))
topic = sp.AlertTopic(stack, "Alerts")
echo = sp.AlertingFunction(stack, "Echo", code=handler_code("example_echo"), handler=handler_entry("example_echo"), alert_topic=topic)
sp.SecureQueue(stack, "Queue", alarm_topic=topic)
sp.IsolatedNetwork(stack, "Network")
sp.AuditTrail(stack, "Trail")
sp.BucketDistribution(stack, "Site")
keyed = sp.ApiWithKeyedUsagePlan(stack, "Keyed", alert_topic=topic)
keyed.add_route("GET", "/echo", echo, level="read-only")
http = sp.SecureHttpApi(stack, "Http")
http.add_route("GET", "/echo", echo, public_reason="Returns its input; no data behind it.")
sp.DocumentPipeline(stack, "Pipeline")
add_nag_packs(app)
app.synth()
report = read_nag_report("cdk.out")
print("imported from", sp.__file__)
print("constructs:", len(sp.__all__))
print("open findings:", len(report.findings))
for finding in report.findings:
    print(finding)
from serverless_patterns.cost import estimate  # the price table is package data
print("idle cost priced:", estimate("cdk.out").idle_total > 0)
"""


@pytest.mark.slow
def test_release_dry_run_builds_and_checks_both_artifacts():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "release.py"), "--dry-run"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "release dry run OK" in result.stdout
    assert "PASSED" in result.stdout  # twine check --strict on both artifacts


def test_every_export_resolves_and_the_package_imports_without_aws_cdk():
    import serverless_patterns

    for name in serverless_patterns.__all__:
        assert getattr(serverless_patterns, name) is not None, name
    probe = "import sys, serverless_patterns, serverless_patterns.clients; print('aws_cdk' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_architecture_diagram_is_generated_from_the_current_template():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "diagram.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "```mermaid" in (ROOT / "README.md").read_text()


def test_declared_dependency_floors_are_the_versions_under_test():
    """The floors in pyproject.toml are what constraints.txt installs, so the floor is tested."""
    import tomllib
    from importlib.metadata import version

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    floors = dict(re.match(r"([a-z0-9-]+)>=([0-9.]+)", d).groups() for d in declared)
    for package in ("aws-cdk-lib", "constructs", "cdk-nag"):
        assert version(package) == floors[package], f"{package}: installed {version(package)}, floor {floors[package]}"
    classifiers = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["classifiers"]
    assert f"Programming Language :: Python :: {sys.version_info.major}.{sys.version_info.minor}" in classifiers
