"""API key authorizer, properties: arbitrary events never raise and never allow what a level lacks.

The oracles here are independent of the handler's code: ``fnmatch`` evaluates the returned IAM
statements, and ``owner`` models how API Gateway picks the route a request goes to (the most
specific resource path, literal before ``{param}`` before ``{proxy+}``, then the method or ANY).
"""

from __future__ import annotations

import fnmatch
import io
import json
import os
import re
from dataclasses import dataclass
from unittest import mock

import hypothesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serverless_patterns.handlers.api_key_authorizer import index
from serverless_patterns.handlers.api_key_authorizer.decision import (
    OPERATIONAL_REASONS,
    AuthorizerUnavailable,
    LookupFailed,
    authorize,
)
from serverless_patterns.handlers.api_key_authorizer.keys import api_key_digest
from serverless_patterns.handlers.api_key_authorizer.routes import Route, shadowed_routes

LEVELS = ("read-only", "read-write", "admin")
CONCRETE_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
RECORDS = {
    "ReadOnlyKey0123456789abcdefghijklmnopqrs": {"client_id": "reader", "level": "read-only", "status": "active"},
    "ReadWriteKey0123456789abcdefghijklmnopqr": {"client_id": "writer", "level": "read-write", "status": "active"},
    "AdminKey0123456789abcdefghijklmnopqrstuv": {"client_id": "boss", "level": "admin", "status": "active"},
    "RevokedKey0123456789abcdefghijklmnopqrst": {"client_id": "gone", "level": "admin", "status": "revoked"},
    "BrokenKey0123456789abcdefghijklmnopqrstu": {"client_id": "odd", "level": "root", "status": "active"},
}
BY_DIGEST = {api_key_digest(key): item for key, item in RECORDS.items()}

# ---- strategies ---------------------------------------------------------------------------------

literals = st.from_regex(r"[a-z]{1,3}", fullmatch=True)
param_names = st.from_regex(r"[a-z]{1,3}", fullmatch=True)
# Values start with a digit, so a value never equals a literal segment (which would change the route).
values = st.from_regex(r"[0-9][a-z0-9]{0,3}", fullmatch=True)


@st.composite
def paths(draw):
    segments = draw(st.lists(st.one_of(literals, param_names.map(lambda n: "{" + n + "}")), max_size=4))
    if draw(st.booleans()) and draw(st.booleans()):
        segments.append("{" + draw(param_names) + "+}")
    return "/" + "/".join(segments)


