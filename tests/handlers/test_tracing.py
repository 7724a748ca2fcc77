"""The handlers' X-Ray provider: what reaches the daemon for one traced invocation.

A UDP socket on loopback stands in for the X-Ray daemon; moto answers the AWS calls. The
documents are checked against what the X-Ray SDK would send for the same calls: one subsegment
for the handler under Lambda's segment, one ``aws`` subsegment per call under it, and the trace
header of each request naming that call's subsegment.
"""

from __future__ import annotations

import copy
import json
import socket

import boto3
import botocore.client
import botocore.endpoint
import pytest
from aws_lambda_powertools import Tracer
from aws_lambda_powertools.tracing import tracer as tracer_module
from moto import mock_aws

from serverless_patterns.handlers.document_processor import tracing

ROOT = "1-5759e988-bd862e3fe1be46a994272793"
PARENT = "53995c3f42cd8ad8"
LINEAGE = "a87bd80c:0"


@pytest.fixture
def daemon(monkeypatch):
    """A UDP socket where the daemon would listen; yields a function that reads what arrived."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.5)
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", f"127.0.0.1:{sock.getsockname()[1]}")

    def received() -> list[dict]:
        documents = []
        while True:
            try:
                payload = sock.recv(65536)
            except TimeoutError:
                return documents
            header, _, body = payload.partition(b"\n")
            assert json.loads(header) == {"format": "json", "version": 1}
            documents.append(json.loads(body))
            sock.settimeout(0.2)

    yield received
    sock.close()


@pytest.fixture
def traced(monkeypatch):
    """Powertools' Tracer on the provider, tracing on as in Lambda; botocore restored afterwards."""
    saved_config = copy.copy(Tracer._config)
    call, prepare = botocore.client.BaseClient._make_api_call, botocore.endpoint.Endpoint.prepare_request
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    monkeypatch.setattr(tracer_module, "is_cold_start", True)  # a fresh execution environment
    Tracer._reset_config()
    tracer = tracing.xray_tracer(service="documents")
    yield tracer
    botocore.client.BaseClient._make_api_call, botocore.endpoint.Endpoint.prepare_request = call, prepare
    del botocore.client.BaseClient._sp_xray_provider
    Tracer._config = saved_config


def _by_name(documents: list[dict]) -> dict[str, list[dict]]:
    names: dict[str, list[dict]] = {}
    for document in documents:
        names.setdefault(document["name"], []).append(document)
    return names


@mock_aws
def test_an_invocation_sends_the_handler_and_one_subsegment_per_aws_call(traced, daemon, monkeypatch):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={ROOT};Parent={PARENT};Sampled=1;Lineage={LINEAGE}")
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="docs")  # outside the handler: its own subsegment under Lambda's
    headers: list[str] = []  # as sent (encoded by botocore)
    s3.meta.events.register(
        "before-send", lambda request, **_: headers.append(request.headers["X-Amzn-Trace-Id"].decode())
    )

    @traced.capture_lambda_handler(capture_response=False)
    def handler(event, context):
        traced.put_annotation("operation", "read")
        s3.put_object(Bucket="docs", Key="a.txt", Body=b"x")
        with pytest.raises(s3.exceptions.NoSuchKey):
            s3.get_object(Bucket="docs", Key="missing.txt")
        return {"ok": True}

    assert handler({}, None) == {"ok": True}
    documents = _by_name(daemon())

    [invocation] = documents["## handler"]
    assert (invocation["trace_id"], invocation["parent_id"], invocation["type"]) == (ROOT, PARENT, "subsegment")
    assert invocation["annotations"] == {"operation": "read", "ColdStart": True, "Service": "documents"}
    assert invocation["start_time"] <= invocation["end_time"]
    assert not {"error", "fault", "cause"} & set(invocation)

    create, put, get = documents["s3"]
    assert create["parent_id"] == PARENT
    for call in (put, get):
        assert (call["parent_id"], call["trace_id"], call["namespace"]) == (invocation["id"], ROOT, "aws")
        assert invocation["start_time"] <= call["start_time"] <= call["end_time"] <= invocation["end_time"]
    assert put["aws"]["operation"] == "PutObject"
    assert put["aws"]["region"] == "us-east-1"
    assert (put["aws"]["bucket_name"], put["aws"]["key"]) == ("docs", "a.txt")
    assert put["http"] == {"response": {"status": 200}}
    assert not {"error", "fault"} & set(put)

    assert get["aws"]["operation"] == "GetObject" and get["http"] == {"response": {"status": 404}}
    assert get["error"] is True and "fault" not in get
    [exception] = get["cause"]["exceptions"]
    assert (exception["type"], exception["remote"]) == ("NoSuchKey", True)

    # Each request carries the trace header naming its own subsegment, Lambda's lineage kept.
    assert headers[-2:] == [f"Root={ROOT};Parent={call['id']};Sampled=1;Lineage={LINEAGE}" for call in (put, get)]


@mock_aws
def test_a_failing_handler_records_the_exception_as_a_fault(traced, daemon, monkeypatch):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={ROOT};Parent={PARENT};Sampled=1")

    @traced.capture_lambda_handler
    def handler(event, context):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        handler({}, None)
    [invocation] = _by_name(daemon())["## handler"]
    assert invocation["fault"] is True
    assert invocation["cause"]["exceptions"][0]["message"] == "boom"
    assert invocation["metadata"]["documents"]["handler error"]  # Powertools' capture_error


