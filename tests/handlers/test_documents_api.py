"""Documents API handler on moto: every route, every refusal, presigned forms and URLs."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from document_support import (
    BUCKET,
    TABLE,
    LambdaContext,
    api_environment,
    api_event,
    create_bucket,
    create_documents_table,
    metrics_emitted,
    put_document,
    read_item,
)
from moto import mock_aws

from serverless_patterns.handlers.documents_api import index

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

PDF = "application/pdf"
NAME = "Q1 report ü+x.pdf"


@pytest.fixture
def aws(monkeypatch):
    api_environment(monkeypatch)
    with mock_aws():
        index.clients.cache_clear()
        s3, dynamodb = index.clients()
        create_bucket(s3)
        create_documents_table(dynamodb)
        yield s3, dynamodb
    index.clients.cache_clear()


def call(event) -> tuple[int, dict, dict[str, str]]:
    response = index.handler(event, LambdaContext())
    headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers.update(response.get("headers") or {})
    assert headers["Content-Type"] == "application/json"
    return response["statusCode"], json.loads(response["body"]), headers


def register(body=None, **event_options) -> tuple[int, dict, dict[str, str]]:
    body = (
        body
        if body is not None
        else {"file_name": f"scans/{NAME}", "content_type": PDF, "size": 1234}
    )
    return call(api_event("POST", "/documents", body=body, **event_options))


def processed(dynamodb, document_id: str, *, version_id: str = "v-1") -> None:
    dynamodb.update_item(
        TableName=TABLE,
        Key={"document_id": {"S": document_id}},
        UpdateExpression="SET #s = :s, version_id = :v, status_version = :n",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":s": {"S": "PROCESSED"},
            ":v": {"S": version_id},
            ":n": {"N": "2"},
        },
    )


# ---- POST /documents ---------------------------------------------------------------------------


def test_registering_returns_a_presigned_post_for_exactly_that_object(aws, capsys):
    digest = "ab" * 32
    status, body, headers = register(
        {"file_name": f"scans/{NAME}", "content_type": PDF, "size": 1234, "sha256": digest}
    )

    assert status == 201 and headers["Cache-Control"] == "no-store"
    document_id = body["document_id"]
    assert len(document_id) == 32 and uuid.UUID(document_id).version == 4
    assert body["status"] == "AWAITING_UPLOAD" and body["expires_in"] == 900
    assert body["upload"]["url"] == f"https://{BUCKET}.s3.amazonaws.com/"
    fields = body["upload"]["fields"]
    key = f"documents/{document_id}/{NAME}"
    checksum = base64.b64encode(bytes.fromhex(digest)).decode()
    assert fields["key"] == key and fields["Content-Type"] == PDF
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256" and fields["x-amz-signature"]
    assert (
        fields["x-amz-checksum-algorithm"] == "SHA256"
        and fields["x-amz-checksum-sha256"] == checksum
    )

    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    for condition in (
        {"bucket": BUCKET},
        {"key": key},
        ["content-length-range", 1234, 1234],
        {"Content-Type": PDF},
        {"x-amz-checksum-algorithm": "SHA256"},
        {"x-amz-checksum-sha256": checksum},
    ):
        assert condition in conditions
    assert not any(isinstance(c, list) and c[0] == "starts-with" for c in conditions)
    expires = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(seconds=890) < expires - datetime.now(UTC) <= timedelta(seconds=900)

    item = read_item(aws[1], document_id)
    assert item == {
        "document_id": document_id,
        "status": "AWAITING_UPLOAD",
        "file_name": NAME,
        "declared_type": PDF,
        "declared_size": 1234,
        "declared_sha256": digest,
        "object_key": key,
        "owner": "client-a",
        "created_at": item["created_at"],
        "updated_at": item["created_at"],
        "status_version": 1,
    }
    assert datetime.strptime(item["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert metrics_emitted(capsys.readouterr().out) == {"DocumentsAccepted": 1}


def test_without_a_checksum_the_form_has_no_checksum_fields(aws):
    status, body, _ = register()
    assert status == 201
    assert not any(name.startswith("x-amz-checksum") for name in body["upload"]["fields"])
    assert "declared_sha256" not in read_item(aws[1], body["document_id"])


@pytest.mark.parametrize(
    ("body", "code", "fragment"),
    [
        (
            {"file_name": "../../etc/passwd", "content_type": PDF, "size": 1},
            "validation_error",
            "'..' path segments",
        ),
        (
            {"file_name": "a.exe", "content_type": "application/x-msdownload", "size": 1},
            "validation_error",
            "content_type 'application/x-msdownload' is not accepted",
        ),
        (
            {"file_name": "a.pdf", "content_type": PDF, "size": 104857601},
            "validation_error",
            "size must be between 1 and 104857600 bytes, not 104857601",
        ),
        (
            {"file_name": "a.pdf", "content_type": PDF, "size": "12"},
            "validation_error",
            "size must be an integer",
        ),
        ({"file_name": "a.pdf", "content_type": PDF}, "validation_error", "missing field(s): size"),
        (
            {"file_name": "a.pdf", "content_type": PDF, "size": 1, "sha256": "abc"},
            "validation_error",
            "sha256 must be 64",
        ),
        ("{not json", "invalid_json", "the request body is not valid JSON"),
        ("[]", "invalid_json", "must be a JSON object, not list"),
        ("", "missing_body", "the request has no body"),
    ],
)
def test_invalid_registrations_are_400_and_write_nothing(aws, body, code, fragment):
    status, answer, _ = register(body)
    assert status == 400 and answer["error"]["code"] == code
    assert fragment in answer["error"]["message"]
    assert aws[1].scan(TableName=TABLE)["Count"] == 0


def test_other_body_refusals(aws):
    status, answer, _ = register(headers={"Content-Type": "text/csv"})
    assert (status, answer["error"]["code"]) == (415, "unsupported_media_type")
    status, answer, _ = register("x" * 20000)
    assert (status, answer["error"]["code"]) == (413, "payload_too_large")


def test_limits_come_from_the_environment_at_call_time(aws, monkeypatch):
    monkeypatch.setenv("MAX_DOCUMENT_BYTES", "1000")
    monkeypatch.setenv("ALLOWED_CONTENT_TYPES", "text/plain")
    monkeypatch.setenv("UPLOAD_URL_EXPIRY_SECONDS", "60")
    status, answer, _ = register()
    assert status == 400
    assert "size must be between 1 and 1000 bytes" in answer["error"]["message"]
    assert (
        "content_type 'application/pdf' is not accepted; accepted: text/plain"
        in answer["error"]["message"]
    )
    status, answer, _ = register({"file_name": "a.txt", "content_type": "text/plain", "size": 5})
    assert status == 201 and answer["expires_in"] == 60


@pytest.mark.parametrize(
    ("level", "status"), [("read-only", 403), (None, 403), ("superuser", 403), ("admin", 201)]
)
def test_registering_needs_read_write(aws, level, status):
    assert register(level=level)[0] == status


# ---- GET /documents/{id} -----------------------------------------------------------------------


def test_a_document_awaiting_upload_has_no_download(aws):
    _, created, _ = register()
    status, body, headers = call(
        api_event("GET", f"/documents/{created['document_id']}", level="read-only")
    )
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert (
        body["status"] == "AWAITING_UPLOAD" and body["file_name"] == NAME and "download" not in body
    )
    assert set(body) == {
        "document_id",
        "status",
        "file_name",
        "declared_type",
        "declared_size",
        "created_at",
        "updated_at",
        "status_version",
    }


def test_a_processed_document_has_a_short_lived_download_of_the_checked_version(aws):
    _, created, _ = register()
    processed(aws[1], created["document_id"], version_id="version-7")
    status, body, _ = call(
        api_event("GET", f"/documents/{created['document_id']}", level="read-only")
    )
    assert status == 200 and body["status"] == "PROCESSED" and body["download"]["expires_in"] == 300
    url = urlsplit(body["download"]["url"])
    query = parse_qs(url.query)
    assert url.netloc == f"{BUCKET}.s3.amazonaws.com"
    assert url.path == f"/documents/{created['document_id']}/Q1%20report%20%C3%BC%2Bx.pdf"
    assert query["versionId"] == ["version-7"] and query["X-Amz-Expires"] == ["300"]
    assert query["response-content-disposition"] == [
        "attachment; filename=\"Q1 report _+x.pdf\"; filename*=UTF-8''Q1%20report%20%C3%BC%2Bx.pdf"
    ]
    assert "owner" not in body and "object_key" not in body and "version_id" not in body


def test_reading_unknown_and_malformed_ids(aws):
    status, body, _ = call(api_event("GET", f"/documents/{uuid.uuid4().hex}", level="read-only"))
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body, _ = call(api_event("GET", "/documents/not-an-id", level="read-only"))
    assert status == 400 and body["error"]["code"] == "invalid_document_id"
    status, body, _ = call(api_event("GET", f"/documents/{uuid.uuid4().hex}", level=None))
    assert status == 403 and body["error"]["code"] == "forbidden"


# ---- GET /documents ----------------------------------------------------------------------------


def test_listing_pages_through_a_status_newest_first(aws):
    dynamodb = aws[1]
    ids = []
    for day in range(1, 6):
        document_id = uuid.uuid4().hex
        put_document(
            dynamodb,
            document_id,
            f"d{day}.pdf",
            PDF,
            10,
            status="PROCESSED",
            created_at=f"2026-01-0{day}T00:00:00.000Z",
        )
        ids.append(document_id)
    rejected = uuid.uuid4().hex
    put_document(dynamodb, rejected, "bad.pdf", PDF, 10, status="REJECTED")

    seen, token, pages = [], None, 0
    while True:
        query = {"limit": "2", **({"next": token} if token else {})}
        status, body, _ = call(api_event("GET", "/documents", level="read-only", query=query))
        assert status == 200 and body["status"] == "PROCESSED" and len(body["items"]) <= 2
        seen += [item["document_id"] for item in body["items"]]
        pages += 1
        token = body["next"]
        if token is None:
            break
    assert seen == ids[::-1] and pages == 3

    status, body, _ = call(
        api_event("GET", "/documents", level="read-only", query={"status": "REJECTED"})
    )
    assert [item["document_id"] for item in body["items"]] == [rejected] and body["next"] is None


def test_listing_refuses_bad_queries(aws):
    put_document(aws[1], uuid.uuid4().hex, "a.pdf", PDF, 1, status="PROCESSED")
    put_document(aws[1], uuid.uuid4().hex, "b.pdf", PDF, 1, status="PROCESSED")
    _, first, _ = call(api_event("GET", "/documents", level="read-only", query={"limit": "1"}))
    for query, code in (
        ({"limit": "0"}, "invalid_query"),
        ({"status": "LOST"}, "invalid_query"),
        ({"next": "garbage!"}, "invalid_token"),
        ({"next": first["next"], "status": "REJECTED"}, "invalid_token"),
        ({"order": "asc"}, "invalid_query"),
    ):
        status, body, _ = call(api_event("GET", "/documents", level="read-only", query=query))
        assert (status, body["error"]["code"]) == (400, code), query


# ---- DELETE /documents/{id} --------------------------------------------------------------------


def test_deleting_keeps_the_item_and_every_version_and_is_idempotent(aws, capsys):
    s3, dynamodb = aws
    _, created, _ = register()
    document_id = created["document_id"]
    key = f"documents/{document_id}/{NAME}"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"%PDF-1.7")
    processed(dynamodb, document_id)

    status, body, _ = call(
        api_event("DELETE", f"/documents/{document_id}", level="admin", client_id="admin-1")
    )
    assert status == 200 and body["status"] == "DELETED" and body["status_version"] == 3
    assert body["reason"] == "deleted through the API"
    item = read_item(dynamodb, document_id)
    assert item["status"] == "DELETED" and item["status_version"] == 3 and item["object_key"] == key
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix=key)
    assert len(versions["Versions"]) == 1 and len(versions["DeleteMarkers"]) == 1

    status, again, _ = call(api_event("DELETE", f"/documents/{document_id}", level="admin"))
    assert status == 200 and again == body
    assert read_item(dynamodb, document_id)["status_version"] == 3
    assert len(s3.list_object_versions(Bucket=BUCKET, Prefix=key)["DeleteMarkers"]) == 1
    assert metrics_emitted(capsys.readouterr().out) == {
        "DocumentsAccepted": 1,
        "DocumentsDeleted": 1,
    }

    status, after, _ = call(api_event("GET", f"/documents/{document_id}", level="read-only"))
    assert status == 200 and after["status"] == "DELETED" and "download" not in after


@pytest.mark.parametrize("level", ["read-only", "read-write"])
def test_deleting_needs_admin(aws, level):
    _, created, _ = register()
    status, body, _ = call(api_event("DELETE", f"/documents/{created['document_id']}", level=level))
    assert (
        status == 403
        and body["error"]["message"]
        == f"this operation needs the admin level; the caller has {level}"
    )
    assert read_item(aws[1], created["document_id"])["status"] == "AWAITING_UPLOAD"


def test_deleting_an_unknown_document_is_404(aws):
    status, body, _ = call(api_event("DELETE", f"/documents/{uuid.uuid4().hex}", level="admin"))
    assert status == 404 and body["error"]["code"] == "not_found"


# ---- routes and failures -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("PUT", "/documents", 405, "GET, POST"),
        ("PATCH", f"/documents/{'a' * 32}", 405, "DELETE, GET"),
        ("OPTIONS", "/documents", 405, "GET, POST"),
        ("GET", "/", 404, None),
        ("PUT", "/documents/", 405, "GET, POST"),
        ("POST", "/documents/a/b", 404, None),
    ],
)
def test_unknown_routes_and_methods(aws, method, path, status, allow):
    code, body, headers = call(api_event(method, path))
    assert code == status and body["error"]["code"] == (
        "method_not_allowed" if allow else "route_not_found"
    )
    assert headers.get("Allow") == allow


def test_a_malformed_event_is_a_400_not_an_exception(aws):
    for event in ({}, {"httpMethod": "GET"}, [], "GET /documents", None):
        response = index.handler(event, LambdaContext())
        assert response["statusCode"] == 400
        assert json.loads(response["body"])["error"]["code"] == "malformed_event"


def test_unexpected_failures_are_500_with_a_correlation_id(aws, monkeypatch, caplog):
    monkeypatch.delenv("DOCUMENTS_TABLE")
    status, body, _ = register()
    assert status == 500
    assert body == {
        "error": {
            "code": "internal_error",
            "message": "an unexpected error occurred; quote the correlation id",
            "correlation_id": "api-request-1",
        }
    }
    (record,) = [r for r in caplog.records if r.getMessage() == "unexpected error"]
    assert record.levelname == "ERROR" and record.correlation_id == "api-request-1"
    assert "DOCUMENTS_TABLE is not set" in str(record.exc_info[1])


def test_aws_failures_are_500(aws):
    aws[1].delete_table(TableName=TABLE)
    status, body, _ = call(api_event("GET", f"/documents/{uuid.uuid4().hex}", level="read-only"))
    assert status == 500 and body["error"]["code"] == "internal_error"


def test_an_id_collision_never_overwrites_a_document(aws, monkeypatch):
    fixed = uuid.UUID("0123456789ab4def8123456789abcdef")
    monkeypatch.setattr(index.uuid, "uuid4", lambda: fixed)
    assert register()[0] == 201
    status, body, _ = register({"file_name": "other.pdf", "content_type": PDF, "size": 1})
    assert status == 500 and body["error"]["code"] == "internal_error"
    assert read_item(aws[1], fixed.hex)["file_name"] == NAME


# ---- hostile input (issue 14) -------------------------------------------------------------------


@pytest.mark.parametrize(
    "file_name", ["${filename}", "report${filename}", "a/b/${filename}", "${filename}.pdf", "x${FILENAME}"]
)
def test_a_file_name_s3_would_substitute_is_refused_and_registers_nothing(aws, file_name):
    status, body, _ = register({"file_name": file_name, "content_type": PDF, "size": 10})
    assert status == 400 and body["error"]["code"] == "validation_error"
    assert "${filename}" in body["error"]["message"]
    assert aws[1].scan(TableName=TABLE)["Count"] == 0


@pytest.mark.parametrize("file_name", ["$filename.pdf", "{filename}.pdf", "a$b{c}.pdf"])
def test_every_upload_policy_pins_the_exact_registered_key(aws, file_name):
    status, body, _ = register({"file_name": file_name, "content_type": PDF, "size": 10})
    assert status == 201
    conditions = json.loads(base64.b64decode(body["upload"]["fields"]["policy"]))["conditions"]
    key = read_item(aws[1], body["document_id"])["object_key"]
    assert {"key": key} in conditions and body["upload"]["fields"]["key"] == key
    assert not any(isinstance(c, list) and c[0] == "starts-with" for c in conditions)


def test_the_deleting_client_is_not_shown_to_other_callers(aws):
    _, dynamodb = aws
    _, created, _ = register()
    document_id = created["document_id"]
    status, _, _ = call(
        api_event("DELETE", f"/documents/{document_id}", level="admin", client_id="admin-secret-7")
    )
    assert status == 200
    for event in (
        api_event("GET", f"/documents/{document_id}", level="read-only", client_id="reader"),
        api_event("GET", "/documents", level="read-only", client_id="reader", query={"status": "DELETED"}),
    ):
        status, body, _ = call(event)
        assert status == 200 and "admin-secret-7" not in json.dumps(body)
    assert read_item(dynamodb, document_id)["deleted_by"] == "admin-secret-7"  # kept for the audit


@pytest.mark.parametrize(
    "path_suffix", ['"', "?download=1", "#frag", "%22", "<x>", "\\"]
)
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_an_item_path_the_router_cannot_route_is_a_400_not_a_405(aws, method, path_suffix):
    path = f"/documents/{'a' * 32}{path_suffix}"
    status, body, headers = call(api_event(method, path, level="admin"))
    assert status == 400 and body["error"]["code"] == "invalid_document_id"
    assert "Allow" not in headers
