"""Synth cost: the flagship app against hand-written aws-cdk-lib apps, and warm synth per construct.

Cold: each app synthesized in fresh processes (Python + the jsii Node kernel), median of runs,
peak memory of the whole process tree. Every app runs from byte code, as an installed library and a
project that has run once do (pip compiles a wheel's modules on install); without that, an
environment with ``PYTHONDONTWRITEBYTECODE`` set compiles the library's forty-odd modules on every
run while a hand-written app is one file, which the comparison is not about.

Two hand-written baselines, both plain aws-cdk-lib without serverless-patterns:

- ``handwritten_equivalent`` ("hand-written, template-equivalent") writes the flagship's dev
  template by hand: the same resources per type, alarms, key and IAM policies, tags and outputs,
  and a template of the same size (``tests/test_benchmark_baseline.py`` holds it to that).
- ``handwritten_pipeline`` ("hand-written L2, smaller template") has the same kinds of resources
  but about half the template (fewer alarms, policy statements, tags and managed policies); it is
  kept for comparison with earlier results.

Target: the library costs at most 10 % more time than the template-equivalent app. Synth time
grows with the template CDK renders, so only against the same template does the ratio measure
what the library itself costs (its Python layer, validation and acknowledgements); the ratio
against the smaller template adds the cost of the resources and properties the smaller app leaves
out. Warm: one process, each construct's default configuration synthesized in a fresh app after
a warm-up.
"""

from __future__ import annotations

import compileall
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from common import ROOT, benchmark_env, print_table, run_interleaved, verdict

TARGET_RATIO = 1.10

EQUIVALENT = "hand-written, template-equivalent"
SMALLER = "hand-written L2, smaller template"
LIBRARY = "flagship with serverless-patterns"
APPS = {
    EQUIVALENT: "handwritten_equivalent",
    SMALLER: "handwritten_pipeline",
    LIBRARY: "examples.document_pipeline.app",
}
#: The baselines the library is compared with; the target is judged against the first.
BASELINES = (EQUIVALENT, SMALLER)

RUNNER = r"""
import json, sys, tempfile
sys.path[:0] = [{root!r}, {benchmarks!r}]
from aws_cdk import App
import importlib
module = importlib.import_module(sys.argv[1])
app = App(outdir=tempfile.mkdtemp(), context={{"env": "dev"}})
stacks = module.build(app)
assembly = app.synth()
templates = [assembly.get_stack_by_name(s.stack_name).template for s in stacks]
print(json.dumps([sum(len(t["Resources"]) for t in templates), sum(len(json.dumps(t)) for t in templates)]))
"""


PROFILER = r"""
import json, resource, sys, tempfile, time
sys.path[:0] = [{root!r}, {benchmarks!r}]
import jsii._kernel.providers.process as process
from aws_cdk import App
import importlib
seen, counts = set(), {{"first": [0, 0.0], "repeated": [0, 0.0]}}
send = process._NodeProcess.send
def counting_send(self, request, response_type):
    target = getattr(request, "fqn", None) or getattr(getattr(request, "objref", None), "ref", "").split("@")[0]
    key = (type(request).__name__, target, getattr(request, "method", None) or getattr(request, "property", None))
    started = time.perf_counter()
    try:
        return send(self, request, response_type)
    finally:
        bucket = counts["repeated" if key in seen else "first"]
        seen.add(key)
        bucket[0] += 1
        bucket[1] += time.perf_counter() - started
started = time.perf_counter()
module = importlib.import_module(sys.argv[1])
imported = time.perf_counter()
process._NodeProcess.send = counting_send
app = App(outdir=tempfile.mkdtemp(), context={{"env": "dev"}})
module.build(app)
constructed = time.perf_counter()
calls = json.loads(json.dumps(counts))
process._NodeProcess.send = send
app.synth()
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{"import": imported - started, "construct": constructed - imported, "first": calls["first"],
                  "repeated": calls["repeated"], "python_cpu": usage.ru_utime + usage.ru_stime}}))
"""


def byte_compile() -> None:
    """Byte code for every app's sources (``aws-cdk-lib`` and the other installed packages have it).

    The handler packages are left out: the smaller hand-written app ships whole handler
    directories, so byte code there would enlarge its assets (the library and the
    template-equivalent app exclude byte code from theirs); the library's synth still compiles the
    few handler modules it reads (their configuration), which favours the baselines.
    """
    for folder in (ROOT / "src" / "serverless_patterns", ROOT / "examples"):
        compileall.compile_dir(folder, quiet=1, rx=re.compile(r"[/\\]handlers[/\\]"))
    for label in BASELINES:
        compileall.compile_file(ROOT / "benchmarks" / f"{APPS[label]}.py", quiet=1)


