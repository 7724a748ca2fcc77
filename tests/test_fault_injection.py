"""Fault injection: 1000 documents through the flagship flow on moto, and nothing lost or told twice.

The dev configuration of the flagship app runs on :class:`EmulatedStack` with its real handlers.
Of 1000 documents, 10% are malformed (content of another type, truncated, garbage), 10% have
their object-created event delivered twice (EventBridge puts it again, or SQS delivers the queue
message again), and 5% of the S3 and DynamoDB calls of the documents API, the processor and the
notifier fail with a throttling error (as if the SDK's own retries had run out). The objects of
a few documents stay unreadable (an S3 outage for their keys): their events must end in the
dead-letter queue. Every registered document must end in exactly one terminal state, every
status transition must be announced once (or its stream records reported to the on-failure
queue), and none twice.
"""

from __future__ import annotations

import importlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
import requests
from aws_cdk import App
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.sns import sns_backends

from serverless_patterns.clients import create_client
from serverless_patterns.local import HANDLER, AwsCall, EmulatedRestApi, EmulatedStack

app_module = importlib.import_module("examples.document_pipeline.app")
local_flow = importlib.import_module("examples.document_pipeline.local_flow")

pytestmark = pytest.mark.slow

DOCUMENTS = 1000
SEED = 20261122
MALFORMED_SHARE = 0.10
DUPLICATED_SHARE = 0.10
THROTTLED_SHARE = 0.05
#: Documents whose object S3 never serves to the processor: their events must be dead-lettered.
UNREADABLE_DOCUMENTS = 5
#: Attempts of a client at ``POST /documents`` when the API answers 5xx.
CLIENT_ATTEMPTS = 5
#: Documents uploaded between two deliveries of the queues (uploads keep arriving while the
#: functions work; moto's SQS slows down with the square of a queue's depth).
WAVE = 50

PROCESSED, REJECTED, AWAITING_UPLOAD = "PROCESSED", "REJECTED", "AWAITING_UPLOAD"
DEAD_LETTERED = "DEAD-LETTERED"
LOST = "LOST"
#: Throttling errors as AWS answers them: (error code, HTTP status), per service.
THROTTLING = {
    "s3": [("SlowDown", 503)],
    "dynamodb": [("ProvisionedThroughputExceededException", 400), ("ThrottlingException", 400)],
}


# ---- documents ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    file_name: str
    content_type: str
    content: bytes
    expected: str  # PROCESSED or REJECTED, from the content alone
    kind: str  # "valid", "mismatch", "truncated" or "garbage"


def _valid(rng: random.Random, n: int) -> Document:
    choice = rng.randrange(5)
    if choice == 0:
        return Document(f"report-{n}.pdf", "application/pdf", local_flow.minimal_pdf(), PROCESSED, "valid")
    if choice == 1:
        png = local_flow.minimal_png(rng.randint(1, 16), rng.randint(1, 16))
        return Document(f"scan-{n}.png", "image/png", png, PROCESSED, "valid")
    if choice == 2:
        text = f"Note {n}\n" + "lorem ipsum dolor\n" * rng.randint(1, 20)
        return Document(f"note-{n}.txt", "text/plain", text.encode(), PROCESSED, "valid")
    if choice == 3:
        rows = "".join(f"{i},{rng.randint(0, 999)},item-{i}\n" for i in range(rng.randint(1, 30)))
        return Document(f"table-{n}.csv", "text/csv", ("id,amount,name\n" + rows).encode(), PROCESSED, "valid")
    payload = {"document": n, "values": [rng.random() for _ in range(rng.randint(1, 10))]}
    return Document(f"data-{n}.json", "application/json", json.dumps(payload).encode(), PROCESSED, "valid")


def _malformed(rng: random.Random, n: int) -> Document:
    choice = rng.randrange(3)
    if choice == 0:  # declared PDF, content PNG
        return Document(f"invoice-{n}.pdf", "application/pdf", local_flow.minimal_png(), REJECTED, "mismatch")
    if choice == 1:  # IEND and part of IDAT missing
        png = local_flow.minimal_png(rng.randint(4, 16), rng.randint(4, 16))
        return Document(f"cut-{n}.png", "image/png", png[: len(png) - rng.randint(13, 20)], REJECTED, "truncated")
    garbage = bytes([0x80 | rng.randrange(0x80) for _ in range(rng.randint(64, 512))])  # never UTF-8, no magic
    return Document(f"blob-{n}.{rng.choice(['png', 'txt'])}", rng.choice(["image/png", "text/plain"]), garbage, REJECTED, "garbage")


