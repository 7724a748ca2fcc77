"""Type checkers accept the documented imports and see the constructs as the CDK interfaces.

``tests/typed_consumer/app.py`` is a user's stack that passes each construct where CDK expects its
interface; ``mypy --strict`` and pyright (strict) must accept it and must both reject
``wrong.py`` (a queue where CDK expects a bucket), so the check cannot pass vacuously. pyright is
the npm package pinned in package.json (``make setup`` installs it into node_modules/.bin).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CONSUMER = Path(__file__).resolve().parent / "typed_consumer"
NODE_BIN = ROOT / "node_modules" / ".bin"
#: The least share of exported symbols whose type pyright knows (``--verifytypes``).
MIN_TYPE_COMPLETENESS = 0.98


def _pyright() -> str:
    pyright = NODE_BIN / "pyright"
    assert pyright.exists(), "pyright is missing from node_modules/.bin: run make setup"
    return str(pyright)


def _environment() -> dict[str, str]:
    return {**os.environ, "PATH": f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """Run mypy --strict and pyright strict (in parallel) on a copy of the consumer snippets."""
    workdir = tmp_path_factory.mktemp("typed-consumer")
    for name in ("app.py", "wrong.py"):
        shutil.copy(CONSUMER / name, workdir / name)
    (workdir / "pyrightconfig.json").write_text(
        json.dumps({"typeCheckingMode": "strict", "include": ["app.py", "wrong.py"]})
    )
    mypy = subprocess.Popen(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(ROOT / ".mypy_cache"), "--no-color-output",
         "app.py", "wrong.py"],
        cwd=workdir, env=_environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    pyright = subprocess.Popen(
        [_pyright(), "--pythonpath", sys.executable, "--outputjson"],
        cwd=workdir, env=_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    pyright_out, pyright_err = pyright.communicate(timeout=900)
    mypy_out, _ = mypy.communicate(timeout=900)
    return {"mypy": mypy_out, "pyright": pyright_out, "pyright_stderr": pyright_err}


def test_mypy_strict_accepts_the_consumer_and_rejects_the_mistake(checked):
    errors = [line for line in checked["mypy"].splitlines() if ": error:" in line]
    assert [e for e in errors if e.startswith("app.py")] == [], checked["mypy"]
    assert any(e.startswith("wrong.py:8:") and '"IBucket"' in e for e in errors), checked["mypy"]


def test_pyright_strict_accepts_the_consumer_and_rejects_the_mistake(checked):
    report = json.loads(checked["pyright"])
    errors = [d for d in report["generalDiagnostics"] if d["severity"] == "error"]
    in_app = [f"{d['range']['start']['line'] + 1}: {d['message']}" for d in errors if d["file"].endswith("app.py")]
    assert in_app == []
    wrong = [d for d in errors if d["file"].endswith("wrong.py")]
    assert [d["range"]["start"]["line"] + 1 for d in wrong] == [8], wrong
    assert '"IBucket"' in wrong[0]["message"]


def test_verifytypes_score():
    result = subprocess.run(
        [_pyright(), "--pythonpath", sys.executable, "--verifytypes", "serverless_patterns", "--ignoreexternal",
         "--outputjson"],
        check=False, cwd=ROOT, env=_environment(), capture_output=True, text=True, timeout=900,
    )
    completeness = json.loads(result.stdout)["typeCompleteness"]
    unknown = [
        s["name"] for s in completeness["symbols"] if s.get("isExported") and not s["isTypeKnown"]
    ]
    assert completeness["completenessScore"] >= MIN_TYPE_COMPLETENESS, unknown


def test_top_level_exports_are_explicit_for_type_checkers():
    """Each public name is re-exported as ``X as X`` (mypy --strict needs it) and in ``__all__``."""
    import serverless_patterns

    tree = ast.parse((ROOT / "src" / "serverless_patterns" / "__init__.py").read_text())
    (checking,) = [n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"]
    reexported = {
        alias.name
        for node in checking.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.asname == alias.name
    }
    exports = set(serverless_patterns._EXPORTS)
    assert exports - reexported == set()
    assert exports <= set(serverless_patterns.__all__)
