"""Property tests on moto: no API event and no SQS message makes a handler raise."""

from __future__ import annotations

import base64
import json
import os
import uuid

import pytest
from document_support import (
    BUCKET,
    STATUS_INDEX,
    TABLE,
    LambdaContext,
    create_bucket,
    create_documents_table,
    put_document,
    sqs_event,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from serverless_patterns.handlers.document_processor import index as processor
from serverless_patterns.handlers.documents_api import index as api

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

KNOWN = uuid.uuid4().hex
KNOWN_KEY = f"documents/{KNOWN}/known report.pdf"
ENVIRONMENT = {"DOCUMENTS_BUCKET": BUCKET, "DOCUMENTS_TABLE": TABLE, "STATUS_INDEX": STATUS_INDEX}


@pytest.fixture(scope="module", autouse=True)
def aws():
    saved = {name: os.environ.get(name) for name in ENVIRONMENT}
    os.environ.update(ENVIRONMENT)
    with mock_aws():
        for module in (api, processor):
            module.clients.cache_clear()
        s3, dynamodb = api.clients()
        create_bucket(s3)
        create_documents_table(dynamodb)
        put_document(dynamodb, KNOWN, "known report.pdf", "application/pdf", 9)
        s3.put_object(Bucket=BUCKET, Key=KNOWN_KEY, Body=b"%PDF-1.7\n")
        yield
    for module in (api, processor):
        module.clients.cache_clear()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=15), children, max_size=4)
    ),
    max_leaves=25,
)
create_bodies = st.fixed_dictionaries(
    {},
    optional={
        "file_name": st.text(max_size=40) | json_values,
        "content_type": st.sampled_from(["application/pdf", "text/csv", "image/png", "text/html"])
        | json_values,
        "size": st.integers(min_value=-5, max_value=2 * 104857600) | json_values,
        "sha256": st.text("0123456789abcdefABCDEF", min_size=63, max_size=65) | json_values,
        "extra": json_values,
    },
)
valid_creates = st.fixed_dictionaries(
    {
        "file_name": st.text(
            st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=60
        ),
        "content_type": st.sampled_from(["application/pdf", "text/csv", "image/png"]),
        "size": st.integers(min_value=1, max_value=104857600),
    },
    optional={"sha256": st.text("0123456789abcdef", min_size=64, max_size=64)},
)
bodies = (
    st.none() | st.text(max_size=200) | create_bodies.map(json.dumps) | json_values.map(json.dumps)
)
paths = st.sampled_from(
    [
        "/documents",
        "/documents/",
        f"/documents/{KNOWN}",
        f"/documents/{uuid.uuid4().hex}",
        "/documents/../etc",
        "/",
    ]
) | st.text(max_size=40).map(lambda t: "/" + t)
authorizers = st.none() | st.fixed_dictionaries(
    {},
    optional={
        "client_id": st.text(max_size=10) | json_values,
        "level": st.sampled_from(["read-only", "read-write", "admin", "root"]) | json_values,
    },
)
strings = st.dictionaries(st.text(max_size=15), st.text(max_size=30), max_size=3)
api_events = st.fixed_dictionaries(
    {
        "httpMethod": st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD"]),
        "path": paths,
        "requestContext": st.fixed_dictionaries(
            {"requestId": st.just("req"), "authorizer": authorizers}
        ),
    },
    optional={
        "body": bodies,
        "isBase64Encoded": st.booleans(),
        "headers": st.none() | strings | st.just({"Content-Type": "application/json"}),
        "queryStringParameters": st.none()
        | strings
        | st.fixed_dictionaries(
            {},
            optional={
                "status": st.sampled_from(["PROCESSED", "x"]),
                "limit": st.text("0123456789", max_size=4),
                "next": st.text(max_size=30),
            },
        ),
        "multiValueQueryStringParameters": st.none()
        | st.dictionaries(st.text(max_size=8), st.lists(st.text(max_size=8), max_size=3)),
    },
)
plausible = st.fixed_dictionaries(
    {
        "httpMethod": st.sampled_from(["GET", "POST", "DELETE"]),
        "path": st.sampled_from(
            ["/documents", f"/documents/{KNOWN}", f"/documents/{uuid.uuid4().hex}"]
        ),
        "headers": st.just({"Content-Type": "application/json"}),
        "body": (create_bodies | valid_creates).map(json.dumps),
        "queryStringParameters": st.none()
        | st.fixed_dictionaries(
            {},
            optional={
                "status": st.sampled_from(["PROCESSED", "AWAITING_UPLOAD", "x"]),
                "limit": st.sampled_from(["1", "25", "100", "101"]),
            },
        ),
        "requestContext": st.fixed_dictionaries(
            {
                "authorizer": st.fixed_dictionaries(
                    {
                        "client_id": st.just("c"),
                        "level": st.sampled_from(["read-only", "read-write", "admin"]),
                    }
                )
            }
        ),
    }
)
creations = (valid_creates | create_bodies).map(
    lambda body: {
        "httpMethod": "POST",
        "path": "/documents",
        "body": json.dumps(body),
        "requestContext": {"authorizer": {"client_id": "c", "level": "read-write"}},
    }
)
base64_posts = create_bodies.map(
    lambda body: {
        "httpMethod": "POST",
        "path": "/documents",
        "isBase64Encoded": True,
        "body": base64.b64encode(json.dumps(body).encode()).decode(),
        "requestContext": {"authorizer": {"client_id": "c", "level": "read-write"}},
    }
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(api_events, plausible, creations, base64_posts, json_values))
def test_any_api_event_gets_a_json_answer_never_an_exception(api_event):
    response = api.handler(api_event, LambdaContext())
    status = response["statusCode"]
    event(f"status {status}")
    assert status in (200, 201, 400, 403, 404, 405, 409, 413, 415), response
    body = json.loads(response["body"])
    if status >= 400:
        assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
    else:
        assert isinstance(body, dict) and "error" not in body


keys = st.sampled_from(
    [KNOWN_KEY, f"documents/{uuid.uuid4().hex}/x.pdf", "documents/", "other/key"]
) | st.text(max_size=40)
eventbridge = st.builds(
    lambda key, detail_type, size, extra: json.dumps(
        {
            "detail-type": detail_type,
            "source": "aws.s3",
            "detail": {"bucket": {"name": BUCKET}, "object": {"key": key, "size": size, **extra}},
        }
    ),
    keys,
    st.sampled_from(["Object Created", "Object Deleted", "Other"]),
    json_values,
    st.dictionaries(st.sampled_from(["etag", "version-id", "sequencer"]), json_values, max_size=3),
)
classic = st.builds(
    lambda key, name, bucket: json.dumps(
        {
            "Records": [
                {
                    "eventSource": "aws:s3",
                    "eventName": name,
                    "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 9}},
                }
            ]
        }
    ),
    keys,
    st.sampled_from(["ObjectCreated:Put", "ObjectCreated:Post", "ObjectRemoved:Delete"])
    | st.text(max_size=10),
    st.sampled_from([BUCKET, "elsewhere"]) | json_values,
)
messages = st.one_of(st.text(max_size=200), json_values.map(json.dumps), eventbridge, classic)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(messages, min_size=1, max_size=4))
def test_any_sqs_body_is_processed_or_dropped_never_retried_forever(bodies):
    assert processor.handler(sqs_event(*bodies), LambdaContext()) == {"batchItemFailures": []}
