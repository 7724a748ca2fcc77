"""prod_info: pure logic, and the handler on moto writing request records to the log bucket."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from serverless_patterns.handlers import handler_entry
from serverless_patterns.handlers.prod_info import index
from serverless_patterns.handlers.prod_info.config import Config
from serverless_patterns.handlers.prod_info.logic import (
    MAX_FIELD_CHARS,
    BadRequest,
    InfoRequest,
    check_request,
    parse_request,
    record_key,
    request_record,
)

REGION = "us-east-1"
BUCKET = "prodhttpapi-logbucket-1a2b3c"
#: 2026-11-22T10:15:30.250Z
EPOCH_MS = 1795342530250


@dataclass
class LambdaContext:
    """The attributes Powertools' logger reads from the Lambda context."""

    function_name: str = "Prod-info"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:Prod-info"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def http_event(*, method="GET", body=None, request_id=None, epoch=EPOCH_MS, path="/"):
    """An API Gateway HTTP API event, payload format 2.0, as the $default stage delivers it."""
    event = {
        "version": "2.0",
        "routeKey": "GET /",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"user-agent": "curl/8.5.0"},
        "requestContext": {
            "apiId": "a1b2c3d4e5",
            "domainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
            "requestId": request_id or f"Jk{uuid.uuid4().hex[:12]}=",
            "routeKey": "GET /",
            "stage": "$default",
            "timeEpoch": epoch,
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        event["body"] = body
    return event


# ---- logic --------------------------------------------------------------------------------------


def test_the_entry_point_is_the_asset_handler():
    assert handler_entry("prod_info") == "prod_info.index.handler"


def test_the_request_context_is_read():
    request = parse_request(http_event(request_id="JkAbC="))
    assert request == InfoRequest(
        request_id="JkAbC=", time_epoch_ms=EPOCH_MS, method="GET", path="/", source_ip="203.0.113.7", user_agent="curl/8.5.0"
    )
    assert request.time.isoformat() == "2026-11-22T10:15:30.250000+00:00"


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("GET /", "the event must be an API Gateway HTTP API event (a JSON object)"),
        ({"httpMethod": "GET", "path": "/"}, "the event must be an HTTP API event of payload format 2.0"),
        ({"version": "2.0"}, "the event has no requestContext.http"),
        ({**http_event(), "requestContext": {"http": "GET"}}, "the event has no requestContext.http"),
        (http_event(request_id="../../etc"), "requestContext.requestId is missing or malformed"),
        (http_event(request_id="JkAbC=\n"), "requestContext.requestId is missing or malformed"),
        (http_event(epoch="yesterday"), "requestContext.timeEpoch is missing or not a time in milliseconds"),
        (http_event(epoch=True), "requestContext.timeEpoch is missing or not a time in milliseconds"),
        (http_event(epoch=-1), "requestContext.timeEpoch is missing or not a time in milliseconds"),
        (http_event(method=""), "requestContext.http.method is missing"),
    ],
)
def test_events_that_are_not_http_api_requests_are_400(event, message):
    with pytest.raises(BadRequest) as caught:
        parse_request(event)
    assert (caught.value.status, caught.value.code, caught.value.message) == (400, "invalid_event", message)


@pytest.mark.parametrize(
    ("event", "status", "code", "headers"),
    [
        (http_event(method="POST"), 405, "method_not_allowed", {"Allow": "GET"}),
        (http_event(method="HEAD"), 405, "method_not_allowed", {"Allow": "GET"}),
        (http_event(body="{}"), 400, "unexpected_body", {}),
    ],
)
def test_what_the_route_does_not_serve_is_refused(event, status, code, headers):
    with pytest.raises(BadRequest) as caught:
        check_request(parse_request(event), event)
    assert (caught.value.status, caught.value.code, caught.value.headers) == (status, code, headers)


def test_an_empty_body_is_no_body():
    event = http_event(body="")
    assert check_request(parse_request(event), event) is None


def test_records_are_keyed_by_utc_date_and_request_id():
    request = parse_request(http_event(request_id="Jk/x+y="))
    assert record_key("requests/", request) == "requests/2026/11/22/Jk%2Fx%2By%3D.json"


