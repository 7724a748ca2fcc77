"""Project-level checks: docs build strictly, the pinned CDK CLI synthesizes, the wheel installs."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NODE_BIN = ROOT / "node_modules" / ".bin"
EOL_BANNER = "end-of-life"


def test_docs_build_strictly(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


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
    assert "open findings: 0" in run.stdout, run.stdout
    assert str(ROOT / "src") not in run.stdout  # imported from the wheel, not the checkout


CONSUMER_APP = """
import serverless_patterns
from aws_cdk import App, Stack
from serverless_patterns import SecureBucket
from serverless_patterns.compliance import COLLECT_FINDINGS_CONTEXT, add_nag_packs, read_nag_report

app = App(outdir="cdk.out", context=dict(COLLECT_FINDINGS_CONTEXT))
stack = Stack(app, "Consumer")
SecureBucket(stack, "Docs")
add_nag_packs(app)
app.synth()
report = read_nag_report("cdk.out")
print("imported from", serverless_patterns.__file__)
print("open findings:", len(report.findings))
for finding in report.findings:
    print(finding)
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
