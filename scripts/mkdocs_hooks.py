"""mkdocs hooks: render the security page from the compliance results of the last test run.

The test suite records every compliance check (five cdk-nag packs, the deploy preflight pack,
cfn-lint, checkov) of every construct configuration and example app into
``build/compliance-results.json``; this hook turns that file into the tables of
``docs/security.md``, so the page shows what the tests measured.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "build" / "compliance-results.json"
PLACEHOLDER = "<!-- compliance-results -->"
TOOLS = (
    "AwsSolutions", "Serverless", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", "DeployPreflight", "cfn-lint", "checkov",
)


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 (mkdocs hook signature)
    if PLACEHOLDER not in markdown:
        return markdown
    if not RESULTS.exists():
        return markdown.replace(PLACEHOLDER, '!!! warning "No results yet"\n    Run `make test`, then `make docs`.')
    data = json.loads(RESULTS.read_text())
    return markdown.replace(PLACEHOLDER, render(data))


def render(data: dict) -> str:
    lines = [f"Recorded by the test run of {data['generated']}: {len(data['results'])} configurations.", ""]
    lines.append("| Test (configuration) | Resources | " + " | ".join(TOOLS) + " |")
    lines.append("|---|---:|" + "---:|" * len(TOOLS))
    for result in data["results"]:
        cells = []
        for tool in TOOLS:
            open_, acked = result["tools"].get(tool, [0, 0])
            cells.append(f"**{open_}** / {acked}" if open_ else f"0 / {acked}")
        lines.append(f"| `{result['test']}` | {result['resources']} | " + " | ".join(cells) + " |")
    lines += ["", "Each cell: unacknowledged / acknowledged findings.", "", "## Every acknowledgement and its reason", ""]
    grouped: dict[tuple[str, str], set[str]] = defaultdict(set)
    for result in data["results"]:
        for ack in result["acknowledged"]:
            rule = ack["rule"].split(" ")[0]
            grouped[(rule, ack["reason"])].add(result["test"].split("::")[0].removeprefix("tests/"))
    lines.append("| Finding | Reason | Seen in |")
    lines.append("|---|---|---|")
    for (rule, reason), where in sorted(grouped.items()):
        lines.append(f"| `{rule}` | {reason.replace('|', '/')} | {', '.join(sorted(where))} |")
    lines += render_preflight_open(data)
    return "\n".join(lines)


def render_preflight_open(data: dict) -> list[str]:
    """The deploy preflight findings still open (recorded, not yet failing: ``SP_PREFLIGHT=record``)."""
    open_findings: dict[tuple[str, str], set[str]] = defaultdict(set)
    for result in data["results"]:
        for finding in result.get("preflight_open", []):
            open_findings[(finding["rule"], finding["path"])].add(result["test"].split("::")[0].removeprefix("tests/"))
    if not open_findings:
        return []
    lines = ["", "## Open deploy preflight findings", "",
             f"{len(open_findings)} findings of the [deploy preflight pack](preflight.md) are not fixed yet; "
             "they are listed here until the constructs are fixed, and fail the tests with `SP_PREFLIGHT=enforce`.", "",
             "| Rule | Resource | Seen in |", "|---|---|---|"]
    for (rule, path), where in sorted(open_findings.items()):
        lines.append(f"| `{rule}` | `{path}` | {', '.join(sorted(where))} |")
    return lines
