"""The documents API as an internet-facing function: whole REST events, any authorizer context.

Invariants, on moto: the handler never raises and never answers 5xx; every answer is strict JSON;
errors are ``{"error": {"code", "message"}}`` naming no table, bucket, exception or code location;
nothing is done beyond the caller's level (registering needs read-write, deleting admin, anything
at all a valid caller identity); a registration writes exactly one item whose upload policy pins
exactly its object key; no answer shows an owner, a deleting client or an object key.
"""

from __future__ import annotations

import base64
import json

from document_support import BUCKET, TABLE, LambdaContext
from hostile_events import (
    HANDLER_EVENTS,
    any_body,
    assert_clean_error,
    http_v2_events,
    odd_text,
    rest_events,
    strict_json,
)
from hypothesis import event as note
from hypothesis import given, settings
from hypothesis import strategies as st
from test_documents_api import aws  # noqa: F401 - the fixture

from serverless_patterns.handlers.documents_api import index

LEVELS = {"read-only": 1, "read-write": 2, "admin": 3}
DOCUMENT = "d" * 32
HIDDEN = ("owner", "object_key", "deleted_by", "version_id")

authorizers = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"client_id": st.sampled_from(["client-a", "admin-9"]) | odd_text | st.none() | st.integers(),
         "level": st.sampled_from([*LEVELS, "ADMIN", "", "root"]) | st.none()},
    ),
    st.just("not a map"),
)
creates = st.fixed_dictionaries(
    {"file_name": odd_text | st.sampled_from(["a.pdf", "${filename}", "x/../y.pdf", "r ü+%.pdf"]),
     "content_type": st.sampled_from(["application/pdf", "text/plain", "image/png", "x/y", "APPLICATION/PDF"]),
     "size": st.integers(-1, 10**9) | st.floats() | st.booleans()},
    optional={"sha256": st.sampled_from(["ab" * 32, "zz", ""]), "extra": odd_text},
)
paths = st.one_of(
    st.sampled_from(["/documents", "/documents/", f"/documents/{DOCUMENT}", "/", "/documents/a/b"]),
    odd_text.map(lambda s: f"/documents/{s}"),
    st.builds(lambda s: f"/documents/{DOCUMENT}{s}", st.sampled_from(['"', "?download=1", "#f", "/", "%00"])),
    odd_text,
)
methods = st.sampled_from(["GET", "POST", "DELETE", "PUT", "get", "HEAD"]) | st.none() | st.integers()
valid_creates = st.fixed_dictionaries(
    {"file_name": st.sampled_from(["a.pdf", "Q1 report+final ü.pdf", "100%.txt", "${filename}", "x/../y"]),
     "content_type": st.sampled_from(["application/pdf", "text/plain"]),
     "size": st.integers(1, 10_000)},
)


def _well_formed(route, level, client, body, status_query):
    """A REST proxy event as API Gateway sends it after the authorizer allowed the key."""
    method, path = route
    return {
        "resource": path, "path": path, "httpMethod": method,
        "headers": {"Content-Type": "application/json"}, "multiValueHeaders": None,
        "queryStringParameters": {"status": status_query} if method == "GET" and status_query else None,
        "multiValueQueryStringParameters": {"status": [status_query]} if method == "GET" and status_query else None,
        "pathParameters": None, "stageVariables": None,
        "requestContext": {"requestId": "r-1", "stage": "prod",
                           "authorizer": {"principalId": client, "client_id": client, "level": level}},
        "body": json.dumps(body) if method == "POST" else None, "isBase64Encoded": False,
    }


