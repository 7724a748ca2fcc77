"""Synthesize every example app with the five cdk-nag packs; write or compare the templates.

    python scripts/synth_examples.py OUTDIR                  # write OUTDIR/<app>/<stack>.template.json
    python scripts/synth_examples.py OUTDIR --compare REF    # also fail if any template differs from REF's

The version matrix (``noxfile.py``) runs this on each interpreter against the installed wheel and
compares with the templates the default interpreter synthesizes from the checkout: the same
library must produce the same CloudFormation on every supported Python. Exits 1 on any
unacknowledged cdk-nag finding, on a template that differs, or on a missing or extra template.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def example_apps() -> list[str]:
    """Every example app: a directory of ``examples/`` with an ``app.py`` (flagship first)."""
    names = sorted(p.parent.name for p in (ROOT / "examples").glob("*/app.py"))
    return sorted(names, key=lambda name: name != "document_pipeline")


def synthesize(name: str, outdir: Path) -> tuple[dict[str, dict], list[str]]:
    """Synthesize example ``name``; return its templates by stack artifact id and open findings."""
    from aws_cdk import App

    from serverless_patterns.compliance import COLLECT_FINDINGS_CONTEXT, add_nag_packs, read_nag_report

    module = importlib.import_module(f"examples.{name}.app")
    with tempfile.TemporaryDirectory() as assembly_dir:
        app = App(outdir=assembly_dir, context=dict(COLLECT_FINDINGS_CONTEXT))
        stacks = module.build(app)
        add_nag_packs(app)
        assembly = app.synth()
        report = read_nag_report(assembly_dir)
        templates = {stack.artifact_id: assembly.get_stack_by_name(stack.stack_name).template for stack in stacks}
    (outdir / name).mkdir(parents=True, exist_ok=True)
    for artifact_id, template in templates.items():
        (outdir / name / f"{artifact_id}.template.json").write_text(json.dumps(template, indent=1, sort_keys=True) + "\n")
    return templates, [str(finding) for finding in report.findings]


def compare(outdir: Path, reference: Path) -> list[str]:
    """Differences between the templates under ``outdir`` and ``reference`` (relative paths)."""
    ours = {p.relative_to(outdir) for p in outdir.glob("*/*.template.json")}
    theirs = {p.relative_to(reference) for p in reference.glob("*/*.template.json")}
    problems = [f"missing template {p}" for p in sorted(theirs - ours)]
    problems += [f"extra template {p}" for p in sorted(ours - theirs)]
    problems += [f"template differs: {p}" for p in sorted(ours & theirs)
                 if (outdir / p).read_text() != (reference / p).read_text()]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--compare", type=Path, metavar="REF", help="templates written by an earlier run")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))  # the examples package; the library itself comes from wherever it is installed
    import serverless_patterns

    print(f"python {sys.version.split()[0]}, serverless_patterns from {Path(serverless_patterns.__file__).parent}")
    problems: list[str] = []
    for name in example_apps():
        templates, findings = synthesize(name, args.outdir)
        resources = sum(len(t.get("Resources", {})) for t in templates.values())
        print(f"  {name}: {len(templates)} stack(s), {resources} resources, {len(findings)} open findings")
        problems += [f"{name}: {finding}" for finding in findings]
    if args.compare:
        differences = compare(args.outdir, args.compare)
        problems += differences
        if not differences:
            print(f"  templates identical to {args.compare}")
    if problems:
        print("\n".join(["synth_examples: problems:", *(f"  {p}" for p in problems)]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
