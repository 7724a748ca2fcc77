"""Shared test harness: synthesize once, check compliance, snapshot a normalised template.

Every construct's tests use :func:`synthesize` from a module-scoped fixture, so
each configuration is synthesized once per test module.
"""

from __future__ import annotations

import copy
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Stack, Token
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from constructs import IConstruct

from serverless_patterns.alert_topic import AlertTopic
from serverless_patterns.compliance import (
    COLLECT_FINDINGS_CONTEXT,
    PREFLIGHT,
    ComplianceReport,
    acknowledge,
    add_nag_packs,
    add_preflight_checks,
    preflight_enforced,
    read_nag_report,
    run_cfn_lint,
    run_checkov,
)

#: Account and Region for tests that need a concrete environment (lookups, Region-specific ARNs).
TEST_ENV = Environment(account="123456789012", region="us-east-1")

#: Why a construct test configuration's alert topic may have no subscriber. The acknowledgement is
#: made here, in test code, never by the library: a user's stack gets the finding (see docs/preflight.md).
UNSUBSCRIBED_TEST_ALERTS_REASON = (
    "Test configuration, never deployed: it checks the alarms the construct creates, not who receives "
    "them. A deployment subscribes someone (alert_emails, an AlertEmail parameter) or acknowledges this itself."
)

#: The acknowledgement id prefix of the warnings the library emits for a user's mistake (``add_warning_v2``).
LIBRARY_WARNING_PREFIX = "[ack: serverless-patterns:"

_HASH = re.compile(r"[0-9a-f]{64}")
_DROPPED_METADATA = ("aws:asset:", "aws:cdk:")


@dataclass
class Synthesized:
    """A synthesized stack with its template and compliance results.

    ``nag`` holds the five cdk-nag packs, ``preflight`` the deploy preflight pack (both from
    CDK's validation report, so acknowledgements work the same way for both).
    """

    stack_name: str
    outdir: Path
    template: dict[str, Any]
    nag: ComplianceReport
    extra: dict[str, Any] = field(default_factory=dict)
    preflight: ComplianceReport = field(default_factory=lambda: ComplianceReport(packs_run=[PREFLIGHT]))
    #: ``(construct path, message)`` of every warning annotation of the stack (``cdk synth --strict`` fails on them).
    warnings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def cdk_warnings(self) -> list[tuple[str, str]]:
        """The warnings the library does not emit on purpose (for a user's mistake): CDK's own."""
        return [(path, message) for path, message in self.warnings if LIBRARY_WARNING_PREFIX not in message]

    @cached_property
    def assertions(self) -> Template:
        return Template.from_json(self.template)

    @property
    def template_path(self) -> Path:
        return self.outdir / f"{self.stack_name}.template.json"

    @cached_property
    def cfn_lint(self) -> ComplianceReport:
        region = self.template_region()
        return run_cfn_lint([self.template_path], regions=[region])

    @cached_property
    def checkov(self) -> ComplianceReport:
        return run_checkov([self.template_path])

    def template_region(self) -> str:
        return self.extra.get("region") or "us-east-1"

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type
        }

    def only(self, resource_type: str) -> dict[str, Any]:
        """The properties of the single resource of ``resource_type``."""
        found = self.resources(resource_type)
        assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
        return next(iter(found.values())).get("Properties", {})

    def normalised(self) -> dict[str, Any]:
        return normalise_template(self.template)


def acknowledge_unsubscribed_alert_topics(scope: IConstruct) -> list[str]:
    """Acknowledge ``AlarmTopicWithoutSubscription`` on each :class:`AlertTopic` (or plain SNS topic)
    under ``scope`` that has no subscription, with :data:`UNSUBSCRIBED_TEST_ALERTS_REASON`; returns their paths."""
    paths = []
    for construct in scope.node.find_all():
        mine = isinstance(construct, AlertTopic)
        # a user's own topic passed as alert/alarm topic (not the one inside an AlertTopic)
        own = isinstance(construct, sns.Topic) and not isinstance(construct.node.scope, AlertTopic)
        if (mine or own) and not any(isinstance(child, sns.CfnSubscription) for child in construct.node.find_all()):
            topic = construct.topic if mine else construct
            acknowledge(topic, f"{PREFLIGHT}::AlarmTopicWithoutSubscription", UNSUBSCRIBED_TEST_ALERTS_REASON)
            paths.append(construct.node.path)
    return paths


def synthesize(
    build: Callable[[Stack], Any],
    *,
    stack_name: str = "Test",
    env: Environment | None = None,
    context: Mapping[str, Any] | None = None,
    test_alerts_unsubscribed: bool = True,
) -> Synthesized:
    """Build a fresh app and stack, run ``build(stack)``, synthesize with the five nag packs.

    Findings are collected, not raised. ``build`` may return a value, kept in ``extra["built"]``.
    The deploy preflight pack runs too (``synth.preflight``). A construct test configuration is
    never deployed, so its alert topics without a subscriber are acknowledged here
    (:func:`acknowledge_unsubscribed_alert_topics`); ``test_alerts_unsubscribed=False`` leaves the
    finding open, as a user's stack sees it. Example apps (:func:`synthesize_app`) get no such help.
    """
    outdir = Path(tempfile.mkdtemp(prefix="sp-synth-"))
    app = App(outdir=str(outdir), context={**COLLECT_FINDINGS_CONTEXT, **(context or {})})
    stack = Stack(app, stack_name, env=env)
    built = build(stack)
    if test_alerts_unsubscribed:
        acknowledge_unsubscribed_alert_topics(stack)
    add_nag_packs(app)
    add_preflight_checks(app)
    assembly = app.synth()
    artifact = assembly.get_stack_by_name(stack_name)
    nag, preflight = read_nag_report(outdir).partition(PREFLIGHT)
    return Synthesized(
        stack_name=stack_name,
        outdir=outdir,
        template=artifact.template,
        nag=nag,
        preflight=preflight,
        extra={"built": built, "region": env.region if env else None},
        warnings=warnings_of(artifact),
    )