def _documents(rng: random.Random) -> list[Document]:
    malformed = set(rng.sample(range(DOCUMENTS), int(DOCUMENTS * MALFORMED_SHARE)))
    return [_malformed(rng, n) if n in malformed else _valid(rng, n) for n in range(DOCUMENTS)]


# ---- faults ------------------------------------------------------------------------------------


class Faults:
    """Fails a seeded 5% of the handlers' S3 and DynamoDB calls, and every read of unreadable keys.

    ``functions`` maps the logical ids of the functions to fail to their handler names. It also
    counts the processor's reads of each document's item: every delivery of an event makes one.
    """

    def __init__(self, rng: random.Random, functions: dict[str, str]) -> None:
        self.rng = rng
        self.functions = functions
        self.unreadable_keys: set[str] = set()
        self.injected: Counter[tuple[str, str]] = Counter()  # (service, error code)
        self.injected_into: Counter[str] = Counter()  # "handler Operation"
        self.item_reads: Counter[str] = Counter()  # document id -> the processor's GetItem calls
        self.calls = 0

    def __call__(self, call: AwsCall) -> None:
        if call.origin != HANDLER or call.function not in self.functions or call.service not in THROTTLING:
            return
        self.calls += 1
        handler = self.functions[call.function]
        if handler == "document_processor" and call.operation == "GetItem":
            self.item_reads[call.params["Key"]["document_id"]["S"]] += 1
        persistent = call.service == "s3" and call.params.get("Key") in self.unreadable_keys
        if persistent or self.rng.random() < THROTTLED_SHARE:
            code, status = self.rng.choice(THROTTLING[call.service])
            self.injected[(call.service, code)] += 1
            self.injected_into[f"{handler} {call.operation}"] += 1
            raise ClientError(
                {"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                call.operation,
            )


# ---- the run -----------------------------------------------------------------------------------


@dataclass
class Run:
    registered: dict[str, Document] = field(default_factory=dict)  # document id -> what was uploaded
    unreadable: set[str] = field(default_factory=set)
    duplicated: dict[str, str] = field(default_factory=dict)  # document id -> "eventbridge" or "sqs"
    api_retries: int = 0
    statuses: dict[str, str] = field(default_factory=dict)  # document id -> status in the table
    dead_lettered: Counter[str] = field(default_factory=Counter)  # document id -> events in the DLQ
    dlq_alarm: tuple[float, str, float] = (0.0, "", 0.0)  # (queue depth, operator, threshold)
    notifications: list[tuple[str, int, str]] = field(default_factory=list)  # (id, version, status)
    reported_failures: set[tuple[str, int, str]] = field(default_factory=set)
    api_counts: dict[str, int] = field(default_factory=dict)
    injected: Counter[tuple[str, str]] = field(default_factory=Counter)
    injected_into: Counter[str] = field(default_factory=Counter)
    item_reads: Counter[str] = field(default_factory=Counter)
    handler_calls: int = 0
    seconds: float = 0.0

    def terminal_state(self, document_id: str) -> str:
        status = self.statuses.get(document_id)
        if status in (PROCESSED, REJECTED):
            return status
        if status == AWAITING_UPLOAD and self.dead_lettered[document_id]:
            return DEAD_LETTERED
        return LOST

    def expected_transitions(self) -> set[tuple[str, int, str]]:
        expected = {(document_id, 1, AWAITING_UPLOAD) for document_id in self.registered}
        expected |= {(i, 2, s) for i, s in self.statuses.items() if s in (PROCESSED, REJECTED)}
        return expected


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("flagship-dev")
    app = App(outdir=str(outdir), context={"env": "dev"})
    (stack,) = app_module.build(app)
    return app.synth().get_stack_by_name(stack.stack_name).template, outdir


@pytest.fixture(scope="module")
def run(dev) -> Run:
    template, outdir = dev
    started = time.perf_counter()
    rng = random.Random(SEED)
    documents = _documents(rng)
    result = Run()
    with mock_aws():
        stack = EmulatedStack(template, outdir, quiet=True).start()
        api = EmulatedRestApi(stack)
        # The authorizer is left out: when its table throttles it fails the request (HTTP 500, not
        # cached), which this run would count against the client, not the pipeline under test.
        faulty = {stack.function(f"{name}.").logical_id: name for name in ("documents_api", "document_processor", "document_notifier")}
        faults = Faults(random.Random(SEED + 1), faulty)
        stack.on_call = faults
        environment = stack.function("documents_api.").environment
        bucket, table = environment["DOCUMENTS_BUCKET"], environment["DOCUMENTS_TABLE"]
        key = create_client(
            table=stack.function("api_key_authorizer.").environment["PERMISSIONS_TABLE"], client_id="load-test",
            level="read-write", api_id=api.api_id, session=boto3.Session(region_name=stack.region),
        ).api_key
        status_topic = stack.function("document_notifier.").environment["STATUS_TOPIC_ARN"]

        unreadable = set(rng.sample([n for n, d in enumerate(documents) if d.expected == PROCESSED], UNREADABLE_DOCUMENTS))
        duplicated = rng.sample(range(DOCUMENTS), int(DOCUMENTS * DUPLICATED_SHARE))
        how = {n: ("eventbridge" if rank % 2 else "sqs") for rank, n in enumerate(duplicated)}
        # Half the duplicates arrive while the first delivery still waits in the queue, half later.
        early = set(duplicated[: len(duplicated) // 2])
        for start in range(0, DOCUMENTS, WAVE):
            wave: dict[int, tuple[str, str]] = {}
            for n in range(start, min(start + WAVE, DOCUMENTS)):
                document_id, object_key = _register_and_upload(api, key, documents[n], result)
                result.registered[document_id] = documents[n]
                wave[n] = (document_id, object_key)
                if n in unreadable:
                    result.unreadable.add(document_id)
                    faults.unreadable_keys.add(object_key)
                if n in how:
                    result.duplicated[document_id] = how[n]
            for n in sorted(early & set(wave)):
                _deliver_again(stack, bucket, wave[n][1], how[n])
            stack.pump()
            for n in sorted((set(how) - early) & set(wave)):
                _deliver_again(stack, bucket, wave[n][1], how[n])
            stack.pump()

        result.api_counts = {status: _count_through_api(api, key, status, result) for status in (PROCESSED, REJECTED)}
        stack.on_call = None
        result.injected, result.injected_into, result.handler_calls = faults.injected, faults.injected_into, faults.calls
        result.item_reads = faults.item_reads
        result.statuses = _statuses(stack, table)
        result.dlq_alarm = _upload_dlq_alarm(stack)
        result.dead_lettered = _dead_lettered_documents(stack)
        result.notifications = _notifications(stack, status_topic)
        result.reported_failures = _reported_failures(stack)
    result.seconds = time.perf_counter() - started
    _print_counts(result)
    return result


def _register_and_upload(api: EmulatedRestApi, key: str, document: Document, result: Run) -> tuple[str, str]:
    body = {"file_name": document.file_name, "content_type": document.content_type, "size": len(document.content)}
    for _attempt in range(CLIENT_ATTEMPTS):
        response = api.request("POST", "/documents", api_key=key, body=body)
        if response.status < 500:
            break
        result.api_retries += 1
    assert response.status == 201, (document.file_name, response.status, response.body)
    upload = response.body["upload"]
    posted = requests.post(
        upload["url"], data=upload["fields"], files={"file": (document.file_name, document.content, document.content_type)}, timeout=10
    )
    assert posted.status_code in (200, 201, 204), posted.text[:200]
    return response.body["document_id"], upload["fields"]["key"]


def _object_created(stack: EmulatedStack, bucket: str, key: str) -> dict[str, Any]:
    """The EventBridge event S3 sends for the current version of ``key``."""
    head = stack.client("s3").head_object(Bucket=bucket, Key=key)
    return {
        "version": "0",
        "bucket": {"name": bucket},
        "object": {"key": key, "size": head["ContentLength"], "etag": head["ETag"].strip('"'),
                   "version-id": head["VersionId"], "sequencer": "0"},
        "reason": "PostObject",
    }


def _deliver_again(stack: EmulatedStack, bucket: str, key: str, how: str) -> None:
    detail = _object_created(stack, bucket, key)
    if how == "eventbridge":  # EventBridge delivers the event to its targets again
        entry = {"Source": "aws.s3", "DetailType": "Object Created", "Detail": json.dumps(detail),
                 "Resources": [f"arn:aws:s3:::{bucket}"]}
        assert stack.client("events").put_events(Entries=[entry])["FailedEntryCount"] == 0
        return
    queue = next(m.source_arn for m in stack.mappings if m.is_queue)
    envelope = {
        "version": "0", "id": f"duplicate-{key}", "detail-type": "Object Created", "source": "aws.s3",
        "account": "123456789012", "time": "2026-11-22T00:00:00Z", "region": stack.region,
        "resources": [f"arn:aws:s3:::{bucket}"], "detail": detail,
    }  # SQS delivers a copy of the message (at-least-once delivery)
    stack.client("sqs").send_message(QueueUrl=stack.queue_url(queue), MessageBody=json.dumps(envelope))


def _count_through_api(api: EmulatedRestApi, key: str, status: str, result: Run) -> int:
    """How many documents ``GET /documents?status=`` lists, page by page (retrying 5xx)."""
    total, token = 0, None
    while True:
        query = {"status": status, "limit": "100", **({"next": token} if token else {})}
        for _attempt in range(CLIENT_ATTEMPTS):
            response = api.request("GET", "/documents", api_key=key, query=query)
            if response.status < 500:
                break
            result.api_retries += 1
        assert response.status == 200, response.body
        total += len(response.body["items"])
        token = response.body["next"]
        if not token:
            return total


def _statuses(stack: EmulatedStack, table: str) -> dict[str, str]:
    pages = stack.client("dynamodb").get_paginator("scan").paginate(
        TableName=table, ProjectionExpression="document_id, #s", ExpressionAttributeNames={"#s": "status"}
    )
    return {item["document_id"]["S"]: item["status"]["S"] for page in pages for item in page["Items"]}


def _upload_dead_letter_queue(stack: EmulatedStack) -> str:
    """Logical id of the dead-letter queue of the processor's queue (its redrive target)."""
    source = next(m.source_arn for m in stack.mappings if m.is_queue)
    queue = next(lid for lid, p in stack.physical.items() if p.get("Arn") == source)
    return stack.resources[queue]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]


def _receive_all(stack: EmulatedStack, url: str) -> list[str]:
    sqs, bodies = stack.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        bodies += [m["Body"] for m in messages]
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)])
    return bodies