@mock_aws
def test_nothing_is_sent_when_the_trace_is_not_sampled(traced, daemon, monkeypatch):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={ROOT};Parent={PARENT};Sampled=0")
    s3 = boto3.client("s3", region_name="us-east-1")

    @traced.capture_lambda_handler
    def handler(event, context):
        s3.list_buckets()

    handler({}, None)
    assert daemon() == []


def test_tracing_disabled_patches_nothing_and_sends_nothing(daemon, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={ROOT};Parent={PARENT};Sampled=1")
    saved_config = copy.copy(Tracer._config)
    Tracer._reset_config()
    before = botocore.client.BaseClient._make_api_call
    try:
        tracer = tracing.xray_tracer(service="documents")
        assert tracer.disabled and botocore.client.BaseClient._make_api_call is before

        @tracer.capture_lambda_handler
        def handler(event, context):
            return 1

        assert handler({}, None) == 1
    finally:
        Tracer._config = saved_config
    assert daemon() == []


def test_a_daemon_that_cannot_be_reached_never_fails_the_function(monkeypatch, caplog):
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", "no-such-host.invalid:2000")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={ROOT};Parent={PARENT};Sampled=1")
    provider = tracing.XRayProvider(enabled=True)
    with provider.in_subsegment("## handler") as segment:
        segment.put_annotation("k", "v")
    assert "not sent" in caplog.text


@pytest.mark.parametrize(
    ("value", "address"),
    [
        (None, ("127.0.0.1", 2000)),
        ("169.254.79.129:2000", ("169.254.79.129", 2000)),
        ("tcp:127.0.0.1:2000 udp:127.0.0.2:2001", ("127.0.0.2", 2001)),
    ],
)
def test_daemon_address_reads_lambdas_variable(value, address):
    assert tracing.daemon_address(value) == address


def test_the_provider_imports_no_xray_sdk_and_no_asyncio():
    import subprocess
    import sys

    code = (
        "import sys; from serverless_patterns.handlers.document_processor import tracing; "
        "tracing.xray_tracer('s'); print(sorted(m for m in ('aws_xray_sdk', 'asyncio') if m in sys.modules))"
    )
    env = {"LAMBDA_TASK_ROOT": "/var/task", "AWS_LAMBDA_FUNCTION_NAME": "fn", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---- the same invocation under the X-Ray SDK ----------------------------------------------------

_CHILD = r"""
import json, os, socket, sys
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
sock.settimeout(0.5)
os.environ["AWS_XRAY_DAEMON_ADDRESS"] = "127.0.0.1:%d" % sock.getsockname()[1]
import boto3
from moto import mock_aws
if sys.argv[1] == "sdk":  # what Powertools' Tracer does with the X-Ray SDK, botocore patched only
    from aws_lambda_powertools import Tracer
    tracer = Tracer(service="documents", patch_modules=["botocore"])
else:
    from serverless_patterns.handlers.document_processor.tracing import xray_tracer
    tracer = xray_tracer(service="documents")
with mock_aws():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="docs")

    @tracer.capture_lambda_handler(capture_response=False)
    def handler(event, context):
        s3.put_object(Bucket="docs", Key="a.txt", Body=b"x")
        try:
            s3.get_object(Bucket="docs", Key="missing.txt")
        except s3.exceptions.NoSuchKey:
            pass

    handler({}, None)
documents = []
while True:
    try:
        payload = sock.recv(65536)
    except TimeoutError:
        break
    documents.append(json.loads(payload.partition(b"\n")[2]))
print(json.dumps(documents))
"""


def _sent_under(mode: str) -> list[dict]:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "LAMBDA_TASK_ROOT": "/var/task",
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "_X_AMZN_TRACE_ID": f"Root={ROOT};Parent={PARENT};Sampled=1",
    }
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    out = subprocess.run([sys.executable, "-c", _CHILD, mode], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _shape(documents: list[dict]) -> list[tuple]:
    """What a trace shows of each subsegment, with ids replaced by the name of the parent."""
    names = {d["id"]: d["name"] for d in documents} | {PARENT: "Lambda's segment"}
    return sorted(
        (
            d["name"], names.get(d["parent_id"]), d["trace_id"], d.get("namespace"),
            (d.get("aws") or {}).get("operation"), (d.get("aws") or {}).get("region"),
            (d.get("aws") or {}).get("bucket_name"), (d.get("aws") or {}).get("key"),
            json.dumps(d.get("http"), sort_keys=True), bool(d.get("error")), bool(d.get("throttle")),
            tuple(sorted((d.get("annotations") or {}).items())),
            tuple(e["type"] for e in (d.get("cause") or {}).get("exceptions", [])),
        )
        for d in documents
    )


def test_the_provider_sends_what_the_xray_sdk_sends_for_the_same_invocation():
    sdk, ours = _sent_under("sdk"), _sent_under("provider")
    assert _shape(ours) == _shape(sdk)
    # One deliberate difference: the SDK marks every exception a fault, also a 404 (an error).
    def get_object(documents):
        (call,) = [d for d in documents if (d.get("aws") or {}).get("operation") == "GetObject"]
        return call

    assert get_object(sdk).get("fault") is True and "fault" not in get_object(ours)
