"""data_api on moto: real S3 objects and a real Secrets Manager secret, events as API Gateway sends them."""

from __future__ import annotations

import base64
import importlib
import json
import shutil
import sys

import boto3
import pytest
from data_api_events import BUCKET, REGION, LambdaContext, http_event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from serverless_patterns.handlers import HANDLERS_DIR, handler_entry
from serverless_patterns.handlers.data_api import index
from serverless_patterns.handlers.data_api.store import SecretValues

SECRET_VALUE = "s3cr3t-" + "Q" * 57
PREFIX = "data/"
MAX_BYTES = 1024


def _clear_caches():
    for cached in (index.config, index.object_store, index.secret_values):
        cached.cache_clear()


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("MAX_OBJECT_BYTES", str(MAX_BYTES))
    monkeypatch.setenv("KEY_PREFIX", PREFIX)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        secrets = boto3.client("secretsmanager", region_name=REGION)
        arn = secrets.create_secret(Name="cursor-key", SecretString=SECRET_VALUE)["ARN"]
        monkeypatch.setenv("BUCKET_NAME", BUCKET)
        monkeypatch.setenv("CURSOR_KEY_ARN", arn)
        _clear_caches()
        yield s3, secrets, arn
    _clear_caches()


def _call(*args, **kwargs):
    response = index.handler(http_event(*args, **kwargs), LambdaContext())
    assert set(response) == {"statusCode", "headers", "body", "isBase64Encoded"}
    return response


def _json(response):
    assert response["headers"]["Content-Type"] == "application/json"
    return json.loads(response["body"])


def _rotate(secrets, arn, value):
    """What a finished rotation leaves: the new value AWSCURRENT, the old one AWSPREVIOUS."""
    secrets.put_secret_value(
        SecretId=arn, SecretString=value
    )  # moves AWSCURRENT, labels the old AWSPREVIOUS


# ---- health -----------------------------------------------------------------------------------


def test_health_answers_ok_without_configuration_or_aws(monkeypatch):
    for name in ("BUCKET_NAME", "CURSOR_KEY_ARN"):
        monkeypatch.delenv(name, raising=False)
    _clear_caches()
    response = _call("GET", "/api/health")
    assert response["statusCode"] == 200
    assert _json(response) == {"status": "ok"}


# ---- write and read ---------------------------------------------------------------------------


def test_a_text_object_is_written_under_the_prefix_and_read_back(aws):
    s3, _, _ = aws
    written = _call(
        "PUT",
        "/api/data/notes.txt",
        body="Grüße",
        headers={"content-type": "text/plain; charset=utf-8"},
    )
    assert written["statusCode"] == 200
    receipt = _json(written)
    stored = s3.get_object(Bucket=BUCKET, Key="data/notes.txt")
    assert stored["Body"].read() == "Grüße".encode()
    assert stored["ContentType"] == "text/plain; charset=utf-8"
    assert receipt == {
        "key": "notes.txt",
        "size": 7,
        "etag": stored["ETag"],
        "version_id": stored["VersionId"],
    }

    read = _call("GET", "/api/data/notes.txt")
    assert read["statusCode"] == 200
    assert (read["body"], read["isBase64Encoded"]) == ("Grüße", False)
    assert read["headers"]["Content-Type"] == "text/plain; charset=utf-8"
    assert read["headers"]["ETag"] == stored["ETag"]
    assert read["headers"]["X-Object-Version"] == stored["VersionId"]


def test_a_binary_object_round_trips_base64_encoded(aws):
    payload = bytes(range(256))
    assert _call("PUT", "/api/data/blob.bin", body=payload)["statusCode"] == 200
    read = _call("GET", "/api/data/blob.bin")
    assert read["isBase64Encoded"] is True
    assert base64.b64decode(read["body"]) == payload
    assert read["headers"]["Content-Type"] == "application/octet-stream"


