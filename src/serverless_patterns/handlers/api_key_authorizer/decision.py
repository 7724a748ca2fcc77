"""The authorization decision: from a REQUEST authorizer event to an IAM policy.

Pure logic; the permissions table is reached through the ``lookup`` callable that
:func:`authorize` receives, so every path here is testable without AWS.

API Gateway caches the authorizer's answer per API key (the identity source), and reuses it for
every route the same key calls until the TTL ends. So the policy for a known, active key never
depends on the route of the request that produced it: it allows every route the key's level
grants, explicitly denies every other listed route, and carries the same context. A caller's
fault (no key, a malformed, unknown or revoked key, a malformed request) is an explicit Deny of the
whole stage (or of everything, when the ARN is unreadable). A failure of the deployment or of AWS
(:data:`OPERATIONAL_REASONS`) is a Deny too, but one the handler must not return: API Gateway would
cache it for the TTL and refuse a valid key long after a throttled read (see :attr:`Decision.cacheable`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .keys import KeyRejected, api_key_digest, digest_prefix, extract_api_key
from .records import ACTIVE, parse_record
from .routes import Route, RouteConfigError, arn_matches, grants, load_routes, route_arns

ANONYMOUS = "anonymous"

_METHOD_ARN = re.compile(
    r"(?P<prefix>arn:(?P<partition>aws(?:-[a-z]+)*):execute-api:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d{1,2})"
    r":(?P<account>\d{12}):(?P<api_id>[a-z0-9]{1,32})/(?P<stage>[A-Za-z0-9_-]{1,128}))"
    r"/(?P<method>[A-Z]{1,16})(?P<path>/.*)",
    re.DOTALL,
)
_MAX_METHOD_ARN = 2048
_MAX_LOGGED_PATH = 256


class Reason:
    """Why a request was allowed or denied; low-cardinality, used as a metric dimension."""

    ALLOWED = "allowed"
    MALFORMED_REQUEST = "malformed_request"
    CONFIG_ERROR = "config_error"
    MISSING_KEY = "missing_key"
    MALFORMED_KEY = "malformed_key"
    TABLE_ERROR = "table_error"
    UNKNOWN_KEY = "unknown_key"
    INVALID_RECORD = "invalid_record"
    REVOKED_KEY = "revoked_key"
    INSUFFICIENT_LEVEL = "insufficient_level"
    UNMAPPED_ROUTE = "unmapped_route"
    INTERNAL_ERROR = "internal_error"


#: Reasons caused by the deployment or AWS rather than by the caller: not the caller's answer to cache.
OPERATIONAL_REASONS = frozenset({Reason.CONFIG_ERROR, Reason.TABLE_ERROR, Reason.INVALID_RECORD, Reason.INTERNAL_ERROR})


class AuthorizerUnavailable(Exception):
    """Raised by the handler instead of returning a Deny for an operational failure.

    API Gateway caches a returned policy, a Deny included, per identity source for the authorizer's
    TTL; a failed invocation it does not cache, and answers that request with HTTP 500 (the
    ``AUTHORIZER_CONFIGURATION_ERROR``/``AUTHORIZER_FAILURE`` gateway responses), so the next request
    asks again. The message is the reason only: never the key. It must not be ``"Unauthorized"``,
    which API Gateway turns into a 401 that blames the caller.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"authorizer unavailable: {reason}")
        self.reason = reason


class LookupFailed(Exception):
    """The permissions table could not answer. ``reason`` is a :class:`Reason` value."""

    def __init__(self, detail: str, *, reason: str = Reason.TABLE_ERROR) -> None:
        super().__init__(detail)
        self.detail = detail
        self.reason = reason


#: Takes a key digest, returns the item's string attributes or None; may raise LookupFailed.
Lookup = Callable[[str], Mapping[str, str] | None]


@dataclass(frozen=True)
class MethodArn:
    """The parts of an execute-api method ARN the policy is built from."""

    prefix: str
    """``arn:<partition>:execute-api:<region>:<account>:<api-id>/<stage>``"""
    method: str
    path: str

    @property
    def arn(self) -> str:
        return f"{self.prefix}/{self.method}{self.path}"

    @property
    def whole_stage(self) -> str:
        return f"{self.prefix}/*"


def parse_method_arn(value: object) -> MethodArn | None:
    """Split a method ARN such as ``arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/x``.

    The prefix (partition to stage) and method must be well formed; the path is taken as it is,
    since API Gateway passes the caller's path and a policy must not depend on it.
    """
    if not isinstance(value, str) or len(value) > _MAX_METHOD_ARN:
        return None
    match = _METHOD_ARN.fullmatch(value)
    if match is None:
        return None
    return MethodArn(prefix=match["prefix"], method=match["method"], path=match["path"])


def _statement(effect: str, resources: Sequence[str]) -> dict[str, Any]:
    return {"Action": "execute-api:Invoke", "Effect": effect, "Resource": list(resources)}


def level_statements(prefix: str, routes: Sequence[Route], level: str) -> list[dict[str, Any]]:
    """Allow every route ``level`` grants, explicitly deny every other listed route."""
    allowed = route_arns(prefix, [route for route in routes if grants(level, route.level)])
    denied = route_arns(prefix, [route for route in routes if not grants(level, route.level)])
    statements = [_statement("Allow", allowed)] if allowed else []
    if denied:
        statements.append(_statement("Deny", denied))
    return statements