def _dead_lettered_documents(stack: EmulatedStack) -> Counter[str]:
    dlq = _upload_dead_letter_queue(stack)
    found: Counter[str] = Counter()
    for body in _receive_all(stack, stack.physical[dlq]["QueueUrl"]):
        found[json.loads(body)["detail"]["object"]["key"].split("/")[1]] += 1
    return found


def _upload_dlq_alarm(stack: EmulatedStack) -> tuple[float, str, float]:
    """The dead-letter queue's depth and the alarm the template sets on it."""
    dlq = _upload_dead_letter_queue(stack)
    alarms = [
        r["Properties"] for r in stack.resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and r["Properties"].get("Namespace") == "AWS/SQS"
        and r["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and any(d["Value"] == {"Fn::GetAtt": [dlq, "QueueName"]} for d in r["Properties"].get("Dimensions", []))
    ]
    assert len(alarms) == 1, "the upload dead-letter queue has exactly one depth alarm"
    visible = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.physical[dlq]["QueueUrl"], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    return float(visible), alarms[0]["ComparisonOperator"], float(alarms[0]["Threshold"])


def _notifications(stack: EmulatedStack, topic_arn: str) -> list[tuple[str, int, str]]:
    """(document id, status version, status) of every message the status topic accepted."""
    topic = sns_backends["123456789012"][stack.region].topics[topic_arn]  # moto's documented record
    bodies = [json.loads(message) for _id, message, *_ in topic.sent_notifications]
    return [(b["document_id"], b["status_version"], b["status"]) for b in bodies]


def _reported_failures(stack: EmulatedStack) -> set[tuple[str, int, str]]:
    """The transitions whose stream records Lambda gave up on, read back from the stream by the
    sequence numbers of the on-failure queue's records (one record each: the mapping bisects)."""
    destination = next(m.on_failure for m in stack.mappings if not m.is_queue)
    streams, failures = stack.client("dynamodbstreams"), set()
    for body in _receive_all(stack, stack.queue_url(destination)):
        batch = json.loads(body)["DDBStreamBatchInfo"]
        assert batch["startSequenceNumber"] == batch["endSequenceNumber"], batch
        iterator = streams.get_shard_iterator(
            StreamArn=batch["streamArn"], ShardId=batch["shardId"], ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=batch["startSequenceNumber"],
        )["ShardIterator"]
        (record,) = streams.get_records(ShardIterator=iterator, Limit=1)["Records"]
        image = record["dynamodb"]["NewImage"]
        failures.add((image["document_id"]["S"], int(image["status_version"]["N"]), image["status"]["S"]))
    return failures


def _print_counts(result: Run) -> None:
    states = Counter(result.terminal_state(i) for i in result.registered)
    kinds = Counter(d.kind for d in result.registered.values())
    notified = Counter(result.notifications)
    print(
        f"\n{len(result.registered)} documents registered in {result.seconds:.1f} s "
        f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})"
        f"\nterminal states: {dict(sorted(states.items()))}"
        f"\nduplicate deliveries: {dict(Counter(result.duplicated.values()))}; "
        f"events in the dead-letter queue: {sum(result.dead_lettered.values())}"
        f"\ninjected failures: {sum(result.injected.values())} of {result.handler_calls} S3/DynamoDB calls "
        f"{dict(sorted((f'{s}:{c}', n) for (s, c), n in result.injected.items()))}; client retries of 5xx: {result.api_retries}"
        f"\n  by call: {dict(sorted(result.injected_into.items()))}"
        f"\nnotifications: {len(result.notifications)} ({len(notified)} distinct transitions of "
        f"{len(result.expected_transitions())}); reported to the on-failure queue: {len(result.reported_failures)} "
        f"({len(result.reported_failures - set(notified))} of them never announced)"
    )


