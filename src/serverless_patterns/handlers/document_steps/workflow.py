"""One stream record or one invocation record, from the decision to the calls it needs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from .stages import FAILED, Change, Ignore, Invoke, next_action, result_action

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .aws import Documents, FailureQueues, StageStarter
    from .config import Config


class Outcome(str, Enum):
    INVOKED = "invoked"
    RECORDED = "recorded"
    FAILED = "failed"
    #: The document moved on (a replay, a duplicate record, a deletion): nothing changed.
    STALE = "stale"
    IGNORED = "ignored"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    document_id: str | None = None
    reason: str | None = None


def advance(config: Config, documents: Documents, starter: StageStarter, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, *, now: str) -> Result:
    """A metadata stream record: invoke the validator or the next step, or record PROCESSED.

    A replayed stream record invokes the stage again with the same ``status_version``; the
    coordinator records only the first result for that version (steps must be idempotent, as
    every asynchronous Lambda invocation may run more than once).
    """
    action = next_action(config, old, new, now=now)
    return _apply(action, documents, starter=starter)


def record(config: Config, documents: Documents, queues: FailureQueues, invocation_record: Any, *, now: str) -> Result:
    """An invocation record from the step-results queue: record the status, or FAILED."""
    return _apply(result_action(config, invocation_record, now=now), documents, queues=queues)


def _apply(action: Invoke | Change | Ignore, documents: Documents, *, starter: StageStarter | None = None, queues: FailureQueues | None = None) -> Result:
    if isinstance(action, Ignore):
        return Result(Outcome.MALFORMED if action.malformed else Outcome.IGNORED, reason=action.reason)
    if isinstance(action, Invoke):
        assert starter is not None
        if not starter.start(action.stage, action.payload):
            return Result(Outcome.STALE, action.payload["document_id"], f"{action.stage.name} ran for this status version already")
        return Result(Outcome.INVOKED, action.payload["document_id"], f"invoked {action.stage.name}")
    condition = {"status": action.expected_status, "status_version": action.expected_version}
    applied = documents.update(action.document_id, condition=condition, changes=action.changes)
    failed = action.changes["status"] == FAILED
    if action.forward is not None and action.stage is not None and queues is not None:
        if not applied:
            # A replay of the record that failed the document: forward it unless that was done.
            item = documents.get(action.document_id) or {}
            if not (item.get("status") == FAILED and item.get("failure_request_id") == action.request_id
                    and item.get("failure_forwarded") != action.request_id):
                return Result(Outcome.STALE, action.document_id, "the document moved on")
        queues.send(action.stage.failure_queue, action.forward, document_id=action.document_id, step=action.stage.name)
        documents.update(
            action.document_id,
            condition={"failure_request_id": action.request_id},
            changes={"failure_forwarded": action.request_id},
        )
        return Result(Outcome.FAILED, action.document_id, action.changes.get("reason"))
    if not applied:
        return Result(Outcome.STALE, action.document_id, "the document moved on")
    return Result(Outcome.FAILED if failed else Outcome.RECORDED, action.document_id, action.changes.get("reason") or action.changes["status"])
