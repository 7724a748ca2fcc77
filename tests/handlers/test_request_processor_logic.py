"""request_processor's pure logic: request parsing, DynamoDB conversion, result keys and answers."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from serverless_patterns.handlers.request_processor.config import Config
from serverless_patterns.handlers.request_processor.logic import (
    MAX_BODY_BYTES,
    MAX_DEPTH,
    MAX_ID_BYTES,
    BadRequest,
    ProcessRequest,
    created,
    encode_document,
    error_response,
    from_attribute_value,
    from_item,
    not_found,
    parse_request,
    result_document,
    result_key,
    result_url,
)

INVOCATION = "c6af9ac6-7b61-11e6-9a41-93e812345678"


def rest_event(body, *, method="POST", base64_encoded=False):
    """An API Gateway REST (v1) proxy event for POST /process."""
    return {
        "resource": "/process",
        "path": "/process",
        "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "requestContext": {"requestId": "req-1", "stage": "prod"},
        "body": body,
        "isBase64Encoded": base64_encoded,
    }


def _refusal(event):
    with pytest.raises(BadRequest) as caught:
        parse_request(event)
    return caught.value.status, caught.value.code, caught.value.message


# ---- parsing ------------------------------------------------------------------------------------


def test_a_json_object_with_an_id_is_a_request():
    request = parse_request(rest_event(json.dumps({"id": "order-17", "priority": 2})))
    assert request == ProcessRequest(record_id="order-17", payload={"id": "order-17", "priority": 2})


def test_a_base64_body_is_decoded():
    body = base64.b64encode(json.dumps({"id": "ä/1"}).encode()).decode()
    assert parse_request(rest_event(body, base64_encoded=True)).record_id == "ä/1"


@pytest.mark.parametrize(
    ("event", "status", "code", "message"),
    [
        ([], 400, "invalid_event", "the event must be an API Gateway proxy event (a JSON object)"),
        (rest_event("{}", method="GET"), 405, "method_not_allowed", "'GET' is not allowed; use POST"),
        (rest_event(None), 400, "missing_body", "the request has no body; send a JSON object with an 'id'"),
        (rest_event(""), 400, "missing_body", "the request has no body; send a JSON object with an 'id'"),
        (rest_event(17), 400, "invalid_event", "the request body must be a string"),
        (rest_event("not base64!", base64_encoded=True), 400, "invalid_encoding",
         "the request body is marked base64 but is not valid base64"),
        (rest_event(base64.b64encode(b"\xff\xfe").decode(), base64_encoded=True), 400, "invalid_encoding",
         "the request body is not UTF-8 text"),
        (rest_event('{"id": "a"'), 400, "invalid_json",
         "the request body is not valid JSON (Expecting ',' delimiter at position 10)"),
        (rest_event('{"id": "a", "x": NaN}'), 400, "invalid_json",
         "the request body is not valid JSON (NaN is not a JSON number)"),
        (rest_event('[{"id": "a"}]'), 400, "invalid_body", "the request body must be a JSON object, not an array"),
        (rest_event('"a"'), 400, "invalid_body", "the request body must be a JSON object, not a string"),
        (rest_event("{}"), 400, "missing_id", "the request body must have an 'id' (a string)"),
        (rest_event('{"id": null}'), 400, "missing_id", "the request body must have an 'id' (a string)"),
        (rest_event('{"id": 17}'), 400, "invalid_id", "'id' must be a string, not a number"),
        (rest_event('{"id": ""}'), 400, "invalid_id",
         f"'id' must be 1-{MAX_ID_BYTES} bytes of UTF-8 without control characters"),
        (rest_event('{"id": "a\\nb"}'), 400, "invalid_id",
         f"'id' must be 1-{MAX_ID_BYTES} bytes of UTF-8 without control characters"),
        (rest_event('{"id": "\\ud800"}'), 400, "invalid_id", "'id' must be valid Unicode text"),
    ],
)
def test_malformed_requests_are_refused_with_a_reason(event, status, code, message):
    assert _refusal(event) == (status, code, message)


def test_the_method_refusal_names_the_allowed_method():
    with pytest.raises(BadRequest) as caught:
        parse_request(rest_event("{}", method="PUT"))
    assert caught.value.headers == {"Allow": "POST"}


def test_ids_longer_than_the_limit_are_refused():
    assert parse_request(rest_event(json.dumps({"id": "é" * (MAX_ID_BYTES // 2)}))).record_id == "é" * 128
    assert _refusal(rest_event(json.dumps({"id": "é" * (MAX_ID_BYTES // 2) + "x"})))[1] == "invalid_id"


def test_bodies_over_the_limit_are_refused_with_413():
    padding = "x" * (MAX_BODY_BYTES - len('{"id":"a","p":""}'))
    assert parse_request(rest_event(json.dumps({"id": "a", "p": padding}, separators=(",", ":")))).record_id == "a"
    status, code, _ = _refusal(rest_event(json.dumps({"id": "a", "p": padding + "x"}, separators=(",", ":"))))
    assert (status, code) == (413, "body_too_large")


def test_deep_nesting_is_refused():
    nested = {"id": "a"}
    for _ in range(MAX_DEPTH - 1):
        nested = {"id": "a", "n": nested}
    assert parse_request(rest_event(json.dumps(nested))).record_id == "a"
    assert _refusal(rest_event(json.dumps({"id": "a", "n": nested})))[:2] == (400, "invalid_body")
    assert _refusal(rest_event("[" * 50_000 + "]" * 50_000))[:2] == (413, "body_too_large")
    assert _refusal(rest_event('{"id":"a","n":' + "[" * 20_000 + "]" * 20_000 + "}"))[:2] == (400, "invalid_json")


@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_any_text_body_is_parsed_or_refused_never_raises_otherwise(body):
    try:
        request = parse_request(rest_event(body))
    except BadRequest as error:
        assert 400 <= error.status < 500
    else:
        assert request.payload["id"] == request.record_id


# ---- DynamoDB values ----------------------------------------------------------------------------


def test_attribute_values_become_json_values():
    item = {
        "id": {"S": "a"},
        "count": {"N": "17"},
        "exponent": {"N": "1E+3"},
        "ratio": {"N": "0.25"},
        "flag": {"BOOL": True},
        "nothing": {"NULL": True},
        "blob": {"B": b"\x00\x01"},
        "tags": {"SS": ["b", "a"]},
        "scores": {"NS": ["10", "2.5"]},
        "blobs": {"BS": [b"\x02", b"\x01"]},
        "nested": {"M": {"list": {"L": [{"S": "x"}, {"N": "1"}]}}},
    }
    assert from_item(item) == {
        "id": "a",
        "count": 17,
        "exponent": 1000,
        "ratio": 0.25,
        "flag": True,
        "nothing": None,
        "blob": "AAE=",
        "tags": ["a", "b"],
        "scores": [2.5, 10],
        "blobs": ["AQ==", "Ag=="],
        "nested": {"list": ["x", 1]},
    }


@pytest.mark.parametrize("value", [{}, {"S": "a", "N": "1"}, {"X": 1}, "S"])
def test_unknown_attribute_values_are_errors(value):
    with pytest.raises(ValueError):
        from_attribute_value(value)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(lambda d: abs(d.adjusted()) < 120))
def test_whole_numbers_stay_exact_and_fractions_become_floats(number):
    converted = from_attribute_value({"N": str(number)})
    if number == number.to_integral_value():
        assert type(converted) is int and converted == number
    else:
        assert type(converted) is float and converted == float(number)


# ---- results ------------------------------------------------------------------------------------


def test_result_keys_are_one_object_per_request_under_the_prefix():
    assert result_key("results/", "order-17", INVOCATION) == f"results/order-17/{INVOCATION}.json"
    assert result_key("results/", "a/b c", INVOCATION) == f"results/a%2Fb%20c/{INVOCATION}.json"


@given(st.text(min_size=1).filter(lambda s: 0 < len(s.encode("utf-8", "surrogatepass")) <= MAX_ID_BYTES))
def test_any_id_makes_one_key_segment_within_s3s_limit(record_id):
    key = result_key("results/", record_id, INVOCATION)
    prefix, segment, name = key.split("/")
    assert (prefix, name) == ("results", f"{INVOCATION}.json")
    assert unquote(segment, errors="surrogatepass") == record_id
    assert len(key.encode("utf-8")) <= 1024


def test_result_keys_refuse_bad_invocation_ids_and_long_prefixes():
    with pytest.raises(ValueError, match="invocation id '../x'"):
        result_key("results/", "a", "../x")
    with pytest.raises(ValueError, match="longer than 128 bytes"):
        result_key("r" * 128 + "/", "a", INVOCATION)


def test_result_urls_escape_the_key_for_cloudfront():
    key = result_key("results/", "a/b", INVOCATION)
    assert result_url("https://d111.cloudfront.net", key) == f"https://d111.cloudfront.net/results/a%252Fb/{INVOCATION}.json"
    assert result_url(None, key) is None


def test_the_document_holds_record_request_and_time():
    request = ProcessRequest(record_id="a", payload={"id": "a", "note": "\ud800 lone"})
    document = result_document(request, {"id": "a", "n": 1}, invocation_id=INVOCATION, processed_at="2026-11-22T10:00:00.000+00:00")
    assert document == {
        "id": "a",
        "invocationId": INVOCATION,
        "processedAt": "2026-11-22T10:00:00.000+00:00",
        "record": {"id": "a", "n": 1},
        "request": {"id": "a", "note": "\ud800 lone"},
    }
    assert json.loads(encode_document(document)) == document  # lone surrogates survive as escapes


# ---- answers ------------------------------------------------------------------------------------


def test_answers_are_json():
    answer = created(record_id="a", key="results/a/x.json", url="https://d.net/results/a/x.json", invocation_id="x", processed_at="t")
    assert answer["statusCode"] == 201
    assert answer["headers"] == {"Content-Type": "application/json", "Location": "https://d.net/results/a/x.json"}
    assert json.loads(answer["body"]) == {
        "id": "a", "invocationId": "x", "processedAt": "t", "resultKey": "results/a/x.json", "resultUrl": "https://d.net/results/a/x.json",
    }
    assert "Location" not in created(record_id="a", key="k", url=None, invocation_id="x", processed_at="t")["headers"]
    missing = not_found("zz")
    assert (missing["statusCode"], json.loads(missing["body"])) == (
        404, {"error": {"code": "record_not_found", "message": "no record with id 'zz'"}},
    )
    refused = error_response(BadRequest(405, "method_not_allowed", "no", {"Allow": "POST"}))
    assert refused["headers"]["Allow"] == "POST"


# ---- configuration ------------------------------------------------------------------------------


def test_config_reads_the_environment():
    config = Config.from_env({"TABLE_NAME": "t", "BUCKET_NAME": "b", "RESULT_BASE_URL": "https://d.cloudfront.net"})
    assert config == Config(table="t", bucket="b", result_prefix="results/", result_base_url="https://d.cloudfront.net")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BUCKET_NAME": "b"}, "environment variable TABLE_NAME is not set"),
        ({"TABLE_NAME": "t"}, "environment variable BUCKET_NAME is not set"),
        ({"TABLE_NAME": "t", "BUCKET_NAME": "b", "RESULT_PREFIX": "/abs"}, "RESULT_PREFIX='/abs' must be path segments"),
        ({"TABLE_NAME": "t", "BUCKET_NAME": "b", "RESULT_PREFIX": "results/\n"}, "RESULT_PREFIX='results/\\n' must be"),
        ({"TABLE_NAME": "t", "BUCKET_NAME": "b", "RESULT_BASE_URL": "http://d"}, "RESULT_BASE_URL='http://d' must be"),
    ],
)
def test_config_names_the_bad_variable(env, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Config.from_env(env)
