"""The three document handlers together on moto, and each one as a stand-alone Lambda asset."""

from __future__ import annotations

import ast
import hashlib
import importlib
import json
import sys

import boto3
import document_samples as samples
import pytest
import requests
from document_support import (
    BUCKET,
    IDEMPOTENCY_TABLE,
    STATUS_INDEX,
    TABLE,
    TOPIC,
    LambdaContext,
    api_event,
    create_bucket,
    create_documents_table,
    create_idempotency_table,
    drain,
    sqs_event,
    stream_event,
    streams_client,
)
from moto import mock_aws

from serverless_patterns.handlers import (
    HANDLERS_DIR,
    SHARED_DIR,
    handler_code,
    handler_entry,
    handler_names,
    uses_shared_code,
)
from serverless_patterns.handlers.document_notifier import index as notifier
from serverless_patterns.handlers.document_processor import index as processor
from serverless_patterns.handlers.documents_api import index as api

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

PACKAGES = ("documents_api", "document_processor", "document_notifier")
NAME = "Q1 report ü+x.pdf"


@pytest.fixture
def pipeline(monkeypatch):
    with mock_aws():
        for module in (api, processor, notifier):
            module.clients.cache_clear()
        notifier.publisher.cache_clear()
        s3, dynamodb, sqs, sns = (boto3.client(name) for name in ("s3", "dynamodb", "sqs", "sns"))
        create_bucket(s3)
        stream_arn = create_documents_table(dynamodb)
        create_idempotency_table(dynamodb)
        events_url = sqs.create_queue(QueueName="document-events")["QueueUrl"]
        events_arn = sqs.get_queue_attributes(QueueUrl=events_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        s3.put_bucket_notification_configuration(
            Bucket=BUCKET,
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": events_arn, "Events": ["s3:ObjectCreated:*"]}]
            },
        )
        topic_arn = sns.create_topic(Name=TOPIC)["TopicArn"]
        status_url = sqs.create_queue(QueueName="status-subscriber")["QueueUrl"]
        status_arn = sqs.get_queue_attributes(QueueUrl=status_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=status_arn)
        for name, value in {
            "DOCUMENTS_BUCKET": BUCKET,
            "DOCUMENTS_TABLE": TABLE,
            "STATUS_INDEX": STATUS_INDEX,
            "STATUS_TOPIC_ARN": topic_arn,
            "STATUS_EVENT_BUS": "default",
            "IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE,
        }.items():
            monkeypatch.setenv(name, value)
        yield {
            "s3": s3,
            "dynamodb": dynamodb,
            "sqs": sqs,
            "events": events_url,
            "status": status_url,
            "stream": stream_arn,
        }
    for module in (api, processor, notifier):
        module.clients.cache_clear()
    notifier.publisher.cache_clear()


def call_api(event) -> tuple[int, dict]:
    response = api.handler(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def test_register_upload_process_download_delete_and_notify(pipeline):
    data = samples.pdf()
    status, created = call_api(
        api_event(
            "POST",
            "/documents",
            body={
                "file_name": NAME,
                "content_type": "application/pdf",
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            },
        )
    )
    assert status == 201
    document_id = created["document_id"]

    upload = requests.post(
        created["upload"]["url"],
        data=created["upload"]["fields"],
        files={"file": (NAME, data, "application/pdf")},
        timeout=10,
    )
    assert upload.status_code == 204

    messages = drain(pipeline["sqs"], pipeline["events"])
    bodies = [m["Body"] for m in messages]
    assert any('"s3:TestEvent"' in body for body in bodies)
    assert any("Q1+report+%C3%BC%2Bx.pdf" in body for body in bodies)  # S3 encodes the key
    assert processor.handler(sqs_event(*bodies), LambdaContext()) == {"batchItemFailures": []}

    status, document = call_api(api_event("GET", f"/documents/{document_id}", level="read-only"))
    assert (
        status == 200
        and document["status"] == "PROCESSED"
        and document["detected_type"] == "application/pdf"
    )
    download = requests.get(document["download"]["url"], timeout=10)
    assert download.status_code == 200 and download.content == data

    status, listed = call_api(api_event("GET", "/documents", level="read-only"))
    assert [item["document_id"] for item in listed["items"]] == [document_id]

    status, deleted = call_api(api_event("DELETE", f"/documents/{document_id}", level="admin"))
    assert status == 200 and deleted["status"] == "DELETED"

    stream = stream_event(streams_client(), pipeline["stream"])
    assert notifier.handler(stream, LambdaContext()) == {"batchItemFailures": []}
    assert notifier.handler(stream, LambdaContext()) == {"batchItemFailures": []}  # a replay
    published = [json.loads(m["Body"]) for m in drain(pipeline["sqs"], pipeline["status"])]
    transitions = [
        (json.loads(p["Message"])["previous_status"], json.loads(p["Message"])["status"])
        for p in published
    ]
    assert transitions == [
        (None, "AWAITING_UPLOAD"),
        ("AWAITING_UPLOAD", "PROCESSED"),
        ("PROCESSED", "DELETED"),
    ]
    assert all(p["MessageAttributes"]["document_id"]["Value"] == document_id for p in published)


# ---- packaging ---------------------------------------------------------------------------------

ALLOWED_TOP_LEVEL = {"aws_lambda_powertools", "boto3", "botocore"}


@pytest.mark.parametrize("package", PACKAGES)
def test_each_handler_imports_only_itself_the_standard_library_and_the_runtime(package):
    directory = HANDLERS_DIR / package
    modules = {path.stem for path in directory.glob("*.py")}
    if uses_shared_code(package):
        modules |= {path.stem for path in SHARED_DIR.glob("*.py")}
    for path in directory.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert node.level == 1, f"{path.name}: relative import beyond its package"
                if node.module:
                    assert node.module.split(".")[0] in modules, (
                        f"{path.name}: .{node.module} is not in {package}"
                    )
            else:
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else ([node.module] if isinstance(node, ast.ImportFrom) else [])
                )
                for name in names:
                    top = name.split(".")[0]
                    assert top in sys.stdlib_module_names or top in ALLOWED_TOP_LEVEL, (
                        f"{path.name} imports {name}"
                    )


