"""The step coordinator under at-least-once delivery: any order, any duplicates, same outcome.

A document goes through two steps, one a function and one a state machine (and, for a custom content type, a validator) on an in-memory
table with a stream. Every stream record and every invocation record is delivered in an order
Hypothesis chooses, each possibly twice, and stale stream records keep starting stages again (as a
replayed stream does). Invariants: the document ends exactly where a single, in-order delivery
takes it; each status transition happens once; a failed document leaves exactly one record in its
step's failure queue; nothing else is ever sent there.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from serverless_patterns.handlers.document_steps import workflow
from serverless_patterns.handlers.document_steps.config import Config, Stage
from serverless_patterns.handlers.document_steps.stages import execution_name

NOW = "2026-12-02T06:00:00.000Z"
DOC = "0123456789abcdef0123456789abcdef"
STEPS = (
    Stage("Enrich", "fn:enrich", "q:enrich", ("ENRICHED",)),
    Stage("Score", "", "q:score", ("SCORED", "FLAGGED"), state_machine="sm:score-runner"),
)
VALIDATOR = Stage("application/x-foo", "fn:foo", "q:foo")
CONFIG = Config(bucket="docs", table="metadata", steps=STEPS, validators={"application/x-foo": VALIDATOR})


class Table:
    """Conditional updates and a stream of (old, new) images, like DynamoDB with NEW_AND_OLD_IMAGES."""

    def __init__(self, item: dict[str, Any]) -> None:
        self.item = item
        self.stream: list[tuple[dict[str, Any] | None, dict[str, Any]]] = [(None, copy.deepcopy(item))]

    def get(self, document_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.item)

    def update(self, document_id: str, *, condition: dict[str, Any], changes: dict[str, Any]) -> bool:
        if any(self.item.get(name) != value for name, value in condition.items()):
            return False
        old = copy.deepcopy(self.item)
        self.item.update(changes)
        self.stream.append((old, copy.deepcopy(self.item)))
        return True


class Functions:
    """Lambda runs every invocation; a runner refuses a second execution of one name, as Step Functions does."""

    def __init__(self) -> None:
        self.invoked: list[tuple[str, dict[str, Any]]] = []
        self.executions: set[tuple[str, str]] = set()

    def start(self, stage: Stage, payload: dict[str, Any]) -> bool:
        if stage.state_machine:
            name = (stage.state_machine, execution_name(payload))
            if name in self.executions:
                return False
            self.executions.add(name)
        self.invoked.append((stage.function or stage.state_machine, copy.deepcopy(payload)))
        return True


class Queues:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send(self, queue_url: str, record: dict[str, Any], *, document_id: str, step: str) -> None:
        self.sent.append((queue_url, record))


def run_stage(function_arn: str, payload: dict[str, Any], behaviour: dict[str, str]) -> dict[str, Any]:
    """What Lambda sends to the destination after the function ran (its behaviour is fixed per step)."""
    answer = behaviour[payload["step"]]
    context = {"requestId": str(uuid.uuid4()), "functionArn": function_arn, "approximateInvokeCount": 1}
    if answer == "RAISE":
        return {"requestContext": {**context, "condition": "RetriesExhausted", "approximateInvokeCount": 3},
                "requestPayload": payload, "responsePayload": {"errorMessage": "boom", "errorType": "RuntimeError"}}
    return {"requestContext": {**context, "condition": "Success"}, "requestPayload": payload, "responsePayload": {"status": answer}}


def simulate(start: dict[str, Any], behaviour: dict[str, str], choices: Any = None) -> tuple[Table, Queues]:
    """Deliver everything until nothing is pending; ``choices`` (Hypothesis data) picks the order and duplicates."""
    table, functions, queues = Table(start), Functions(), Queues()
    pending: list[tuple[str, Any, bool]] = []  # (kind, value, already delivered once)
    seen_stream = 0
    while True:
        pending += [("stream", change, False) for change in table.stream[seen_stream:]]
        seen_stream = len(table.stream)
        if not pending:
            return table, queues
        index = choices.draw(st.integers(0, len(pending) - 1)) if choices else 0
        kind, value, delivered = pending.pop(index)
        if choices and not delivered and choices.draw(st.booleans()):
            pending.append((kind, value, True))  # delivered again later
        if kind == "stream":
            invoked_before = len(functions.invoked)
            workflow.advance(CONFIG, table, functions, value[0], value[1], now=NOW)
            pending += [("record", run_stage(arn, payload, behaviour), False) for arn, payload in functions.invoked[invoked_before:]]
        else:
            workflow.record(CONFIG, table, queues, value, now=NOW)


def statuses(table: Table) -> list[str]:
    return [new["status"] for old, new in table.stream if old is None or old["status"] != new["status"]]


def uploaded(content_type: str) -> dict[str, Any]:
    item = {"document_id": DOC, "status": "AWAITING_UPLOAD", "status_version": 1, "declared_type": content_type,
            "object_key": f"documents/{DOC}/a", "size": 3, "version_id": "v1"}
    if content_type == "application/x-foo":
        return {**item, "validation": "PENDING", "status_version": 2}
    return {**item, "status": "VALIDATED", "status_version": 2}


behaviours = st.fixed_dictionaries({
    "application/x-foo": st.sampled_from(["VALIDATED", "REJECTED", "RAISE", "ENRICHED"]),
    "Enrich": st.sampled_from(["ENRICHED", "RAISE", "SCORED"]),
    "Score": st.sampled_from(["SCORED", "FLAGGED", "RAISE"]),
})


@settings(max_examples=150, deadline=None)
@given(content_type=st.sampled_from(["text/plain", "application/x-foo"]), behaviour=behaviours, data=st.data())
def test_any_order_and_any_duplicates_end_where_one_in_order_delivery_ends(content_type, behaviour, data):
    expected_table, expected_queues = simulate(uploaded(content_type), behaviour)
    table, queues = simulate(uploaded(content_type), behaviour, data)
    assert table.item["status"] == expected_table.item["status"]
    assert statuses(table) == statuses(expected_table), "each transition once, in the same order"
    assert {k: v for k, v in table.item.items() if k not in ("failure_request_id", "failure_forwarded")} == {
        k: v for k, v in expected_table.item.items() if k not in ("failure_request_id", "failure_forwarded")
    }
    failed = table.item["status"] == "FAILED"
    assert len(queues.sent) == (1 if failed else 0), "one failure record per failed document, none otherwise"
    if failed:
        assert queues.sent[0][0] == {s.name: s.failure_queue for s in (*STEPS, VALIDATOR)}[table.item["failed_step"]]


def test_the_in_order_outcomes_are_the_documented_ones():
    ok = {"application/x-foo": "VALIDATED", "Enrich": "ENRICHED", "Score": "FLAGGED"}
    table, _ = simulate(uploaded("application/x-foo"), ok)
    assert statuses(table) == ["AWAITING_UPLOAD", "VALIDATED", "ENRICHED", "FLAGGED", "PROCESSED"]
    table, queues = simulate(uploaded("text/plain"), {**ok, "Score": "RAISE"})
    assert statuses(table) == ["VALIDATED", "ENRICHED", "FAILED"] and table.item["failed_step"] == "Score"
    assert [url for url, _ in queues.sent] == ["q:score"]
    table, queues = simulate(uploaded("application/x-foo"), {**ok, "application/x-foo": "REJECTED"})
    assert statuses(table) == ["AWAITING_UPLOAD", "REJECTED"] and not queues.sent
