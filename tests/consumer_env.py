"""A user's machine for the consumer app (``tests/consumer/app``): the built wheel, outside the repo.

:func:`consumer_environment` builds the wheel from the checkout, creates a virtualenv in a
temporary directory, installs the wheel into it (``pip install --no-deps``) and then makes the
repo venv's third-party packages importable through a ``.pth`` file that names a directory of
links to them, leaving out this project's own editable install (its ``.pth`` file and
dist-info). So the app imports ``serverless_patterns`` from the wheel, never from ``src/``,
while aws-cdk-lib, cdk-nag, boto3 and moto are the versions the suite is pinned to (no
download). :meth:`ConsumerEnvironment.run` runs a command the way a user's shell would: the
env's ``bin`` first on ``PATH``, the pinned Node for jsii and the pinned CDK CLI, no
``PYTHONPATH``, the working directory outside the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_BIN = ROOT / "node_modules" / ".bin"
#: The consumer app as a user keeps it in their own repository.
APP_SOURCE = ROOT / "tests" / "consumer" / "app"
#: This project's own entries in the repo venv's site-packages (the editable install).
_OWN = ("serverless_patterns", "_editable_impl_serverless_patterns", "__editable__")


@dataclass(frozen=True)
class ConsumerEnvironment:
    """The isolated environment and a copy of the app, both under ``root`` (a temporary directory)."""

    root: Path
    python: Path
    app_dir: Path
    wheel: Path

    @property
    def bin_dir(self) -> Path:
        return self.python.parent

    def environ(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTEST_CURRENT_TEST")}
        env.update(
            PATH=os.pathsep.join([str(self.bin_dir), str(NODE_BIN), env.get("PATH", "")]),
            VIRTUAL_ENV=str(self.root / "venv"),
            JSII_NODE=str(NODE_BIN / "node"),
            # The CDK CLI keeps its cache and notices under CDK_HOME; nothing is sent anywhere.
            CDK_HOME=str(self.root / "cdk-home"),
            CDK_DISABLE_CLI_TELEMETRY="true",
            PYTHONDONTWRITEBYTECODE="1",
            # The emulator never calls AWS; boto3 wants credentials and a Region.
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
        )
        for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            env.pop(variable, None)
        return env

    def run(self, *command: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run ``command`` in the app's directory with the environment's interpreter and tools."""
        return subprocess.run(list(command), cwd=self.app_dir, env=self.environ(), capture_output=True,
                              text=True, timeout=timeout, check=False)

    def python_json(self, code: str) -> dict:
        """Run Python ``code`` (which prints one JSON document) with the environment's interpreter."""
        result = self.run(str(self.python), "-c", code)
        if result.returncode != 0:
            raise RuntimeError(f"python -c failed: {result.stdout[-2000:]}{result.stderr[-4000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])


def build_wheel(outdir: Path) -> Path:
    """The checkout's wheel, built as the release is (``python -m build --wheel``)."""
    result = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(outdir), str(ROOT)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"building the wheel failed: {result.stdout[-3000:]}{result.stderr[-3000:]}")
    (wheel,) = outdir.glob("serverless_patterns-*.whl")
    return wheel


def consumer_environment(root: Path, wheel: Path | None = None) -> ConsumerEnvironment:
    """The wheel installed into a fresh virtualenv under ``root``, and a copy of the app beside it."""
    wheel = wheel or build_wheel(root / "dist")
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--no-index",
         str(wheel)],
        capture_output=True, text=True, check=False,
    )
    if install.returncode != 0:
        raise RuntimeError(f"pip install of the wheel failed: {install.stdout[-3000:]}{install.stderr[-3000:]}")
    # Only after the install: pip never sees (so never touches) the repo venv's packages.
    site_packages = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip())
    (site_packages / "repo-venv-third-party.pth").write_text(f"{_third_party_links(root / 'third-party')}\n")
    app_dir = root / "app"
    shutil.copytree(APP_SOURCE, app_dir, ignore=shutil.ignore_patterns("__pycache__", "cdk.out", "*.pyc"))
    return ConsumerEnvironment(root=root, python=python, app_dir=app_dir, wheel=wheel)


def _third_party_links(directory: Path) -> Path:
    """A directory of links to every entry of the repo venv's site-packages but this project's."""
    source = Path(sysconfig.get_paths()["purelib"])
    directory.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.name.startswith(_OWN) or entry.suffix == ".pth" or entry.name == "__pycache__":
            continue
        (directory / entry.name).symlink_to(entry)
    return directory
