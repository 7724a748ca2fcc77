"""Document processor handler on moto: both event shapes, duplicates, drops, retries, big objects."""

from __future__ import annotations

import hashlib
import uuid

import document_samples as samples
import pytest
from document_support import (
    BUCKET,
    TEST_EVENT_BODY,
    CallLog,
    LambdaContext,
    Throttle,
    create_bucket,
    create_documents_table,
    eventbridge_body,
    metrics_emitted,
    notification_body,
    put_document,
    read_item,
    sqs_event,
)
from moto import mock_aws

from serverless_patterns.handlers.document_processor import index

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

PDF = "application/pdf"


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("DOCUMENTS_BUCKET", BUCKET)
    monkeypatch.setenv("DOCUMENTS_TABLE", "documents")
    with mock_aws():
        index.clients.cache_clear()
        s3, dynamodb = index.clients()
        create_bucket(s3)
        create_documents_table(dynamodb)
        yield s3, dynamodb
    index.clients.cache_clear()


def upload(
    aws, data: bytes, *, file_name="report.pdf", declared_type=PDF, declared_size=None, sha256=None
):
    """Register a document and store its object; returns (document id, key, version id)."""
    s3, dynamodb = aws
    document_id = uuid.uuid4().hex
    size = len(data) if declared_size is None else declared_size
    key = put_document(dynamodb, document_id, file_name, declared_type, size, sha256=sha256)
    version_id = s3.put_object(Bucket=BUCKET, Key=key, Body=data)["VersionId"]
    return document_id, key, version_id


def run(*bodies: str) -> dict:
    return index.handler(sqs_event(*bodies), LambdaContext())


def test_eventbridge_event_processes_the_document(aws, capsys):
    data = samples.pdf()
    digest = hashlib.sha256(data).hexdigest()
    document_id, key, version_id = upload(aws, data, sha256=digest)

    assert run(eventbridge_body(key, size=len(data), version_id=version_id)) == {
        "batchItemFailures": []
    }

    item = read_item(aws[1], document_id)
    assert item["status"] == "PROCESSED" and item["status_version"] == 2
    assert item["detected_type"] == PDF and item["size"] == len(data)
    assert item["etag"] == hashlib.md5(data).hexdigest()  # unquoted
    assert item["version_id"] == version_id and item["checksum_sha256"] == digest
    assert item["updated_at"] > item["created_at"] and "reason" not in item
    assert metrics_emitted(capsys.readouterr().out) == {"DocumentsProcessed": 1}


def test_classic_notification_with_encoded_key_processes_the_document(aws):
    document_id, key, _ = upload(
        aws, samples.png(), file_name="a b ü+x.png", declared_type="image/png"
    )
    body = notification_body(key)
    assert "a+b+%C3%BC%2Bx.png" in body
    assert run(body) == {"batchItemFailures": []}
    assert read_item(aws[1], document_id)["status"] == "PROCESSED"


def test_a_document_that_is_not_what_was_declared_is_rejected(aws, capsys):
    document_id, key, _ = upload(aws, samples.png(), declared_type=PDF)
    assert run(eventbridge_body(key)) == {"batchItemFailures": []}
    item = read_item(aws[1], document_id)
    assert item["status"] == "REJECTED" and item["status_version"] == 2
    assert item["reason"] == "declared application/pdf but the content is image/png"
    assert item["detected_type"] == "image/png" and "checksum_sha256" not in item
    assert metrics_emitted(capsys.readouterr().out) == {"DocumentsRejected": 1}


def test_truncated_upload_is_rejected_on_size(aws):
    data = samples.pdf()
    document_id, key, _ = upload(aws, data[:-100], declared_size=len(data))
    run(eventbridge_body(key))
    assert (
        read_item(aws[1], document_id)["reason"]
        == f"size mismatch: declared {len(data)} bytes, the object has {len(data) - 100}"
    )


def test_s3_test_event_is_ignored(aws, capsys):
    with CallLog(*aws) as log:
        assert run(TEST_EVENT_BODY) == {"batchItemFailures": []}
    assert log.calls == []
    assert metrics_emitted(capsys.readouterr().out) == {"EventsIgnored": 1}