well_formed = st.builds(
    _well_formed,
    st.sampled_from([("POST", "/documents"), ("POST", "/documents"), ("POST", "/documents"), ("GET", "/documents"), ("GET", f"/documents/{DOCUMENT}"),
                     ("DELETE", f"/documents/{DOCUMENT}"), ("PATCH", f"/documents/{DOCUMENT}"),
                     ("GET", f"/documents/{DOCUMENT}\""), ("DELETE", "/documents/" + "e" * 32)]),
    st.sampled_from([*LEVELS, "read-write", "admin", "ADMIN", ""]),
    st.sampled_from(["client-a", "admin-9", "client-b", " "]),
    valid_creates,
    st.sampled_from([None, "AWAITING_UPLOAD", "DELETED", "nope"]),
)
events = st.one_of(
    well_formed,
    well_formed,
    well_formed,
    st.none() | st.text(max_size=5),
    rest_events(methods, paths, any_body(creates), authorizers=authorizers),
    http_v2_events(st.sampled_from(["GET", "POST"]), paths, any_body(creates)),
)


def _level(event) -> int:
    context = event.get("requestContext") if isinstance(event, dict) else None
    authorizer = context.get("authorizer") if isinstance(context, dict) else None
    if not isinstance(authorizer, dict):
        return 0
    client, level = authorizer.get("client_id"), authorizer.get("level")
    return LEVELS.get(level, 0) if isinstance(client, str) and client.strip() and isinstance(level, str) else 0


def _items(dynamodb) -> dict[str, dict]:
    return {i["document_id"]["S"]: i for i in dynamodb.scan(TableName=TABLE, ConsistentRead=True)["Items"]}


@settings(parent=HANDLER_EVENTS, max_examples=2 * HANDLER_EVENTS.max_examples)
@given(events)
def test_any_event_is_answered_in_strict_json_within_the_callers_level(aws, event):  # noqa: F811
    s3, dynamodb = aws
    if DOCUMENT not in _items(dynamodb):
        s3.put_object(Bucket=BUCKET, Key=f"documents/{DOCUMENT}/a.pdf", Body=b"%PDF-1.7")
        dynamodb.put_item(TableName=TABLE, Item={
            "document_id": {"S": DOCUMENT}, "status": {"S": "AWAITING_UPLOAD"}, "file_name": {"S": "a.pdf"},
            "declared_type": {"S": "application/pdf"}, "declared_size": {"N": "8"},
            "object_key": {"S": f"documents/{DOCUMENT}/a.pdf"}, "owner": {"S": "owner-secret"},
            "created_at": {"S": "2026-01-01T00:00:00.000Z"}, "updated_at": {"S": "2026-01-01T00:00:00.000Z"},
            "status_version": {"N": "1"}})
    before = _items(dynamodb)
    response = index.handler(event, LambdaContext())
    after = _items(dynamodb)
    status = response["statusCode"]
    payload = strict_json(response["body"])
    level = _level(event)
    note(f"status {status}")

    assert 200 <= status < 500
    if status >= 400:
        assert set(payload) == {"error"} and {"code", "message"} <= set(payload["error"])
        # The API's own routes are public (the 404 names them); the test table happens to share
        # their word, so they are taken out before looking for the table's name.
        public = json.loads(json.dumps(payload).replace("/documents/{id}", "").replace("/documents", ""))
        assert_clean_error(public, TABLE, BUCKET, sent=event)
    else:
        assert level >= LEVELS["read-only"]
        for name in HIDDEN:
            assert f'"{name}"' not in response["body"]
        assert "owner-secret" not in response["body"]
    created = set(after) - set(before)
    if status == 201:
        assert level >= LEVELS["read-write"] and len(created) == 1
        (document_id,) = created
        key = after[document_id]["object_key"]["S"]
        conditions = json.loads(base64.b64decode(payload["upload"]["fields"]["policy"]))["conditions"]
        assert {"key": key} in conditions and payload["upload"]["fields"]["key"] == key
        assert not any(isinstance(c, list) and c[0] == "starts-with" for c in conditions)
        assert "${filename}" not in key.lower()
    else:
        assert not created
    changed = {d for d in before if before[d] != after[d]}
    if changed:
        assert changed == {DOCUMENT} and level == LEVELS["admin"] and status == 200
        assert after[DOCUMENT]["status"]["S"] == "DELETED"
