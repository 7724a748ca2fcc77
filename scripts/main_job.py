"""The main job: synthesize the example apps, check their compliance, run the document flow.

Run through ``make main``. Exits non-zero when any app has an unacknowledged finding
or the local document flow does not end as expected.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Local AWS for the document flow: moto never calls AWS, but boto3 wants credentials.
for variable, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_DEFAULT_REGION", "us-east-1")):
    os.environ.setdefault(variable, value)

from aws_cdk import App  # noqa: E402

from examples.document_pipeline import local_flow  # noqa: E402

from serverless_patterns.compliance import (  # noqa: E402
    COLLECT_FINDINGS_CONTEXT,
    PREFLIGHT,
    PREFLIGHT_MODE_VARIABLE,
    ComplianceReport,
    add_nag_packs,
    add_preflight_checks,
    preflight_enforced,
    read_nag_report,
    run_cfn_lint,
    run_checkov,
)

#: Example apps, flagship first: (name, module with a ``build(app)`` function).
EXAMPLES = [
    ("document_pipeline", "examples.document_pipeline.app"),
    ("quickstart", "examples.quickstart.app"),
    ("audited_ingest", "examples.audited_ingest.app"),
    ("data_processing_stack", "examples.data_processing_stack.app"),
    ("prod_http_api", "examples.prod_http_api.app"),
    ("secure_data_api", "examples.secure_data_api.app"),
]
FLAGSHIP = "document_pipeline"

TOOLS = ("AwsSolutions", "Serverless", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", PREFLIGHT, "cfn-lint", "checkov")


def synthesize_example(name: str, module_name: str, outdir: Path) -> tuple[ComplianceReport, int, int, list]:
    """Synthesize one example app; return its compliance report, stack and resource counts, templates."""
    module = importlib.import_module(module_name)
    app = App(outdir=str(outdir), context=dict(COLLECT_FINDINGS_CONTEXT))
    stacks = module.build(app)
    add_nag_packs(app)
    add_preflight_checks(app)
    assembly = app.synth()
    report = read_nag_report(outdir)
    templates = [outdir / f"{stack.artifact_id}.template.json" for stack in stacks]
    regions = sorted({stack.region for stack in stacks if not stack.region.startswith("${")}) or ["us-east-1"]
    report.extend(run_cfn_lint(templates, regions=regions))
    report.extend(run_checkov(templates))
    synthesized = [assembly.get_stack_by_name(s.stack_name).template for s in stacks]
    resources = sum(len(t.get("Resources", {})) for t in synthesized)
    return report, len(stacks), resources, synthesized


def print_compliance_table(rows: list[tuple[str, int, int, ComplianceReport]]) -> None:
    header = f"{'app':<22}{'stacks':>7}{'resources':>10}  " + "  ".join(f"{t:>14}" for t in TOOLS)
    print(header)
    print("-" * len(header))
    for name, stacks, resources, report in rows:
        counts = report.by_tool()
        cells = []
        for tool in TOOLS:
            open_, acked = counts.get(tool, (0, 0))
            cells.append(f"{f'{open_} open/{acked} ack':>14}")
        print(f"{name:<22}{stacks:>7}{resources:>10}  " + "  ".join(cells))
    print("open = unacknowledged findings (must be 0); ack = acknowledged with a reason (see docs)")


def print_cost_table(out_root: Path, names: list[str]) -> None:
    """Idle monthly cost and cost per 1,000 documents of every synthesized app (serverless-patterns cost)."""
    from serverless_patterns.cost import PRICES_AS_OF, estimate

    print(f"\nCost at us-east-1 list prices of {PRICES_AS_OF} (serverless-patterns cost <cdk.out> for every line)\n")
    header = f"{'app':<22}{'idle/month':>11}{'year 3+':>10}{'per 1,000 docs':>16}  largest idle item"
    print(header)
    print("-" * len(header))
    for name in names:
        result = estimate(out_root / name)
        year1, _, year3 = result.idle_by_year
        per_doc = f"${result.per_1000_total:.4f}" if result.per_1000 else "-"
        groups: dict[str, float] = {}
        for line in result.idle:
            groups[line.resource_type] = groups.get(line.resource_type, 0) + line.cost
        largest = max(groups.items(), key=lambda item: item[1], default=("-", 0))
        print(f"{name:<22}{f'${year1:.2f}':>11}{f'${year3:.2f}':>10}{per_doc:>16}  {largest[0]} ${largest[1]:.2f}")
    print("per 1,000 documents: the document pipeline's flow, 1 MB each (see docs/cost.md); - = no such flow")


def main() -> int:
    started = time.perf_counter()
    out_root = ROOT / "cdk.out" / "main-job"
    rows = []
    failures: list[str] = []
    preflight_open: list[str] = []
    flagship_template = None
    enforce_preflight = preflight_enforced()
    for name, module_name in EXAMPLES:
        report, stacks, resources, templates = synthesize_example(name, module_name, out_root / name)
        rows.append((name, stacks, resources, report))
        for finding in report.findings:
            if finding.tool == PREFLIGHT and not enforce_preflight:
                preflight_open.append(f"{name}: {finding}")
            else:
                failures.append(f"{name}: {finding}")
        if name == FLAGSHIP:
            flagship_template = templates[0]
    print("\nCompliance summary (five cdk-nag packs, deploy preflight, cfn-lint, checkov)\n")
    print_compliance_table(rows)
    print_cost_table(out_root, [name for name, _ in EXAMPLES])
    if preflight_open:
        print(f"\nDeploy preflight findings ({len(preflight_open)}; listed, not failing, because "
              f"{PREFLIGHT_MODE_VARIABLE}=record opts out of enforcement):")
        print("\n".join(f"  {line}" for line in preflight_open))
    if failures:
        print("\nUnacknowledged findings:")
        print("\n".join(f"  {line}" for line in failures))
        return 1

    print("\nDocument flow of the flagship app on moto (the embedded AWS emulator), real handler code")
    flow_started = time.perf_counter()
    result = local_flow.run(flagship_template, out_root / FLAGSHIP)
    local_flow.print_result(result)
    print(f"\ndocument flow finished in {time.perf_counter() - flow_started:.1f} s")
    wrong = local_flow.problems(result)
    if wrong:
        print("\nThe document flow did not end as expected:")
        print("\n".join(f"  {line}" for line in wrong))
        return 1
    print(f"\nmain job finished in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
