"""The version matrix: what ``make test`` runs after the full suite (``make matrix`` alone).

The full suite runs on the default interpreter (the one ``.venv`` was made with). On every other
CPython among ``PYTHONS`` that this machine has, session ``wheel`` installs the built wheel (not
the checkout), synthesizes every example app with the five cdk-nag packs, requires templates
identical to the default interpreter's, and runs the handler tests (Lambda runs the handlers
on python3.14). Session ``cdk_floor`` installs the oldest aws-cdk-lib, constructs and cdk-nag
that ``pyproject.toml`` declares into a second environment and synthesizes the example apps
there, so the declared range is tested at its floor.

An interpreter the machine lacks is reported as skipped, not failed
(``--no-error-on-missing-interpreters``). pyenv's interpreters are found too.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
BUILD = ROOT / "build" / "matrix"
CONSTRAINTS = ROOT / "constraints.txt"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

#: CPython versions the matrix knows; the classifiers name those that ran (tests/test_project.py).
PYTHONS = ["3.11", "3.12", "3.13", "3.14"]
DEFAULT = f"{sys.version_info.major}.{sys.version_info.minor}"
#: What the handler tests need besides the wheel's [handlers] extra, versions from constraints.txt.
TEST_TOOLS = ("pytest", "syrupy", "hypothesis", "moto")
#: The CDK packages whose declared floors session cdk_floor installs.
CDK_PACKAGES = ("aws-cdk-lib", "constructs", "cdk-nag")

nox.options.sessions = ["wheel", "cdk_floor"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False


def _add_pyenv_interpreters() -> None:
    """Put pyenv's ``python3.X`` on PATH (its shims refuse versions that are not selected).

    Only the versioned names are linked, into ``build/matrix/interpreters``: ``python3`` and
    ``python`` stay whatever they were.
    """
    root = os.environ.get("PYENV_ROOT")
    if not root and shutil.which("pyenv"):
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=False).stdout.strip()
    if not root:
        return
    links = BUILD / "interpreters"
    shutil.rmtree(links, ignore_errors=True)
    links.mkdir(parents=True)
    for version in PYTHONS:
        builds = sorted(Path(root).glob(f"versions/{version}.*/bin/python{version}"))
        if builds:
            (links / f"python{version}").symlink_to(builds[-1])
    os.environ["PATH"] = os.pathsep.join([str(links), os.environ.get("PATH", "")])


_add_pyenv_interpreters()


def _dev_requirements(names: tuple[str, ...]) -> list[str]:
    """The dev extra's requirement strings for ``names`` (so versions have one source)."""
    dev = PYPROJECT["project"]["optional-dependencies"]["dev"]
    return [req for req in dev if re.split(r"[\[<>=!~ ]", req, maxsplit=1)[0] in names]


def _floors() -> dict[str, str]:
    declared = PYPROJECT["project"]["dependencies"]
    floors = dict(re.match(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", d).groups() for d in declared)
    return {name: floors[name] for name in CDK_PACKAGES}


@functools.cache
def _wheel() -> Path:
    """Build the wheel once per nox run, from the checkout, with the default interpreter."""
    dist = BUILD / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True)
    (wheel,) = dist.glob("serverless_patterns-*.whl")
    return wheel


@functools.cache
def _reference_templates() -> Path:
    """The example apps' templates synthesized by the default interpreter from the checkout."""
    reference = BUILD / f"templates-{DEFAULT}-checkout"
    shutil.rmtree(reference, ignore_errors=True)
    subprocess.run([sys.executable, str(ROOT / "scripts" / "synth_examples.py"), str(reference)], check=True, cwd=ROOT)
    return reference


def _session_env() -> dict[str, str]:
    # jsii runs on the pinned Node; nothing from the checkout's src/ may leak into the session.
    node = ROOT / "node_modules" / ".bin" / "node"
    env = {"PYTHONPATH": "", "PYTHONDONTWRITEBYTECODE": "1"}
    if node.exists():
        env["JSII_NODE"] = str(node)
    return env


def _install_wheel(session: nox.Session, *requirements: str, constraints: Path = CONSTRAINTS) -> None:
    wheel = _wheel()
    session.install("-c", str(constraints), f"serverless-patterns[handlers] @ {wheel.as_uri()}", *requirements)
    session.install("--no-deps", "--force-reinstall", str(wheel))  # the wheel of this run, also in a reused env


@nox.session(python=[v for v in PYTHONS if v != DEFAULT])
def wheel(session: nox.Session) -> None:
    """Wheel install, example synth (templates as on the default interpreter), handler tests."""
    _install_wheel(session, *_dev_requirements(TEST_TOOLS))
    env = _session_env()
    outdir = BUILD / f"templates-{session.python}-wheel"
    shutil.rmtree(outdir, ignore_errors=True)
    session.run("python", "scripts/synth_examples.py", str(outdir), "--compare", str(_reference_templates()), env=env)
    session.run("python", "-m", "pytest", "tests/handlers", "-q", "-p", "no:cacheprovider", *session.posargs, env=env)


@nox.session
def cdk_floor(session: nox.Session) -> None:
    """The oldest aws-cdk-lib, constructs and cdk-nag the package declares: example apps synthesize clean."""
    floors = _floors()
    # constraints.txt pins the CDK stack at the tested versions: keep only the other pins here.
    cdk_stack = re.compile(r"^(aws-cdk|constructs|cdk-nag|jsii|publication|typeguard)", re.IGNORECASE)
    constraints = BUILD / "constraints-cdk-floor.txt"
    constraints.parent.mkdir(parents=True, exist_ok=True)
    constraints.write_text("".join(line for line in CONSTRAINTS.read_text().splitlines(True) if not cdk_stack.match(line)))
    _install_wheel(session, *(f"{name}=={version}" for name, version in floors.items()), constraints=constraints)
    check = "; ".join(f"assert version({n!r}) == {v!r}, ({n!r}, version({n!r}))" for n, v in floors.items())
    session.run("python", "-c", f"from importlib.metadata import version; {check}", silent=True)
    session.log("installed the declared floors: " + ", ".join(f"{n}=={v}" for n, v in floors.items()))
    outdir = BUILD / "templates-cdk-floor"
    shutil.rmtree(outdir, ignore_errors=True)
    pinned = dict(re.match(r"([A-Za-z0-9_.-]+)==(\S+)", line).groups()
                  for line in CONSTRAINTS.read_text().splitlines() if "==" in line and not line.startswith("#"))
    same_as_pinned = all(pinned.get(name) == version for name, version in floors.items())
    # At the pinned versions the templates must be identical; an older CDK may legitimately render differently.
    compare = ["--compare", str(_reference_templates())] if same_as_pinned else []
    session.run("python", "scripts/synth_examples.py", str(outdir), *compare, env=_session_env())