def cold(repeat: int = 5) -> list[tuple]:
    byte_compile()
    runner = RUNNER.format(root=str(ROOT), benchmarks=str(ROOT / "benchmarks"))
    apps = APPS
    commands = {label: [sys.executable, "-c", runner, module] for label, module in apps.items()}
    results = run_interleaved(commands, repeat=repeat)
    rows = []
    for label, command in commands.items():
        output = subprocess.run(command, env=benchmark_env(), capture_output=True, text=True, check=True).stdout
        resources, template_bytes = json.loads(output.strip().splitlines()[-1])
        run = results[label]
        rows.append((label, resources, f"{template_bytes / 1000:.1f}", run.seconds, min(run.samples),
                     run.cpu_seconds, run.peak_mb))
    lib = results[LIBRARY]
    ratios = {}
    for label in BASELINES:
        base = results[label]
        ratios[label] = lib.seconds / base.seconds
        rows.append((f"ratio: library / {label}", "-", "-", ratios[label], min(lib.samples) / min(base.samples),
                     lib.cpu_seconds / base.cpu_seconds, lib.peak_mb / base.peak_mb))
    ratio = ratios[BASELINES[0]]
    print_table(
        f"Cold synth of the dev configuration, {repeat} interleaved rounds of fresh processes, load average "
        f"{os.getloadavg()[0]:.1f} at the end (target: median time ratio against the {BASELINES[0]} app "
        f"<= {TARGET_RATIO:.2f}: {verdict(ratio <= TARGET_RATIO)})",
        ["app", "resources", "template KB", "median s", "best s", "median CPU s", "peak MB (process tree)"],
        rows,
    )
    return rows


def round_trips() -> list[tuple]:
    """Where the cold construct time goes: calls into the jsii kernel (Node) against Python's own work.

    One fresh process per app. A call is "first" when its kind (class and member) was not called
    before in the process (Node loads and compiles that code then), else "repeated"; the kernel
    time is the wall time from request to answer, and "python" is the rest of the construct phase.
    """
    byte_compile()
    profiler = PROFILER.format(root=str(ROOT), benchmarks=str(ROOT / "benchmarks"))
    rows = []
    for label, module in APPS.items():
        output = subprocess.run([sys.executable, "-c", profiler, module], env=benchmark_env(), capture_output=True,
                                text=True, check=True).stdout
        run = json.loads(output.strip().splitlines()[-1])
        (first, first_s), (repeated, repeated_s) = run["first"], run["repeated"]
        rows.append((label, f"{run['import']:.3f}", f"{run['construct']:.3f}", first, f"{first_s:.3f}", repeated,
                     f"{repeated_s:.3f}", f"{run['construct'] - first_s - repeated_s:.3f}", f"{run['python_cpu']:.2f}"))
    print_table(
        "Cold construct phase by jsii kernel calls, one fresh process per app",
        ["app", "import s", "construct s", "first-use calls", "their s", "repeated calls", "their s",
         "python s", "python CPU s (whole run)"],
        rows,
    )
    return rows


def warm(repeat: int = 3) -> list[tuple]:
    sys.path[:0] = [str(ROOT), str(ROOT / "src")]
    from aws_cdk import App, Stack

    import serverless_patterns as sp

    builders = {
        "SecureBucket": lambda s: sp.SecureBucket(s, "C"),
        "AuditedTable": lambda s: sp.AuditedTable(s, "C", partition_key=__import__("aws_cdk").aws_dynamodb.Attribute(
            name="pk", type=__import__("aws_cdk").aws_dynamodb.AttributeType.STRING)),
        "AlertTopic": lambda s: sp.AlertTopic(s, "C"),
        "SecureQueue": lambda s: sp.SecureQueue(s, "C"),
        "AlertingFunction": lambda s: sp.AlertingFunction(
            s, "C", code=__import__("serverless_patterns.handlers", fromlist=["x"]).handler_code("example_echo"),
            handler="example_echo.index.handler"),
        "IsolatedNetwork": lambda s: sp.IsolatedNetwork(s, "C"),
        "AuditTrail": lambda s: sp.AuditTrail(s, "C"),
        "DocumentPipeline": lambda s: sp.DocumentPipeline(s, "C"),
    }

    def once(build) -> float:
        app = App(outdir=tempfile.mkdtemp())
        build(Stack(app, "Bench"))
        started = time.perf_counter()
        app.synth()
        return time.perf_counter() - started

    once(builders["SecureBucket"])  # start the kernel
    rows = []
    for name, build in builders.items():
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            app = App(outdir=tempfile.mkdtemp())
            build(Stack(app, "Bench"))
            constructed = time.perf_counter()
            app.synth()
            samples.append((constructed - started, time.perf_counter() - constructed))
        rows.append((name, statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples),
                     statistics.median(sum(s) for s in samples)))
    print_table(f"Warm synth per construct in one process, median of {repeat}",
                ["construct (default props)", "construct s", "synth s", "total s"], rows)
    return rows


if __name__ == "__main__":
    cold()
    round_trips()
    warm()
