"""Whole Lambda events from hostile or odd callers, and the checks every handler's answer must pass.

The property suites (``test_*_properties.py``) share the ``handler-events`` Hypothesis profile: a
small number of examples per property, so that the suites together stay within about a minute
(raise it with ``HANDLER_PROPERTY_EXAMPLES=500`` for a thorough local run).
"""

from __future__ import annotations

import base64
import json
import math
import os
import uuid
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

settings.register_profile(
    "handler-events",
    max_examples=int(os.environ.get("HANDLER_PROPERTY_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: The settings of every whole-event property (``@HANDLER_EVENTS``).
HANDLER_EVENTS = settings.get_profile("handler-events")

# ---- values ----------------------------------------------------------------------------------

#: Characters a caller can send that break naive code: quotes, escapes, separators, controls,
#: format characters, non-ASCII, and lone surrogates (which JSON can carry as "\ud800").
odd_characters = st.one_of(
    st.sampled_from(list("\"'\\/%+?#&=;:${}[]<>|^`~*. \t\n\r\x00\x7f\u200b\u202e\ufeffüé中𝄞")),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.characters(codec="utf-8"),
)
odd_text = st.text(odd_characters, max_size=24)

numbers = st.one_of(
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, -0.0, 2**53 + 1, 10**30, 1e308, 5e-324]),
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | odd_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(odd_text, children, max_size=4),
    max_leaves=10,
)
#: JSON texts no strict parser accepts, or that break a naive one.
hostile_json_texts = st.sampled_from(
    [
        '{"x": NaN}', '{"x": Infinity}', '{"x": -Infinity}', '{"x": 1e400}', '{"x": -1E999}',
        '{"n": ' + "9" * 5000 + "}", "[" * 3000 + "]" * 3000, '{"a":' * 2000 + "1" + "}" * 2000,
        '{"s": "\\ud800"}', '{"s": "\\udfff\\ud800"}', '{"a": 1, "a": 2}', "", " ", "null", "[]", '"x"',
        "{", '{"x": 01}', '{"x": .5}', "\ufeff{}",
    ]
)


def any_body(objects: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A request body: JSON of ``objects``, hostile JSON, any text, non-strings, or nothing."""
    return st.one_of(
        objects.map(json.dumps),
        objects.map(lambda value: json.dumps(value, ensure_ascii=False)),
        hostile_json_texts,
        st.text(odd_characters, max_size=60),
        st.none(),
        st.integers(),
        st.lists(st.integers(), max_size=2),
    )


# ---- API Gateway events ----------------------------------------------------------------------

header_maps = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["Content-Type", "content-type", "X-Api-Key", "Accept", "x"]),
                    st.sampled_from(["application/json", "text/plain", "application/json; charset=utf-8", ""]) | odd_text,
                    max_size=3),
    st.just({"Content-Type": 1}),
)


_NO_AUTHORIZER = st.none()


def rest_events(
    methods: st.SearchStrategy[Any],
    paths: st.SearchStrategy[Any],
    bodies: st.SearchStrategy[Any],
    *,
    authorizers: st.SearchStrategy[Any] = _NO_AUTHORIZER,
) -> st.SearchStrategy[dict[str, Any]]:
    """API Gateway REST (v1) proxy events, with fields sometimes of the wrong type."""

    def build(method, path, body, headers, query, authorizer, base64_flag, drop):
        if base64_flag is True and isinstance(body, str):
            body = base64.b64encode(body.encode("utf-8", "surrogatepass")).decode()
        event = {
            "resource": path, "path": path, "httpMethod": method, "headers": headers,
            "multiValueHeaders": None if not isinstance(headers, dict) else {k: [v] for k, v in headers.items()},
            "queryStringParameters": query,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if isinstance(query, dict) else None,
            "pathParameters": None, "stageVariables": None,
            "requestContext": {"requestId": str(uuid.uuid4()), "stage": "prod", "authorizer": authorizer},
            "body": body, "isBase64Encoded": base64_flag,
        }
        for name in drop:
            event.pop(name, None)
        return event

    return st.builds(
        build, methods, paths, bodies, header_maps,
        st.none() | st.dictionaries(st.sampled_from(["status", "limit", "next", "x", ""]), odd_text, max_size=2),
        authorizers,
        st.sampled_from([False, True, None, "true"]),
        st.lists(st.sampled_from(["httpMethod", "path", "body", "requestContext", "headers"]), max_size=1),
    )


def http_v2_events(
    methods: st.SearchStrategy[Any], paths: st.SearchStrategy[Any], bodies: st.SearchStrategy[Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """API Gateway HTTP API (v2) proxy events."""

    def build(method, path, body, base64_flag):
        if base64_flag and isinstance(body, str):
            body = base64.b64encode(body.encode("utf-8", "surrogatepass")).decode()
        return {
            "version": "2.0", "routeKey": f"{method} {path}", "rawPath": path, "rawQueryString": "",
            "headers": {"content-type": "application/json"},
            "requestContext": {"http": {"method": method, "path": path}, "requestId": str(uuid.uuid4()), "stage": "$default"},
            "body": body, "isBase64Encoded": base64_flag,
        }

    return st.builds(build, methods, paths, bodies, st.booleans())


# ---- checks ----------------------------------------------------------------------------------

#: What an answer must never show a caller: stack traces, code locations, exception classes.
_LEAKS = ("Traceback", 'File "', ".py", "Error(", "Exception", "botocore", "boto3", "aws_lambda_powertools", "serverless_patterns")


def strict_json(text: Any) -> Any:
    """``text`` parsed as strict JSON: a str of valid UTF-8, no NaN or Infinity."""
    assert isinstance(text, str)
    text.encode("utf-8")  # no lone surrogate

    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} in the answer")

    def finite(number: str) -> float:
        assert math.isfinite(float(number)), f"{number} in the answer"
        return float(number)

    return json.loads(text, parse_constant=refuse, parse_float=finite)


def assert_clean_error(payload: Any, *resource_names: str, sent: Any = None) -> None:
    """An error body tells the caller what went wrong, and nothing about the code or the account.

    A leak word the caller sent itself (``sent``, e.g. the event) may be quoted back.
    """
    text = json.dumps(payload, ensure_ascii=False)
    echoed = json.dumps(sent, ensure_ascii=False, default=str) if sent is not None else ""
    for leak in (*_LEAKS, *resource_names):
        assert leak not in text or leak in echoed, f"{leak!r} in the error {text[:300]}"
