"""What the coordinator does for a document, decided from its item alone (no AWS calls).

A document's stage is its item: ``status``, ``status_version`` and ``steps_done`` (how many
processing steps have recorded a result). ``AWAITING_UPLOAD`` with ``validation = PENDING`` (set
by the processor for a content type with a validator) waits for its validator; ``VALIDATED``, or a
status a step returned, waits for step ``steps_done``, or for ``PROCESSED`` when every step has
run. Every change is applied only while the item is still at the ``status`` and ``status_version``
the decision was made from.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .config import Config, Stage

#: The version of the step input (and of the validator input) documented in docs/document_pipeline.md.
SCHEMA_VERSION = "1"
AWAITING_UPLOAD = "AWAITING_UPLOAD"
VALIDATED = "VALIDATED"
REJECTED = "REJECTED"
PROCESSED = "PROCESSED"
FAILED = "FAILED"
#: ``validation`` of a document whose content type has a validator, until the validator answers.
VALIDATION_PENDING = "PENDING"
#: Longest reason or error text kept on the item.
MAX_REASON_CHARS = 500
#: Largest ``detail`` a step may return (as JSON), kept on the item as ``step_detail_<step>`` (JSON).
MAX_DETAIL_BYTES = 16 * 1024
#: Longest name of a runner execution: Step Functions allows 80 characters, and the runner names
#: the step's execution after its own with ``-<attempt>`` appended.
MAX_EXECUTION_NAME = 76
_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_-]")


def utc_now() -> str:
    """ISO-8601 UTC with milliseconds, e.g. ``2026-01-31T09:15:00.123Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class Invoke:
    """Invoke ``stage`` asynchronously with ``payload`` (the documented step input)."""

    stage: Stage
    payload: dict[str, Any]


def execution_name(payload: Mapping[str, Any]) -> str:
    """The name of the runner execution that runs a state-machine step for this input.

    One name per document and status version: Step Functions refuses a second Standard execution
    of the same name (for 90 days), so a replayed stream record cannot run the step twice. Names
    are letters, digits, ``-`` and ``_``; a document id with other characters, or one too long,
    gets a hash of the full name so that two ids never share one.
    """
    full = f"{payload['document_id']}-v{payload['status_version']}"
    safe = _UNSAFE_NAME_CHARACTERS.sub("_", full)
    if safe == full and len(full) <= MAX_EXECUTION_NAME:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:16]
    return f"{safe[: MAX_EXECUTION_NAME - len(digest) - 1]}-{digest}"


@dataclass(frozen=True)
class Change:
    """Apply ``changes`` to the document if it is still at ``expected_status``/``expected_version``.

    ``forward`` is the invocation record to send to ``stage``'s failure queue once applied.
    """

    document_id: str
    expected_status: str
    expected_version: int
    changes: dict[str, Any]
    stage: Stage | None = None
    forward: Mapping[str, Any] | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class Ignore:
    """Nothing to do; ``malformed`` when the input can never be acted on (logged as a warning)."""

    reason: str
    malformed: bool = False
    details: dict[str, Any] = field(default_factory=dict)


def version_of(value: Any) -> int | None:
    """``status_version`` as an int (stream images carry Decimals), None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) and number == int(number) else None


def step_input(config: Config, item: Mapping[str, Any], stage: Stage) -> dict[str, Any]:
    """What a step or validator receives. ``step`` and ``status_version`` come back to the
    coordinator in the invocation record; the function need not return them."""
    payload = {
        "schema_version": SCHEMA_VERSION,
        "document_id": item["document_id"],
        "bucket": config.bucket,
        "key": item.get("object_key"),
        "version_id": item.get("version_id"),
        "content_type": item.get("declared_type"),
        "size": version_of(item.get("size")),
        "status": item["status"],
        "status_version": version_of(item["status_version"]),
        "step": stage.name,
    }
    return payload


def next_action(config: Config, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, *, now: str) -> Invoke | Change | Ignore:
    """What a stream record of the metadata table asks for: the new image's stage, once per version."""
    if not new:
        return Ignore("the item was removed")
    version = version_of(new.get("status_version"))
    document_id = new.get("document_id")
    status = new.get("status")
    if version is None or not isinstance(document_id, str) or not isinstance(status, str):
        return Ignore("the item is not a document item", malformed=True)
    if old and version_of(old.get("status_version")) == version:
        return Ignore("no transition (the same status_version)")
    if status == AWAITING_UPLOAD:
        if new.get("validation") != VALIDATION_PENDING:
            return Ignore("the document is not uploaded yet")
        content_type = str(new.get("declared_type", "")).lower()
        validator = (config.validators or {}).get(content_type)
        if validator is None:
            return _fail(document_id, status, version, f"no validator is configured for content type {content_type!r}", now=now)
        return Invoke(validator, step_input(config, new, validator))
    step_statuses = {s for step in config.steps for s in step.statuses}
    if status != VALIDATED and status not in step_statuses:
        return Ignore(f"{status} is not a stage of the processing steps")
    done = version_of(new.get("steps_done")) or 0
    if done < len(config.steps):
        return Invoke(config.steps[done], step_input(config, new, config.steps[done]))
    return Change(document_id, status, version, {"status": PROCESSED, "status_version": version + 1, "updated_at": now})


