"""Run every benchmark and write the tables to benchmarks/RESULTS.md (the README links it).

    make bench                      # all benchmarks, test-suite timing included
    python benchmarks/run_all.py --quick   # smaller sizes and fewer rounds, no test suite
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_cost  # noqa: E402
import bench_imports  # noqa: E402
import bench_processor  # noqa: E402
import bench_synth  # noqa: E402
from common import ROOT, print_table  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


class _Tee(io.TextIOBase):
    def __init__(self, *streams):
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


def test_suite_timing() -> None:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--durations=12", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    wall = time.perf_counter() - started
    summary = next((l for l in reversed(result.stdout.splitlines()) if " passed" in l or " failed" in l), "?")
    slowest = [l for l in result.stdout.splitlines() if re.match(r"^\d+\.\d+s (call|setup|teardown)", l)][:12]
    print_table(f"Test suite on this machine: {summary.strip('= ')} in {wall:.0f} s wall time",
                ["slowest steps (pytest --durations)"], [(line,) for line in slowest])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 KB-100 MB documents, 3 rounds, no test suite")
    args = parser.parse_args(argv)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(_Tee(sys.stdout, buffer)):
        print(f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"{platform.machine()}; every ratio compares figures measured in the same run.")
        bench_synth.cold(repeat=3 if args.quick else 7)
        bench_synth.round_trips()
        bench_synth.warm()
        bench_imports.main(repeat=5 if args.quick else 9)
        sizes = {k: v for k, v in bench_processor.SIZES.items() if not (args.quick and k == "1 GB")}
        bench_processor.main(sizes)
        bench_cost.main()
        if not args.quick:
            test_suite_timing()
    RESULTS.write_text("# Benchmark results\n\nProduced by `make bench` (`benchmarks/run_all.py`).\n\n```text\n"
                       + buffer.getvalue().strip() + "\n```\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
