"""The example_echo handler: pure logic, the entry point, and the Lambda asset layout."""

from __future__ import annotations

import base64
import importlib
import json
import shutil
import sys
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from serverless_patterns.handlers import HANDLERS_DIR, handler_code, handler_entry, handler_names
from serverless_patterns.handlers.example_echo import index
from serverless_patterns.handlers.example_echo.logic import (
    MAX_BODY_BYTES,
    BadRequest,
    echo,
    parse_body,
)


@dataclass
class LambdaContext:
    """The attributes Powertools' logger reads from the Lambda context."""

    function_name: str = "echo"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:echo"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"


def rest_event(body, *, base64_encoded=False):
    """An API Gateway REST (v1) proxy event."""
    return {"resource": "/echo", "path": "/echo", "httpMethod": "POST", "headers": {}, "body": body,
            "isBase64Encoded": base64_encoded}


def http_event(body):
    """An API Gateway HTTP API (v2) proxy event."""
    return {"version": "2.0", "routeKey": "POST /echo", "rawPath": "/echo", "body": body, "isBase64Encoded": False}


def _body(response):
    assert response["headers"] == {"Content-Type": "application/json"}
    return json.loads(response["body"])


# ---- logic ------------------------------------------------------------------------------------


@pytest.mark.parametrize("make_event", [rest_event, http_event])
def test_a_json_object_is_echoed(make_event):
    response = echo(make_event('{"name": "Zoë", "n": [1, 2]}'))
    assert response["statusCode"] == 200
    assert _body(response) == {"echo": {"name": "Zoë", "n": [1, 2]}}


def test_a_base64_body_is_decoded():
    encoded = base64.b64encode(json.dumps({"a": 1}).encode()).decode()
    assert _body(echo(rest_event(encoded, base64_encoded=True))) == {"echo": {"a": 1}}


@pytest.mark.parametrize(
    ("event", "status", "message"),
    [
        ("not an event", 400, "must be an API Gateway proxy event"),
        (rest_event(None), 400, "has no body"),
        (rest_event(""), 400, "has no body"),
        (rest_event(42), 400, "body must be a string"),
        (rest_event("{not json"), 400, "not valid JSON (Expecting property name enclosed in double quotes at position 1)"),
        (rest_event("[1, 2]"), 400, "must be a JSON object, not list"),
        (rest_event('"text"'), 400, "must be a JSON object, not str"),
        (rest_event("%%%", base64_encoded=True), 400, "marked base64 but is not valid base64"),
        (rest_event(base64.b64encode(b"\xff\xfe").decode(), base64_encoded=True), 400, "not UTF-8 text"),
        (rest_event('{"x": "' + "a" * MAX_BODY_BYTES + '"}'), 413, f"larger than {MAX_BODY_BYTES} bytes"),
    ],
)
def test_malformed_input_gets_a_4xx_json_error(event, status, message):
    response = echo(event)
    assert response["statusCode"] == status
    assert message in _body(response)["error"]


def test_parse_body_raises_bad_request_with_the_status():
    with pytest.raises(BadRequest) as error:
        parse_body(rest_event("[]"))
    assert error.value.status == 400


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), json_values, max_size=6))
def test_every_json_object_round_trips(payload):
    response = echo(http_event(json.dumps(payload)))
    assert response["statusCode"] == 200
    assert _body(response) == {"echo": payload}


@given(st.one_of(st.text(), st.binary().map(lambda b: base64.b64encode(b).decode())), st.booleans())
def test_no_body_makes_the_handler_raise(body, base64_encoded):
    response = echo(rest_event(body, base64_encoded=base64_encoded))
    assert response["statusCode"] in (200, 400, 413)
    assert isinstance(json.loads(response["body"]), dict)


# ---- entry point ------------------------------------------------------------------------------


def test_handler_answers_and_logs_rejections_with_the_request_context(caplog):
    caplog.set_level("INFO")
    ok = index.handler(rest_event('{"ping": true}'), LambdaContext())
    assert ok["statusCode"] == 200 and _body(ok) == {"echo": {"ping": True}}
    bad = index.handler(rest_event("[]"), LambdaContext())
    assert bad["statusCode"] == 400
    (record,) = [r for r in caplog.records if r.getMessage() == "rejected request"]
    assert record.status == 400
    assert "must be a JSON object" in record.reason
    formatted = json.loads(index.logger.registered_formatter.format(record))
    assert formatted["function_request_id"] == LambdaContext.aws_request_id


def test_entry_point_imports_from_a_lambda_asset_root(tmp_path):
    # Lambda puts the asset root on sys.path and imports "<name>.index"; relative imports must work.
    shutil.copytree(HANDLERS_DIR / "example_echo", tmp_path / "example_echo")
    module_name, _, function_name = handler_entry("example_echo").rpartition(".")
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module(module_name)
        assert module.__file__.startswith(str(tmp_path))
        response = getattr(module, function_name)(http_event('{"a": 1}'), LambdaContext())
        assert _body(response) == {"echo": {"a": 1}}
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == "example_echo" or m.startswith("example_echo.")]:
            del sys.modules[name]


# ---- packaging helpers ------------------------------------------------------------------------


def test_handler_names_lists_packages_with_an_index():
    assert "example_echo" in handler_names()
    assert all((HANDLERS_DIR / name / "index.py").is_file() for name in handler_names())


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing_handler", "handler name 'missing_handler': no such handler (available: "),
        ("Bad-Name", "handler name 'Bad-Name': must be a lowercase Python identifier"),
        ("../secrets", "must be a lowercase Python identifier"),
    ],
)
def test_unknown_or_malformed_handler_names_are_refused(name, message):
    for helper in (handler_code, handler_entry):
        with pytest.raises(ValueError) as error:
            helper(name)
        assert message in str(error.value)


# ---- hostile input (issue 14) -------------------------------------------------------------------


def _strict(text):
    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize(
    "body",
    [
        "[" * 5000 + "]" * 5000,
        '{"a": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"n": ' + "9" * 5000 + "}",
        '{"s": "\ud800"}',
        '{"s": "\\ud800"}',
        '{"x": NaN}',
        '{"x": Infinity}',
        '{"x": -Infinity}',
        '{"x": 1e400}',
        '{"x": [-1E999]}',
    ],
)
@pytest.mark.parametrize("make_event", [rest_event, http_event])
def test_bodies_that_cannot_be_echoed_as_strict_json_are_a_400(make_event, body):
    response = index.handler(make_event(body), LambdaContext())
    assert response["statusCode"] == 400
    assert set(_strict(response["body"])) == {"error"}
