"""Compliance checks: the five cdk-nag packs, the deploy preflight pack, cfn-lint and checkov.

The library fixes findings in code. What cannot be fixed is acknowledged with
:func:`acknowledge` on the narrowest construct, with a reason that ends up in
cdk-nag's report (``suppressedViolations``) or in checkov's skip comment.

cfn-lint and checkov are development tools: they are imported only when their
checks run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import Acknowledgment, App, CfnResource, Validations
from constructs import IConstruct

from .preflight import PLUGIN_NAME, RULES
from ._kernel import default_child_of, path_of, remembered, stack_of

#: Plugin names of the five packs, as cdk-nag writes them in its report.
NAG_PACKS = ("AwsSolutions", "Serverless", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")

#: Plugin name of the deploy preflight pack (:mod:`serverless_patterns.preflight`).
PREFLIGHT = PLUGIN_NAME

#: Environment variable that decides whether preflight findings fail the test harness and the main
#: job. ``enforce`` (the default): they count like cdk-nag findings. ``record``: they are computed,
#: counted and listed but do not fail (an explicit opt-out, e.g. while trying out a new rule).
PREFLIGHT_MODE_VARIABLE = "SP_PREFLIGHT"


def preflight_enforced() -> bool:
    """Whether unacknowledged preflight findings fail the harness and the main job (see ``SP_PREFLIGHT``)."""
    mode = os.environ.get(PREFLIGHT_MODE_VARIABLE, "enforce")
    if mode not in ("record", "enforce"):
        raise ValueError(f"{PREFLIGHT_MODE_VARIABLE} must be 'record' or 'enforce', not {mode!r}")
    return mode == "enforce"

#: App context that makes synthesis collect findings into ``validation-report.json``
#: instead of raising on the first one.
COLLECT_FINDINGS_CONTEXT: Mapping[str, Any] = {"@aws-cdk/core:failSynthOnValidationErrors": False}


def add_nag_packs(app: App) -> None:
    """Run all five cdk-nag packs when ``app`` synthesizes."""
    import cdk_nag

    Validations.of(app).add_plugins(
        cdk_nag.AwsSolutionsChecks(app),
        cdk_nag.ServerlessChecks(app),
        cdk_nag.HIPAASecurityChecks(app),
        cdk_nag.NIST80053R5Checks(app),
        cdk_nag.PCIDSS321Checks(app),
    )


def add_preflight_checks(app: App) -> None:
    """Run the deploy preflight pack when ``app`` synthesizes (plugin name ``DeployPreflight``)."""
    from .preflight import DeployPreflightChecks

    Validations.of(app).add_plugins(DeployPreflightChecks())



def nag_resource(scope: IConstruct, value: str) -> str:
    """``value`` (an ARN, usually a token) as cdk-nag prints it in a finding of ``scope``'s stack.

    ``<LogicalId.Arn>`` for ``Fn::GetAtt``, ``<LogicalId>`` for ``Ref``, the export's name for an
    ``Fn::ImportValue`` (a resource of another stack), joined as ``Fn::Join`` joins them: what an
    ``AwsSolutions-IAM5[Resource::...]`` acknowledgement must name to match exactly one resource.
    """
    def render(part: object) -> str:
        if isinstance(part, str):
            return part
        if isinstance(part, dict) and "Ref" in part:
            return f"<{part['Ref']}>"
        if isinstance(part, dict) and "Fn::GetAtt" in part:
            return f"<{'.'.join(part['Fn::GetAtt'])}>"
        if isinstance(part, dict) and "Fn::ImportValue" in part:
            return render(part["Fn::ImportValue"])
        if isinstance(part, dict) and "Fn::Join" in part:
            separator, parts = part["Fn::Join"]
            return separator.join(render(p) for p in parts)
        return str(part)

    return render(stack_of(scope).resolve(value))

def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one finding on ``scope`` with a reason a reviewer can check.

    ``rule`` is a cdk-nag rule name as it appears in the report
    (``"AwsSolutions-S1"``, ``"HIPAA.Security-S3BucketReplicationEnabled"``,
    ``"AwsSolutions-IAM5[Resource::*]"``), a preflight rule id
    (``"DeployPreflight::ReservedConcurrency"``) or a checkov check id
    (``"CKV_AWS_116"``). cdk-nag and preflight rules are acknowledged in their
    namespaced form so the reason stays in the report; checkov ids become
    ``checkov:skip`` metadata on the CloudFormation resource under ``scope``.
    """
    acknowledge_all(scope, [rule], reason)


