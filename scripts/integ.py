"""Run the integ tests (``tests/integ/integ_*.py``) against the account of the current AWS credentials.

``make integ`` runs every test; ``make integ INTEG="quickstart prod_http_api"`` runs some (names
without ``integ_`` and ``.py``); ``INTEG_ARGS=--no-clean`` keeps the stacks for debugging. For each
test this synthesizes the app with the pinned CDK CLI, reads the ``integ.json`` manifest that
``IntegTest`` writes (the test's stacks, its assertion stack, deploy parameters), deploys them,
reads the assertion stack's ``AssertionResults*`` outputs, and destroys the stacks again. A waiter
that times out fails the deployment itself. It prints ``N passed, N failed`` and exits 1 when a
test failed, 2 when there are no usable AWS credentials (nothing is deployed then).

Why not ``integ-runner``: the newest ``@aws-cdk/integ-runner`` on npm (2.197.10) reads cloud
assemblies up to schema version 53, and aws-cdk-lib 2.275 writes version 55 ("Cloud assembly
schema version mismatch"). This script does the deploy-assert-destroy part of integ-runner with
the CLI this project pins; the test apps stay integ-runner apps.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests" / "integ"
#: Outputs of an assertion stack that carry an assertion's result (``{"status": ..., "message": ...}``).
RESULT_PREFIX = "AssertionResults"


@dataclass(frozen=True)
class TestCase:
    """One test case of an ``integ.json`` manifest."""

    name: str
    stacks: tuple[str, ...]
    assertion_stack: str
    parameters: Mapping[str, str] = field(default_factory=dict)


def discover(names: Iterable[str] = ()) -> list[Path]:
    """The integ test files, all or those named (``quickstart`` -> ``integ_quickstart.py``)."""
    wanted = list(names)
    if not wanted:
        return sorted(TESTS.glob("integ_*.py"))
    paths = [TESTS / f"integ_{name.removeprefix('integ_').removesuffix('.py')}.py" for name in wanted]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise SystemExit(f"no such integ test: {', '.join(missing)} (have: {', '.join(p.stem for p in discover())})")
    return paths


def read_manifest(assembly: Path) -> list[TestCase]:
    """The test cases of the cloud assembly's ``integ.json``."""
    manifest = json.loads((assembly / "integ.json").read_text())
    cases = []
    for name, case in manifest.get("testCases", {}).items():
        deploy = ((case.get("cdkCommandOptions") or {}).get("deploy") or {}).get("args") or {}
        cases.append(
            TestCase(
                name=name,
                stacks=tuple(case["stacks"]),
                assertion_stack=case["assertionStackName"],
                parameters=dict(deploy.get("parameters") or {}),
            )
        )
    if not cases:
        raise ValueError(f"{assembly / 'integ.json'} has no test cases")
    return cases


def parameter_args(parameters: Mapping[str, str]) -> list[str]:
    """``cdk deploy`` arguments for ``{"Stack:Name": value}`` parameters."""
    return [arg for key, value in sorted(parameters.items()) for arg in ("--parameters", f"{key}={value}")]


def assertion_failures(outputs: Mapping[str, Mapping[str, str]], assertion_stack: str) -> list[str]:
    """Messages of the failed assertions in ``cdk deploy --outputs-file`` output.

    Raises ValueError when the assertion stack reported no results at all: a test that
    asserted nothing must not pass.
    """
    results = {k: v for k, v in (outputs.get(assertion_stack) or {}).items() if k.startswith(RESULT_PREFIX)}
    if not results:
        raise ValueError(f"stack {assertion_stack} has no {RESULT_PREFIX}* outputs")
    failures = []
    for key, value in sorted(results.items()):
        try:
            result = json.loads(value)
        except json.JSONDecodeError:
            failures.append(f"{key}: unreadable result {value!r}")
            continue
        if result.get("status") != "success":
            failures.append(f"{key}: {result.get('message') or result}")
    return failures


def credentials_problem() -> str | None:
    """Why the current AWS credentials cannot be used (None when STS answers)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        identity = boto3.client("sts").get_caller_identity()
    except (BotoCoreError, ClientError) as error:
        return str(error)
    print(f"AWS account {identity['Account']} as {identity['Arn']}")
    return None


def _cdk(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run(["cdk", *args], cwd=ROOT, check=False, **kwargs)


def run_test(path: Path, *, clean: bool) -> list[str]:
    """Deploy, assert, destroy one integ app; the failures (empty when it passed)."""
    work = Path(tempfile.mkdtemp(prefix=f"{path.stem}-"))
    assembly = work / "cdk.out"
    app = f"{sys.executable} {path}"
    synth = _cdk(["synth", "--app", app, "--output", str(assembly), "--quiet"])
    if synth.returncode != 0:
        return [f"synth failed ({synth.returncode})"]
    failures: list[str] = []
    for case in read_manifest(assembly):
        outputs_file = work / "outputs.json"
        stacks = [*case.stacks, case.assertion_stack]
        deploy = _cdk(
            ["deploy", "--app", str(assembly), *stacks, "--require-approval", "never",
             "--outputs-file", str(outputs_file), *parameter_args(case.parameters)]
        )
        try:
            if deploy.returncode != 0:
                failures.append(f"{case.name}: deploy failed ({deploy.returncode}); see the CloudFormation events above")
            else:
                outputs = json.loads(outputs_file.read_text())
                failures.extend(f"{case.name}: {f}" for f in assertion_failures(outputs, case.assertion_stack))
        except (OSError, ValueError) as error:
            failures.append(f"{case.name}: {error}")
        finally:
            if clean:
                destroy = _cdk(["destroy", "--app", str(assembly), *stacks, "--force"])
                if destroy.returncode != 0:
                    failures.append(f"{case.name}: destroy failed ({destroy.returncode}); delete {', '.join(stacks)} by hand")
            else:
                print(f"--no-clean: stacks {', '.join(stacks)} are still deployed")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tests", nargs="*", help="names of tests to run (default: all)")
    parser.add_argument("--no-clean", dest="clean", action="store_false", help="keep the stacks after the test")
    parser.add_argument("--list", action="store_true", help="list the tests and exit")
    args = parser.parse_args(argv)
    paths = discover(args.tests)
    if args.list:
        print("\n".join(p.stem.removeprefix("integ_") for p in paths))
        return 0
    problem = credentials_problem()
    if problem is not None:
        print(
            "make integ deploys the integ tests to a real AWS account and needs credentials for it "
            f"(AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY); none usable: {problem}\n"
            "Nothing was deployed and no test ran. See docs/integ_tests.md.",
            file=sys.stderr,
        )
        return 2
    os.environ.setdefault("CDK_DISABLE_VERSION_CHECK", "1")
    passed, failed = 0, 0
    for path in paths:
        started = time.monotonic()
        print(f"==> {path.name}", flush=True)
        failures = run_test(path, clean=args.clean)
        seconds = time.monotonic() - started
        if failures:
            failed += 1
            print(f"FAILED {path.name} ({seconds:.0f} s)\n  " + "\n  ".join(failures), flush=True)
        else:
            passed += 1
            print(f"PASSED {path.name} ({seconds:.0f} s)", flush=True)
    print(f"integ: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
