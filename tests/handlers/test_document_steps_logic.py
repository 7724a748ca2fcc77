"""The step coordinator's decisions (no AWS): stages from stream images, results from invocation records.

Invocation records are written as Lambda sends them to a destination (AWS Lambda developer guide,
"Capturing records of Lambda asynchronous invocations"): ``requestContext.condition`` is
``Success``, ``RetriesExhausted`` or ``EventAgeExceeded``, ``requestPayload`` the event,
``responsePayload`` the return value or ``{"errorMessage", "errorType", "stackTrace"}``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from serverless_patterns.handlers.document_steps.config import Config, Stage
from serverless_patterns.handlers.document_steps.stages import (
    MAX_DETAIL_BYTES,
    Change,
    Ignore,
    MAX_EXECUTION_NAME,
    Invoke,
    execution_name,
    next_action,
    result_action,
    step_input,
)

NOW = "2026-12-02T06:00:00.000Z"
DOC = "0123456789abcdef0123456789abcdef"
ENRICH = Stage("Enrich", "arn:aws:lambda:us-east-1:1:function:enrich", "https://sqs/enrich-failures", ("ENRICHED",))
SCORE = Stage("Score", "arn:aws:lambda:us-east-1:1:function:score", "https://sqs/score-failures", ("SCORED", "FLAGGED"))
FOO = Stage("application/x-foo", "arn:aws:lambda:us-east-1:1:function:foo", "https://sqs/foo-failures")
CONFIG = Config(bucket="docs", table="metadata", steps=(ENRICH, SCORE), validators={"application/x-foo": FOO})


def item(status: str, version: int, **extra: Any) -> dict[str, Any]:
    return {
        "document_id": DOC, "status": status, "status_version": version, "object_key": f"documents/{DOC}/a.txt",
        "declared_type": "text/plain", "size": 12, "version_id": "v1", **extra,
    }


def invocation(stage: Stage, status: str, version: int, *, condition: str = "Success", response: Any = None, attempts: int = 1) -> dict[str, Any]:
    payload = step_input(CONFIG, item(status, version), stage)
    return {
        "version": "1.0",
        "timestamp": NOW,
        "requestContext": {"requestId": "req-1", "functionArn": f"{stage.function}:$LATEST", "condition": condition, "approximateInvokeCount": attempts},
        "requestPayload": payload,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", **({"functionError": "Unhandled"} if condition != "Success" else {})},
        "responsePayload": response,
    }


# ---- stages from the stream -----------------------------------------------------------------


def test_a_validated_document_goes_to_the_first_step_with_the_documented_input():
    action = next_action(CONFIG, item("AWAITING_UPLOAD", 1), item("VALIDATED", 2), now=NOW)
    assert isinstance(action, Invoke) and action.stage == ENRICH
    assert action.payload == {
        "schema_version": "1", "document_id": DOC, "bucket": "docs", "key": f"documents/{DOC}/a.txt", "version_id": "v1",
        "content_type": "text/plain", "size": 12, "status": "VALIDATED", "status_version": 2, "step": "Enrich",
    }


def test_a_recorded_step_status_goes_to_the_next_step_then_to_processed():
    after_first = next_action(CONFIG, item("VALIDATED", 2), item("ENRICHED", 3, steps_done=1), now=NOW)
    assert isinstance(after_first, Invoke) and after_first.stage == SCORE and after_first.payload["status"] == "ENRICHED"
    done = next_action(CONFIG, item("ENRICHED", 3, steps_done=1), item("FLAGGED", 4, steps_done=2), now=NOW)
    assert done == Change(DOC, "FLAGGED", 4, {"status": "PROCESSED", "status_version": 5, "updated_at": NOW})


def test_a_document_of_a_validated_type_goes_to_its_validator():
    pending = item("AWAITING_UPLOAD", 2, validation="PENDING", declared_type="application/X-Foo")
    action = next_action(CONFIG, item("AWAITING_UPLOAD", 1), pending, now=NOW)
    assert isinstance(action, Invoke) and action.stage == FOO and action.payload["status"] == "AWAITING_UPLOAD"


def test_a_pending_document_without_a_validator_fails_with_the_reason():
    pending = item("AWAITING_UPLOAD", 2, validation="PENDING", declared_type="application/x-bar")
    action = next_action(CONFIG, None, pending, now=NOW)
    assert isinstance(action, Change) and action.changes["status"] == "FAILED"
    assert action.changes["reason"] == "no validator is configured for content type 'application/x-bar'"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (item("VALIDATED", 2), item("VALIDATED", 2, failure_forwarded="x")),  # no new version
        (None, item("AWAITING_UPLOAD", 1)),  # registered, not uploaded
        (item("VALIDATED", 2), item("DELETED", 3)),
        (item("ENRICHED", 3), item("FAILED", 4)),
        (item("FLAGGED", 4), item("PROCESSED", 5)),
        (item("AWAITING_UPLOAD", 1), item("REJECTED", 2)),
        (item("AWAITING_UPLOAD", 1), None),
    ],
)
def test_other_changes_start_nothing(old, new):
    assert isinstance(next_action(CONFIG, old, new, now=NOW), Ignore)


def test_an_item_that_is_not_a_document_is_malformed():
    action = next_action(CONFIG, None, {"document_id": DOC, "status_version": "x"}, now=NOW)
    assert isinstance(action, Ignore) and action.malformed


# ---- results from invocation records ---------------------------------------------------------


def test_a_declared_status_is_recorded_with_its_detail_conditionally():
    action = result_action(CONFIG, invocation(SCORE, "ENRICHED", 3, response={"status": "FLAGGED", "detail": {"score": 0.9}}), now=NOW)
    assert action == Change(
        DOC, "ENRICHED", 3,
        {"status": "FLAGGED", "steps_done": 2, "status_version": 4, "updated_at": NOW, "step_detail_Score": '{"score": 0.9}'},
        SCORE,
    )


def test_an_undeclared_status_fails_the_document_and_forwards_the_record():
    record = invocation(ENRICH, "VALIDATED", 2, response={"status": "SCORED"})
    action = result_action(CONFIG, record, now=NOW)
    assert isinstance(action, Change) and action.forward == record and action.stage == ENRICH
    assert action.changes["reason"] == "processing step Enrich returned status 'SCORED', not one of its statuses (ENRICHED)"
    assert (action.changes["failed_step"], action.changes["failure_request_id"]) == ("Enrich", "req-1")


def test_retries_exhausted_fails_the_document_naming_the_step_and_the_error():
    record = invocation(ENRICH, "VALIDATED", 2, condition="RetriesExhausted", attempts=3,
                        response={"errorMessage": "boom", "errorType": "RuntimeError", "stackTrace": []})
    action = result_action(CONFIG, record, now=NOW)
    assert action.changes["reason"] == "processing step Enrich failed: RuntimeError: boom (RetriesExhausted after 3 attempts)"
    assert action.expected_status == "VALIDATED" and action.expected_version == 2 and action.forward == record


def test_an_expired_event_fails_the_document():
    action = result_action(CONFIG, invocation(SCORE, "ENRICHED", 3, condition="EventAgeExceeded", attempts=2), now=NOW)
    assert action.changes["reason"] == "processing step Score failed: the event expired before it ran successfully (EventAgeExceeded, 2 attempts)"


def test_a_detail_too_large_fails_the_document():
    big = {"text": "x" * MAX_DETAIL_BYTES}
    action = result_action(CONFIG, invocation(ENRICH, "VALIDATED", 2, response={"status": "ENRICHED", "detail": big}), now=NOW)
    assert action.changes["status"] == "FAILED" and "more than 16384 bytes" in action.changes["reason"]


@pytest.mark.parametrize(
    ("response", "status", "reason"),
    [
        ({"status": "VALIDATED"}, "VALIDATED", None),
        ({"status": "REJECTED", "reason": "bad magic"}, "REJECTED", "bad magic"),
        ({"status": "REJECTED"}, "REJECTED", "rejected by the validator application/x-foo"),
        ({"status": "ENRICHED"}, "FAILED", "validator application/x-foo returned status 'ENRICHED', not VALIDATED or REJECTED"),
        (None, "FAILED", "validator application/x-foo returned no status, not VALIDATED or REJECTED"),
    ],
)
def test_a_validator_answers_validated_or_rejected(response, status, reason):
    action = result_action(CONFIG, invocation(FOO, "AWAITING_UPLOAD", 2, response=response), now=NOW)
    assert action.changes["status"] == status and action.expected_status == "AWAITING_UPLOAD"
    assert action.changes.get("reason") == reason


@pytest.mark.parametrize(
    "record",
    [
        None, [], "text", {"requestContext": {}}, {"requestPayload": {}},
        {"requestContext": {"condition": "Success"}, "requestPayload": {"step": "Unknown", "document_id": DOC, "status": "X", "status_version": 1}},
        {"requestContext": {"condition": "Success"}, "requestPayload": {"step": "Enrich", "document_id": DOC, "status": "VALIDATED"}},
        {"requestContext": {"condition": "Success"}, "requestPayload": {"step": "Enrich", "document_id": 5, "status": "VALIDATED", "status_version": 2}},
    ],
)
def test_records_that_are_not_of_a_step_are_malformed(record):
    action = result_action(CONFIG, record, now=NOW)
    assert isinstance(action, Ignore) and action.malformed


# ---- configuration ----------------------------------------------------------------------------


def test_the_configuration_reads_the_steps_in_order_and_the_validators():
    env = {
        "DOCUMENTS_BUCKET": "docs", "DOCUMENTS_TABLE": "metadata",
        "PIPELINE_STEPS": json.dumps([
            {"name": "Enrich", "function": ENRICH.function, "statuses": ["ENRICHED"], "failure_queue": ENRICH.failure_queue},
            {"name": "Score", "function": SCORE.function, "statuses": ["SCORED", "FLAGGED"], "failure_queue": SCORE.failure_queue},
        ]),
        "PIPELINE_VALIDATORS": json.dumps({"Application/X-Foo": {"name": FOO.name, "function": FOO.function, "failure_queue": FOO.failure_queue}}),
    }
    assert Config.from_env(env) == CONFIG


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DOCUMENTS_TABLE": "t"}, "DOCUMENTS_BUCKET"),
        ({"DOCUMENTS_BUCKET": "b", "DOCUMENTS_TABLE": "t", "PIPELINE_STEPS": "{"}, "PIPELINE_STEPS"),
        ({"DOCUMENTS_BUCKET": "b", "DOCUMENTS_TABLE": "t", "PIPELINE_STEPS": '[{"name": "x"}]'}, "PIPELINE_STEPS"),
        ({"DOCUMENTS_BUCKET": "b", "DOCUMENTS_TABLE": "t", "PIPELINE_VALIDATORS": "[1]"}, "PIPELINE_VALIDATORS"),
    ],
)
def test_a_broken_configuration_names_the_variable(env, message):
    with pytest.raises(ValueError, match=message):
        Config.from_env(env)


def test_an_execution_name_is_the_document_and_version_when_that_is_a_valid_name():
    assert execution_name({"document_id": DOC, "status_version": 3}) == f"{DOC}-v3"


@given(st.text(min_size=1, max_size=200), st.text(min_size=1, max_size=200), st.integers(0, 10**6))
def test_execution_names_are_valid_and_never_shared_by_two_documents(first, second, version):
    names = {execution_name({"document_id": d, "status_version": version}) for d in (first, second)}
    for name in names:
        assert 1 <= len(name) <= MAX_EXECUTION_NAME and all(c.isascii() and (c.isalnum() or c in "-_") for c in name)
    assert len(names) == len({first, second}), "two document ids, two names"