def acknowledge_all(scope: IConstruct, rules: Iterable[str], reason: str) -> None:
    """Acknowledge several findings that share one reason (for example one rule in each pack).

    The cdk-nag acknowledgements go to the jsii kernel in one call (each call into ``aws_cdk`` is
    a round trip to the Node process, which is most of what constructing costs).
    """
    rules = list(rules)
    if not reason or not reason.strip():
        raise ValueError(f"acknowledge: a reason is required for {', '.join(map(repr, rules))}")
    acknowledgments = []
    for rule in rules:
        if rule.startswith("CKV"):
            continue
        if rule.startswith(f"{PREFLIGHT}::"):
            rule_id = rule.split("::", 1)[1]
            if rule_id not in RULES:
                raise ValueError(f"acknowledge: {rule!r} names no preflight rule (known: {', '.join(sorted(RULES))})")
            acknowledgments.append(Acknowledgment(id=rule, reason=reason))
            continue
        pack = rule.split("-", 1)[0]
        if pack not in NAG_PACKS:
            raise ValueError(f"acknowledge: {rule!r} names no known pack ({', '.join([*NAG_PACKS, PREFLIGHT])})")
        acknowledgments.append(Acknowledgment(id=f"{pack}::{rule}", reason=reason))
    if acknowledgments:
        _validations(scope).acknowledge(*acknowledgments)
    checks = [rule for rule in rules if rule.startswith("CKV")]
    if checks:
        _skip_checkov(scope, checks, reason)


def _validations(scope: IConstruct) -> Validations:
    """``Validations.of(scope)``, made once per construct (several calls acknowledge on one)."""
    return remembered(scope, "_serverless_patterns_validations", lambda: Validations.of(scope))