def evaluate(statements: Sequence[Mapping[str, Any]], arn: str) -> bool:
    """IAM evaluation of a policy's statements for one ARN: explicit Deny, then Allow, else deny."""

    def matching(effect: str) -> bool:
        return any(
            arn_matches(resource, arn)
            for statement in statements
            if statement["Effect"] == effect
            for resource in statement["Resource"]
        )

    return not matching("Deny") and matching("Allow")


@dataclass(frozen=True)
class Decision:
    """The answer for API Gateway plus what the handler logs and counts."""

    allowed: bool
    reason: str
    response: dict[str, Any]
    client_id: str | None = None
    level: str | None = None
    method: str | None = None
    path: str | None = None
    key_digest_prefix: str | None = None
    detail: str | None = None

    @property
    def cacheable(self) -> bool:
        """Whether API Gateway may cache this answer: False for :data:`OPERATIONAL_REASONS`."""
        return self.reason not in OPERATIONAL_REASONS

    def log_fields(self) -> dict[str, Any]:
        """Structured log fields; never the API key (at most a short digest prefix).

        The key's level is logged as ``permission_level``: ``level`` is the log record's own.
        """
        return {
            "decision": "allow" if self.allowed else "deny",
            "reason": self.reason,
            "client_id": self.client_id,
            "permission_level": self.level,
            "method": self.method,
            "path": self.path,
            "key_digest_prefix": self.key_digest_prefix,
            "detail": self.detail,
        }


def _response(principal_id: str, statements: list[dict[str, Any]], context: dict[str, str] | None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "principalId": principal_id,
        "policyDocument": {"Version": "2012-10-17", "Statement": statements},
    }
    if context is not None:
        response["context"] = context
    return response


def deny(
    reason: str,
    *,
    method_arn: MethodArn | None = None,
    client_id: str | None = None,
    level: str | None = None,
    key_digest_prefix: str | None = None,
    detail: str | None = None,
) -> Decision:
    """An explicit Deny of the whole stage (or of ``*`` when the method ARN is unknown)."""
    resource = method_arn.whole_stage if method_arn else "*"
    return Decision(
        allowed=False,
        reason=reason,
        response=_response(client_id or ANONYMOUS, [_statement("Deny", [resource])], None),
        client_id=client_id,
        level=level,
        method=method_arn.method if method_arn else None,
        path=method_arn.path[:_MAX_LOGGED_PATH] if method_arn else None,
        key_digest_prefix=key_digest_prefix,
        detail=detail,
    )


def authorize(event: object, *, route_permissions: str | None, lookup: Lookup) -> Decision:
    """Decide one REQUEST authorizer event. Never raises for any input ``event``.

    Parameters
    ----------
    event
        The API Gateway REQUEST authorizer event.
    route_permissions
        The ``ROUTE_PERMISSIONS`` JSON text (see :mod:`.routes`).
    lookup
        Returns the table item (string attributes) for a key digest, None when there is none;
        raises :class:`LookupFailed` when the table cannot answer.
    """
    if not isinstance(event, Mapping):
        return deny(Reason.MALFORMED_REQUEST, detail="event is not an object")
    method_arn = parse_method_arn(event.get("methodArn"))
    if method_arn is None:
        return deny(Reason.MALFORMED_REQUEST, detail="methodArn is missing or malformed")
    if event.get("type", "REQUEST") != "REQUEST":
        return deny(Reason.MALFORMED_REQUEST, method_arn=method_arn, detail="not a REQUEST authorizer event")
    try:
        routes = load_routes(route_permissions)
    except RouteConfigError as error:
        return deny(Reason.CONFIG_ERROR, method_arn=method_arn, detail=str(error))

    try:
        api_key = extract_api_key(event.get("headers"))
    except KeyRejected as rejected:
        reason = Reason.MISSING_KEY if rejected.missing else Reason.MALFORMED_KEY
        return deny(reason, method_arn=method_arn, detail=rejected.detail)
    digest = api_key_digest(api_key)
    prefix = digest_prefix(digest)

    try:
        item = lookup(digest)
    except LookupFailed as failure:
        return deny(failure.reason, method_arn=method_arn, key_digest_prefix=prefix, detail=failure.detail)
    if item is None:
        return deny(Reason.UNKNOWN_KEY, method_arn=method_arn, key_digest_prefix=prefix)
    try:
        record = parse_record(item)
    except ValueError as error:
        return deny(Reason.INVALID_RECORD, method_arn=method_arn, key_digest_prefix=prefix, detail=str(error))
    if record.status != ACTIVE:
        return deny(
            Reason.REVOKED_KEY, method_arn=method_arn, client_id=record.client_id, level=record.level,
            key_digest_prefix=prefix,
        )

    statements = level_statements(method_arn.prefix, routes, record.level)
    allowed = evaluate(statements, method_arn.arn)
    if allowed:
        reason = Reason.ALLOWED
    elif any(arn_matches(f"{method_arn.prefix}/{route.resource_pattern}", method_arn.arn) for route in routes):
        reason = Reason.INSUFFICIENT_LEVEL
    else:
        reason = Reason.UNMAPPED_ROUTE
    context = {"client_id": record.client_id, "level": record.level}
    return Decision(
        allowed=allowed,
        reason=reason,
        response=_response(record.client_id, statements, context),
        client_id=record.client_id,
        level=record.level,
        method=method_arn.method,
        path=method_arn.path[:_MAX_LOGGED_PATH],
        key_digest_prefix=prefix,
    )