def test_caller_controlled_fields_are_cut():
    event = http_event(path="/" + "a" * 2000)
    event["requestContext"]["http"]["userAgent"] = "u" * 2000
    request = parse_request(event)
    assert len(request.path) == len(request.user_agent) == MAX_FIELD_CHARS
    record = json.loads(request_record(request, status=200, environment="Production", version="1.0.0"))
    assert record["status"] == 200 and record["time"] == "2026-11-22T10:15:30.250+00:00"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"APP_VERSION": "1", "LOG_BUCKET": "b"}, "environment variable ENVIRONMENT_NAME is not set"),
        ({"ENVIRONMENT_NAME": "P", "LOG_BUCKET": "b"}, "environment variable APP_VERSION is not set"),
        ({"ENVIRONMENT_NAME": "P", "APP_VERSION": "1"}, "environment variable LOG_BUCKET is not set"),
        ({"ENVIRONMENT_NAME": "P", "APP_VERSION": "1", "LOG_BUCKET": "b", "LOG_PREFIX": "x"}, "LOG_PREFIX='x' must be"),
    ],
)
def test_config_names_the_bad_variable(env, message):
    with pytest.raises(ValueError, match=message):
        Config.from_env(env)


# ---- the handler on moto ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3():
    names = {"ENVIRONMENT_NAME": "Production", "APP_VERSION": "1.0.0", "LOG_BUCKET": BUCKET, "AWS_DEFAULT_REGION": REGION}
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    with mock_aws():
        index.s3_client.cache_clear()
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        yield client
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    index.s3_client.cache_clear()


def _record(s3, key):
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def test_get_answers_environment_and_version_and_records_the_request(s3):
    event = http_event(request_id="JkOk1=")
    response = index.handler(event, LambdaContext())
    assert response["statusCode"] == 200
    assert response["headers"] == {"Content-Type": "application/json", "Cache-Control": "no-store"}
    assert json.loads(response["body"]) == {"environment": "Production", "version": "1.0.0", "requestId": "JkOk1="}
    assert _record(s3, "requests/2026/11/22/JkOk1%3D.json") == {
        "requestId": "JkOk1=",
        "time": "2026-11-22T10:15:30.250+00:00",
        "method": "GET",
        "path": "/",
        "sourceIp": "203.0.113.7",
        "userAgent": "curl/8.5.0",
        "status": 200,
        "environment": "Production",
        "version": "1.0.0",
    }


def test_refused_requests_are_answered_as_json_and_recorded(s3):
    response = index.handler(http_event(method="DELETE", request_id="JkNo1="), LambdaContext())
    assert response["statusCode"] == 405
    assert response["headers"]["Allow"] == "GET"
    assert json.loads(response["body"]) == {"error": {"code": "method_not_allowed", "message": "'DELETE' is not allowed; use GET"}}
    assert _record(s3, "requests/2026/11/22/JkNo1%3D.json")["status"] == 405


def test_an_event_without_a_request_context_is_answered_and_not_recorded(s3):
    before = s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0)
    response = index.handler({"hello": "world"}, LambdaContext())
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["code"] == "invalid_event"
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == before


def test_a_failed_record_write_fails_the_invocation(s3, monkeypatch, caplog):
    monkeypatch.setenv("LOG_BUCKET", "no-such-bucket-here")
    with pytest.raises(ClientError, match="NoSuchBucket"):
        index.handler(http_event(), LambdaContext())
    assert [r.levelname for r in caplog.records if r.getMessage() == "request failed"] == ["ERROR"]


def test_the_version_comes_from_the_environment(s3, monkeypatch):
    monkeypatch.setenv("APP_VERSION", "2.3.4")
    assert json.loads(index.handler(http_event(), LambdaContext())["body"])["version"] == "2.3.4"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def _mutated(path, value):
    event = http_event()
    target = event
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return event


events = st.one_of(
    json_values,
    st.builds(
        _mutated,
        st.sampled_from([
            ("version",), ("body",), ("requestContext",), ("requestContext", "http"), ("requestContext", "requestId"),
            ("requestContext", "timeEpoch"), ("requestContext", "http", "method"), ("requestContext", "http", "path"),
            ("requestContext", "http", "sourceIp"), ("requestContext", "http", "userAgent"),
        ]),
        json_values,
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events)
def test_any_event_gets_a_json_answer(s3, event):
    response = index.handler(event, LambdaContext())
    body = json.loads(response["body"])
    assert response["statusCode"] in (200, 400, 405)
    assert response["headers"]["Content-Type"] == "application/json"
    if response["statusCode"] == 200:
        assert body["environment"] == "Production"
    else:
        assert set(body["error"]) == {"code", "message"}