def test_overwriting_keeps_the_previous_version(aws):
    s3, _, _ = aws
    first = _json(
        _call(
            "PUT", "/api/data/a.json", body='{"v": 1}', headers={"content-type": "application/json"}
        )
    )
    second = _json(
        _call(
            "PUT", "/api/data/a.json", body='{"v": 2}', headers={"content-type": "application/json"}
        )
    )
    assert first["version_id"] != second["version_id"]
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix="data/a.json")["Versions"]
    assert {v["VersionId"] for v in versions} == {first["version_id"], second["version_id"]}
    assert _call("GET", "/api/data/a.json")["body"] == '{"v": 2}'


def test_a_missing_object_is_a_404(aws):
    response = _call("GET", "/api/data/missing.txt")
    assert response["statusCode"] == 404
    assert _json(response)["error"]["code"] == "object_not_found"


def test_objects_over_the_limit_are_refused_both_ways(aws):
    s3, _, _ = aws
    too_large = _call("PUT", "/api/data/big.bin", body=b"x" * (MAX_BYTES + 1))
    assert too_large["statusCode"] == 413
    assert _json(too_large)["error"]["code"] == "payload_too_large"
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)
    # Written to the bucket directly, bypassing the API: too large to return through Lambda.
    s3.put_object(Bucket=BUCKET, Key="data/direct.bin", Body=b"x" * (MAX_BYTES + 1))
    response = _call("GET", "/api/data/direct.bin")
    assert response["statusCode"] == 422
    assert _json(response)["error"] == {
        "code": "object_too_large",
        "message": f"the object has {MAX_BYTES + 1} bytes; this API returns objects of up to {MAX_BYTES} bytes",
    }


def test_traversal_attempts_never_reach_s3(aws):
    s3, _, _ = aws
    s3.put_object(Bucket=BUCKET, Key="secret.txt", Body=b"outside the prefix")
    for path in (
        "/api/data/..%2Fsecret.txt",
        "/api/data/%2E%2E",
        "/api/data/..",
        "/api/data/a%2F..%2F..%2Fsecret.txt",
    ):
        response = _call("GET", path)
        assert response["statusCode"] == 400, path
        assert _json(response)["error"]["code"] == "invalid_key"
        assert "outside the prefix" not in response["body"]
    assert _call("PUT", "/api/data/..%2Fsecret.txt", body="overwrite")["statusCode"] == 400
    assert s3.get_object(Bucket=BUCKET, Key="secret.txt")["Body"].read() == b"outside the prefix"


# ---- listing ----------------------------------------------------------------------------------


def _list(query=None):
    response = _call("GET", "/api/data", query=query)
    assert response["statusCode"] == 200, response["body"]
    return _json(response)


