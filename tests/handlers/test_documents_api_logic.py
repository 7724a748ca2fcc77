"""Documents API, pure logic: names, requests, ids, queries, tokens, events, policies, deletion."""

from __future__ import annotations

import base64
import json
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serverless_patterns.handlers.documents_api import operations
from serverless_patterns.handlers.documents_api.config import DEFAULT_ALLOWED_CONTENT_TYPES, Config
from serverless_patterns.handlers.documents_api.errors import ApiError
from serverless_patterns.handlers.documents_api.pagination import decode_token, encode_token
from serverless_patterns.handlers.documents_api.presigning import content_disposition, upload_form
from serverless_patterns.handlers.documents_api.request import (
    Caller,
    allowed_methods,
    caller_of,
    json_body,
    normalise_event,
    require_level,
)
from serverless_patterns.handlers.documents_api.states import deletion, new_item
from serverless_patterns.handlers.documents_api.validation import (
    ListQuery,
    NewDocument,
    parse_document_id,
    parse_list_query,
    parse_new_document,
    sanitise_file_name,
)

DOC = "0123456789abcdef0123456789abcdef"
ALLOWED = frozenset(DEFAULT_ALLOWED_CONTENT_TYPES)
KEY = {"document_id": DOC, "status": "PROCESSED", "created_at": "2026-01-01T00:00:00.000Z"}


def problem(call, *args, **kwargs) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(*args, **kwargs)
    return caught.value


# ---- file names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("report.pdf", "report.pdf"),
        ("reports/2026/q1.pdf", "q1.pdf"),
        ("C:\\Users\\ana\\Relatório anual.docx", "Relatório anual.docx"),
        ("  spaced name .txt  ", "spaced name .txt"),
        ("e\u0301te\u0301.csv", "été.csv"),  # NFC
        ("日本語の文書.pdf", "日本語の文書.pdf"),
        ("a b/ü+x.pdf", "ü+x.pdf"),
        ("...", "..."),
        ("x" * 255, "x" * 255),
    ],
)
def test_file_names_keep_their_base_name(raw, name):
    assert sanitise_file_name(raw) == name


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("../../etc/passwd", "file_name must not contain '..' path segments"),
        ("docs/../secret.pdf", "file_name must not contain '..' path segments"),
        ("..\\windows\\system.ini", "file_name must not contain '..' path segments"),
        ("bad\x00name.pdf", "file_name contains a control or invisible character (U+0000)"),
        ("line\nbreak.pdf", "file_name contains a control or invisible character (U+000A)"),
        ("invoice\u202efdp.exe", "file_name contains a control or invisible character (U+202E)"),
        ("", "file_name is empty once directories are stripped"),
        ("   ", "file_name is empty once directories are stripped"),
        ("folder/", "file_name is empty once directories are stripped"),
        (".", "file_name is empty once directories are stripped"),
        ("ü" * 128, "file_name is 256 bytes in UTF-8; the limit is 255"),
        (42, "file_name must be a string, not int"),
    ],
)
def test_unsafe_file_names_are_refused(raw, message):
    with pytest.raises((TypeError, ValueError)) as caught:
        sanitise_file_name(raw)
    assert str(caught.value) == message


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_either_refused_or_a_safe_base_name(raw):
    try:
        name = sanitise_file_name(raw)
    except ValueError:  # a str is never refused for its type
        return
    assert name and name == name.strip() and name not in (".", "..")
    assert "/" not in name and "\\" not in name
    assert len(name.encode("utf-8")) <= 255
    assert unicodedata.normalize("NFC", name) == name
    assert not any(
        unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for c in name
    )


# ---- POST /documents body ----------------------------------------------------------------------


def test_a_valid_request_is_normalised():
    request = parse_new_document(
        {
            "file_name": "in/Q1.pdf",
            "content_type": " Application/PDF ",
            "size": 10,
            "sha256": "AB" * 32,
        },
        max_bytes=100,
        allowed_types=ALLOWED,
    )
    assert request == NewDocument(
        file_name="Q1.pdf", content_type="application/pdf", size=10, sha256="ab" * 32
    )
    assert parse_new_document(
        {"file_name": "a.txt", "content_type": "text/plain", "size": 1, "sha256": None},
        max_bytes=1,
        allowed_types=ALLOWED,
    ) == NewDocument("a.txt", "text/plain", 1, None)


