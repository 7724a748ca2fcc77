"""A read-only view of one synthesized CloudFormation template, for the preflight rules.

Rules look at references between resources (``Ref``, ``Fn::GetAtt``, ``Fn::Sub``), at
policy documents, and at what a value is made of. Nothing here imports ``aws_cdk``: the
rules run on plain dict templates, in tests and on templates written by any tool.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import Any

_SUB_REFERENCE = re.compile(r"\$\{([^}!][^}]*)\}")


def render(value: Any) -> str:
    """``value`` as a string, intrinsic functions kept as ``${...}`` markers.

    ``{"Ref": "AWS::Region"}`` renders as ``${AWS::Region}``, ``Fn::GetAtt [Key, Arn]`` as
    ``${Key.Arn}``; ``Fn::Join`` and ``Fn::Sub`` are expanded. Used to pattern-match names,
    ARNs and principals, and to see whether a name is built from ``AWS::StackId``.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, list):
        return ",".join(render(item) for item in value)
    if isinstance(value, dict) and len(value) == 1:
        (function, args), = value.items()
        if function == "Ref":
            return f"${{{args}}}"
        if function == "Fn::GetAtt":
            parts = args.split(".", 1) if isinstance(args, str) else args
            return f"${{{'.'.join(render(p) for p in parts)}}}"
        if function == "Fn::Join" and isinstance(args, list) and len(args) == 2:
            separator, parts = args
            if isinstance(parts, list):
                return render(separator).join(render(part) for part in parts)
        if function == "Fn::Sub":
            text, variables = (args, {}) if isinstance(args, str) else (args[0], args[1] if len(args) > 1 else {})
            return _SUB_REFERENCE.sub(
                lambda m: render(variables[m.group(1)]) if m.group(1) in variables else m.group(0), text
            )
        if function == "Fn::ImportValue":
            return f"${{Import:{render(args)}}}"
        return f"${{{function}:{render(args)}}}"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{render(v)}" for k, v in value.items()) + "}"
    return str(value)