def test_duplicate_events_change_nothing_the_second_time(aws, capsys):
    document_id, key, version_id = upload(aws, samples.pdf())
    body = eventbridge_body(key, version_id=version_id)
    assert run(body, body) == {"batchItemFailures": []}
    first = read_item(aws[1], document_id)
    with CallLog(*aws) as log:
        assert run(notification_body(key)) == {"batchItemFailures": []}
    assert read_item(aws[1], document_id) == first
    assert first["status_version"] == 2
    assert log.operations() == ["GetItem"]  # the item says it is done: the object is not read again
    assert metrics_emitted(capsys.readouterr().out) == {
        "DocumentsProcessed": 1,
        "DuplicateEvents": 2,
    }


def test_unknown_documents_and_foreign_keys_are_dropped_without_retry(aws, capsys):
    s3, dynamodb = aws
    document_id, key, _ = upload(aws, samples.pdf())
    s3.put_object(Bucket=BUCKET, Key=f"documents/{document_id}/another.pdf", Body=samples.pdf())
    with CallLog(s3, dynamodb) as log:
        result = run(
            eventbridge_body(f"documents/{uuid.uuid4().hex}/ghost.pdf"),  # no such document
            eventbridge_body("uploads/elsewhere.pdf"),  # outside documents/
            eventbridge_body(f"documents/{document_id}/another.pdf"),  # not the registered key
            eventbridge_body(key, bucket="some-other-bucket"),
            "this is not JSON",
        )
    assert result == {"batchItemFailures": []}
    assert read_item(dynamodb, document_id)["status"] == "AWAITING_UPLOAD"
    assert "GetObject" not in log.operations() and "UpdateItem" not in log.operations()
    assert metrics_emitted(capsys.readouterr().out) == {"EventsDropped": 5}


def test_a_100_mib_object_is_checked_from_one_64_kib_ranged_read(aws):
    s3, dynamodb = aws
    document_id = uuid.uuid4().hex
    part = 5 * 1024 * 1024
    size = 20 * part
    key = put_document(dynamodb, document_id, "big.pdf", PDF, size)
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    head = samples.pdf()
    parts = []
    for number in range(1, 21):
        body = head + b"\0" * (part - len(head)) if number == 1 else b"\0" * part
        etag = s3.upload_part(
            Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=number, Body=body
        )["ETag"]
        parts.append({"ETag": etag, "PartNumber": number})
    s3.complete_multipart_upload(
        Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
    )

    with CallLog(s3, dynamodb) as log:
        assert run(eventbridge_body(key, size=size)) == {"batchItemFailures": []}

    assert log.operations() == ["GetItem", "GetObject", "UpdateItem"]
    (get_object,) = [params for name, params in log.calls if name == "GetObject"]
    assert get_object["Range"] == "bytes=0-65535"
    assert log.content_lengths == [65536]
    item = read_item(dynamodb, document_id)
    assert item["status"] == "PROCESSED" and item["size"] == 104857600
    assert item["etag"].endswith("-20")


def test_every_document_costs_at_most_three_calls(aws):
    bodies = []
    for data, declared in (
        (samples.pdf(), PDF),
        (samples.gif(), PDF),
        (samples.TEXT, "text/plain"),
    ):
        _, key, _ = upload(aws, data, declared_type=declared)
        bodies.append(eventbridge_body(key))
    with CallLog(*aws) as log:
        run(*bodies)
    assert log.operations() == ["GetItem", "GetObject", "UpdateItem"] * 3


def test_throttling_fails_only_that_message_which_succeeds_when_retried(aws, capsys):
    _, dynamodb = aws
    slow_id, slow_key, _ = upload(aws, samples.pdf())
    fast_id, fast_key, _ = upload(aws, samples.pdf())

    def slow(params):
        return params.get("Key", {}).get("document_id", {}).get("S") == slow_id

    with Throttle(dynamodb, "UpdateItem", when=slow) as throttle:
        result = run(eventbridge_body(slow_key), eventbridge_body(fast_key))
    assert throttle.hits >= 1
    assert result == {"batchItemFailures": [{"itemIdentifier": "message-0"}]}
    assert read_item(dynamodb, slow_id)["status"] == "AWAITING_UPLOAD"  # still has a status
    assert read_item(dynamodb, fast_id)["status"] == "PROCESSED"

    assert run(eventbridge_body(slow_key)) == {"batchItemFailures": []}  # the redelivery
    assert read_item(dynamodb, slow_id)["status"] == "PROCESSED"


