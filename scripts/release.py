"""Build, check and publish a release to PyPI.

    make release-dry-run   # build sdist + wheel, twine check, verify CHANGELOG and contents
    make release           # the same, then twine upload (needs TWINE_USERNAME/TWINE_PASSWORD
                           # or a PyPI token in TWINE_PASSWORD with TWINE_USERNAME=__token__)

The version comes from src/serverless_patterns/__about__.py; CHANGELOG.md must have a
section for it (``## [X.Y.Z] - YYYY-MM-DD``) before a real upload.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ABOUT = ROOT / "src" / "serverless_patterns" / "__about__.py"
CHANGELOG = ROOT / "CHANGELOG.md"

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
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="build and check only; do not upload")
    args = parser.parse_args(argv)

    version = package_version()
    with tempfile.TemporaryDirectory() as tmp:
        dist = Path(tmp)
        artifacts = build(dist)
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
        if args.dry_run:
            note = "" if changelog_has(version) else f" (CHANGELOG has no [{version}] section yet: required to publish)"
            print(f"release dry run OK: {', '.join(names)}{note}")
            return 0
        if not changelog_has(version):
            print(f"release: CHANGELOG.md needs a '## [{version}] - YYYY-MM-DD' section")
            return 1
        subprocess.run([sys.executable, "-m", "twine", "upload", *map(str, artifacts)], check=True)
        shutil.rmtree(dist, ignore_errors=True)
    print(f"released serverless-patterns {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
