"""Deploy preflight: template checks for what fails (or silently never works) on a real deployment.

cdk-nag, cfn-lint and checkov check security and syntax; none of them knows that S3 log
delivery refuses SSE-KMS targets, that a retained log group with a fixed name blocks every
retry of a failed create, or that a FIFO queue cannot be an EventBridge dead-letter queue.
Each rule here is one such constraint from AWS's documentation, with a stable id::

    from aws_cdk import Acknowledgment, Validations
    from serverless_patterns.preflight import DeployPreflightChecks

    Validations.of(app).add_plugins(DeployPreflightChecks())
    Validations.of(construct).acknowledge(
        Acknowledgment(id="DeployPreflight::ReservedConcurrency", reason="account quota is 1000")
    )

``check_template`` runs the same rules on a template dict, without CDK. The rule list with
ids, severities and sources is ``RULES`` (and ``docs/preflight.md``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from . import (  # noqa: F401 (importing a rule module registers its rules)
    access_logs,
    alarms_and_distributions,
    api_gateway,
    functions,
    key_policies,
    messaging,
    naming,
)
from ._registry import ERROR, PLUGIN_NAME, RULES, WARNING, Rule, Violation
from ._template import Template

__all__ = [
    "ERROR", "PLUGIN_NAME", "RULES", "WARNING", "DeployPreflightChecks", "Rule", "Violation", "check_template",
    "selected_rules",
]


def selected_rules(rules: Iterable[str] | None = None) -> list[Rule]:
    """The registered rules, or the ones named in ``rules`` (unknown ids raise ValueError)."""
    if rules is None:
        return list(RULES.values())
    names = list(rules)
    unknown = [name for name in names if name not in RULES]
    if unknown:
        raise ValueError(f"DeployPreflightChecks: unknown rule ids {unknown}; known: {sorted(RULES)}")
    return [RULES[name] for name in names]


def check_template(
    template: dict[str, Any], *, region: str | None = None, rules: Iterable[str] | None = None
) -> list[Violation]:
    """Every violation of the preflight rules in one template (a dict), without CDK."""
    view = Template(template, region=region)
    return [violation for rule in selected_rules(rules) for violation in rule.run(view)]


def __getattr__(name: str) -> Any:
    # The plugin needs aws_cdk (the jsii runtime); the rules do not.
    if name == "DeployPreflightChecks":
        from . import plugin

        return getattr(plugin, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from .plugin import DeployPreflightChecks
