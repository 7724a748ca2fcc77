"""Which resources of a synthesized template lack a tag, judged by CloudFormation's own schemas.

CDK tags what it knows to be taggable; this check asks the resource provider schemas (shipped with
cfn-lint) instead, so a resource type that CloudFormation can tag but CDK does not would be caught.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cfnlint.schema import PROVIDER_SCHEMA_MANAGER


def tag_property(resource_type: str, region: str) -> str | None:
    """The property that holds the tags of ``resource_type``, or ``None`` when it takes no tags."""
    if not resource_type.startswith("AWS::"):
        return None  # custom resources take no tags
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    tagging = schema.get("tagging") or {}
    if not tagging.get("taggable", "Tags" in schema.get("properties", {})):
        return None
    return str(tagging.get("tagProperty", "/properties/Tags")).rsplit("/", 1)[-1]


def tags_of(resource: Mapping[str, Any], prop: str) -> dict[str, Any]:
    """Tags of a template resource, from a list of ``{"Key", "Value"}`` or a map."""
    value = resource.get("Properties", {}).get(prop) or []
    if isinstance(value, Mapping):
        return dict(value)
    return {tag["Key"]: tag["Value"] for tag in value}


def missing_tags(template: Mapping[str, Any], tags: Mapping[str, str], region: str) -> dict[str, dict[str, Any]]:
    """``{logical id: {key: value found (None if absent)}}`` for every taggable resource lacking a tag."""
    missing: dict[str, dict[str, Any]] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        prop = tag_property(resource["Type"], region)
        if prop is None:
            continue
        found = tags_of(resource, prop)
        wrong = {key: found.get(key) for key, value in tags.items() if found.get(key) != value}
        if wrong:
            missing[f"{logical_id} ({resource['Type']})"] = wrong
    return missing


def taggable_types(template: Mapping[str, Any], region: str) -> set[str]:
    """The resource types in ``template`` that CloudFormation can tag."""
    return {r["Type"] for r in template.get("Resources", {}).values() if tag_property(r["Type"], region)}
