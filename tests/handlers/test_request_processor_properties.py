"""request_processor as an internet-facing function: whole REST and HTTP API events on moto.

Invariants: the handler never raises for anything a caller sends; it answers 201, 400, 404, 405
or 413 with strict JSON; errors are ``{"error": {"code", "message"}}`` naming no table, bucket,
exception class or code location; a result is written only for a 201, under exactly one key
segment per id (never a dot segment), and holds strict JSON of the request as sent.
"""

from __future__ import annotations

import json

from hostile_events import (
    HANDLER_EVENTS,
    any_body,
    assert_clean_error,
    http_v2_events,
    json_values,
    odd_text,
    rest_events,
    strict_json,
)
from hypothesis import event as note
from hypothesis import given, settings
from hypothesis import strategies as st
from test_request_processor import BUCKET, TABLE, LambdaContext, aws  # noqa: F401 - the module-scoped fixture

from serverless_patterns.handlers.request_processor import index

KNOWN = [".", "..", "known-1", "a/b", "ü ?#%", "…"]
ids = st.sampled_from(KNOWN) | odd_text | json_values
objects = st.fixed_dictionaries({"id": ids}, optional={"data": json_values, "x": st.sampled_from([1e308, -1e308, 10**40])})
methods = st.sampled_from(["POST", "GET", "post"]) | st.none()
events = st.one_of(
    rest_events(methods, st.just("/process"), any_body(objects)),
    http_v2_events(st.just("POST"), st.just("/process"), any_body(objects)),
)


@settings(parent=HANDLER_EVENTS, max_examples=2 * HANDLER_EVENTS.max_examples)
@given(st.one_of(events, st.none(), st.text(max_size=5)))
def test_every_event_gets_a_strict_json_answer_and_a_result_only_for_a_201(aws, event):  # noqa: F811
    table, s3 = aws
    for record_id in KNOWN:
        table.put_item(Item={"id": record_id, "value": 1})
    before = s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0)
    response = index.handler(event, LambdaContext())
    payload = strict_json(response["body"])
    after = s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0)
    note(f"status {response['statusCode']}")
    assert response["statusCode"] in (201, 400, 404, 405, 413)
    if response["statusCode"] != 201:
        assert after == before
        assert set(payload) == {"error"} and set(payload["error"]) == {"code", "message"}
        assert_clean_error(payload, TABLE, BUCKET, sent=event)
        return
    assert after == before + 1
    key = payload["resultKey"]
    prefix, segment, name = key.split("/")
    assert prefix == "results" and segment not in ("", ".", "..") and name.endswith(".json")
    assert all(part not in (".", "..") for part in payload["resultUrl"].split("/"))
    stored = strict_json(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode("ascii"))
    assert stored["id"] == payload["id"] and stored["id"] in KNOWN
    assert json.dumps(stored["request"], sort_keys=True) == json.dumps(stored["request"], sort_keys=True, allow_nan=False)
