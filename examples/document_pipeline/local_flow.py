"""Run the flagship document flow end to end on moto, with the real handler code.

The functions' handlers and environment variables come from the synthesized template and
its assets (see :class:`serverless_patterns.local.EmulatedStack`), so a green run shows that
the template and the code agree. Clients at the three permission levels are created with the
operator's ``clients`` library, documents are uploaded through presigned forms, and events
flow through EventBridge, the queue, the processor, the table stream and the notifier. Status
events are watched as a consumer would: a queue subscribed to the status topic, and a rule on
the notifier's event bus for this pipeline's ``Document Status Changed`` events.
"""

from __future__ import annotations

import json
import struct
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import requests
from moto import mock_aws

from serverless_patterns.clients import create_client
from serverless_patterns.local import EmulatedRestApi, EmulatedStack, s3_eventbridge_event


@dataclass(frozen=True)
class Sample:
    """A document to upload: what the client declares and what it really sends."""

    file_name: str
    declared_type: str
    content: bytes
    declared_size: int | None = None  # default: len(content)

    @property
    def size(self) -> int:
        return self.declared_size if self.declared_size is not None else len(self.content)


@dataclass
class DocumentOutcome:
    file_name: str
    declared_type: str
    http_status: int
    document_id: str | None = None
    detected_type: str | None = None
    status: str | None = None
    reason: str | None = None


@dataclass
class FlowResult:
    documents: list[DocumentOutcome] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    #: The EventBridge events the watching rule received (whole events: ``detail`` is the status event).
    status_events: list[dict[str, Any]] = field(default_factory=list)
    access_checks: list[tuple[str, str, str, int]] = field(default_factory=list)  # level, method, path, status
    duplicate_redeliveries: int = 0
    dead_letters: int = 0

    def by_name(self, file_name: str) -> DocumentOutcome:
        return next(d for d in self.documents if d.file_name == file_name)


# ---- sample documents, built from their formats' definitions -----------------------------


def minimal_pdf() -> bytes:
    body = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    return body + b"trailer<</Root 1 0 R>>\n%%EOF\n"


def minimal_png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def samples(max_document_bytes: int) -> list[Sample]:
    png = minimal_png()
    return [
        Sample("quarterly-report.pdf", "application/pdf", minimal_pdf()),
        Sample("diagram.png", "image/png", png),
        Sample("notes.txt", "text/plain", "Meeting notes\nAction items: none\n".encode()),
        Sample("invoice.pdf", "application/pdf", png),  # content does not match the declared type
        Sample("scan.png", "image/png", png[: len(png) - 20]),  # truncated: IEND and part of IDAT missing
        Sample("archive.zip-too-big.pdf", "application/pdf", b"%PDF-1.7\n", declared_size=max_document_bytes + 1),
        Sample("Résumé final + notes 2026.txt", "text/plain", "Curriculum vitæ: naïve café\n".encode()),
    ]


#: What every sample must end as: (API status of POST /documents, detected type, final status).
EXPECTED_OUTCOMES: dict[str, tuple[int, str | None, str | None]] = {
    "quarterly-report.pdf": (201, "application/pdf", "PROCESSED"),
    "diagram.png": (201, "image/png", "PROCESSED"),
    "notes.txt": (201, "text/plain", "DELETED"),  # deleted by the admin client during the run
    "invoice.pdf": (201, "image/png", "REJECTED"),
    "scan.png": (201, "image/png", "REJECTED"),
    "archive.zip-too-big.pdf": (400, None, None),
    "Résumé final + notes 2026.txt": (201, "text/plain", "PROCESSED"),
}
#: (level, method, path) -> status the API must answer.
EXPECTED_ACCESS = {
    ("read-only", "POST", "/documents"): 403,
    ("read-only", "GET", "/documents"): 200,
    ("read-write", "DELETE", "/documents/{id}"): 403,
    ("admin", "DELETE", "/documents/{id}"): 200,
    ("unknown-key", "GET", "/documents"): 403,
}


