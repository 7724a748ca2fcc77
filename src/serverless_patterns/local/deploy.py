"""The local deployment's template transform: leave out what the local engine cannot create.

``make deploy-local`` deploys every example app on MiniStack, a CloudFormation engine on
loopback. The engine refuses a whole template when it holds a resource type it does not
implement ("Unrecognized resource types"), so the deployed copy of the cloud assembly leaves
those resources out, and with them everything that would dangle:

- a resource of a type in :data:`UNSUPPORTED` (or matching its predicate, e.g. metric-math
  alarms) is left out;
- a resource whose properties, condition or update policy refer to a left-out resource (``Ref``,
  ``Fn::GetAtt``, ``${Name}`` in ``Fn::Sub``) is left out too, and so on until nothing changes;
- ``DependsOn`` entries naming a left-out resource are dropped;
- outputs that refer to a left-out resource are dropped.

Every resource and output left out is reported (:class:`LeftOut`), so the count stays visible:
the goal is that :data:`UNSUPPORTED` shrinks as the engine grows, not that the list is hidden.
Only the local deployment uses this; the synthesized templates are never changed.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Resource attributes whose references make the referring resource depend on the target.
_REFERRING_SECTIONS = ("Properties", "Condition", "UpdatePolicy", "CreationPolicy", "Metadata")
_SUB_VARIABLE = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


@dataclass(frozen=True)
class Unsupported:
    """A resource type the local engine refuses; ``applies`` narrows it to some resources."""

    type: str
    reason: str
    applies: Callable[[Mapping[str, Any]], bool] | None = None

    def matches(self, resource: Mapping[str, Any]) -> bool:
        if resource.get("Type") != self.type:
            return False
        return self.applies is None or bool(self.applies(resource))


def _uses_metric_math(resource: Mapping[str, Any]) -> bool:
    return "Metrics" in (resource.get("Properties") or {})


#: What MiniStack 1.5.33 refuses up front ("Template format error: Unrecognized resource types"),
#: checked by deploying every example app. Remove an entry once the engine creates that type.
UNSUPPORTED: tuple[Unsupported, ...] = (
    Unsupported("AWS::CloudTrail::Trail", "CloudTrail trails are not implemented by the engine's CloudFormation"),
    Unsupported("AWS::EC2::FlowLog", "VPC flow logs are not implemented by the engine's CloudFormation"),
    Unsupported("AWS::WAFv2::LoggingConfiguration", "WAF logging configuration is not implemented"),
    Unsupported("AWS::WAFv2::WebACLAssociation", "WAF web ACL association is not implemented"),
    Unsupported("AWS::ApplicationAutoScaling::ScalableTarget", "Application Auto Scaling is not implemented"),
    Unsupported("AWS::ApplicationAutoScaling::ScalingPolicy", "Application Auto Scaling is not implemented"),
    Unsupported("AWS::Logs::Delivery", "CloudWatch Logs deliveries (vended logs) are not implemented"),
    Unsupported("AWS::Logs::DeliverySource", "CloudWatch Logs deliveries (vended logs) are not implemented"),
    Unsupported("AWS::Logs::DeliveryDestination", "CloudWatch Logs deliveries (vended logs) are not implemented"),
    Unsupported("AWS::SecretsManager::RotationSchedule", "Secrets Manager rotation schedules are not implemented"),
    Unsupported(
        "AWS::CloudWatch::Alarm", "metric-math alarms (Properties.Metrics) are not implemented", _uses_metric_math
    ),
)



@dataclass(frozen=True)
class EngineDeviation:
    """Where the engine behaves unlike AWS at run time, and what the document flow sees because of it."""

    summary: str
    #: Sample file name of the document flow -> the outcome on the engine
    #: ``(API status, detected type, final status)`` instead of the one AWS gives.
    outcomes: Mapping[str, tuple[int, str | None, str | None]]


#: Run-time behaviour of MiniStack 1.5.33 that differs from AWS, found by the document flow.
#: Each entry is checked on every run: when the engine is fixed the flow ends as on AWS, the
#: overridden outcome no longer matches and the run fails, naming the entry to delete.
ENGINE_DEVIATIONS: tuple[EngineDeviation, ...] = (
    EngineDeviation(
        "S3 -> EventBridge 'Object Created' events carry the object key raw; AWS URL-encodes it (+ for a space), "
        "as in classic notifications, which the engine does encode. The processor decodes the key as AWS sends it, "
        "so a key that needs encoding names no registered document and stays AWAITING_UPLOAD on the engine",
        {"Résumé final + notes 2026.txt": (201, None, "AWAITING_UPLOAD")},
    ),
)


def expected_on_engine(
    expected: Mapping[str, tuple[int, str | None, str | None]],
) -> dict[str, tuple[int, str | None, str | None]]:
    """The document flow's expected outcomes with the engine's known deviations applied."""
    outcomes = dict(expected)
    for deviation in ENGINE_DEVIATIONS:
        for name, outcome in deviation.outcomes.items():
            if name not in outcomes:
                raise ValueError(f"ENGINE_DEVIATIONS names {name!r}, which is not a sample of the document flow")
            outcomes[name] = outcome
    return outcomes

@dataclass(frozen=True)
class LeftOut:
    """A resource or output left out of the local deployment, and why."""

    stack: str
    logical_id: str
    kind: str  # the resource type, or "Output"
    reason: str


@dataclass
class LocalTemplate:
    """A template as deployed locally, and what was left out of it."""

    template: dict[str, Any]
    left_out: list[LeftOut] = field(default_factory=list)

    @property
    def resources_left_out(self) -> list[LeftOut]:
        return [item for item in self.left_out if item.kind != "Output"]


def references(value: Any) -> Iterator[str]:
    """Logical ids (and parameters) ``value`` refers to with Ref, Fn::GetAtt or Fn::Sub."""
    if isinstance(value, list):
        for item in value:
            yield from references(item)
        return
    if not isinstance(value, dict):
        return
    for key, argument in value.items():
        if key == "Ref" and isinstance(argument, str):
            yield argument
        elif key == "Fn::GetAtt":
            if isinstance(argument, list) and argument and isinstance(argument[0], str):
                yield argument[0]
            elif isinstance(argument, str):
                yield argument.split(".", 1)[0]
            yield from references(argument)
        elif key == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1] if len(argument) > 1 else {})
            if isinstance(text, str):
                yield from (name for name in _SUB_VARIABLE.findall(text) if name not in variables)
            yield from references(variables)
        else:
            yield from references(argument)


def _resource_references(resource: Mapping[str, Any]) -> set[str]:
    return {name for section in _REFERRING_SECTIONS for name in references(resource.get(section))}


def strip_unsupported(
    template: Mapping[str, Any], *, stack: str = "", unsupported: Iterable[Unsupported] = UNSUPPORTED
) -> LocalTemplate:
    """A copy of ``template`` without the resources the engine refuses and all that refers to them."""
    unsupported = tuple(unsupported)
    result = copy.deepcopy(dict(template))
    resources: dict[str, Any] = result.get("Resources", {})
    left_out: dict[str, LeftOut] = {}
    for logical_id, resource in resources.items():
        rule = next((rule for rule in unsupported if rule.matches(resource)), None)
        if rule is not None:
            left_out[logical_id] = LeftOut(stack, logical_id, resource["Type"], f"engine: {rule.reason}")
    changed = bool(left_out)
    while changed:
        changed = False
        for logical_id, resource in resources.items():
            if logical_id in left_out:
                continue
            gone = sorted(_resource_references(resource) & left_out.keys())
            if gone:
                left_out[logical_id] = LeftOut(stack, logical_id, resource["Type"], f"refers to {', '.join(gone)} (left out)")
                changed = True
    for logical_id in left_out:
        del resources[logical_id]
    for resource in resources.values():
        depends_on = resource.get("DependsOn")
        if depends_on is None:
            continue
        names = [depends_on] if isinstance(depends_on, str) else list(depends_on)
        kept = [name for name in names if name not in left_out]
        if len(kept) != len(names):
            if kept:
                resource["DependsOn"] = kept
            else:
                del resource["DependsOn"]
    outputs_left_out = []
    for name, output in list(result.get("Outputs", {}).items()):
        gone = sorted(set(references(output)) & left_out.keys())
        if gone:
            del result["Outputs"][name]
            outputs_left_out.append(LeftOut(stack, name, "Output", f"refers to {', '.join(gone)} (left out)"))
    return LocalTemplate(result, list(left_out.values()) + outputs_left_out)


def dangling_references(template: Mapping[str, Any]) -> list[str]:
    """``"Name -> Target"`` for every reference to something the template does not define."""
    defined = set(template.get("Resources", {})) | set(template.get("Parameters", {}))
    defined |= {name for name in _PSEUDO_PARAMETERS}
    found = []
    for name, resource in template.get("Resources", {}).items():
        targets = _resource_references(resource)
        depends_on = resource.get("DependsOn", [])
        targets |= {depends_on} if isinstance(depends_on, str) else set(depends_on)
        found += [f"{name} -> {target}" for target in sorted(targets - defined)]
    for name, output in template.get("Outputs", {}).items():
        found += [f"Outputs.{name} -> {target}" for target in sorted(set(references(output)) - defined)]
    return found


_PSEUDO_PARAMETERS = (
    "AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region",
    "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
)


def prepare_assembly(assembly_dir: Path, *, unsupported: Iterable[Unsupported] = UNSUPPORTED) -> dict[str, LocalTemplate]:
    """Rewrite every stack template of the cloud assembly in ``assembly_dir`` in place.

    Pass a copy of the synthesized assembly (``cdk deploy --app <dir>`` then deploys it).
    Returns each stack's :class:`LocalTemplate`, keyed by stack name.
    """
    unsupported = tuple(unsupported)
    manifest = json.loads((assembly_dir / "manifest.json").read_text())
    prepared: dict[str, LocalTemplate] = {}
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        properties = artifact.get("properties", {})
        stack_name = properties.get("stackName", artifact_id)
        path = assembly_dir / properties["templateFile"]
        local = strip_unsupported(json.loads(path.read_text()), stack=stack_name, unsupported=unsupported)
        path.write_text(json.dumps(local.template, indent=1))
        prepared[stack_name] = local
    return prepared


def describe_left_out(prepared: Mapping[str, LocalTemplate]) -> list[str]:
    """Printable lines: one per resource or output left out, then the count."""
    lines = []
    for local in prepared.values():
        lines += [f"  {item.stack}  {item.logical_id}  {item.kind}  ({item.reason})" for item in local.left_out]
    resources = sum(len(local.resources_left_out) for local in prepared.values())
    outputs = sum(len(local.left_out) for local in prepared.values()) - resources
    lines.append(f"  {resources} resources and {outputs} outputs left out of the local deployment")
    return lines
