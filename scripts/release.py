"""Build, check and publish a release to PyPI through publib's ``publib-pypi``.

    make release-dry-run   # build sdist + wheel into dist/python, check them, run publib-pypi dry
    make release           # the same checks, then publib-pypi uploads both artifacts

The version comes from src/serverless_patterns/__about__.py; CHANGELOG.md must have a section for
it (``## [X.Y.Z] - YYYY-MM-DD``) before a real upload. Everything is checked before publib runs:
the artifact names, ``twine check --strict``, the wheel's contents, and (for a real release) the
CHANGELOG section and the credentials.

publib-pypi (npm package ``publib``, pinned in package.json) uploads every file in
``dist/python`` with twine, which it installs itself (``pip install --user "twine<6.2.0"``):
here into a virtualenv under ``build/publib/`` so nothing lands in your home directory. It
reads ``TWINE_USERNAME`` and ``TWINE_PASSWORD`` (a PyPI token: ``__token__`` and ``pypi-...``),
or ``PYPI_TRUSTED_PUBLISHER=true`` in a CI job that PyPI trusts, and ``TWINE_REPOSITORY`` (for
example ``testpypi``). With ``PUBLIB_DRYRUN=true`` it does everything but the upload; it still
insists on credentials, so the dry run passes placeholders when none are set.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ABOUT = ROOT / "src" / "serverless_patterns" / "__about__.py"
CHANGELOG = ROOT / "CHANGELOG.md"
#: publib-pypi's default directory: it uploads every file in it.
DIST = ROOT / "dist" / "python"
PUBLIB_PYPI = ROOT / "node_modules" / ".bin" / "publib-pypi"
#: The interpreter publib-pypi runs as ``python3`` and installs twine into.
PUBLIB_PYTHON = ROOT / "build" / "publib"
#: Pins for what publib-pypi installs (twine below 6.2, which it requires).
PUBLIB_CONSTRAINTS = ROOT / "scripts" / "publib-constraints.txt"

#: Files the wheel must contain for constructs to synthesize without network or Docker.
REQUIRED_IN_WHEEL = ("serverless_patterns/py.typed", "serverless_patterns/__about__.py")


def package_version() -> str:
    match = re.search(r'__version__ = "([^"]+)"', ABOUT.read_text())
    if not match:
        raise SystemExit(f"release: no __version__ in {ABOUT.name}")
    return match.group(1)


def changelog_has(version: str) -> bool:
    return re.search(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", CHANGELOG.read_text(), re.M) is not None


def build(outdir: Path) -> list[Path]:
    shutil.rmtree(outdir, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(outdir), str(ROOT)],
                   check=True, capture_output=True, text=True)
    return sorted(outdir.iterdir())


def check_wheel_contents(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    problems = [f"missing {name}" for name in REQUIRED_IN_WHEEL if name not in names]
    handler_dirs = {n.split("/")[2] for n in names if n.startswith("serverless_patterns/handlers/") and n.count("/") >= 3}
    source_handlers = {p.name for p in (ROOT / "src/serverless_patterns/handlers").glob("*/") if (p / "index.py").exists()}
    problems += [f"handler {name} missing from wheel" for name in sorted(source_handlers - handler_dirs)]
    problems += [f"stray file {n}" for n in names if "__pycache__" in n or n.endswith(".pyc")]
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    problems += [f"long description: {p}" for p in long_description_problems(metadata.partition("\n\n")[2])]
    return problems


def long_description_problems(description: str) -> list[str]:
    """What PyPI would render broken: relative links and images, Mermaid it cannot draw."""
    problems = [f"relative link {target}" for target in re.findall(r"\]\(([^)\s]+)\)", description)
                if not re.match(r"[a-z]+:|#", target)]
    if "```mermaid" in description:
        problems.append("a Mermaid block (PyPI shows it as code)")
    return problems


def publib_environment(dry_run: bool) -> dict[str, str]:
    """The environment publib-pypi runs in: its own ``python3``, its pins, dry run or credentials."""
    if not (PUBLIB_PYTHON / "bin" / "python3").exists():
        # System site packages on, so pip accepts publib's --user install (into PYTHONUSERBASE below).
        venv.EnvBuilder(system_site_packages=True, with_pip=True, clear=True).create(PUBLIB_PYTHON)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(
        PATH=os.pathsep.join([str(PUBLIB_PYTHON / "bin"), str(PUBLIB_PYTHON / "user" / "bin"), env.get("PATH", "")]),
        PYTHONUSERBASE=str(PUBLIB_PYTHON / "user"),
        PIP_CONSTRAINT=str(PUBLIB_CONSTRAINTS),
        PIP_QUIET="1",
    )
    if dry_run:
        env["PUBLIB_DRYRUN"] = "true"
        env.setdefault("TWINE_USERNAME", "dry-run")
        env.setdefault("TWINE_PASSWORD", "dry-run")
    else:
        env.pop("PUBLIB_DRYRUN", None)
    return env


def has_credentials(env: dict[str, str]) -> bool:
    trusted = env.get("PYPI_TRUSTED_PUBLISHER", "") not in ("", "false")
    return trusted or bool(env.get("TWINE_USERNAME") and env.get("TWINE_PASSWORD"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="build and check, run publib-pypi without uploading")
    args = parser.parse_args(argv)

    version = package_version()
    if not args.dry_run:
        # Checked before anything is built or uploaded.
        if not changelog_has(version):
            print(f"release: CHANGELOG.md needs a '## [{version}] - YYYY-MM-DD' section for {version}")
            return 1
        if not has_credentials(dict(os.environ)):
            print("release: set TWINE_USERNAME=__token__ and TWINE_PASSWORD=<PyPI token>, or PYPI_TRUSTED_PUBLISHER=true")
            return 1
    if not PUBLIB_PYPI.exists():
        print("release: node_modules/.bin/publib-pypi is missing: run make setup")
        return 1

    artifacts = build(DIST)
    names = [a.name for a in artifacts]
    expected = {f"serverless_patterns-{version}-py3-none-any.whl", f"serverless_patterns-{version}.tar.gz"}
    if set(names) != expected:
        print(f"release: built {names}, expected {sorted(expected)}")
        return 1
    subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, artifacts)], check=True)
    problems = check_wheel_contents(next(a for a in artifacts if a.suffix == ".whl"))
    if problems:
        print("release: wheel problems:\n  " + "\n  ".join(problems))
        return 1

    print(f"release: publib-pypi {'(dry run) ' if args.dry_run else ''}{DIST.relative_to(ROOT)}", flush=True)
    publib = subprocess.run([str(PUBLIB_PYPI), str(DIST)], env=publib_environment(args.dry_run), cwd=ROOT, check=False)
    if publib.returncode != 0:
        print(f"release: publib-pypi failed with exit code {publib.returncode}")
        return 1
    if args.dry_run:
        note = "" if changelog_has(version) else f" (CHANGELOG has no [{version}] section yet: required to publish)"
        print(f"release dry run OK: {', '.join(names)} in {DIST.relative_to(ROOT)}{note}")
        return 0
    print(f"released serverless-patterns {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