# ---- what must hold --------------------------------------------------------------------------


def test_every_registered_document_ends_in_exactly_one_terminal_state(run):
    assert len(run.registered) == DOCUMENTS
    states = {i: run.terminal_state(i) for i in run.registered}
    assert LOST not in states.values(), [i for i, s in states.items() if s == LOST]
    assert set(run.statuses) == set(run.registered), "the table holds exactly the registered documents"
    # A dead-lettered event belongs to a document nothing else closed: never processed and dead-lettered.
    assert {i for i in run.dead_lettered} == {i for i, s in states.items() if s == DEAD_LETTERED}


def test_each_document_ends_as_its_content_says_unless_it_was_dead_lettered(run):
    for document_id, document in run.registered.items():
        assert run.terminal_state(document_id) in (document.expected, DEAD_LETTERED), document
    assert {i for i in run.registered if run.terminal_state(i) == DEAD_LETTERED} >= run.unreadable
    rejected = [d for i, d in run.registered.items() if run.terminal_state(i) == REJECTED]
    malformed = [i for i, d in run.registered.items() if d.expected == REJECTED]
    assert len(malformed) == DOCUMENTS * MALFORMED_SHARE
    assert len(rejected) == sum(1 for i in malformed if run.terminal_state(i) != DEAD_LETTERED)
    assert {d.kind for d in rejected} == {"mismatch", "truncated", "garbage"}