def test_every_problem_of_a_request_is_named_at_once():
    error = problem(
        parse_new_document,
        {
            "file_name": "../x",
            "content_type": "application/x-msdownload",
            "size": 0,
            "sha256": "xyz",
            "owner": "me",
        },
        max_bytes=100,
        allowed_types=ALLOWED,
    )
    assert (error.status, error.code) == (400, "validation_error")
    assert error.message.startswith(
        "invalid request: unknown field(s) ['owner']; accepted: file_name, content_type, size, sha256"
    )
    for fragment in (
        "file_name must not contain '..' path segments",
        "content_type 'application/x-msdownload' is not accepted; accepted: application/json, ",
        "size must be between 1 and 100 bytes, not 0",
        "sha256 must be 64 hexadecimal characters",
    ):
        assert fragment in error.message


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({}, "missing field(s): file_name, content_type, size"),
        (
            {"file_name": "a.pdf", "content_type": "application/pdf", "size": True},
            "size must be an integer number of bytes, not bool",
        ),
        (
            {"file_name": "a.pdf", "content_type": "application/pdf", "size": 1.5},
            "size must be an integer number of bytes, not float",
        ),
        (
            {"file_name": "a.pdf", "content_type": "application/pdf", "size": 101},
            "size must be between 1 and 100 bytes, not 101",
        ),
        (
            {"file_name": "a.pdf", "content_type": "text/plain; charset=utf-8", "size": 1},
            "without parameters",
        ),
        (
            {"file_name": "a.pdf", "content_type": ["application/pdf"], "size": 1},
            "content_type must be a string, not list",
        ),
        (
            {"file_name": None, "content_type": "application/pdf", "size": 1},
            "file_name must be a string, not NoneType",
        ),
        (
            {"file_name": "a.pdf", "content_type": "application/pdf", "size": 1, "sha256": 7},
            "sha256 must be 64 hexadecimal",
        ),
    ],
)
def test_request_fields_are_checked(payload, fragment):
    assert (
        fragment
        in problem(parse_new_document, payload, max_bytes=100, allowed_types=ALLOWED).message
    )


# ---- ids, queries, tokens ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["", "abc", DOC.upper(), DOC + "0", "../" + DOC[3:], DOC[:31] + "g", None]
)
def test_malformed_document_ids_are_400(raw):
    error = problem(parse_document_id, raw)
    assert (error.status, error.code) == (400, "invalid_document_id")


def test_list_query_defaults_to_processed_documents():
    assert parse_list_query({}) == ListQuery(status="PROCESSED", limit=25)
    assert parse_list_query({"status": ["rejected"], "limit": ["100"]}) == ListQuery(
        status="REJECTED", limit=100
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"status": ["ARCHIVED"]},
            "status must be one of AWAITING_UPLOAD, PROCESSED, REJECTED, DELETED",
        ),
        ({"limit": ["0"]}, "limit must be an integer from 1 to 100"),
        ({"limit": ["101"]}, "limit must be an integer from 1 to 100"),
        ({"limit": ["-1"]}, "limit must be an integer from 1 to 100"),
        ({"limit": ["ten"]}, "limit must be an integer from 1 to 100"),
        ({"limit": ["1", "2"]}, "query parameter limit is given more than once"),
        ({"sort": ["asc"]}, "unknown query parameter(s) ['sort']; accepted: status, limit, next"),
    ],
)
def test_bad_list_queries_are_400(params, message):
    error = problem(parse_list_query, params)
    assert (error.status, error.code, error.message) == (400, "invalid_query", message)


def test_tokens_round_trip_and_are_bound_to_their_status():
    token = encode_token({**KEY, "extra": "ignored"})
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode_token(token, "PROCESSED") == KEY
    assert parse_list_query({"next": [token]}).start_key == KEY
    error = problem(decode_token, token, "REJECTED")
    assert error.message == "the next token belongs to a listing of PROCESSED, not REJECTED"


def _b64(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "token",
    [
        "",
        "!!!",
        "a",
        "x" * 2000,
        _b64([1, 2]),
        _b64({**KEY, "document_id": "../../etc"}),
        _b64({**KEY, "created_at": "yesterday"}),
        _b64({**KEY, "owner": "x"}),
        _b64({"document_id": DOC, "status": "PROCESSED"}),
        _b64({**KEY, "document_id": {"S": DOC}}),
        base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("="),
    ],
)
def test_garbage_tokens_are_400(token):
    error = problem(decode_token, token, "PROCESSED")
    assert (error.status, error.code) == (400, "invalid_token")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_any_token_decodes_or_is_400(token):
    try:
        key = decode_token(token, "PROCESSED")
    except ApiError as error:
        assert error.status == 400
    else:
        assert sorted(key) == ["created_at", "document_id", "status"]


