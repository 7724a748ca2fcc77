"""request_processor on moto: a real table and an Object Lock bucket, API Gateway REST events."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from serverless_patterns.handlers import handler_entry
from serverless_patterns.handlers.request_processor import index
from serverless_patterns.handlers.request_processor.logic import result_key

REGION = "us-east-1"
TABLE = "acme-records"
BUCKET = "acme-results"
BASE_URL = "https://d111111abcdef8.cloudfront.net"
_ids = itertools.count(1)


@dataclass
class LambdaContext:
    """The attributes Powertools' logger reads from the Lambda context; a new request id each time."""

    function_name: str = "acme-request-processor"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:acme-request-processor"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def rest_event(body, *, method="POST"):
    """An API Gateway REST proxy event as the keyed API delivers it to the function."""
    return {
        "resource": "/process",
        "path": "/process",
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", "x-api-key": "k" * 40},
        "requestContext": {"requestId": str(uuid.uuid4()), "stage": "prod", "identity": {"apiKeyId": "abc123"}},
        "body": body,
        "isBase64Encoded": False,
    }


@pytest.fixture(scope="module")
def aws():
    """One table and one Object Lock bucket for the module; each test uses ids of its own."""
    names = {"TABLE_NAME": TABLE, "BUCKET_NAME": BUCKET, "RESULT_BASE_URL": BASE_URL, "AWS_DEFAULT_REGION": REGION}
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    with mock_aws():
        index.clients.cache_clear()
        dynamodb = boto3.resource("dynamodb", region_name=REGION)
        table = dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        )
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
        yield table, s3
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    index.clients.cache_clear()


def _results(s3, record_id):
    prefix = result_key("results/", record_id, "x").rsplit("/", 1)[0] + "/"
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


def _answer(event, context=None):
    response = index.handler(event, context or LambdaContext())
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def test_the_entry_point_is_the_asset_handler():
    assert handler_entry("request_processor") == "request_processor.index.handler"


