"""The rule registry: every preflight rule, its id, severity and the AWS page it comes from."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ._template import Template

#: The plugin name in CDK's validation report; acknowledgement ids are ``DeployPreflight::<RuleId>``.
PLUGIN_NAME = "DeployPreflight"

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Violation:
    """One resource that breaks one rule."""

    rule_id: str
    logical_id: str
    message: str
    location: str = "Properties"


Check = Callable[[Template], Iterator[tuple[str, str] | tuple[str, str, str]]]


@dataclass(frozen=True)
class Rule:
    """A deploy-time constraint that cdk-nag, cfn-lint and checkov do not check.

    ``check`` yields ``(logical_id, message)`` or ``(logical_id, message, location)`` for
    every resource that breaks the constraint.
    """

    id: str
    severity: str
    summary: str
    fix: str
    source: str  # the AWS documentation page title the constraint comes from
    check: Check

    @property
    def acknowledgement_id(self) -> str:
        return f"{PLUGIN_NAME}::{self.id}"

    def run(self, template: Template) -> list[Violation]:
        found = []
        for item in self.check(template):
            logical_id, message, *location = item
            found.append(Violation(self.id, logical_id, message, location[0] if location else "Properties"))
        return found


RULES: dict[str, Rule] = {}


def rule(*, id: str, severity: str, summary: str, fix: str, source: str) -> Callable[[Check], Check]:
    """Register ``check`` as the rule ``id`` (ids are unique and stable: users acknowledge them)."""

    def register(check: Check) -> Check:
        if id in RULES:
            raise ValueError(f"duplicate preflight rule id {id!r}")
        if severity not in (ERROR, WARNING):
            raise ValueError(f"rule {id}: severity must be {ERROR!r} or {WARNING!r}, not {severity!r}")
        RULES[id] = Rule(id=id, severity=severity, summary=summary, fix=fix, source=source, check=check)
        return check

    return register
