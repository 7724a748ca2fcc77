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
    assert "status event schema: 1" in run.stdout, run.stdout[-3000:]
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
from serverless_patterns.schemas import document_status_event_schema  # the status event schema too
print("status event schema:", document_status_event_schema()["properties"]["schema_version"]["const"])
"""


@pytest.mark.slow
def test_release_dry_run_builds_checks_and_goes_through_publib():
    import serverless_patterns

    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "release.py"), "--dry-run"], capture_output=True, text=True, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "PASSED" in result.stdout  # twine check --strict on both artifacts
    wheel = f"serverless_patterns-{serverless_patterns.__version__}-py3-none-any.whl"
    assert f"(would upload {wheel})" in output, output[-3000:]  # publib-pypi's own dry run
    assert "SUCCESS (dry run)" in output
    assert "release dry run OK" in result.stdout
    built = sorted(p.name for p in (ROOT / "dist" / "python").iterdir())
    assert built == sorted([wheel, f"serverless_patterns-{serverless_patterns.__version__}.tar.gz"])


def test_readme_opens_with_the_two_commands_and_its_first_app_synthesizes_clean(tmp_path):
    readme = (ROOT / "README.md").read_text()
    first_screen = "\n".join(readme.splitlines()[:25])
    block = re.search(r"```bash\n(.*?)```", first_screen, re.S)
    assert block and block.group(1).startswith("make main") and "\nmake test" in block.group(1), first_screen
    app = re.search(r"## A first app\n.*?```python\n(.*?)```", readme, re.S).group(1)
    (tmp_path / "app.py").write_text(app)
    env = {**os.environ, "JSII_NODE": str(NODE_BIN / "node"), "CDK_OUTDIR": str(tmp_path / "cdk.out")}
    run = subprocess.run([sys.executable, "app.py"], cwd=tmp_path, capture_output=True, text=True, env=env, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]  # add_nag_packs: no open finding
    assert list((tmp_path / "cdk.out").glob("*.template.json"))


def test_pypi_long_description_has_only_absolute_links():
    import importlib.util

    spec = importlib.util.spec_from_file_location("release", ROOT / "scripts" / "release.py")
    release = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(release)
    assert release.long_description_problems("[a](docs/a.md) ![d](docs/d.svg) [b](https://x.org) [c](#c)") == [
        "relative link docs/a.md", "relative link docs/d.svg"]
    # The README itself has relative links (for GitHub); the build rewrites them (pyproject.toml).
    assert release.long_description_problems((ROOT / "README.md").read_text())


def test_release_refuses_before_building_without_changelog_section_or_credentials():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWINE_", "PYPI_", "PUBLIB_"))}
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "release.py")], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "CHANGELOG.md needs a" in result.stdout or "set TWINE_USERNAME" in result.stdout, result.stdout
    assert "publib-pypi" not in result.stdout  # nothing was built or handed to publib


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


def test_classifiers_name_only_pythons_the_version_matrix_runs():
    """Each Python classifier is an interpreter of noxfile.py's matrix, and requires-python agrees."""
    import ast
    import tomllib

    matrix = next(node.value for node in ast.parse((ROOT / "noxfile.py").read_text()).body
                  if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PYTHONS")
    pythons = ast.literal_eval(matrix)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    named = [c.rsplit(" :: ", 1)[1] for c in project["classifiers"] if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert named, "no Python version classifiers"
    assert set(named) <= set(pythons), f"classifiers name {named}, the matrix runs {pythons}"
    assert project["requires-python"] == f">={min(named, key=lambda v: tuple(map(int, v.split('.'))))}"
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in named  # the full suite's interpreter
