"""Tags every construct applies, and an app-wide check for required tag keys."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import jsii
from aws_cdk import CfnResource, Tags, TagManager
from constructs import IValidation
from constructs import Construct, IConstruct
from ._kernel import path_of

#: Tag key every construct of the library writes, with the construct's class name as value.
CONSTRUCT_TAG_KEY = "serverless-patterns:construct"


def apply_tags(scope: Construct, construct_name: str, tags: Mapping[str, str] | None) -> None:
    """Tag everything under ``scope`` with the construct's name and the user's ``tags``."""
    scope_tags = Tags.of(scope)
    scope_tags.add(CONSTRUCT_TAG_KEY, construct_name)
    for key, value in (tags or {}).items():
        scope_tags.add(key, value)


def validate_tags(construct_name: str, tags: Mapping[str, str] | None) -> None:
    """Reject tags that CloudFormation would refuse at deploy time."""
    if tags is None:
        return
    if not isinstance(tags, Mapping):
        raise TypeError(f"{construct_name}: tags must be a mapping of str to str, got {tags!r}")
    for key, value in tags.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"{construct_name}: tags must map str to str, got {key!r}: {value!r}")
        if not key or len(key) > 128 or key.lower().startswith("aws:"):
            raise ValueError(
                f"{construct_name}: tags key {key!r} must be 1-128 characters and not start with 'aws:'"
            )
        if not value or len(value) > 256:
            raise ValueError(
                f"{construct_name}: tags value for {key!r} must be 1-256 characters "
                "(CloudWatch alarms, which every construct tags, refuse empty values)"
            )


@jsii.implements(IValidation)
class _RequiredTagsValidation:
    def __init__(self, scope: IConstruct, keys: tuple[str, ...]) -> None:
        self._scope = scope
        self._keys = keys

    def validate(self) -> list[str]:
        missing = untagged_resources(self._scope, self._keys)
        if not missing:
            return []
        lines = [f"  {path}: missing {', '.join(keys)}" for path, keys in sorted(missing.items())]
        return [
            f"{len(missing)} taggable resource(s) lack required tag keys "
            f"({', '.join(self._keys)}):\n" + "\n".join(lines)
        ]


def untagged_resources(scope: IConstruct, keys: Iterable[str]) -> dict[str, list[str]]:
    """Map the path of every taggable resource under ``scope`` to the required keys it lacks.

    Call after tags are applied (that is, during or after synthesis).
    """
    keys = tuple(keys)
    missing: dict[str, list[str]] = {}
    for node in scope.node.find_all():
        if not isinstance(node, CfnResource) or not TagManager.is_taggable(node):
            continue
        present = set(node.tags.tag_values())
        lacking = [key for key in keys if key not in present]
        if lacking:
            missing[path_of(node)] = lacking
    return missing


def require_tags(scope: IConstruct, keys: Iterable[str]) -> None:
    """Fail synthesis when any taggable resource under ``scope`` lacks one of ``keys``.

    The error names every untagged resource and the keys it lacks.

    Examples
    --------
    >>> from aws_cdk import App, Tags
    >>> app = App()
    >>> require_tags(app, ["Environment", "Owner"])  # doctest: +SKIP
    """
    keys = tuple(keys)
    if not keys or not all(isinstance(key, str) and key for key in keys):
        raise ValueError(f"require_tags: keys must be non-empty strings, got {keys!r}")
    scope.node.add_validation(_RequiredTagsValidation(scope, keys))
