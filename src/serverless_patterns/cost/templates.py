"""Reading synthesized CloudFormation templates: a cloud assembly directory or template files.

Only JSON is read (what ``cdk synth`` writes). References between resources are followed through
``Ref`` and ``Fn::GetAtt``; a ``Ref`` to a parameter resolves to its ``Default``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY = "cdk:cloud-assembly"


@dataclass
class Stack:
    """One template and the name it is reported under."""

    name: str
    template: dict[str, Any]
    region: str | None = None
    resources: dict[str, dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.resources = dict(self.template.get("Resources") or {})

    def of_type(self, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """(logical id, properties) of every resource of one of ``types``, in template order."""
        for logical_id, resource in self.resources.items():
            if resource.get("Type") in types:
                yield logical_id, resource.get("Properties") or {}

    def type_of(self, logical_id: str) -> str | None:
        return (self.resources.get(logical_id) or {}).get("Type")

    def properties(self, logical_id: str) -> dict[str, Any]:
        return (self.resources.get(logical_id) or {}).get("Properties") or {}

    def value(self, value: Any) -> Any:
        """``value`` with a ``Ref`` to a template parameter replaced by the parameter's default."""
        if isinstance(value, Mapping) and set(value) == {"Ref"}:
            parameter = (self.template.get("Parameters") or {}).get(value["Ref"])
            if parameter is not None:
                return parameter.get("Default")
        return value

    def number(self, value: Any, default: float | None = None) -> float | None:
        resolved = self.value(value)
        try:
            return float(resolved)
        except (TypeError, ValueError):
            return default

    def refs(self, value: Any) -> set[str]:
        """Logical ids of the resources that ``value`` references (``Ref``/``Fn::GetAtt``, nested)."""
        found: set[str] = set()
        _collect_refs(value, found)
        return {logical_id for logical_id in found if logical_id in self.resources}


def _collect_refs(value: Any, found: set[str]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::GetAtt":
                target = item[0] if isinstance(item, list) and item else str(item).split(".")[0]
                if isinstance(target, str):
                    found.add(target)
            else:
                _collect_refs(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect_refs(item, found)


def load_stacks(path: str | Path) -> list[Stack]:
    """The stacks of a cloud assembly directory (``cdk.out``), a directory of ``*.template.json``, or one template file.

    Raises ``ValueError`` naming ``path`` when nothing can be read from it.
    """
    path = Path(path)
    if path.is_file():
        return [Stack(path.name.removesuffix(".json").removesuffix(".template"), _read_json(path))]
    if not path.is_dir():
        raise ValueError(f"{path}: no such file or directory")
    manifest = path / "manifest.json"
    stacks = list(_assembly_stacks(path, manifest)) if manifest.is_file() else [
        Stack(file.name.removesuffix(".template.json"), _read_json(file)) for file in sorted(path.glob("*.template.json"))
    ]
    if not stacks:
        raise ValueError(f"{path}: no CloudFormation templates (expected a cloud assembly or *.template.json files)")
    return sorted(stacks, key=lambda stack: stack.name)


def _assembly_stacks(directory: Path, manifest: Path) -> Iterator[Stack]:
    artifacts = _read_json(manifest).get("artifacts") or {}
    for artifact_id, artifact in artifacts.items():
        properties = artifact.get("properties") or {}
        if artifact.get("type") == STACK_ARTIFACT:
            environment = str(artifact.get("environment") or "")
            region = environment.rsplit("/", 1)[-1] if environment.startswith("aws://") else None
            name = properties.get("stackName") or artifact_id
            yield Stack(name, _read_json(directory / properties["templateFile"]), None if region in (None, "unknown-region") else region)
        elif artifact.get("type") == NESTED_ASSEMBLY and properties.get("directoryName"):
            nested = directory / properties["directoryName"]
            if (nested / "manifest.json").is_file():
                yield from _assembly_stacks(nested, nested / "manifest.json")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a readable JSON template ({error})") from error
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a CloudFormation template (top level is not an object)")  # noqa: TRY004 (bad file content)
    return data