def is_unique_per_stack_instance(name: Any) -> bool:
    """True when a physical name is built from ``AWS::StackId``.

    A stack's id changes when the stack is deleted and created again; its name does not.
    A name that contains the stack name, a parameter or a literal is the same in the next
    attempt, so a retained resource from the previous attempt collides with it.
    """
    return "AWS::StackId" in render(name)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class Template:
    """One template: its resources and the references between them."""

    def __init__(self, template: dict[str, Any], *, region: str | None = None, path: str | None = None) -> None:
        self.raw = template
        self.resources: dict[str, dict[str, Any]] = template.get("Resources", {}) or {}
        self.region = region
        self.path = path

    # -- resources ---------------------------------------------------------------------------
    def of_type(self, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.resources.items():
            if resource.get("Type") in types:
                yield logical_id, resource

    def type_of(self, logical_id: str | None) -> str | None:
        if logical_id is None or logical_id not in self.resources:
            return None
        return self.resources[logical_id].get("Type")

    def props(self, logical_id: str) -> dict[str, Any]:
        return self.resources.get(logical_id, {}).get("Properties", {}) or {}

    # -- references --------------------------------------------------------------------------
    def target(self, value: Any) -> str | None:
        """The logical id ``value`` points at (``Ref``, ``Fn::GetAtt``, a one-reference ``Fn::Sub``)."""
        if isinstance(value, dict) and len(value) == 1:
            (function, args), = value.items()
            if function == "Ref" and isinstance(args, str) and args in self.resources:
                return args
            if function == "Fn::GetAtt":
                name = args.split(".", 1)[0] if isinstance(args, str) else args[0]
                return name if name in self.resources else None
            if function == "Fn::Sub":
                text = args if isinstance(args, str) else args[0]
                names = {m.group(1).split(".", 1)[0] for m in _SUB_REFERENCE.finditer(text)}
                found = [n for n in names if n in self.resources]
                return found[0] if len(found) == 1 else None
        return None

    def target_key(self, value: Any) -> str | None:
        """The ``AWS::KMS::Key`` that ``value`` names, following an ``AWS::KMS::Alias`` in the template."""
        logical_id = self.target(value)
        if self.type_of(logical_id) == "AWS::KMS::Alias":
            logical_id = self.target(self.props(logical_id).get("TargetKeyId"))
        return logical_id if self.type_of(logical_id) == "AWS::KMS::Key" else None

    def referenced(self, value: Any) -> set[str]:
        """Every logical id referenced anywhere inside ``value``."""
        found: set[str] = set()

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if len(node) == 1:
                    (function, args), = node.items()
                    if function == "Ref" and isinstance(args, str) and args in self.resources:
                        found.add(args)
                    elif function == "Fn::GetAtt":
                        name = args.split(".", 1)[0] if isinstance(args, str) else args[0]
                        if name in self.resources:
                            found.add(name)
                    elif function == "Fn::Sub":
                        text = args if isinstance(args, str) else args[0]
                        for match in _SUB_REFERENCE.finditer(text):
                            name = match.group(1).split(".", 1)[0]
                            if name in self.resources:
                                found.add(name)
                for child in node.values():
                    walk(child)
            elif isinstance(node, list):
                for child in node:
                    walk(child)

        walk(value)
        return found

    @cached_property
    def _dependencies(self) -> dict[str, set[str]]:
        graph: dict[str, set[str]] = {}
        for logical_id, resource in self.resources.items():
            edges = self.referenced(resource.get("Properties", {}))
            edges |= {d for d in as_list(resource.get("DependsOn")) if d in self.resources}
            graph[logical_id] = edges
        return graph

    def depends_on(self, logical_id: str, other: str) -> bool:
        """True when CloudFormation creates ``other`` before ``logical_id`` (directly or transitively)."""
        seen: set[str] = set()
        stack = [logical_id]
        while stack:
            current = stack.pop()
            for edge in self._dependencies.get(current, ()):
                if edge == other:
                    return True
                if edge not in seen:
                    seen.add(edge)
                    stack.append(edge)
        return False

    # -- resource policies --------------------------------------------------------------------
    def key_policy(self, key_id: str) -> dict[str, Any]:
        return self.props(key_id).get("KeyPolicy") or {}

    def bucket_policies(self, bucket_id: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (logical_id, resource.get("Properties", {}).get("PolicyDocument") or {})
            for logical_id, resource in self.of_type("AWS::S3::BucketPolicy")
            if self.target(resource.get("Properties", {}).get("Bucket")) == bucket_id
        ]


# -- policy documents -------------------------------------------------------------------------
def statements(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        return []
    return [s for s in as_list(document.get("Statement")) if isinstance(s, dict)]


def _principal_matches(statement: dict[str, Any], service: re.Pattern[str]) -> bool:
    principal = statement.get("Principal")
    if principal == "*" or (isinstance(principal, dict) and principal.get("AWS") == "*"):
        return not statement.get("Condition")  # anyone, unconditionally
    if not isinstance(principal, dict):
        return False
    return any(service.fullmatch(render(s)) for s in as_list(principal.get("Service")))


def _action_covers(statement: dict[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not any(fnmatch.fnmatchcase(action.lower(), render(a).lower()) for a in as_list(statement["NotAction"]))
    return any(fnmatch.fnmatchcase(action.lower(), render(a).lower()) for a in as_list(statement.get("Action")))


def allowing_statements(documents: Iterable[Any], service: re.Pattern[str], action: str) -> list[dict[str, Any]]:
    """The ``Allow`` statements of ``documents`` that let ``service`` perform ``action``."""
    return [
        statement
        for document in documents
        for statement in statements(document)
        if statement.get("Effect") == "Allow" and _principal_matches(statement, service) and _action_covers(statement, action)
    ]


def missing_actions(documents: Iterable[Any], service: re.Pattern[str], actions: Iterable[str]) -> list[str]:
    """The ``actions`` that no ``Allow`` statement of ``documents`` grants to ``service``."""
    documents = list(documents)
    return [action for action in actions if not allowing_statements(documents, service, action)]


def service_principal(name: str) -> re.Pattern[str]:
    """A pattern for a global service principal (``events`` -> ``events.amazonaws.com``)."""
    return re.compile(rf"{re.escape(name)}\.amazonaws\.com(\.cn)?")


def regional_logs_principal(region: str | None) -> re.Pattern[str]:
    """``logs.<region>.amazonaws.com``, where the region is the stack's or ``${AWS::Region}``."""
    regions = [re.escape("${AWS::Region}")]
    if region:
        regions.append(re.escape(region))
    else:
        regions.append(r"[a-z]{2}(-[a-z]+)+-\d")
    return re.compile(rf"logs\.({'|'.join(regions)})\.amazonaws\.com(\.cn)?")