def problems(result: FlowResult, expected_outcomes: Mapping[str, tuple[int, str | None, str | None]] | None = None) -> list[str]:
    """Differences between a run and the expected outcomes (default :data:`EXPECTED_OUTCOMES`)."""
    outcomes = EXPECTED_OUTCOMES if expected_outcomes is None else expected_outcomes
    found = []
    for d in result.documents:
        expected = outcomes[d.file_name]
        if (d.http_status, d.detected_type, d.status) != expected:
            found.append(f"{d.file_name}: got {(d.http_status, d.detected_type, d.status)}, expected {expected}")
    for level, method, path, status in result.access_checks:
        if EXPECTED_ACCESS[(level, method, path)] != status:
            found.append(f"{level} {method} {path}: got {status}, expected {EXPECTED_ACCESS[(level, method, path)]}")
    transitions = [(n["document_id"], n["status"]) for n in result.notifications]
    if len(transitions) != len(set(transitions)):
        found.append("a status transition was notified twice")
    on_sns = sorted(json.dumps({k: v for k, v in n.items() if k != "attributes"}, sort_keys=True) for n in result.notifications)
    on_bus = sorted(json.dumps(e.get("detail"), sort_keys=True) for e in result.status_events)
    if on_sns != on_bus:
        found.append(f"{len(on_bus)} status events on EventBridge differ from the {len(on_sns)} SNS notifications")
    registered = sum(1 for d in result.documents if d.document_id)
    never_uploaded = sum(1 for d in result.documents if d.document_id and outcomes[d.file_name][2] == "AWAITING_UPLOAD")
    # registered, then processed or rejected (unless the upload is never seen); plus one deletion
    expected_notifications = 2 * registered - never_uploaded + 1
    if len(result.notifications) != expected_notifications:
        found.append(f"{len(result.notifications)} notifications, expected {expected_notifications}")
    if result.dead_letters:
        found.append(f"{result.dead_letters} messages ended in a dead-letter queue")
    return found


# ---- the flow ------------------------------------------------------------------------------


def run(template: dict[str, Any], assembly_dir: Path, *, region: str = "us-east-1", quiet: bool = True) -> FlowResult:
    """Run the whole flow on a fresh in-process moto; return what every step produced."""
    with mock_aws():
        stack = EmulatedStack(template, assembly_dir, region=region, quiet=quiet).start()
        api = EmulatedRestApi(stack)
        authorizer = stack.function("api_key_authorizer.")
        keys = {
            level: create_client(
                table=authorizer.environment["PERMISSIONS_TABLE"], client_id=f"{level}-client", level=level,
                api_id=api.api_id, session=boto3.Session(region_name=region),
            ).api_key
            for level in LEVELS
        }
        return drive(stack, api, keys)


#: The permission levels the flow issues a client for (one key each).
LEVELS = ("read-only", "read-write", "admin")


def drive(stack: Any, api: Any, keys: dict[str, str]) -> FlowResult:
    """The flow itself, on any stack and API with the :class:`EmulatedStack` interface.

    ``stack`` is an :class:`EmulatedStack` (moto, handlers in-process) or a
    :class:`serverless_patterns.local.deployed.DeployedStack` (deployed on a local engine);
    ``api`` answers ``request(method, path, api_key=..., body=..., query=...)``; ``keys`` maps
    each of :data:`LEVELS` to an API key issued for it.
    """
    result = FlowResult()
    notifier = stack.function("document_notifier.")
    api_handler = stack.function("documents_api.")
    watch = _subscribe_capture_queue(stack, notifier.environment["STATUS_TOPIC_ARN"])
    watch_bus = _status_events_capture_queue(stack, notifier.environment)
    max_bytes = int(api_handler.environment["MAX_DOCUMENT_BYTES"])

    for sample in samples(max_bytes):
        result.documents.append(_register_and_upload(api, keys["read-write"], sample))
    stack.pump()

    # At-least-once delivery: EventBridge delivers the first document's event again.
    first = result.documents[0]
    result.duplicate_redeliveries = _redeliver_object_created(stack, api_handler, first)
    stack.pump()

    _access_checks(api, keys, result)
    stack.pump()
    for outcome in result.documents:
        if outcome.document_id:
            response = api.request("GET", f"/documents/{outcome.document_id}", api_key=keys["read-only"])
            outcome.status = response.body.get("status")
            outcome.detected_type = response.body.get("detected_type")
            outcome.reason = response.body.get("reason")
    result.notifications = _drain_notifications(stack, watch)
    result.status_events = _drain_status_events(stack, watch_bus)
    result.dead_letters = _dead_letter_count(stack)
    return result


def _register_and_upload(api: Any, key: str, sample: Sample) -> DocumentOutcome:
    response = api.request(
        "POST", "/documents", api_key=key,
        body={"file_name": sample.file_name, "content_type": sample.declared_type, "size": sample.size},
    )
    outcome = DocumentOutcome(sample.file_name, sample.declared_type, response.status)
    if response.status != 201:
        outcome.reason = (response.body or {}).get("error", {}).get("message") or str(response.body)
        return outcome
    outcome.document_id = response.body["document_id"]
    upload = response.body["upload"]
    posted = requests.post(
        upload["url"], data=upload["fields"], files={"file": (sample.file_name, sample.content, sample.declared_type)}, timeout=10
    )
    if posted.status_code not in (200, 201, 204):
        raise RuntimeError(f"upload of {sample.file_name} failed: {posted.status_code} {posted.text[:200]}")
    return outcome


