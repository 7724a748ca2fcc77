"""Run the documents service locally, before deploying: both stacks on the library's emulator.

    cdk synth --strict && python local_run.py cdk.out

The emulator (``serverless_patterns.local``, moto in-process) creates the stacks' buckets, tables,
queues, topics, rules and API, and runs every function's handler from its synthesized asset,
ours included. Documents are registered through the API, uploaded with the presigned form, and
flow through validation, our two steps, the notifier and our status-event consumers (the SQS
queue of status events, and the rejection notice: a Lambda subscription of the status topic,
invoked as SNS invokes it). Prints one JSON document: what became of each upload, our catalog,
the ops topic's messages (document ids shown as file names), the digest.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
import requests
from moto import mock_aws

from serverless_patterns.clients import create_client
from serverless_patterns.local import EmulatedRestApi, EmulatedStack

STAGE = "dev"
REGION = "us-east-1"

#: (file name, declared type, content) of each upload.
UPLOADS = [
    ("handbook.txt", "text/plain", b"Employee handbook\nWelcome aboard.\n"),
    ("salaries.txt", "text/plain", b"CONFIDENTIAL\nSalary bands 2026\n"),
    ("forged.pdf", "application/pdf", b"GIF89a not a PDF at all"),
]


def main(cloud_assembly: str) -> None:
    assembly = Path(cloud_assembly)
    with mock_aws():
        # The platform stack first: the documents stack imports its bucket, key, topic and VPC.
        platform = EmulatedStack(_template(assembly, f"{STAGE}-platform"), assembly, region=REGION, quiet=True).start()
        documents = EmulatedStack(
            _template(assembly, f"{STAGE}-documents"), assembly, region=REGION, quiet=True, imports=platform.exports()
        ).start()
        ops_topic = documents.function("daily_digest.").environment["OPS_TOPIC_ARN"]
        ops_messages = _capture(documents, ops_topic)
        api = EmulatedRestApi(documents)
        api_key = create_client(
            table=documents.function("api_key_authorizer.").environment["PERMISSIONS_TABLE"],
            client_id="uploader", level="read-write", api_id=api.api_id, session=boto3.Session(region_name=REGION),
        ).api_key

        uploads = {name: _upload(api, api_key, name, content_type, content) for name, content_type, content in UPLOADS}
        documents.pump()

        outcomes = {}
        for name, document_id in uploads.items():
            body = api.request("GET", f"/documents/{document_id}", api_key=api_key).body
            outcomes[name] = {"status": body.get("status"), "detected_type": body.get("detected_type")}
        catalog = _catalog(documents, {document_id: name for name, document_id in uploads.items()})
        digest_function = documents.function("daily_digest.")
        digest = documents.invoke(digest_function, _scheduled_event())
        print(json.dumps({
            "documents": outcomes,
            "catalog": catalog,
            "digest": digest,
            "ops_messages": [_named(message["Subject"], uploads) for message in _drain(documents, ops_messages)],
            "skipped_subscriptions": documents.skipped_subscriptions,
            "undelivered_notifications": [reason for _, reason, _ in documents.undelivered_notifications],
        }, sort_keys=True))


def _template(assembly: Path, stack: str) -> dict[str, Any]:
    return json.loads((assembly / f"{stack}.template.json").read_text())


def _upload(api: EmulatedRestApi, api_key: str, name: str, content_type: str, content: bytes) -> str:
    response = api.request("POST", "/documents", api_key=api_key,
                           body={"file_name": name, "content_type": content_type, "size": len(content)})
    if response.status != 201:
        raise RuntimeError(f"registering {name}: {response.status} {response.body}")
    form = response.body["upload"]
    posted = requests.post(form["url"], data=form["fields"], files={"file": (name, content, content_type)}, timeout=10)
    posted.raise_for_status()
    return response.body["document_id"]


def _catalog(stack: EmulatedStack, names: dict[str, str]) -> dict[str, Any]:
    """Per document: our catalog entry and the statuses it went through, in order."""
    table = stack.function("catalog_step.").environment["CATALOG_TABLE"]
    items = boto3.resource("dynamodb", region_name=REGION).Table(table).scan()["Items"]
    result: dict[str, Any] = {}
    for document_id, name in names.items():
        mine = [item for item in items if item["document_id"] == document_id]
        entry = next((item for item in mine if item["entry"] == "catalog"), None)
        previous = {item["previous_status"]: item["status"] for item in mine if item["entry"].startswith("status#")}
        history, status = [], previous.get("-")
        while status:
            history.append(status)
            status = previous.get(status)
        result[name] = {"classification": entry["classification"] if entry else None, "statuses": history}
    return result


def _named(text: str, uploads: dict[str, str]) -> str:
    for name, document_id in uploads.items():
        text = text.replace(document_id, name)
    return text


def _scheduled_event() -> dict[str, Any]:
    """What the daily EventBridge schedule sends."""
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-01-01T06:00:00Z", "region": REGION, "resources": [], "detail": {}}


def _capture(stack: EmulatedStack, topic_arn: str) -> str:
    sqs = stack.client("sqs")
    url = sqs.create_queue(QueueName=f"ops-capture-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    stack.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return url


def _drain(stack: EmulatedStack, url: str) -> list[dict[str, Any]]:
    sqs, messages = stack.client("sqs"), []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            messages.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")