# ---- events, callers, bodies -------------------------------------------------------------------


def event(**fields):
    base = {
        "httpMethod": "POST",
        "path": "/documents",
        "requestContext": {"authorizer": {"client_id": "c", "level": "admin"}},
    }
    return normalise_event({**base, **fields})


def test_events_are_normalised():
    canonical = normalise_event(
        {
            "httpMethod": "get",
            "path": "/documents",
            "headers": {"Accept": "application/json"},
            "queryStringParameters": {"status": "PROCESSED"},
            "multiValueQueryStringParameters": {"limit": ["1", "2"]},
            "requestContext": {
                "requestId": "r-1",
                "authorizer": {"client_id": "c", "level": "read-only"},
            },
            "stageVariables": {"x": "y"},
        }
    )
    assert canonical["httpMethod"] == "GET"
    assert canonical["multiValueQueryStringParameters"] == {
        "limit": ["1", "2"],
        "status": ["PROCESSED"],
    }
    assert canonical["queryStringParameters"] == {"limit": "2", "status": "PROCESSED"}
    assert canonical["multiValueHeaders"] == {"Accept": ["application/json"]}
    assert canonical["requestContext"] == {
        "requestId": "r-1",
        "authorizer": {"client_id": "c", "level": "read-only"},
    }
    assert "stageVariables" not in canonical


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "the event is not an API Gateway proxy event (a JSON object)"),
        ({"path": "/documents"}, "the event has no valid httpMethod"),
        ({"httpMethod": "GET"}, "the event has no valid path"),
        ({"httpMethod": "GET", "path": "documents"}, "the event has no valid path"),
        (
            {"httpMethod": "GET", "path": "/", "body": {"a": 1}},
            "the event body must be a string or null",
        ),
        (
            {"httpMethod": "GET", "path": "/", "isBase64Encoded": "yes"},
            "isBase64Encoded must be a boolean",
        ),
        (
            {"httpMethod": "GET", "path": "/", "requestContext": "x"},
            "requestContext must be an object",
        ),
        (
            {"httpMethod": "GET", "path": "/", "headers": {"a": 1}},
            "headers must map strings to strings",
        ),
        (
            {"httpMethod": "GET", "path": "/", "multiValueQueryStringParameters": {"a": []}},
            "multiValueQueryStringParameters must map strings to non-empty lists of strings",
        ),
    ],
)
def test_malformed_events_are_400(raw, message):
    error = problem(normalise_event, raw)
    assert (error.status, error.code, error.message) == (400, "malformed_event", message)


@pytest.mark.parametrize(
    "authorizer",
    [
        None,
        {},
        {"client_id": "c"},
        {"level": "admin"},
        {"client_id": "", "level": "admin"},
        {"client_id": "c", "level": "root"},
        {"client_id": 5, "level": "admin"},
        {"client_id": "c", "level": ["admin"]},
    ],
)
def test_callers_without_a_valid_identity_are_403(authorizer):
    error = problem(caller_of, event(requestContext={"authorizer": authorizer}))
    assert (error.status, error.code) == (403, "forbidden")


@pytest.mark.parametrize(
    ("level", "minimum", "allowed"),
    [
        ("read-only", "read-only", True),
        ("read-only", "read-write", False),
        ("read-write", "read-write", True),
        ("read-write", "admin", False),
        ("admin", "admin", True),
        ("admin", "read-only", True),
    ],
)
def test_levels_include_the_weaker_ones(level, minimum, allowed):
    caller = Caller("c", level)
    if allowed:
        require_level(caller, minimum)
    else:
        error = problem(require_level, caller, minimum)
        assert error.message == f"this operation needs the {minimum} level; the caller has {level}"


