"""Cold-start cost: import time of each handler module in a fresh interpreter vs ``import boto3``.

Target: each handler costs at most 1.3x ``import boto3`` alone.
"""

from __future__ import annotations

import sys

from common import ROOT, benchmark_env, print_table, run_repeatedly, verdict

HANDLERS_DIR = ROOT / "src" / "serverless_patterns" / "handlers"
TARGET_RATIO = 1.3


def handler_packages() -> list[str]:
    return sorted(p.name for p in HANDLERS_DIR.iterdir() if (p / "index.py").exists())


def main(repeat: int = 7) -> list[tuple]:
    env = benchmark_env({"PYTHONPATH": str(HANDLERS_DIR)})
    baseline = run_repeatedly([sys.executable, "-c", "import boto3"], repeat=repeat, env=env)
    rows = [("import boto3 (baseline)", baseline.seconds, 1.0, "-")]
    for name in handler_packages():
        run = run_repeatedly([sys.executable, "-c", f"import {name}.index"], repeat=repeat, env=env)
        ratio = run.seconds / baseline.seconds
        rows.append((f"import {name}.index", run.seconds, ratio, verdict(ratio <= TARGET_RATIO)))
    print_table(
        f"Handler import time, fresh interpreter, median of {repeat} (target: <= {TARGET_RATIO}x boto3)",
        ["module", "seconds", "ratio", "target"],
        rows,
    )
    return rows


if __name__ == "__main__":
    main()
