"""API key authorizer, pure logic: route table parsing, method ARNs, key extraction, policies."""

from __future__ import annotations

import doctest
import json

import pytest

from serverless_patterns.handlers.api_key_authorizer import keys, routes
from serverless_patterns.handlers.api_key_authorizer.decision import (
    Reason,
    authorize,
    evaluate,
    parse_method_arn,
)
from serverless_patterns.handlers.api_key_authorizer.keys import KeyRejected, extract_api_key
from serverless_patterns.handlers.api_key_authorizer.routes import (
    Route,
    RouteConfigError,
    parse_route_permissions,
    shadowed_routes,
)

KEY = "Ab3" * 13 + "x"  # 40 alphanumeric characters, like a generated key
PREFIX = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod"


@pytest.mark.parametrize("module", [keys, routes])
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert (result.failed, result.attempted > 0) == (0, True)


# ---- ROUTE_PERMISSIONS --------------------------------------------------------------------------


def test_route_permissions_are_parsed_and_methods_normalised():
    parsed = parse_route_permissions(
        json.dumps(
            [
                {"method": "get", "path": "/", "level": "read-only"},
                {"method": "ANY", "path": "/files/{proxy+}", "level": "admin"},
                {"method": "PUT", "path": "/documents/{id}/tags/{tag}", "level": "read-write"},
            ]
        )
    )
    assert [(r.method, r.path, r.level, r.resource_pattern) for r in parsed] == [
        ("GET", "/", "read-only", "GET/"),
        ("ANY", "/files/{proxy+}", "admin", "*/files/*"),
        ("PUT", "/documents/{id}/tags/{tag}", "read-write", "PUT/documents/*/tags/*"),
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "ROUTE_PERMISSIONS is not set"),
        ("", "ROUTE_PERMISSIONS is not set"),
        ("[", "ROUTE_PERMISSIONS is not valid JSON: Expecting value: line 1 column 2 (char 1)"),
        ("{}", "ROUTE_PERMISSIONS must be a non-empty JSON list of routes"),
        ("[]", "ROUTE_PERMISSIONS must be a non-empty JSON list of routes"),
        ('["GET /x"]', "ROUTE_PERMISSIONS[0] must be an object, got 'GET /x'"),
        (
            '[{"method": "GET", "path": "/x"}]',
            "ROUTE_PERMISSIONS[0] must have exactly the keys method, path, level; got ['method', 'path']",
        ),
        (
            '[{"method": "GET", "path": "/x", "level": "admin", "levle": "x"}]',
            "ROUTE_PERMISSIONS[0] must have exactly the keys method, path, level; got ['level', 'levle', 'method', 'path']",
        ),
        (
            '[{"method": "FETCH", "path": "/x", "level": "admin"}]',
            (
                "ROUTE_PERMISSIONS[0].method='FETCH': expected one of "
                "['ANY', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']"
            ),
        ),
        (
            '[{"method": "GET", "path": "/x", "level": "root"}]',
            "ROUTE_PERMISSIONS[0].level='root': expected one of ['read-only', 'read-write', 'admin']",
        ),
        ('[{"method": "GET", "path": "x", "level": "admin"}]', "ROUTE_PERMISSIONS[0].path='x': must start with '/'"),
        (
            '[{"method": "GET", "path": "/x/", "level": "admin"}]',
            "ROUTE_PERMISSIONS[0].path='/x/': segment '' is neither a literal nor a {param}",
        ),
        (
            '[{"method": "GET", "path": "/x/*", "level": "admin"}]',
            "ROUTE_PERMISSIONS[0].path='/x/*': segment '*' is neither a literal nor a {param}",
        ),
        (
            '[{"method": "GET", "path": "/x/doc-{id}", "level": "admin"}]',
            "ROUTE_PERMISSIONS[0].path='/x/doc-{id}': segment 'doc-{id}' is neither a literal nor a {param}",
        ),
        (
            '[{"method": "GET", "path": "/{proxy+}/x", "level": "admin"}]',
            "ROUTE_PERMISSIONS[0].path='/{proxy+}/x': greedy segment '{proxy+}' must be the last one",
        ),
        ('[{"method": "GET", "path": 7, "level": "admin"}]', "ROUTE_PERMISSIONS[0].path=7: must be a string"),
        (
            json.dumps(
                [
                    {"method": "GET", "path": "/a/{id}", "level": "admin"},
                    {"method": "GET", "path": "/a/{name}", "level": "read-only"},
                ]
            ),
            "ROUTE_PERMISSIONS lists GET /a/{name} and GET /a/{id}, which are the same method ARN 'GET/a/*'",
        ),
    ],
)
def test_bad_route_permissions_are_rejected_with_a_message_naming_the_entry(raw, message):
    with pytest.raises(RouteConfigError) as error:
        parse_route_permissions(raw)
    assert str(error.value) == message


