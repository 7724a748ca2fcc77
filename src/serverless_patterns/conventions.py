"""Conventions an app shares across its stacks: the environment, resource names, parameters, tags.

- :func:`environment_suffix` reads the environment (``dev``, ``staging``, ``prod``) from the CDK
  context ``env`` and refuses anything else.
- :func:`resource_name` joins a prefix, a base and a suffix into a physical name that the AWS
  service accepts (length, characters, lowercase for S3 buckets), or into an ``Fn::Join`` when a
  part is a CloudFormation parameter; ``unique_per_stack=True`` adds :func:`stack_instance_id`
  so that a retained resource's name never blocks the next instance of the stack.
- :func:`resource_prefix_parameter` and :func:`alert_email_parameter` create constrained
  CloudFormation parameters, so a bad value fails before any resource is touched. Capacity
  parameters are :func:`serverless_patterns.audited_table.capacity_parameters`, re-exported here.
- :func:`apply_required_tags` tags every taggable resource and fails synthesis when one lacks a
  required tag.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import CfnParameter, Fn, Stack, Tags
from constructs import IConstruct

from ._defaults import STACK_INSTANCE_ID_LENGTH, stack_instance_id
from ._validation import PropErrors, is_token, require_type
from .alert_topic import _EMAIL
from .audited_table import capacity_parameters
from .tagging import require_tags, validate_tags
from ._kernel import path_of

#: The CDK context key :func:`environment_suffix` reads (``cdk synth -c env=prod``).
ENVIRONMENT_CONTEXT_KEY = "env"
#: The environments :func:`environment_suffix` accepts unless told otherwise.
DEFAULT_ENVIRONMENTS = ("dev", "staging", "prod")

#: Logical id, pattern and length limits of the ``ResourcePrefix`` parameter.
RESOURCE_PREFIX_PARAMETER = "ResourcePrefix"
RESOURCE_PREFIX_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
RESOURCE_PREFIX_MAX_LENGTH = 20
#: Logical id of the ``AlertEmail`` parameter; its pattern is the one AlertTopic checks addresses with.
ALERT_EMAIL_PARAMETER = "AlertEmail"
ALERT_EMAIL_PATTERN = _EMAIL.pattern

_ENVIRONMENT = re.compile(r"^[a-z][a-z0-9]{0,15}$")
# S3 refuses bucket names shaped like an IP address and these reserved prefixes and suffixes.
_IP_ADDRESS = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3")
_PART = re.compile(r"^[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)*$")
_SEPARATOR = "-"


@dataclass(frozen=True)
class NameRule:
    """What an AWS service accepts as a resource name.

    Parameters
    ----------
    max_length
        The longest name the service accepts.
    min_length
        The shortest. Default: 1.
    characters
        A regular expression character class of the accepted characters.
    lowercase
        Whether the service accepts lowercase names only (names are lowercased for it).
    """

    max_length: int
    characters: str
    min_length: int = 1
    lowercase: bool = False


#: Name rules by resource kind (the ``kind`` of :func:`resource_name`).
NAME_RULES: Mapping[str, NameRule] = {
    # Portable: accepted by every kind below.
    "generic": NameRule(max_length=63, min_length=3, characters="a-z0-9-", lowercase=True),
    "s3_bucket": NameRule(max_length=63, min_length=3, characters="a-z0-9.-", lowercase=True),
    "dynamodb_table": NameRule(max_length=255, min_length=3, characters="A-Za-z0-9_.-"),
    "lambda_function": NameRule(max_length=64, characters="A-Za-z0-9_-"),
    "iam_role": NameRule(max_length=64, characters="A-Za-z0-9+=,.@_-"),
    "sqs_queue": NameRule(max_length=80, characters="A-Za-z0-9_-"),
    "sns_topic": NameRule(max_length=256, characters="A-Za-z0-9_-"),
    "cloudtrail_trail": NameRule(max_length=128, min_length=3, characters="A-Za-z0-9._-"),
    "events_rule": NameRule(max_length=64, characters="A-Za-z0-9._-"),
    "log_group": NameRule(max_length=512, characters="A-Za-z0-9._/#-"),
    "rest_api": NameRule(max_length=1024, characters="A-Za-z0-9._-"),
}


def environment_suffix(
    scope: IConstruct,
    *,
    default: str = "dev",
    allowed: Sequence[str] = DEFAULT_ENVIRONMENTS,
    context_key: str = ENVIRONMENT_CONTEXT_KEY,
) -> str:
    """The environment named by the CDK context ``env`` (``cdk synth -c env=prod``), validated.

    Parameters
    ----------
    scope
        Any construct of the app; the context is looked up from it towards the app.
    default
        The environment when the context does not set one. Default: ``"dev"``.
    allowed
        The environments accepted: lowercase letters and digits, starting with a letter, at most
        16 characters. Default: ``("dev", "staging", "prod")``.
    context_key
        The context key to read. Default: ``"env"``.

    Raises
    ------
    ValueError
        When the context or ``default`` names an environment not in ``allowed``; the message
        names the context key, the value and the allowed environments.

    Examples
    --------
    >>> suffix = environment_suffix(app)  # doctest: +SKIP
    >>> suffix  # doctest: +SKIP
    'dev'
    """
    require_type("environment_suffix", "scope", scope, IConstruct)
    require_type("environment_suffix", "context_key", context_key, str)
    if isinstance(allowed, str) or not isinstance(allowed, Sequence):
        raise TypeError(f"environment_suffix: allowed must be a sequence of names, got {allowed!r}")
    errors = PropErrors("environment_suffix")
    for name in allowed:
        errors.check(
            isinstance(name, str) and bool(_ENVIRONMENT.match(name)),
            "allowed",
            name,
            "environment names are 1-16 lowercase letters and digits, starting with a letter",
        )
    errors.check(bool(allowed), "allowed", list(allowed), "name at least one environment")
    if allowed:
        errors.check(default in allowed, "default", default, f"must be one of {', '.join(map(str, allowed))}")
    errors.raise_if_any()
    value = scope.node.try_get_context(context_key)
    if value is None:
        return default
    errors.check(
        value in allowed,
        f"context {context_key}",
        value,
        f"must be one of {', '.join(allowed)} (set it with 'cdk synth -c {context_key}=<environment>')",
    )
    errors.raise_if_any()
    return value


def resource_name(
    scope: IConstruct,
    base: str,
    *,
    prefix: str | None = None,
    suffix: str | None = None,
    kind: str = "generic",
    max_length: int | None = None,
    unique_per_stack: bool = False,
) -> str:
    """A physical resource name ``<prefix>-<base>-<suffix>`` that the service accepts.

    Literal parts are checked against the rule of ``kind`` (characters, length) and lowercased
    for services that accept only lowercase names (S3 buckets; ``generic``, the default, is the
    portable subset: lowercase letters, digits and hyphens, 3-63 characters). A part that is a
    CloudFormation token (a parameter's ``value_as_string``) makes the result an ``Fn::Join`` that
    cannot be judged at synth time: constrain the parameter instead (see
    :func:`resource_prefix_parameter`).

    Parameters
    ----------
    scope
        The construct the name is for; its path is named in errors.
    base
        The name's stem, e.g. ``"documents"``.
    prefix, suffix
        Prepended and appended with a hyphen, e.g. ``prefix="prod"`` gives ``prod-documents`` and
        ``suffix="dev"`` gives ``documents-dev``. Default: none.
    kind
        One of :data:`NAME_RULES`: ``generic`` (default), ``s3_bucket``, ``dynamodb_table``,
        ``lambda_function``, ``iam_role``, ``sqs_queue``, ``sns_topic``, ``cloudtrail_trail``,
        ``events_rule``, ``log_group``, ``rest_api``.
    max_length
        A tighter limit than the service's, e.g. to leave room for a suffix a construct adds.
        Default: the service's limit.
    unique_per_stack
        Insert :func:`stack_instance_id` (12 hex digits of the stack's id) before the suffix:
        ``<prefix>-<base>-<id>-<suffix>``. Use it for every resource the stack keeps when it is
        deleted (tables, queues, log groups, buckets): a fixed name of a retained resource makes
        the next deployment of the stack fail with AlreadyExists. Default: False.

    Raises
    ------
    ValueError
        When a part is empty or holds characters the service refuses, or the name is too short or
        too long; the message names the part and its value.

    Examples
    --------
    >>> resource_name(stack, "documents", prefix="prod")  # doctest: +SKIP
    'prod-documents'
    >>> resource_name(stack, "Ingest", suffix="dev", kind="lambda_function")  # doctest: +SKIP
    'Ingest-dev'
    """
    require_type("resource_name", "scope", scope, IConstruct)
    errors = PropErrors(f"resource_name (at {path_of(scope) or 'the app'})")
    rule = NAME_RULES.get(kind) if isinstance(kind, str) else None
    if rule is None:
        errors.add("kind", kind, f"must be one of {', '.join(NAME_RULES)}")
        errors.raise_if_any()
    assert rule is not None
    limit = rule.max_length
    if max_length is not None:
        errors.check(
            isinstance(max_length, int) and rule.min_length <= max_length <= rule.max_length,
            "max_length",
            max_length,
            f"must be a whole number from {rule.min_length} to {rule.max_length} (the limit of {kind})",
        )
        if isinstance(max_length, int):
            limit = min(max_length, rule.max_length)

    require_type("resource_name", "unique_per_stack", unique_per_stack, bool)
    parts: list[str] = []
    literal = True
    for prop, part in (("prefix", prefix), ("base", base), ("instance", None), ("suffix", suffix)):
        if prop == "instance":
            if unique_per_stack:
                parts.append(stack_instance_id(scope))
            continue
        if part is None and prop != "base":
            continue
        if is_token(part):
            literal = False
            parts.append(part)
            continue
        if not isinstance(part, str):
            raise TypeError(f"resource_name: {prop} must be str, got {type(part).__name__} ({part!r})")
        value = part.lower() if rule.lowercase else part
        errors.check(
            bool(_PART.match(value)) and bool(re.fullmatch(f"[{rule.characters}]+", value)),
            prop,
            part,
            f"{kind} names accept only [{rule.characters}]; a part is letters or digits joined by single "
            "'-', '_' or '.', with none at either end",
        )
        parts.append(value)
    errors.raise_if_any()
    if not literal:
        return Fn.join(_SEPARATOR, parts)
    if unique_per_stack:
        # Every other part is literal: the length is known although the id is a token.
        length = sum(len(p) for p in parts if not is_token(p)) + STACK_INSTANCE_ID_LENGTH + len(parts) - 1
        errors.check(
            rule.min_length <= length <= limit,
            "name",
            _SEPARATOR.join("<stack-instance-id>" if is_token(p) else p for p in parts),
            f"is {length} characters; {kind} names must have {rule.min_length}-{limit}",
        )
        errors.raise_if_any()
        return Fn.join(_SEPARATOR, parts)
    result = _SEPARATOR.join(parts)
    errors.check(
        rule.min_length <= len(result) <= limit,
        "name",
        result,
        f"is {len(result)} characters; {kind} names must have {rule.min_length}-{limit}",
    )
    if kind == "s3_bucket":
        errors.check(
            not _IP_ADDRESS.match(result)
            and not result.startswith(_S3_RESERVED_PREFIXES)
            and not result.endswith(_S3_RESERVED_SUFFIXES),
            "name",
            result,
            "S3 refuses bucket names shaped like an IP address or with a reserved prefix "
            f"({', '.join(_S3_RESERVED_PREFIXES)}) or suffix ({', '.join(_S3_RESERVED_SUFFIXES)})",
        )
    errors.raise_if_any()
    return result


def resource_prefix_parameter(
    stack: Stack, *, default: str | None = None, description: str | None = None
) -> CfnParameter:
    """The ``ResourcePrefix`` parameter: 1-20 lowercase letters, digits and single hyphens.

    It starts with a letter and neither ends with nor doubles a hyphen, so any name built from it
    with :func:`resource_name` stays valid for every service (S3 buckets included). Created on the
    stack itself (its logical id is exactly ``ResourcePrefix``); a second call returns the same
    parameter.

    Parameters
    ----------
    stack
        The stack that gets the parameter.
    default
        The value when none is given at deploy time; checked against the same pattern.
        Default: none (required at deploy time).
    description
        Default: a sentence saying what the prefix is for.

    Examples
    --------
    >>> prefix = resource_prefix_parameter(stack)  # doctest: +SKIP
    >>> resource_name(stack, "documents", prefix=prefix.value_as_string)  # doctest: +SKIP
    """
    errors = PropErrors("resource_prefix_parameter")
    require_type(errors.construct_name, "stack", stack, Stack)
    require_type(errors.construct_name, "default", default, str)
    errors.check(
        default is None
        or (len(default) <= RESOURCE_PREFIX_MAX_LENGTH and bool(re.match(RESOURCE_PREFIX_PATTERN, default))),
        "default",
        default,
        f"must be 1-{RESOURCE_PREFIX_MAX_LENGTH} lowercase letters, digits and single hyphens, starting with a letter",
    )
    errors.raise_if_any()
    return _parameter(
        stack,
        RESOURCE_PREFIX_PARAMETER,
        type="String",
        default=default,
        min_length=1,
        max_length=RESOURCE_PREFIX_MAX_LENGTH,
        allowed_pattern=RESOURCE_PREFIX_PATTERN,
        constraint_description=(
            f"1-{RESOURCE_PREFIX_MAX_LENGTH} lowercase letters, digits and hyphens, starting with a letter, "
            "without a hyphen at the end or two in a row (it becomes part of resource names)"
        ),
        description=description or "Prefix of resource names, to keep the names of several deployments apart.",
    )


def alert_email_parameter(
    stack: Stack, *, default: str | None = None, description: str | None = None
) -> CfnParameter:
    """The ``AlertEmail`` parameter: an email address, checked with AlertTopic's pattern.

    Pass ``.value_as_string`` to ``AlertTopic(emails=[...])``. Created on the stack itself (logical
    id ``AlertEmail``); a second call returns the same parameter.

    Parameters
    ----------
    stack
        The stack that gets the parameter.
    default
        A default address, checked like the parameter. Default: none (required at deploy time).
    description
        Default: a description of what the address receives.
    """
    errors = PropErrors("alert_email_parameter")
    require_type(errors.construct_name, "stack", stack, Stack)
    require_type(errors.construct_name, "default", default, str)
    errors.check(
        default is None or (len(default) <= 254 and bool(_EMAIL.match(default))),
        "default",
        default,
        "is not an email address (expected name@example.com)",
    )
    errors.raise_if_any()
    return _parameter(
        stack,
        ALERT_EMAIL_PARAMETER,
        type="String",
        default=default,
        min_length=3,
        max_length=254,
        allowed_pattern=ALERT_EMAIL_PATTERN,
        constraint_description="an email address such as name@example.com",
        description=description
        or "Address that receives alarm notifications (confirm the subscription email SNS sends).",
    )


def apply_required_tags(scope: IConstruct, tags: Mapping[str, str]) -> None:
    """Tag every taggable resource under ``scope`` and fail synthesis when one lacks a tag.

    ``Tags.of(scope).add(key, value)`` for each tag, which reaches the resources inside every
    construct, then :func:`serverless_patterns.tagging.require_tags` with the keys, so a resource
    that cannot be reached (or loses a tag to a later ``Tags.of(...).remove``) fails the synth with
    its path.

    Parameters
    ----------
    scope
        Usually the app or a stack.
    tags
        At least one tag, e.g. ``{"Environment": "Production"}``; keys 1-128 characters, not
        ``aws:``, values up to 256 characters.

    Examples
    --------
    >>> apply_required_tags(app, {"Environment": "Production", "Owner": "data-team"})  # doctest: +SKIP
    """
    require_type("apply_required_tags", "scope", scope, IConstruct)
    validate_tags("apply_required_tags", tags)
    if not tags:
        raise ValueError("apply_required_tags: tags={}: name at least one tag")
    for key, value in tags.items():
        Tags.of(scope).add(key, value)
    require_tags(scope, list(tags))


def _parameter(stack: Stack, logical_id: str, **props: object) -> CfnParameter:
    existing = stack.node.try_find_child(logical_id)
    if isinstance(existing, CfnParameter):
        return existing
    return CfnParameter(stack, logical_id, **props)


__all__ = [
    "ALERT_EMAIL_PARAMETER",
    "DEFAULT_ENVIRONMENTS",
    "NAME_RULES",
    "RESOURCE_PREFIX_PARAMETER",
    "NameRule",
    "alert_email_parameter",
    "apply_required_tags",
    "capacity_parameters",
    "environment_suffix",
    "resource_name",
    "resource_prefix_parameter",
    "stack_instance_id",
]