def synthesize_app(build: Callable[[App], list[Stack]], *, context: Mapping[str, Any] | None = None) -> Synthesized:
    """Synthesize a one-stack example app (its ``build(app)``) with the five nag packs and preflight.

    ``extra["built"]`` is the stack; ``extra["region"]`` its Region when the app pins one.
    """
    outdir = Path(tempfile.mkdtemp(prefix="sp-app-"))
    app = App(outdir=str(outdir), context={**COLLECT_FINDINGS_CONTEXT, **(context or {})})
    (stack,) = build(app)
    add_nag_packs(app)
    add_preflight_checks(app)
    assembly = app.synth()
    nag, preflight = read_nag_report(outdir).partition(PREFLIGHT)
    artifact = assembly.get_stack_by_name(stack.stack_name)
    return Synthesized(
        stack_name=stack.artifact_id,
        outdir=outdir,
        template=artifact.template,
        nag=nag,
        preflight=preflight,
        extra={"built": stack, "region": None if Token.is_unresolved(stack.region) else stack.region},
        warnings=warnings_of(artifact),
    )


def warnings_of(artifact: Any) -> list[tuple[str, str]]:
    """``(construct path, message)`` of the warning annotations of a stack artifact."""
    return [
        (message.id, str(message.entry.data))
        for message in artifact.messages
        if str(message.level).endswith("WARNING")
    ]


def normalise_template(template: dict[str, Any]) -> dict[str, Any]:
    """Drop what changes without the template changing: asset hashes, bootstrap and CDK metadata."""
    result = copy.deepcopy(template)
    result.get("Parameters", {}).pop("BootstrapVersion", None)
    if not result.get("Parameters"):
        result.pop("Parameters", None)
    result.get("Rules", {}).pop("CheckBootstrapVersion", None)
    if not result.get("Rules"):
        result.pop("Rules", None)
    result.get("Resources", {}).pop("CDKMetadata", None)
    if result.get("Conditions", {}).keys() == {"CDKMetadataAvailable"}:
        del result["Conditions"]
    for resource in result.get("Resources", {}).values():
        metadata = resource.get("Metadata")
        if metadata:
            for key in [k for k in metadata if k.startswith(_DROPPED_METADATA)]:
                del metadata[key]
            if not metadata:
                del resource["Metadata"]
    return json.loads(_HASH.sub("<asset-hash>", json.dumps(result, sort_keys=True)))


#: Every compliance check of this test session, for the generated security page of the docs.
COMPLIANCE_RESULTS: list[dict[str, Any]] = []


def record_compliance(synth: Synthesized) -> None:
    """Remember ``synth``'s findings under the current test's id (see ``COMPLIANCE_RESULTS``)."""
    report = ComplianceReport()
    for part in (synth.nag, synth.preflight, synth.cfn_lint, synth.checkov):
        report.extend(part)
    COMPLIANCE_RESULTS.append(
        {
            "test": os.environ.get("PYTEST_CURRENT_TEST", synth.stack_name).split(" ")[0],
            "resources": len(synth.template.get("Resources", {})),
            "tools": {tool: list(counts) for tool, counts in report.by_tool().items()},
            "acknowledged": [
                {"tool": a.tool, "rule": a.rule, "path": a.path, "reason": a.reason} for a in report.acknowledged
            ],
            "preflight_open": [{"rule": f.rule, "path": f.path} for f in synth.preflight.findings],
        }
    )


def assert_compliant(synth: Synthesized) -> None:
    """Zero unacknowledged findings in the five packs, preflight, cfn-lint and checkov, no CDK warning; every acknowledgement reasoned.

    Preflight findings fail only when ``SP_PREFLIGHT=enforce`` (see
    :func:`serverless_patterns.compliance.preflight_enforced`); until then they are recorded
    for the security page and the main job's summary.
    """
    record_compliance(synth)
    preflight = synth.preflight.findings if preflight_enforced() else []
    problems = [*synth.nag.findings, *preflight, *synth.cfn_lint.findings, *synth.checkov.findings]
    assert not problems, "unacknowledged findings:\n" + "\n".join(map(str, problems))
    # ``cdk synth --strict`` fails on any warning; only the library's own (a user's mistake) may remain.
    assert not synth.cdk_warnings, "CDK warnings:\n" + "\n".join(f"{p}: {m}" for p, m in synth.cdk_warnings)
    acknowledged = [*synth.nag.acknowledged, *synth.preflight.acknowledged, *synth.checkov.acknowledged]
    unreasoned = [a for a in acknowledged if not (a.reason or "").strip()]
    assert not unreasoned, "acknowledgements without a reason:\n" + "\n".join(map(str, unreasoned))


def acknowledged_rules(synth: Synthesized) -> dict[str, set[str]]:
    """``{construct path: {rule, ...}}`` of every acknowledged finding (cdk-nag, preflight and checkov).

    Leaves out the harness's own test-configuration acknowledgement (:data:`UNSUBSCRIBED_TEST_ALERTS_REASON`):
    the tests pin what the library acknowledges.
    """
    result: dict[str, set[str]] = {}
    for finding in [*synth.nag.acknowledged, *synth.preflight.acknowledged, *synth.checkov.acknowledged]:
        if finding.reason == UNSUBSCRIBED_TEST_ALERTS_REASON:
            continue
        result.setdefault(finding.path, set()).add(finding.rule.split(" ")[0])
    return result