def test_json_bodies():
    assert json_body(event(body='{"a": 1}')) == {"a": 1}
    encoded = base64.b64encode(b'{"a": "\xc3\xbc"}').decode()
    assert json_body(event(body=encoded, isBase64Encoded=True)) == {"a": "ü"}
    assert (
        json_body(event(body="{}", headers={"content-type": "application/json; charset=utf-8"}))
        == {}
    )


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"body": None}, 400, "missing_body"),
        ({"body": ""}, 400, "missing_body"),
        ({"body": "{"}, 400, "invalid_json"),
        ({"body": "[1]"}, 400, "invalid_json"),
        ({"body": "[" * 20000}, 413, "payload_too_large"),
        ({"body": "[" * 10000}, 400, "invalid_json"),
        (
            {"body": base64.b64encode(b" " * 30000).decode(), "isBase64Encoded": True},
            413,
            "payload_too_large",
        ),
        (
            {"body": base64.b64encode(b" " * 16385).decode(), "isBase64Encoded": True},
            413,
            "payload_too_large",
        ),
        ({"body": "not base64!", "isBase64Encoded": True}, 400, "invalid_body"),
        (
            {"body": base64.b64encode(b"\xff").decode(), "isBase64Encoded": True},
            400,
            "invalid_body",
        ),
        ({"body": "{}", "headers": {"Content-Type": "text/plain"}}, 415, "unsupported_media_type"),
    ],
)
def test_bad_bodies_are_4xx(fields, status, code):
    error = problem(json_body, event(**fields))
    assert (error.status, error.code) == (status, code)


def test_known_paths_have_their_methods():
    assert allowed_methods("/documents") == allowed_methods("/documents/") == ("GET", "POST")
    assert allowed_methods(f"/documents/{DOC}") == ("DELETE", "GET")
    assert allowed_methods("/documents/a/b") == allowed_methods("/other") == ()


# ---- items, policies, deletion -----------------------------------------------------------------


def test_new_items_hold_the_contract_attributes():
    request = NewDocument("Q1 ü.pdf", "application/pdf", 10, "ab" * 32)
    assert new_item(DOC, request, Caller("client-a", "read-write"), "2026-01-01T00:00:00.000Z") == {
        "document_id": DOC,
        "status": "AWAITING_UPLOAD",
        "file_name": "Q1 ü.pdf",
        "declared_type": "application/pdf",
        "declared_size": 10,
        "declared_sha256": "ab" * 32,
        "object_key": f"documents/{DOC}/Q1 ü.pdf",
        "owner": "client-a",
        "created_at": "2026-01-01T00:00:00.000Z",
        "updated_at": "2026-01-01T00:00:00.000Z",
        "status_version": 1,
    }


def test_the_upload_policy_pins_size_type_and_checksum():
    item = new_item(
        DOC, NewDocument("a.pdf", "application/pdf", 10, "ab" * 32), Caller("c", "admin"), "now"
    )
    fields, conditions = upload_form(item)
    checksum = base64.b64encode(bytes.fromhex("ab" * 32)).decode()
    assert fields == {
        "Content-Type": "application/pdf",
        "x-amz-checksum-algorithm": "SHA256",
        "x-amz-checksum-sha256": checksum,
    }
    assert conditions == [
        {"Content-Type": "application/pdf"},
        {"x-amz-checksum-algorithm": "SHA256"},
        {"x-amz-checksum-sha256": checksum},
        ["content-length-range", 10, 10],
    ]
    plain = new_item(DOC, NewDocument("a.pdf", "application/pdf", 10), Caller("c", "admin"), "now")
    assert upload_form(plain) == (
        {"Content-Type": "application/pdf"},
        [{"Content-Type": "application/pdf"}, ["content-length-range", 10, 10]],
    )


def test_downloads_are_attachments_with_the_exact_name():
    assert content_disposition('Relatório "final" 100%.pdf') == (
        "attachment; filename=\"Relat_rio _final_ 100_.pdf\"; filename*=UTF-8''Relat%C3%B3rio%20%22final%22%20100%25.pdf"
    )


class FakeStore:
    """A store whose item moves on between the deleter's read and its write."""

    def __init__(self, items):
        self.items = list(items)
        self.reads = 0
        self.deleted_keys = []
        self.transitions = []

    def get(self, document_id):
        item = self.items[min(self.reads, len(self.items) - 1)]
        self.reads += 1
        return dict(item)

    def delete_object(self, key):
        self.deleted_keys.append(key)

    def transition(self, document_id, *, expected_status, expected_version, changes):
        self.transitions.append((expected_status, expected_version))
        current = self.items[min(self.reads - 1, len(self.items) - 1)]
        return len(self.transitions) > 1 and current["status_version"] == expected_version