def result_action(config: Config, record: Any, *, now: str) -> Change | Ignore:
    """What one invocation record (Lambda's record of an asynchronous invocation) asks for.

    ``condition`` is ``Success``, or ``RetriesExhausted``/``EventAgeExceeded`` when the invocation
    failed; ``requestPayload`` is the step input, ``responsePayload`` what the function returned
    (or its error). A record of an unknown step or with a malformed payload is ignored as malformed.
    """
    if not isinstance(record, dict):
        return Ignore("the invocation record is not a JSON object", malformed=True)
    context = record.get("requestContext")
    payload = record.get("requestPayload")
    if not isinstance(context, dict) or not isinstance(payload, dict):
        return Ignore("not a Lambda invocation record (no requestContext or requestPayload)", malformed=True)
    found = config.stage(payload.get("step"))
    document_id, status, version = payload.get("document_id"), payload.get("status"), version_of(payload.get("status_version"))
    if found is None or not isinstance(document_id, str) or not isinstance(status, str) or version is None:
        return Ignore("the invocation record is not one of a configured step", malformed=True, details={"step": str(payload.get("step"))[:64]})
    stage, index = found
    request_id = str(context.get("requestId") or "")
    condition = context.get("condition")
    response = record.get("responsePayload")
    kind = "processing step" if index is not None else "validator"
    if condition != "Success":
        return _fail(
            document_id, status, version, f"{kind} {stage.name} failed: {_failure(context, response)}",
            now=now, stage=stage, forward=record, request_id=request_id,
        )
    answered = response.get("status") if isinstance(response, dict) else None
    if index is None:
        if answered == VALIDATED:
            changes = {"status": VALIDATED, "validation": "DONE"}
        elif answered == REJECTED:
            reason = response.get("reason") if isinstance(response, dict) else None
            changes = {"status": REJECTED, "validation": "DONE", "reason": _text(reason) or f"rejected by the validator {stage.name}"}
        else:
            return _fail(
                document_id, status, version,
                f"validator {stage.name} returned {_shown(answered)}, not VALIDATED or REJECTED",
                now=now, stage=stage, forward=record, request_id=request_id,
            )
        return Change(document_id, status, version, {**changes, "status_version": version + 1, "updated_at": now}, stage)
    if answered not in stage.statuses:
        return _fail(
            document_id, status, version,
            f"processing step {stage.name} returned {_shown(answered)}, not one of its statuses ({', '.join(stage.statuses)})",
            now=now, stage=stage, forward=record, request_id=request_id,
        )
    detail = response.get("detail") if isinstance(response, dict) else None
    changes: dict[str, Any] = {"status": answered, "steps_done": index + 1, "status_version": version + 1, "updated_at": now}
    if detail is not None:
        encoded = json.dumps(detail, default=str)
        if len(encoded.encode()) > MAX_DETAIL_BYTES:
            return _fail(
                document_id, status, version,
                f"processing step {stage.name} returned a detail of more than {MAX_DETAIL_BYTES} bytes",
                now=now, stage=stage, forward=record, request_id=request_id,
            )
        changes[f"step_detail_{stage.name}"] = encoded
    return Change(document_id, status, version, changes, stage)


def _fail(
    document_id: str, status: str, version: int, reason: str, *, now: str,
    stage: Stage | None = None, forward: Mapping[str, Any] | None = None, request_id: str | None = None,
) -> Change:
    changes: dict[str, Any] = {"status": FAILED, "status_version": version + 1, "updated_at": now, "reason": reason[:MAX_REASON_CHARS]}
    if stage is not None:
        changes["failed_step"] = stage.name
    if request_id:
        changes["failure_request_id"] = request_id
    return Change(document_id, status, version, changes, stage, forward, request_id)


def _failure(context: Mapping[str, Any], response: Any) -> str:
    attempts = version_of(context.get("approximateInvokeCount"))
    condition = context.get("condition")
    if condition == "EventAgeExceeded":
        return f"the event expired before it ran successfully (EventAgeExceeded, {attempts} attempts)"
    error = ""
    if isinstance(response, dict):
        error = ": ".join(_text(response.get(k)) or "" for k in ("errorType", "errorMessage") if response.get(k))
    what = f"{_text(str(condition)) or 'failed'} after {attempts} attempts" if attempts else _text(str(condition)) or "failed"
    return f"{error} ({what})" if error else what


def _text(value: Any) -> str | None:
    return value[:MAX_REASON_CHARS] if isinstance(value, str) and value else None


def _shown(value: Any) -> str:
    return f"status {value[:40]!r}" if isinstance(value, str) else "no status"
