"""The records of a Lambda batch event that can be processed and reported as failed.

Lambda reports a failed record of an SQS batch by its ``messageId`` and one of a DynamoDB stream
batch by its ``dynamodb.SequenceNumber``. A record without that identifier (or an event that is no
batch at all) can never be reported, so it is set aside and counted instead of failing the whole
batch; an empty batch has nothing to do.
"""

from __future__ import annotations

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


def _dig(value: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value