def test_dead_lettered_events_set_off_the_dead_letter_queue_alarm(run):
    depth, operator, threshold = run.dlq_alarm
    assert depth == sum(run.dead_lettered.values()) >= UNREADABLE_DOCUMENTS
    assert operator == "GreaterThanOrEqualToThreshold" and depth >= threshold


def test_the_api_lists_what_the_table_holds(run):
    table = Counter(run.statuses.values())
    assert run.api_counts == {PROCESSED: table[PROCESSED], REJECTED: table[REJECTED]}


def test_every_transition_is_announced_at_most_once(run):
    duplicates = [t for t, n in Counter(run.notifications).items() if n > 1]
    assert not duplicates
    assert set(run.notifications) <= run.expected_transitions(), "no announcement of a transition that did not happen"


def test_no_transition_is_lost_between_the_table_and_the_topic(run):
    expected = run.expected_transitions()
    missing = expected - set(run.notifications) - run.reported_failures
    assert not missing, f"{len(missing)} transitions neither announced nor reported as failed"


def test_the_faults_really_happened(run):
    assert sum(run.injected.values()) >= 0.03 * run.handler_calls
    assert {service for service, _ in run.injected} == {"s3", "dynamodb"}
    assert run.api_retries > 0, "the API answered throttled registrations with 5xx, which clients retried"


def test_every_duplicate_reached_the_processor_and_changed_nothing(run):
    assert Counter(run.duplicated.values()) == {"eventbridge": DOCUMENTS * DUPLICATED_SHARE / 2, "sqs": DOCUMENTS * DUPLICATED_SHARE / 2}
    assert all(run.item_reads[i] >= 2 for i in run.duplicated), "each delivery of an event reads the item"
    assert all(run.terminal_state(i) == run.registered[i].expected for i in run.duplicated if i not in run.unreadable)