def in_every_pack(rule: str, packs: Iterable[str] = ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")) -> list[str]:
    """The rule names of one check that several packs share, e.g. ``S3BucketReplicationEnabled``."""
    return [f"{pack}-{rule}" for pack in packs]


def _skip_checkov(scope: IConstruct, check_ids: list[str], reason: str) -> None:
    """Write ``check_ids`` into the resource's ``checkov`` skips (replacing earlier skips of them)."""
    resource = scope if isinstance(scope, CfnResource) else default_child_of(scope)
    if not isinstance(resource, CfnResource):
        raise TypeError(f"acknowledge: {path_of(scope)} has no CloudFormation resource for {check_ids[0]}")
    skips = (resource.get_metadata("checkov") or {}).get("skip", [])
    for check_id in check_ids:
        skips = [skip for skip in skips if skip["id"] != check_id]
        skips.append({"id": check_id, "comment": reason})
    resource.add_metadata("checkov", {"skip": skips})


@dataclass(frozen=True)
class Finding:
    """One rule violated by one resource."""

    tool: str
    rule: str
    path: str
    severity: str = "error"
    reason: str | None = None  # set when acknowledged

    def __str__(self) -> str:
        note = f" (acknowledged: {self.reason})" if self.reason else ""
        return f"[{self.tool}] {self.rule} at {self.path}{note}"


@dataclass
class ComplianceReport:
    """Findings of every tool for one cloud assembly."""

    findings: list[Finding] = field(default_factory=list)
    acknowledged: list[Finding] = field(default_factory=list)
    packs_run: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """True when no finding is left unacknowledged."""
        return not self.findings

    def extend(self, other: ComplianceReport) -> None:
        self.findings.extend(other.findings)
        self.acknowledged.extend(other.acknowledged)
        self.packs_run.extend(p for p in other.packs_run if p not in self.packs_run)

    def partition(self, tool: str) -> tuple[ComplianceReport, ComplianceReport]:
        """``(everything but tool, only tool)``: e.g. the cdk-nag packs and the preflight pack apart."""
        others = ComplianceReport(packs_run=[p for p in self.packs_run if p != tool])
        only = ComplianceReport(packs_run=[p for p in self.packs_run if p == tool])
        for finding in self.findings:
            (only if finding.tool == tool else others).findings.append(finding)
        for finding in self.acknowledged:
            (only if finding.tool == tool else others).acknowledged.append(finding)
        return others, only

    def by_tool(self) -> dict[str, tuple[int, int]]:
        """``{tool: (unacknowledged, acknowledged)}`` for every tool that ran."""
        counts: dict[str, list[int]] = {tool: [0, 0] for tool in self.packs_run}
        for finding in self.findings:
            counts.setdefault(finding.tool, [0, 0])[0] += 1
        for finding in self.acknowledged:
            counts.setdefault(finding.tool, [0, 0])[1] += 1
        return {tool: (c[0], c[1]) for tool, c in counts.items()}


def read_nag_report(outdir: str | os.PathLike[str]) -> ComplianceReport:
    """Parse ``validation-report.json`` written by a synth with :data:`COLLECT_FINDINGS_CONTEXT`.

    Every plugin of the report counts (the five packs and, when added, the preflight pack).
    """
    report_path = Path(outdir) / "validation-report.json"
    report = ComplianceReport(packs_run=list(NAG_PACKS))
    if not report_path.exists():  # no plugin reported anything: every pack passed
        return report
    data = json.loads(report_path.read_text())
    for plugin in data.get("pluginReports", []):
        tool = plugin["pluginName"]
        if tool not in report.packs_run:
            report.packs_run.append(tool)
        for violation in plugin.get("violations", []):
            for construct in violation["violatingConstructs"]:
                report.findings.append(
                    Finding(tool, violation["ruleName"], construct["constructPath"], violation.get("severity", "error"))
                )
        for violation in plugin.get("suppressedViolations", []):
            for construct in violation["violatingConstructs"]:
                report.acknowledged.append(
                    Finding(
                        tool,
                        violation["ruleName"],
                        construct["constructPath"],
                        violation.get("severity", "error"),
                        violation.get("reason") or "",
                    )
                )
    return report


def run_cfn_lint(
    template_paths: Iterable[str | os.PathLike[str]], regions: Iterable[str] = ("us-east-1",)
) -> ComplianceReport:
    """Lint CloudFormation templates with cfn-lint; errors and warnings are findings."""
    from cfnlint.api import ManualArgs, lint

    report = ComplianceReport(packs_run=["cfn-lint"])
    for path in template_paths:
        for match in lint(Path(path).read_text(), config=ManualArgs(regions=list(regions))):
            if match.rule.id.startswith("I"):
                continue  # informational, not a finding
            report.findings.append(
                Finding("cfn-lint", f"{match.rule.id} {match.message}", f"{Path(path).name}:{match.linenumber}")
            )
    return report


def run_checkov(template_paths: Iterable[str | os.PathLike[str]]) -> ComplianceReport:
    """Run checkov over CloudFormation templates; failed checks are findings, skips acknowledged."""
    paths = [str(p) for p in template_paths]
    report = ComplianceReport(packs_run=["checkov"])
    if not paths:
        return report
    command = [
        sys.executable, "-m", "checkov.main", "--framework", "cloudformation",
        "--output", "json", "--skip-download",
    ]
    for path in paths:
        command += ["--file", path]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise RuntimeError(f"checkov failed ({result.returncode}): {result.stderr[-2000:]}")
    data = json.loads(result.stdout)
    for run in data if isinstance(data, list) else [data]:
        results = run.get("results", {})
        for check in results.get("failed_checks", []):
            report.findings.append(
                Finding("checkov", f"{check['check_id']} {check['check_name']}", check["resource"])
            )
        for check in results.get("skipped_checks", []):
            comment = (check.get("check_result") or {}).get("suppress_comment", "")
            report.acknowledged.append(
                Finding("checkov", check["check_id"], check["resource"], reason=comment)
            )
    return report