@pytest.mark.parametrize("operation", ["GetItem", "GetObject"])
def test_errors_reading_are_retried_not_swallowed(aws, operation):
    s3, dynamodb = aws
    document_id, key, _ = upload(aws, samples.pdf())
    with Throttle(s3 if operation == "GetObject" else dynamodb, operation):
        assert run(eventbridge_body(key)) == {
            "batchItemFailures": [{"itemIdentifier": "message-0"}]
        }
    assert read_item(dynamodb, document_id)["status"] == "AWAITING_UPLOAD"


def test_an_object_deleted_before_processing_rejects_the_document(aws):
    s3, dynamodb = aws
    document_id, key, _ = upload(aws, samples.pdf())
    s3.delete_object(Bucket=BUCKET, Key=key)
    run(notification_body(key))  # no version id: the current object is gone
    item = read_item(dynamodb, document_id)
    assert item["status"] == "REJECTED" and item["reason"] == "the object no longer exists"


def test_the_version_named_by_the_event_is_read_even_after_an_overwrite(aws):
    s3, dynamodb = aws
    document_id, key, version_id = upload(aws, samples.pdf())
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"overwritten")
    run(eventbridge_body(key, version_id=version_id))
    item = read_item(dynamodb, document_id)
    assert item["status"] == "PROCESSED" and item["version_id"] == version_id


def test_an_empty_object_is_rejected(aws):
    _, dynamodb = aws
    document_id, key, _ = upload(aws, b"", declared_type="text/plain", declared_size=10)
    assert run(eventbridge_body(key, size=0)) == {"batchItemFailures": []}
    item = read_item(dynamodb, document_id)
    assert item["status"] == "REJECTED" and item["reason"] == "the object is empty"


def test_events_for_deleted_documents_change_nothing(aws):
    _, dynamodb = aws
    document_id = uuid.uuid4().hex
    key = put_document(dynamodb, document_id, "gone.pdf", PDF, 10, status="DELETED")
    run(eventbridge_body(key))
    assert read_item(dynamodb, document_id)["status"] == "DELETED"


def test_missing_configuration_fails_every_message(aws, monkeypatch):
    monkeypatch.delenv("DOCUMENTS_TABLE")
    _, key, _ = upload(aws, samples.pdf())
    assert run(eventbridge_body(key), TEST_EVENT_BODY) == {
        "batchItemFailures": [{"itemIdentifier": "message-0"}, {"itemIdentifier": "message-1"}]
    }


# ---- hostile input (issue 14) -------------------------------------------------------------------


def test_an_empty_batch_is_answered_with_no_failures(aws):
    assert index.handler({"Records": []}, LambdaContext()) == {"batchItemFailures": []}


def test_a_record_without_a_message_id_does_not_fail_the_batch(aws):
    data = samples.pdf()
    document_id, key, version_id = upload(aws, data)
    event = sqs_event(eventbridge_body(key, size=len(data), version_id=version_id), "not json")
    del event["Records"][1]["messageId"]
    assert index.handler(event, LambdaContext()) == {"batchItemFailures": []}
    assert read_item(aws[1], document_id)["status"] == "PROCESSED"


@pytest.mark.parametrize("file_name", ["Q1 report+final.pdf", "100%.pdf", "a%2Bb & c=d?.pdf"])
def test_an_eventbridge_key_is_decoded_as_s3_encodes_it(aws, file_name):
    data = samples.pdf()
    document_id, key, version_id = upload(aws, data, file_name=file_name)
    assert run(eventbridge_body(key, size=len(data), version_id=version_id)) == {"batchItemFailures": []}
    assert read_item(aws[1], document_id)["status"] == "PROCESSED"


@pytest.mark.parametrize("raw_key", ["documents/x/%ZZ.pdf", "documents/x/100%.pdf", "documents/x/a%4"])
def test_a_key_with_a_broken_escape_is_dropped_as_malformed(aws, raw_key, capsys):
    body = eventbridge_body("placeholder")
    body = body.replace('"placeholder"', f'"{raw_key}"')
    assert run(body) == {"batchItemFailures": []}
    assert metrics_emitted(capsys.readouterr().out) == {"EventsDropped": 1}
