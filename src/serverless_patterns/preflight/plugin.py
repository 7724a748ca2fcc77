"""``DeployPreflightChecks``: the preflight rules as a CDK policy validation plugin."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import (
    IPolicyValidationPlugin,
    PolicyValidationPluginReport,
    PolicyViolatingResource,
    PolicyViolation,
)

from ..__about__ import __version__
from . import selected_rules
from ._registry import ERROR, PLUGIN_NAME
from ._template import Template


@jsii.implements(IPolicyValidationPlugin)
class DeployPreflightChecks:
    """Deploy-time constraints that cdk-nag, cfn-lint and checkov do not check.

    Add it to an app like a cdk-nag pack::

        Validations.of(app).add_plugins(DeployPreflightChecks())

    Acknowledge a finding on the narrowest construct with
    ``Validations.of(construct).acknowledge(Acknowledgment(id="DeployPreflight::<RuleId>", reason=...))``.

    Parameters
    ----------
    rules:
        Rule ids to run. Default: every rule (see ``docs/preflight.md``).
    fail_on_warnings:
        Whether warning-level findings also make the report fail, as cdk-nag's do. Default: True.
    """

    def __init__(self, *, rules: Iterable[str] | None = None, fail_on_warnings: bool = True) -> None:
        self._rules = selected_rules(rules)
        self._fail_on_warnings = fail_on_warnings

    @property
    def name(self) -> str:
        return PLUGIN_NAME

    @property
    def version(self) -> str:
        return __version__

    @property
    def rule_ids(self) -> list[str]:
        return [rule.id for rule in self._rules]

    def validate(self, context: Any) -> PolicyValidationPluginReport:
        regions = {stack.template_path: stack.region for stack in context.stack_templates}
        violations = []
        for path in context.template_paths:
            view = Template(json.loads(Path(path).read_text()), region=regions.get(path), path=path)
            for rule in self._rules:
                violations += [
                    PolicyViolation(
                        rule_name=rule.id,
                        description=f"{rule.summary} {found.logical_id} {found.message}. Source: {rule.source}.",
                        fix=rule.fix,
                        severity=rule.severity,
                        violating_resources=[
                            PolicyViolatingResource(
                                resource_logical_id=found.logical_id, template_path=path, locations=[found.location]
                            )
                        ],
                    )
                    for found in rule.run(view)
                ]
        failing = [v for v in violations if v.severity == ERROR or self._fail_on_warnings]
        return PolicyValidationPluginReport(success=not failing, violations=violations, plugin_version=__version__)