route_tables = st.lists(
    st.builds(Route, method=st.sampled_from([*CONCRETE_METHODS, "ANY"]), path=paths(), level=st.sampled_from(LEVELS)),
    min_size=1,
    max_size=8,
    unique_by=lambda route: route.resource_pattern,
)
prefixes = st.builds(
    "arn:{}:execute-api:{}:{}:{}/{}".format,
    st.sampled_from(["aws", "aws-cn", "aws-us-gov"]),
    st.sampled_from(["us-east-1", "eu-central-1", "cn-north-1", "us-gov-west-1"]),
    st.from_regex(r"[0-9]{12}", fullmatch=True),
    st.from_regex(r"[a-z0-9]{10}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True),
)


def to_json(routes) -> str:
    return json.dumps([{"method": r.method, "path": r.path, "level": r.level} for r in routes])


@st.composite
def requests_into(draw, routes):
    """(method, concrete path) for a request built from one of the routes, or from loose segments."""
    route = draw(st.sampled_from(routes))
    segments = []
    for segment in route.path.split("/")[1:] if route.path != "/" else []:
        if segment.endswith("+}"):
            segments += draw(st.lists(values, min_size=1, max_size=3))
        elif segment.startswith("{"):
            segments.append(draw(values))
        else:
            segments.append(segment)
    if draw(st.integers(0, 4)) == 0:  # now and then, a path the table may not route at all
        known = sorted({s for r in routes for s in r.path.split("/") if s and not s.startswith("{")}) or ["a"]
        segments = draw(st.lists(st.one_of(st.sampled_from(known), values), max_size=4))
    method = route.method if route.method != "ANY" else draw(st.sampled_from(CONCRETE_METHODS))
    return method, "/" + "/".join(segments)


# ---- oracles ------------------------------------------------------------------------------------


def grants(held: str, required: str) -> bool:
    return LEVELS.index(held) >= LEVELS.index(required)


def arn_pattern(prefix: str, method: str, path: str) -> str:
    """The policy resource for a route: {param} and {proxy+} become *, and so does ANY."""
    return f"{prefix}/{'*' if method == 'ANY' else method}{re.sub(r'[{][^}]+[}]', '*', path)}"


def _ranks(template: str, segments: list[str]) -> tuple[int, ...] | None:
    """How specifically ``template`` matches the path (2 literal, 1 param, 0 greedy), or None."""
    parts = template.split("/")[1:] if template != "/" else []
    ranks: list[int] = []
    for position, part in enumerate(parts):
        if part.endswith("+}"):
            return (*ranks, 0) if len(segments) > position else None
        if position >= len(segments):
            return None
        if part.startswith("{"):
            ranks.append(1)
        elif part == segments[position]:
            ranks.append(2)
        else:
            return None
    return tuple(ranks) if len(parts) == len(segments) else None


def owner(routes, method: str, path: str) -> Route | None:
    """The route API Gateway sends ``method path`` to, or None (then the authorizer is not called)."""
    segments = path.split("/")[1:] if path != "/" else []
    matches = [(ranks, route) for route in routes if (ranks := _ranks(route.path, segments)) is not None]
    if not matches:
        return None
    best = max(ranks for ranks, _ in matches)
    on_resource = [route for ranks, route in matches if ranks == best]
    exact = [route for route in on_resource if route.method == method]
    return (exact or [route for route in on_resource if route.method == "ANY"] or [None])[0]


def allows(response: dict, arn: str) -> bool:
    statements = response["policyDocument"]["Statement"]

    def matching(effect):
        return any(fnmatch.fnmatchcase(arn, r) for s in statements if s["Effect"] == effect for r in s["Resource"])

    return matching("Allow") and not matching("Deny")


def lookup(digest: str):
    return BY_DIGEST.get(digest)


def active_item(level: str):
    return lambda digest: {"client_id": "client", "level": level, "status": "active"}


# ---- properties ---------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(data=st.data(), routes=route_tables, prefix=prefixes, level=st.sampled_from(LEVELS))
def test_a_policy_never_allows_a_route_the_level_does_not_grant(data, routes, prefix, level):
    method, path = data.draw(requests_into(routes))
    key = next(iter(RECORDS))
    result = authorize(
        {"type": "REQUEST", "methodArn": f"{prefix}/{method}{path}", "headers": {"x-api-key": key}},
        route_permissions=to_json(routes),
        lookup=active_item(level),
    )
    assert result.reason != "config_error", result.detail
    response = result.response
    # The policy is cached for the key: check it against another request of the same key too.
    other_method, other_path = data.draw(requests_into(routes))
    for m, p in [(method, path), (other_method, other_path)]:
        route = owner(routes, m, p)
        if route is not None and not grants(level, route.level):
            assert not allows(response, f"{prefix}/{m}{p}"), (route, m, p)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), routes=route_tables, prefix=prefixes, level=st.sampled_from(LEVELS))
def test_a_policy_allows_every_granted_route_unless_the_table_shadows_it(data, routes, prefix, level):
    method, path = data.draw(requests_into(routes))
    route = owner(routes, method, path)
    if route is None or not grants(level, route.level):
        return
    result = authorize(
        {"methodArn": f"{prefix}/{method}{path}", "headers": {"X-Api-Key": next(iter(RECORDS))}},
        route_permissions=to_json(routes),
        lookup=active_item(level),
    )
    assert result.reason != "config_error", result.detail
    response = result.response
    shadowed = {granted for granted, stricter in shadowed_routes(routes) if not grants(level, stricter.level)}
    assert allows(response, f"{prefix}/{method}{path}") or route in shadowed, (route, method, path)


def weighted(*choices):
    """Draw from one of ``(weight, strategy)`` choices, in proportion to the weights."""
    return st.sampled_from([strategy for weight, strategy in choices for _ in range(weight)]).flatmap(lambda s: s)


