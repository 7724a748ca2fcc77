"""The records of a Lambda batch event that can be processed and reported as failed.

Lambda reports a failed record of an SQS batch by its ``messageId`` and one of a DynamoDB stream
batch by its ``dynamodb.SequenceNumber``. A record without that identifier (or an event that is no
batch at all) can never be reported, so it is set aside and counted instead of failing the whole
batch; an empty batch has nothing to do.

:func:`partial_batch_response` is the partial-batch loop of Powertools' ``BatchProcessor`` (with
``raise_on_entire_batch_failure=False``) without its import cost: the batch utility imports
``asyncio`` (for its async processor) and, through the event data classes, a class for every
event source Lambda has, about a tenth of ``import boto3`` on a cold start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Where the identifier of a record lies, per event source.
SQS = ("messageId",)
DYNAMODB_STREAMS = ("dynamodb", "SequenceNumber")


def reportable_records(event: Any, identifier: tuple[str, ...]) -> tuple[list[dict[str, Any]], int]:
    """The records whose ``identifier`` is a non-empty string, and how many records are not."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        return [], 0
    usable = [record for record in records if isinstance(_dig(record, identifier), str) and _dig(record, identifier)]
    return usable, len(records) - len(usable)


def partial_batch_response(
    records: list[dict[str, Any]], record_handler: Callable[[dict[str, Any]], object], identifier: tuple[str, ...]
) -> dict[str, list[dict[str, Any]]]:
    """Handle each record in turn; one whose handler raises is reported for a retry.

    Answers Lambda's ``{"batchItemFailures": [{"itemIdentifier": ...}]}`` in the order of the
    records, empty when every record was handled. A batch whose records all failed reports them
    all instead of raising (as with ``raise_on_entire_batch_failure=False``).
    """
    failures = []
    for record in records:
        try:
            record_handler(record)
        except Exception:  # noqa: BLE001 - any failure of one record is that record's retry
            failures.append({"itemIdentifier": _dig(record, identifier)})
    return {"batchItemFailures": failures}


def _dig(value: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value