def test_each_asset_ships_the_shared_code_its_handler_imports(tmp_path):
    from aws_cdk import App, Stack
    from aws_cdk import aws_lambda as lambda_

    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Assets")
    for package in (*PACKAGES, "object_metadata_writer", "example_echo"):
        lambda_.Function(
            stack,
            package,
            code=handler_code(package),
            handler=handler_entry(package),
            runtime=lambda_.Runtime.PYTHON_3_13,
        )
    app.synth()
    shipped = {}
    for asset in tmp_path.glob("asset.*"):
        files = {str(p.relative_to(asset)) for p in asset.rglob("*.py")}
        shipped[next(f.split("/")[0] for f in files if not f.startswith("_shared/"))] = (asset, files)
    shared = {f"_shared/{p.name}" for p in SHARED_DIR.glob("*.py")}
    users = {"document_processor", "document_notifier", "documents_api", "object_metadata_writer"}
    assert {p for p in shipped if uses_shared_code(p)} == users
    for package in users:
        asset, files = shipped[package]
        assert shared <= files, package
        sys.path.insert(0, str(asset))
        try:
            module_name, _, function = handler_entry(package).rpartition(".")
            assert callable(getattr(importlib.import_module(module_name), function))
        finally:
            sys.path.remove(str(asset))
            for name in [n for n in sys.modules if n.split(".")[0] == package]:
                del sys.modules[name]
    for package in set(shipped) - users:
        assert not any(f.startswith("_shared/") for f in shipped[package][1]), package


def test_each_handler_loads_from_its_own_asset_root():
    assert set(PACKAGES) <= set(handler_names())
    sys.path.insert(0, str(HANDLERS_DIR))
    try:
        for package in PACKAGES:
            module_name, _, function = handler_entry(package).rpartition(".")
            assert callable(getattr(importlib.import_module(module_name), function))
    finally:
        sys.path.remove(str(HANDLERS_DIR))
        for name in [n for n in sys.modules if n.split(".")[0] in PACKAGES]:
            del sys.modules[name]


# ---- one event, one key (issue 14) ---------------------------------------------------------------


@pytest.mark.parametrize("file_name", ["Q1 report+final.pdf", "100%.pdf"])
@pytest.mark.parametrize("shape", ["eventbridge", "notification"])
def test_the_processor_and_the_metadata_writer_read_the_same_key_from_one_event(
    monkeypatch, file_name, shape
):
    from document_support import eventbridge_body, notification_body, put_document, read_item
    from s3_object_events import create_table

    from serverless_patterns.handlers.object_metadata_writer import index as writer

    monkeypatch.setenv("DOCUMENTS_BUCKET", BUCKET)
    monkeypatch.setenv("DOCUMENTS_TABLE", TABLE)
    monkeypatch.setenv("TABLE_NAME", "object-metadata")
    monkeypatch.setenv("BUCKET_NAME", BUCKET)
    with mock_aws():
        processor.clients.cache_clear()
        writer.store.cache_clear()
        s3, dynamodb = boto3.client("s3"), boto3.client("dynamodb")
        create_bucket(s3)
        create_documents_table(dynamodb)
        metadata = create_table(boto3.resource("dynamodb"), "object-metadata")
        data = samples.pdf()
        document_id = "e" * 32
        key = put_document(dynamodb, document_id, file_name, "application/pdf", len(data))
        version = s3.put_object(Bucket=BUCKET, Key=key, Body=data)["VersionId"]
        if shape == "eventbridge":
            body = json.loads(eventbridge_body(key, size=len(data), version_id=version))
            body["detail"]["object"]["sequencer"] = "0A"
            body = json.dumps(body)
        else:
            body = json.loads(notification_body(key))
            body["Records"][0]["s3"]["object"].update({"sequencer": "0A", "versionId": version})
            body = json.dumps(body)
        event = sqs_event(body)

        assert processor.handler(event, LambdaContext()) == {"batchItemFailures": []}
        assert writer.handler(event, LambdaContext()) == {"batchItemFailures": []}
        assert read_item(dynamodb, document_id)["status"] == "PROCESSED"
        (recorded,) = [i for i in metadata.scan()["Items"] if i["sk"] == "LATEST"]
        assert recorded["key"] == key
        assert s3.head_object(Bucket=BUCKET, Key=recorded["key"])["VersionId"] == version
    processor.clients.cache_clear()
    writer.store.cache_clear()
