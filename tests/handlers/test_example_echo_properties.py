"""example_echo as an internet-facing function: whole REST and HTTP API events from any caller.

Invariants: the handler never raises; it answers 200 with exactly the object sent, or a 4xx with
``{"error": <message>}``; every answer is strict JSON (no NaN/Infinity, valid UTF-8) and no error
shows a stack trace, a code location or an exception class.
"""

from __future__ import annotations

import base64
import json

from hostile_events import (
    HANDLER_EVENTS,
    any_body,
    assert_clean_error,
    http_v2_events,
    json_values,
    rest_events,
    strict_json,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from test_example_echo import LambdaContext

from serverless_patterns.handlers.example_echo import index
from serverless_patterns.handlers.example_echo.logic import MAX_BODY_BYTES, MAX_DEPTH

methods = st.sampled_from(["POST", "GET", "PUT", "post", ""]) | st.none() | st.integers()
paths = st.sampled_from(["/echo", "/", "/echo/x"]) | st.none()
objects = st.dictionaries(st.text(max_size=8), json_values, max_size=4)
events = st.one_of(rest_events(methods, paths, any_body(objects)), http_v2_events(st.just("POST"), st.just("/echo"), any_body(objects)))


def _echoable(event):
    """The object the caller sent, when it can be echoed as strict JSON; else None."""
    body = event.get("body") if isinstance(event, dict) else None
    if not isinstance(body, str):
        return None
    try:
        raw = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") is True else body.encode("utf-8")
        if len(raw) > MAX_BODY_BYTES:
            return None
        value = strict_json(raw.decode("utf-8"))
    except (AssertionError, ValueError, RecursionError, UnicodeError):
        return None
    if not isinstance(value, dict) or _depth(value) > MAX_DEPTH:
        return None
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")  # escaped lone surrogates cannot be echoed
    except UnicodeError:
        return None
    return value


def _depth(value, level=1):
    children = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else None
    if children is None:
        return level - 1
    return max([level, *(_depth(child, level + 1) for child in children)])


@settings(parent=HANDLER_EVENTS, max_examples=5 * HANDLER_EVENTS.max_examples)  # no AWS: cheap
@given(st.one_of(events, st.none(), st.text(max_size=5), st.lists(st.none(), max_size=1)))
def test_every_event_gets_a_strict_json_answer_and_only_objects_are_echoed(event):
    response = index.handler(event, LambdaContext())
    payload = strict_json(response["body"])
    assert response["headers"] == {"Content-Type": "application/json"}
    sent = _echoable(event)
    if response["statusCode"] == 200:
        assert payload == {"echo": sent}
    else:
        assert response["statusCode"] in (400, 413) and sent is None
        assert set(payload) == {"error"} and isinstance(payload["error"], str)
        assert_clean_error(payload, sent=event)