def test_shadowed_routes_finds_less_privileged_routes_under_a_stricter_pattern():
    table = [
        Route("GET", "/documents/{id}", "admin"),
        Route("GET", "/documents/public", "read-only"),
        Route("GET", "/documents/{id}/summary", "read-write"),
        Route("ANY", "/reports", "admin"),
        Route("GET", "/reports", "read-only"),
        Route("GET", "/health", "read-only"),
        Route("DELETE", "/health", "admin"),
    ]
    assert shadowed_routes(table) == [
        (table[1], table[0]),
        (table[2], table[0]),
        (table[4], table[3]),
    ]


def test_shadowed_routes_counts_the_segments_a_greedy_route_may_serve():
    # DELETE /0/0/0 goes to the greedy route, and the wildcard of */*/* spans all three segments.
    greedy, pair = Route("DELETE", "/{a+}", "read-only"), Route("ANY", "/{a}/{b}", "read-write")
    assert shadowed_routes([greedy, pair]) == [(greedy, pair)]


def test_shadowed_routes_skips_methods_a_resource_defines_itself():
    # GET /reports goes to its own route; only the other methods reach ANY /reports.
    table = [Route("ANY", "/reports", "read-only"), Route("GET", "/reports", "admin")]
    assert shadowed_routes(table) == []
    assert shadowed_routes([*table, Route("POST", "/{x}", "read-write")]) == [(table[0], Route("POST", "/{x}", "read-write"))]


def test_shadowed_routes_ignores_stricter_routes_under_a_lenient_pattern():
    # GET /documents/{id} (read-only) allows GET/documents/*; the admin route is denied explicitly.
    assert shadowed_routes([Route("GET", "/documents/{id}", "read-only"), Route("GET", "/documents/{id}/audit", "admin")]) == []


# ---- method ARNs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "prefix", "method", "path"),
    [
        (f"{PREFIX}/GET/documents/abc", PREFIX, "GET", "/documents/abc"),
        (f"{PREFIX}/GET/", PREFIX, "GET", "/"),
        (
            "arn:aws-cn:execute-api:cn-north-1:123456789012:a1/v1/POST/x",
            "arn:aws-cn:execute-api:cn-north-1:123456789012:a1/v1",
            "POST",
            "/x",
        ),
        (
            "arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:a1/$default/GET/x".replace("$default", "dev_2"),
            "arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:a1/dev_2",
            "GET",
            "/x",
        ),
        (f"{PREFIX}/GET/documents/a b/%C3%BC/ü", PREFIX, "GET", "/documents/a b/%C3%BC/ü"),
    ],
)
def test_method_arn_is_split_into_stage_prefix_method_and_path(arn, prefix, method, path):
    parsed = parse_method_arn(arn)
    assert (parsed.prefix, parsed.method, parsed.path, parsed.arn) == (prefix, method, path, arn)


def test_the_callers_path_never_makes_a_method_arn_malformed():
    # The path comes from the caller; rejecting it would cache a Deny for the key's other routes.
    for path in ["/ü", "/a?b", "/*", "/" + "x" * 1500, "/a//b"]:
        assert parse_method_arn(f"{PREFIX}/GET{path}") is not None


# ---- keys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "missing", "detail"),
    [
        (None, True, "no headers"),
        ({}, True, "no x-api-key header"),
        ({"x-api-keys": KEY}, True, "no x-api-key header"),
        ({"x-api-key": ""}, True, "empty x-api-key header"),
        ({"x-api-key": None}, True, "empty x-api-key header"),
        ("x-api-key", False, "headers is not an object"),
        ({"x-api-key": ["a"]}, False, "x-api-key header is not a string"),
        ({"X-API-KEY": KEY, "x-api-key": KEY}, False, "2 x-api-key headers"),
        ({"x-api-key": "a" * 513}, False, "x-api-key header longer than 512 characters"),
        ({"x-api-key": "ä" * 20}, False, "x-api-key header is not ASCII"),
        ({"x-api-key": "a" * 19}, False, "x-api-key header of 19 characters is not an API Gateway key value"),
        ({"x-api-key": "a" * 129}, False, "x-api-key header of 129 characters is not an API Gateway key value"),
        ({"x-api-key": KEY[:-1] + "-"}, False, "x-api-key header of 40 characters is not an API Gateway key value"),
        ({"x-api-key": f" {KEY}"}, False, "x-api-key header of 41 characters is not an API Gateway key value"),
    ],
)
def test_rejected_headers_say_why_without_the_value(headers, missing, detail):
    with pytest.raises(KeyRejected) as rejected:
        extract_api_key(headers)
    assert (rejected.value.missing, rejected.value.detail) == (missing, detail)