def test_deletion_retries_when_the_processor_got_there_first():
    awaiting = {
        "document_id": DOC,
        "status": "AWAITING_UPLOAD",
        "status_version": 1,
        "object_key": "k",
    }
    processed = {**awaiting, "status": "PROCESSED", "status_version": 2}
    store = FakeStore([awaiting, processed])
    view, transitioned = operations.delete_document(store, Caller("admin-1", "admin"), DOC, now="t")
    assert transitioned and view["status"] == "DELETED" and view["status_version"] == 3
    assert store.transitions == [("AWAITING_UPLOAD", 1), ("PROCESSED", 2)]
    assert store.deleted_keys == ["k"]
    changes = deletion(processed, Caller("admin-1", "admin"), "t")
    assert changes["reason"] == "deleted through the API" and changes["deleted_by"] == "admin-1"
    assert "admin-1" not in str(operations.document_view({**processed, **changes}))


def test_deletion_that_keeps_losing_is_a_409():
    item = {"document_id": DOC, "status": "PROCESSED", "status_version": 2, "object_key": "k"}

    class Busy(FakeStore):
        def transition(self, *args, **kwargs):
            return False

    error = problem(operations.delete_document, Busy([item]), Caller("a", "admin"), DOC, now="t")
    assert (error.status, error.code) == (409, "conflict")


# ---- configuration -----------------------------------------------------------------------------


def test_config_defaults_and_overrides():
    config = Config.from_env({"DOCUMENTS_BUCKET": "b", "DOCUMENTS_TABLE": "t"})
    assert config == Config(bucket="b", table="t")
    assert config.max_document_bytes == 104857600 and config.upload_url_expiry_seconds == 900
    assert config.download_url_expiry_seconds == 300 and config.status_index == "by-status"
    assert config.allowed_content_types == ALLOWED and len(ALLOWED) == 11
    custom = Config.from_env(
        {
            "DOCUMENTS_BUCKET": "b",
            "DOCUMENTS_TABLE": "t",
            "ALLOWED_CONTENT_TYPES": " Application/PDF , text/plain,",
            "MAX_DOCUMENT_BYTES": "5",
            "UPLOAD_URL_EXPIRY_SECONDS": "60",
            "DOWNLOAD_URL_EXPIRY_SECONDS": "30",
            "STATUS_INDEX": "s",
        }
    )
    assert custom == Config("b", "t", "s", 5, frozenset({"application/pdf", "text/plain"}), 60, 30)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "environment variable DOCUMENTS_BUCKET is not set"),
        ({"DOCUMENTS_BUCKET": "b"}, "environment variable DOCUMENTS_TABLE is not set"),
        (
            {"MAX_DOCUMENT_BYTES": "lots"},
            "environment variable MAX_DOCUMENT_BYTES='lots' is not an integer",
        ),
        (
            {"UPLOAD_URL_EXPIRY_SECONDS": "604801"},
            "environment variable UPLOAD_URL_EXPIRY_SECONDS=604801 is outside 1..604800",
        ),
        ({"ALLOWED_CONTENT_TYPES": " , "}, "ALLOWED_CONTENT_TYPES lists no content type"),
    ],
)
def test_config_errors_name_the_variable(env, message):
    base = (
        {"DOCUMENTS_BUCKET": "b", "DOCUMENTS_TABLE": "t"}
        if env and "DOCUMENTS_BUCKET" not in env
        else {}
    )
    with pytest.raises(ValueError) as caught:
        Config.from_env({**base, **env})
    assert str(caught.value) == message


def test_a_trailing_newline_never_passes_for_a_valid_value():
    assert problem(parse_document_id, DOC + "\n").code == "invalid_document_id"
    assert problem(parse_list_query, {"limit": ["25\n"]}).code == "invalid_query"
    assert problem(decode_token, encode_token(KEY) + "\n", "PROCESSED").code == "invalid_token"
    assert (
        "sha256 must be 64"
        in problem(
            parse_new_document,
            {"file_name": "a", "content_type": "text/plain", "size": 1, "sha256": "a" * 64 + "\n"},
            max_bytes=1,
            allowed_types=ALLOWED,
        ).message
    )
    assert problem(normalise_event, {"httpMethod": "GET\n", "path": "/"}).code == "malformed_event"