# Mostly plausible events (so that every decision path is reached), with garbage mixed in.
header_names = weighted((3, st.sampled_from(["x-api-key", "X-Api-Key", "X-API-KEY"])), (1, st.text(max_size=12)))
header_values = weighted(
    (4, st.sampled_from(sorted(RECORDS))),
    (1, st.text(max_size=40)),
    (1, st.text(min_size=500, max_size=700)),
    (1, st.from_regex(r"[A-Za-z0-9]{20,128}", fullmatch=True)),
    (1, st.one_of(st.none(), st.integers(), st.lists(st.text(max_size=3), max_size=2))),
)
headers = weighted(
    (4, st.fixed_dictionaries({"x-api-key": header_values})),
    (2, st.dictionaries(header_names, header_values, max_size=3)),
    (1, st.one_of(st.none(), st.text(max_size=10))),
)
method_arns = weighted(
    (4, st.builds("{}/{}/{}".format, prefixes, st.sampled_from(CONCRETE_METHODS), st.text(max_size=30))),
    (1, st.builds("{}/{}{}".format, prefixes, st.sampled_from(["get", "*", "", "GET"]), st.text(max_size=30))),
    (1, st.one_of(st.text(max_size=80), st.none(), st.integers())),
)
route_permissions = weighted(
    (3, route_tables.map(to_json)),
    (1, st.one_of(st.text(max_size=40), st.none())),
    (
        1,
        st.lists(
            st.dictionaries(st.sampled_from(["method", "path", "level", "x"]), st.text(max_size=8)), max_size=3
        ).map(json.dumps),
    ),
)
events = weighted(
    (
        4,
        st.fixed_dictionaries(
            {"methodArn": method_arns, "headers": headers},
            optional={"type": st.sampled_from(["REQUEST", "TOKEN", ""]), "requestContext": st.dictionaries(st.text(), st.text())},
        ),
    ),
    (1, st.one_of(st.none(), st.text(), st.lists(st.integers()), st.dictionaries(st.text(), st.text()))),
)


def _only_key(event) -> str | None:
    headers = event.get("headers") if isinstance(event, dict) else None
    if not isinstance(headers, dict):
        return None
    found = [v for k, v in headers.items() if isinstance(k, str) and k.lower() == "x-api-key"]
    return found[0] if len(found) == 1 and isinstance(found[0], str) else None


@settings(max_examples=300, deadline=None)
@given(event=events, raw_routes=route_permissions, table_fails=st.booleans())
def test_arbitrary_events_get_a_well_formed_answer_and_allow_only_what_an_active_key_grants(event, raw_routes, table_fails):
    def table(digest):
        if table_fails:
            raise LookupFailed("GetItem failed: ThrottlingException")
        return lookup(digest)

    result = authorize(event, route_permissions=raw_routes, lookup=table)
    hypothesis.event(result.reason)
    response = result.response
    statements = response["policyDocument"]["Statement"]
    assert isinstance(response["principalId"], str) and response["principalId"]
    assert response["policyDocument"]["Version"] == "2012-10-17"
    assert statements and all(
        s["Action"] == "execute-api:Invoke" and s["Effect"] in ("Allow", "Deny") and s["Resource"] for s in statements
    )
    allow = [r for s in statements if s["Effect"] == "Allow" for r in s["Resource"]]
    if result.allowed or allow:
        record = RECORDS.get(_only_key(event))
        assert not table_fails and record is not None and record["status"] == "active"
        assert response["context"] == {"client_id": record["client_id"], "level": record["level"]}
        prefix = "/".join(event["methodArn"].split("/")[:2])
        granted = {
            arn_pattern(prefix, r["method"].upper(), r["path"])
            for r in json.loads(raw_routes)
            if grants(record["level"], r["level"])
        }
        assert set(allow) <= granted
    if isinstance(event, dict) and isinstance(event.get("methodArn"), str):
        assert result.allowed == allows(response, event["methodArn"])


@dataclass
class _Context:
    function_name: str = "authorizer"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:authorizer"
    aws_request_id: str = "req"


class _FakeTable:
    def get(self, digest):
        return lookup(digest)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events, raw_routes=route_permissions.filter(lambda raw: raw is None or "\x00" not in raw))
def test_the_handler_answers_or_raises_only_for_operational_failures_and_never_logs_a_key(event, raw_routes):
    # (An environment variable cannot hold a NUL character, hence the filter.)
    environment = {"PERMISSIONS_TABLE": "Permissions"} | ({"ROUTE_PERMISSIONS": raw_routes} if raw_routes else {})
    handler = index.logger.registered_handler
    logs = io.StringIO()
    original = handler.setStream(logs)
    response = None
    try:
        with mock.patch.dict(os.environ, environment), mock.patch.dict(index._tables, {"Permissions": _FakeTable()}):
            response = index.handler(event, _Context())
    except AuthorizerUnavailable as unavailable:
        # Only a failure that is not the caller's may raise (API Gateway: 500, nothing cached).
        assert unavailable.reason in OPERATIONAL_REASONS
    finally:
        handler.setStream(original)
    if response is not None:
        assert response["policyDocument"]["Statement"]
    key = _only_key(event)
    if key in RECORDS:
        assert key not in logs.getvalue()