def test_key_is_read_from_any_spelling_of_the_header():
    for name in ["x-api-key", "X-API-Key", "X-Api-Key"]:
        assert extract_api_key({name: KEY, "Accept": "application/json"}) == KEY


# ---- decisions ----------------------------------------------------------------------------------


ROUTES = json.dumps(
    [
        {"method": "GET", "path": "/documents/{id}", "level": "read-only"},
        {"method": "GET", "path": "/documents/{id}/audit", "level": "admin"},
    ]
)


def test_an_explicit_deny_keeps_a_wildcard_allow_from_reaching_a_stricter_nested_route():
    item = {"client_id": "c", "level": "read-only", "status": "active"}
    result = authorize(
        {"methodArn": f"{PREFIX}/GET/documents/1/audit", "headers": {"x-api-key": KEY}},
        route_permissions=ROUTES,
        lookup=lambda digest: item,
    )
    assert (result.allowed, result.reason) == (False, Reason.INSUFFICIENT_LEVEL)
    statements = result.response["policyDocument"]["Statement"]
    assert evaluate(statements, f"{PREFIX}/GET/documents/1")
    assert not evaluate(statements, f"{PREFIX}/GET/documents/1/audit")


def test_the_lookup_receives_the_digest_never_the_key():
    seen = []
    authorize(
        {"methodArn": f"{PREFIX}/GET/documents/1", "headers": {"x-api-key": KEY}},
        route_permissions=ROUTES,
        lookup=lambda digest: seen.append(digest),
    )
    assert seen == [keys.api_key_digest(KEY)]


@pytest.mark.parametrize(
    ("statements", "arn", "expected"),
    [
        ([], f"{PREFIX}/GET/x", False),
        ([{"Effect": "Allow", "Resource": [f"{PREFIX}/GET/*"]}], f"{PREFIX}/GET/x/y", True),
        ([{"Effect": "Allow", "Resource": [f"{PREFIX}/GET/?"]}], f"{PREFIX}/GET/xy", False),
        (
            [{"Effect": "Allow", "Resource": [f"{PREFIX}/*"]}, {"Effect": "Deny", "Resource": [f"{PREFIX}/GET/x"]}],
            f"{PREFIX}/GET/x",
            False,
        ),
        ([{"Effect": "Allow", "Resource": [f"{PREFIX}/GET/x.y"]}], f"{PREFIX}/GET/xzy", False),
    ],
)
def test_evaluate_follows_iam_rules(statements, arn, expected):
    assert evaluate(statements, arn) is expected


# ---- what API Gateway may cache -----------------------------------------------------------------


def _decide(headers, lookup, routes_json=None):
    event = {"type": "REQUEST", "methodArn": f"{PREFIX}/GET/documents", "headers": headers}
    routes_json = routes_json or json.dumps([{"method": "GET", "path": "/documents", "level": "read-only"}])
    return authorize(event, route_permissions=routes_json, lookup=lookup)


def _failing_lookup(digest):
    from serverless_patterns.handlers.api_key_authorizer.decision import LookupFailed

    raise LookupFailed("GetItem failed: ThrottlingException")


@pytest.mark.parametrize(
    ("headers", "lookup", "reason"),
    [
        ({}, lambda d: None, Reason.MISSING_KEY),
        ({"x-api-key": "short"}, lambda d: None, Reason.MALFORMED_KEY),
        ({"x-api-key": KEY}, lambda d: None, Reason.UNKNOWN_KEY),
        ({"x-api-key": KEY}, lambda d: {"client_id": "c", "level": "admin", "status": "revoked"}, Reason.REVOKED_KEY),
    ],
)
def test_the_callers_faults_are_cacheable_denies(headers, lookup, reason):
    decision = _decide(headers, lookup)
    assert (decision.reason, decision.allowed, decision.cacheable) == (reason, False, True)


@pytest.mark.parametrize(
    ("lookup", "routes_json", "reason"),
    [
        (_failing_lookup, None, Reason.TABLE_ERROR),
        (lambda d: {"client_id": "c", "level": "root", "status": "active"}, None, Reason.INVALID_RECORD),
        (lambda d: None, "not json", Reason.CONFIG_ERROR),
    ],
)
def test_operational_failures_are_not_cacheable(lookup, routes_json, reason):
    decision = _decide({"x-api-key": KEY}, lookup, routes_json)
    assert (decision.reason, decision.allowed, decision.cacheable) == (reason, False, False)