def test_listing_pages_through_every_object_under_the_prefix_only(aws):
    s3, _, _ = aws
    keys = [f"item-{n:02d}.txt" for n in range(7)]
    for key in keys:
        _call("PUT", f"/api/data/{key}", body=key)
    s3.put_object(Bucket=BUCKET, Key="elsewhere/item-99.txt", Body=b"not listed")
    seen, pages, cursor = [], 0, None
    while True:
        page = _list({"limit": "3", **({"cursor": cursor} if cursor else {})})
        pages += 1
        seen += [item["key"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert SECRET_VALUE not in cursor
    assert seen == keys and pages == 3
    assert set(page["items"][0]) == {"key", "size", "etag", "last_modified"}


def test_listing_continues_past_objects_written_to_the_bucket_directly(aws):
    s3, _, _ = aws
    _call("PUT", "/api/data/a.txt", body="x")
    s3.put_object(Bucket=BUCKET, Key="data/b/nested ü.txt", Body=b"written around the API")
    _call("PUT", "/api/data/c.txt", body="x")
    seen, cursor = [], None
    while True:
        page = _list({"limit": "1", **({"cursor": cursor} if cursor else {})})
        seen += [item["key"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == ["a.txt", "b/nested ü.txt", "c.txt"]


def test_listing_filters_by_a_key_prefix(aws):
    for key in ("report-a", "report-b", "invoice-a"):
        _call("PUT", f"/api/data/{key}", body="x")
    assert [item["key"] for item in _list({"prefix": "report-"})["items"]] == [
        "report-a",
        "report-b",
    ]
    first = _list({"prefix": "report-", "limit": "1"})
    assert first["next_cursor"]
    refused = _call(
        "GET", "/api/data", query={"prefix": "invoice-", "cursor": first["next_cursor"]}
    )
    assert refused["statusCode"] == 400
    assert (
        _json(refused)["error"]["message"] == "the cursor belongs to a listing with another prefix"
    )


def test_a_forged_cursor_is_refused(aws):
    for key in ("a", "b"):
        _call("PUT", f"/api/data/{key}", body="x")
    cursor = _list({"limit": "1"})["next_cursor"]
    signature = cursor.split(".")[1]
    forged = (
        base64.urlsafe_b64encode(json.dumps({"a": "0", "p": "", "e": 4102444800}).encode())
        .rstrip(b"=")
        .decode()
    )
    response = _call("GET", "/api/data", query={"cursor": f"{forged}.{signature}"})
    assert response["statusCode"] == 400
    assert _json(response)["error"]["code"] == "invalid_cursor"


def test_cursors_survive_one_rotation_and_expire_with_the_next(aws, monkeypatch):
    _, secrets, arn = aws
    monkeypatch.setenv("SECRET_CACHE_SECONDS", "0")  # read the secret on every request
    _clear_caches()
    for key in ("a", "b", "c"):
        _call("PUT", f"/api/data/{key}", body="x")
    cursor = _list({"limit": "1"})["next_cursor"]
    _rotate(secrets, arn, "second-value-" + "R" * 51)
    assert [item["key"] for item in _list({"limit": "1", "cursor": cursor})["items"]] == ["b"]
    _rotate(secrets, arn, "third-value-" + "S" * 52)
    response = _call("GET", "/api/data", query={"limit": "1", "cursor": cursor})
    assert response["statusCode"] == 400
    assert _json(response)["error"]["code"] == "invalid_cursor"


def test_the_secret_is_read_once_per_cache_period(aws):
    _, secrets, arn = aws
    now = [1000.0]
    values = SecretValues(secrets, secret_arn=arn, max_age=300, clock=lambda: now[0])
    assert values.current() == SECRET_VALUE.encode()
    assert list(values.candidates()) == [
        SECRET_VALUE.encode()
    ]  # no previous value before a rotation
    _rotate(secrets, arn, "new-value-" + "T" * 54)
    now[0] += 299
    assert values.current() == SECRET_VALUE.encode()  # still cached
    now[0] += 1
    assert values.current() == ("new-value-" + "T" * 54).encode()
    assert list(values.candidates())[1] == SECRET_VALUE.encode()


# ---- failures ---------------------------------------------------------------------------------


def _logged(caplog):
    """The function's log records of the run, as its JSON log lines."""
    formatter = index.logger.registered_formatter
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == index.logger.name]


def test_aws_failures_are_500s_with_a_correlation_id(aws, caplog):
    caplog.set_level("INFO")
    s3, _, _ = aws
    s3.delete_bucket(Bucket=BUCKET)
    response = _call("PUT", "/api/data/a.txt", body="x", request_id="corr-123")
    assert response["statusCode"] == 500
    assert _json(response)["error"] == {
        "code": "internal_error",
        "message": "an unexpected error occurred; quote the correlation id",
        "correlation_id": "corr-123",
    }
    (failure,) = [entry for entry in _logged(caplog) if entry["message"] == "unexpected error"]
    assert failure["correlation_id"] == "corr-123" and "NoSuchBucket" in failure["exception"]


def test_a_missing_setting_is_a_500_not_a_crash(aws, monkeypatch):
    monkeypatch.delenv("BUCKET_NAME")
    _clear_caches()
    response = _call("GET", "/api/data")
    assert response["statusCode"] == 500
    assert _json(response)["error"]["code"] == "internal_error"


def test_the_secret_value_and_object_bodies_are_never_logged(aws, caplog):
    caplog.set_level("DEBUG", logger=index.logger.name)
    body = "confidential-body-text"
    _call("PUT", "/api/data/a.txt", body=body)
    _call("PUT", "/api/data/b.txt", body=body)
    _call("GET", "/api/data/a.txt")
    cursor = _list({"limit": "1"})["next_cursor"]
    _call("GET", "/api/data", query={"cursor": cursor})
    _call("GET", "/api/data", query={"cursor": cursor + "x"})
    logged = json.dumps(_logged(caplog))
    assert "request answered" in logged and "request refused" in logged
    assert SECRET_VALUE not in logged
    assert body not in logged


# ---- arbitrary events -------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
paths = st.sampled_from(
    ["/api/health", "/api/data", "/api/data/a.txt", "/api/data/..%2Fx", "/api/data/%ZZ", "/x"]
) | st.text(max_size=40)
events = st.builds(
    lambda method, path, body, query, headers, b64: {
        **http_event(method, path, body=body, query=query, headers=headers),
        "isBase64Encoded": b64,
    },
    st.sampled_from(["GET", "PUT", "POST", "DELETE", "PATCH", "get", "X"]),
    paths,
    st.none() | st.text(max_size=50) | st.binary(max_size=50),
    st.none()
    | st.dictionaries(
        st.sampled_from(["limit", "prefix", "cursor", "x"]), st.text(max_size=30), max_size=3
    ),
    st.dictionaries(
        st.sampled_from(["content-type", "Content-Type", "x-other"]),
        st.text(max_size=30),
        max_size=2,
    ),
    st.booleans(),
)


def _mutated(event, path, value):
    target = event
    for part in path[:-1]:
        target = target.setdefault(part, {}) if isinstance(target, dict) else target
    if isinstance(target, dict):
        target[path[-1]] = value
    return event


mutations = st.builds(
    _mutated,
    events,
    st.sampled_from(
        [
            ("requestContext",),
            ("requestContext", "http"),
            ("requestContext", "http", "method"),
            ("rawPath",),
            ("headers",),
            ("queryStringParameters",),
            ("body",),
            ("isBase64Encoded",),
            ("requestContext", "requestId"),
        ]
    ),
    json_values,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(events, mutations, json_values))
def test_no_event_crashes_the_handler_or_gets_a_5xx(aws, event):
    response = index.handler(event, LambdaContext())
    assert response["statusCode"] < 500, response["body"]
    if response["headers"]["Content-Type"] == "application/json":
        body = json.loads(response["body"])
        if response["statusCode"] >= 400:
            assert set(body["error"]) == {"code", "message"}


# ---- packaging --------------------------------------------------------------------------------


def test_entry_point_imports_from_a_lambda_asset_root(tmp_path):
    # Lambda puts the asset root on sys.path and imports "data_api.index"; relative imports must work.
    # The asset holds the handler's directory and the shared one (handler_code ships both).
    shutil.copytree(HANDLERS_DIR / "data_api", tmp_path / "data_api")
    shutil.copytree(HANDLERS_DIR / "_shared", tmp_path / "_shared")
    module_name, _, function_name = handler_entry("data_api").rpartition(".")
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module(module_name)
        assert module.__file__.startswith(str(tmp_path))
        response = getattr(module, function_name)(http_event("GET", "/api/health"), LambdaContext())
        assert json.loads(response["body"]) == {"status": "ok"}
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == "data_api" or m.startswith("data_api.")]:
            del sys.modules[name]