def test_a_known_record_is_processed_into_a_result_object(aws):
    table, s3 = aws
    table.put_item(Item={"id": "order 1/a", "amount": Decimal("12.50"), "items": 3, "tags": {"x", "y"}, "raw": b"\x00"})
    context = LambdaContext()
    status, body, headers = _answer(rest_event(json.dumps({"id": "order 1/a", "priority": "high"})), context)

    key = f"results/order%201%2Fa/{context.aws_request_id}.json"
    assert status == 201
    assert body["resultKey"] == key
    assert body["resultUrl"] == headers["Location"] == f"{BASE_URL}/results/order%25201%252Fa/{context.aws_request_id}.json"
    stored = s3.get_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert stored["ContentType"] == "application/json"
    content = stored["Body"].read()
    assert stored["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(content).digest()).decode()
    assert stored["VersionId"]  # Object Lock buckets are versioned
    document = json.loads(content)
    assert document == {
        "id": "order 1/a",
        "invocationId": context.aws_request_id,
        "processedAt": body["processedAt"],
        "record": {"id": "order 1/a", "amount": 12.5, "items": 3, "tags": ["x", "y"], "raw": "AA=="},
        "request": {"id": "order 1/a", "priority": "high"},
    }


def test_every_request_writes_an_object_of_its_own(aws):
    table, s3 = aws
    table.put_item(Item={"id": "repeat"})
    for _ in range(3):
        assert _answer(rest_event('{"id": "repeat"}'))[0] == 201
    assert len(_results(s3, "repeat")) == 3


def test_an_unknown_id_is_404_and_writes_nothing(aws):
    _, s3 = aws
    status, body, _ = _answer(rest_event('{"id": "no-such-record"}'))
    assert (status, body) == (404, {"error": {"code": "record_not_found", "message": "no record with id 'no-such-record'"}})
    assert _results(s3, "no-such-record") == []


@pytest.mark.parametrize(
    ("event", "status", "code"),
    [
        (rest_event("{not json"), 400, "invalid_json"),
        (rest_event('{"name": "x"}'), 400, "missing_id"),
        (rest_event('{"id": ["a"]}'), 400, "invalid_id"),
        (rest_event('{"id": "a"}', method="GET"), 405, "method_not_allowed"),
        ("not an event", 400, "invalid_event"),
    ],
)
def test_malformed_requests_get_a_4xx_json_error(aws, event, status, code):
    answer = _answer(event)
    assert answer[0] == status
    assert answer[1]["error"]["code"] == code
    assert answer[2]["Content-Type"] == "application/json"


def test_an_aws_failure_is_logged_and_fails_the_invocation(aws, monkeypatch, caplog, capsys):
    monkeypatch.setenv("TABLE_NAME", "missing-table")
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        index.handler(rest_event('{"id": "a"}'), LambdaContext())
    (failure,) = [record for record in caplog.records if record.getMessage() == "request failed"]
    assert failure.levelname == "ERROR" and failure.exc_info[0].__name__ == "ResourceNotFoundException"
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [m["RequestsFailed"] for m in metrics] == [[1.0]]


def test_a_missing_setting_fails_the_invocation(aws, monkeypatch):
    monkeypatch.delenv("BUCKET_NAME")
    with pytest.raises(ValueError, match="environment variable BUCKET_NAME is not set"):
        index.handler(rest_event('{"id": "a"}'), LambdaContext())


# ---- any body -----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
known_ids = st.sampled_from(["known-1", "known/2", "known ü 3"])
bodies = st.one_of(
    st.text(max_size=200),
    json_values.map(json.dumps),
    st.fixed_dictionaries({"id": known_ids | st.text(max_size=30) | json_values}, optional={"data": json_values}).map(json.dumps),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bodies)
def test_any_body_gets_a_json_answer_and_a_result_only_when_processed(aws, body):
    table, s3 = aws
    for record_id in ("known-1", "known/2", "known ü 3"):
        table.put_item(Item={"id": record_id, "value": 1})
    context = LambdaContext()
    status, answer, headers = _answer(rest_event(body), context)
    event(f"status {status}")
    assert headers["Content-Type"] == "application/json"
    assert status in (201, 400, 404, 413)
    if status == 201:
        stored = json.loads(s3.get_object(Bucket=BUCKET, Key=answer["resultKey"])["Body"].read())
        assert stored["request"] == json.loads(body)
        assert stored["record"] == {"id": stored["id"], "value": 1}
        assert answer["resultKey"].endswith(f"/{context.aws_request_id}.json")
    else:
        assert set(answer) == {"error"} and set(answer["error"]) == {"code", "message"}


# ---- hostile input (issue 14) --------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ['{"id": "known-1", "x": 1e400}', '{"id": "known-1", "x": -1e400}', '{"id": "known-1", "x": {"y": [1E999]}}'],
)
def test_numbers_out_of_float_range_are_a_400_not_a_crash(aws, body):
    table, s3 = aws
    table.put_item(Item={"id": "known-1", "value": 1})
    before = _results(s3, "known-1")
    status, answer, _ = _answer(rest_event(body))
    assert (status, answer["error"]["code"]) == (400, "invalid_json")
    assert _results(s3, "known-1") == before


@pytest.mark.parametrize("record_id", [".", ".."])
def test_dot_ids_make_one_plain_key_segment_and_url(aws, record_id):
    table, s3 = aws
    table.put_item(Item={"id": record_id, "value": 1})
    status, answer, _ = _answer(rest_event(json.dumps({"id": record_id})))
    assert status == 201
    segments = answer["resultKey"].split("/")
    assert len(segments) == 3 and segments[0] == "results" and segments[1] not in (".", "..")
    assert all(segment not in (".", "..") for segment in answer["resultUrl"].split("/"))
    stored = json.loads(s3.get_object(Bucket=BUCKET, Key=answer["resultKey"])["Body"].read())
    assert stored["id"] == record_id
