"""Measurement helpers shared by the benchmarks: repeated subprocess runs, peak memory, tables."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules" / ".bin" / "node"
os.environ.setdefault("JSII_NODE", str(NODE))  # in-process synths run on the pinned Node 22


def benchmark_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment benchmarks run child processes in (pinned Node, fake AWS credentials)."""
    env = dict(os.environ)
    env.update({
        "JSII_NODE": str(NODE),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")]),
    })
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class Run:
    """Median wall time and the largest peak memory over repeated runs of one command.

    ``cpu`` holds the CPU time (user + system) of each run's whole process tree: on a loaded
    machine it varies far less than wall time, which includes waiting for a core.
    """

    seconds: float
    peak_mb: float
    samples: tuple[float, ...]
    cpu: tuple[float, ...] = ()

    @property
    def cpu_seconds(self) -> float:
        """Median CPU time of the runs."""
        return statistics.median(self.cpu)


def run_interleaved(commands: Mapping[str, Sequence[str]], *, repeat: int = 5,
                    env: Mapping[str, str] | None = None) -> dict[str, Run]:
    """Run several commands in turn, ``repeat`` rounds, so that load on the machine hits all alike."""
    samples: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            samples[name].append(run_repeatedly(command, repeat=1, env=env))
    return {
        name: Run(statistics.median(r.seconds for r in runs), max(r.peak_mb for r in runs),
                  tuple(r.seconds for r in runs), tuple(c for r in runs for c in r.cpu))
        for name, runs in samples.items()
    }


def run_repeatedly(command: Sequence[str], *, repeat: int = 3, env: Mapping[str, str] | None = None) -> Run:
    """Run ``command`` ``repeat`` times in fresh processes.

    Memory is the peak of the summed RSS of the whole process tree (for a CDK app: Python and
    the jsii Node process), sampled every 10 ms.
    """
    samples, peaks, cpu = [], [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        process = subprocess.Popen(command, env=dict(env or benchmark_env()), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_rss_kib(process.pid))
            time.sleep(0.01)
        stdout, stderr = process.communicate()
        samples.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the child and what it waited for
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{stdout[-2000:]}\n{stderr[-2000:]}")
        peaks.append(peak / 1024)
    return Run(statistics.median(samples), max(peaks), tuple(samples), tuple(cpu))


def tree_rss_kib(root_pid: int) -> int:
    """Summed RSS (KiB) of ``root_pid`` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[int(entry.name)] = int(line.split()[1])
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid and child not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0) for pid in tree)


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print a plain-text table with a title."""
    cells = [[str(c) for c in header]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(cells[0], widths)))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    sys.stdout.flush()


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"