def _redeliver_object_created(stack: Any, api_handler: Any, outcome: DocumentOutcome) -> int:
    s3 = stack.client("s3")
    bucket = api_handler.environment["DOCUMENTS_BUCKET"]
    key = next(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"documents/{outcome.document_id}/")["Contents"])
    head = s3.head_object(Bucket=bucket, Key=key)
    event = s3_eventbridge_event(
        bucket, key, size=head["ContentLength"], etag=head["ETag"], version_id=head.get("VersionId"),
        region=stack.region,
    )
    stack.client("events").put_events(
        Entries=[{"Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(event["detail"]),
                  "Resources": event["resources"]}]
    )
    return 1


def _access_checks(api: Any, keys: dict[str, str], result: FlowResult) -> None:
    deletable = result.by_name("notes.txt").document_id
    checks = [
        ("read-only", "POST", "/documents", {"file_name": "x.txt", "content_type": "text/plain", "size": 1}),
        ("read-only", "GET", "/documents", None),
        ("read-write", "DELETE", f"/documents/{deletable}", None),
        ("admin", "DELETE", f"/documents/{deletable}", None),
        ("unknown-key", "GET", "/documents", None),
    ]
    for level, method, path, body in checks:
        key = keys.get(level, "not-a-real-key-0123456789abcdefghij")
        query = {"status": "PROCESSED"} if method == "GET" else None
        response = api.request(method, path, api_key=key, body=body, query=query)
        result.access_checks.append((level, method, path.replace(deletable or "", "{id}"), response.status))


def _subscribe_capture_queue(stack: Any, topic_arn: str) -> str:
    sqs = stack.client("sqs")
    url = sqs.create_queue(QueueName=f"status-watcher-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    if hasattr(stack, "watch_queue"):
        stack.watch_queue(url)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    stack.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return url


def _status_events_capture_queue(stack: Any, environment: Mapping[str, str]) -> str:
    """A queue that receives the status events on the notifier's bus (the stack's one pipeline:
    ``DocumentPipeline.status_events_rule`` also matches the metadata table in ``resources``)."""
    sqs, events = stack.client("sqs"), stack.client("events")
    name = f"status-events-watcher-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    if hasattr(stack, "watch_queue"):
        stack.watch_queue(url)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # The bus's name: the notifier puts events by ARN, but MiniStack finds rules' buses by name only.
    bus = environment["STATUS_EVENT_BUS"].rsplit(":event-bus/", 1)[-1]
    pattern = {
        "source": ["serverless-patterns.document-pipeline"],
        "detail-type": ["Document Status Changed"],
    }
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "watcher", "Arn": arn}])
    return url


def _drain_status_events(stack: Any, url: str) -> list[dict[str, Any]]:
    sqs = stack.client("sqs")
    delivered = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            delivered.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return delivered


def _drain_notifications(stack: Any, url: str) -> list[dict[str, Any]]:
    sqs = stack.client("sqs")
    notifications = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return notifications
        for message in messages:
            envelope = json.loads(message["Body"])
            body = json.loads(envelope["Message"])
            attributes = {k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()}
            notifications.append({**body, "attributes": attributes})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _dead_letter_count(stack: Any) -> int:
    sqs = stack.client("sqs")
    total = 0
    for logical_id, physical in stack.physical.items():
        if "QueueUrl" in physical and "DeadLetter" in logical_id:
            attributes = sqs.get_queue_attributes(QueueUrl=physical["QueueUrl"], AttributeNames=["ApproximateNumberOfMessages"])
            total += int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    return total


# ---- printing ------------------------------------------------------------------------------


def print_result(result: FlowResult) -> None:
    print("\nDocuments (uploaded through presigned forms; processed from at most 64 KiB each)\n")
    header = f"{'file':<32}{'declared':<18}{'API':>5}  {'detected':<18}{'status':<16}reason"
    print(header)
    print("-" * len(header))
    for d in result.documents:
        print(f"{d.file_name:<32}{d.declared_type:<18}{d.http_status:>5}  {d.detected_type or '-':<18}{d.status or '-':<16}{d.reason or ''}")
    print(f"\nDuplicate deliveries injected: {result.duplicate_redeliveries}; messages in dead-letter queues: {result.dead_letters}")
    print("\nPermission levels\n")
    for level, method, path, status in result.access_checks:
        print(f"  {level:<12}{method:<8}{path:<22}-> {status}")
    print(f"\nNotifications sent ({len(result.notifications)} on SNS, {len(result.status_events)} on EventBridge)\n")
    names = {d.document_id: d.file_name for d in result.documents}
    for n in result.notifications:
        print(f"  {names.get(n.get('document_id'), n.get('document_id')):<32}{n.get('previous_status') or '-':>16} -> {n.get('status')}")
