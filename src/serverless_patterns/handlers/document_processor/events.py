"""S3 object-created events as they arrive in SQS message bodies, in both shapes.

- EventBridge events (``"detail-type": "Object Created"``): ``detail.object.key``.
- Classic S3 notifications (``{"Records": [...]}``): ``s3.object.key``. S3 also sends one
  ``s3:TestEvent`` message when the notification is configured; it is skipped.

In both shapes S3 writes the key URL-encoded, with ``+`` for a space; it is decoded with the rule
every handler shares (:func:`.s3_event_keys.decode_key`), and a key that does not decode is
malformed.

Anything else is reported as a malformed :class:`Skipped`, never raised: a message that cannot
be parsed today will not parse on a retry either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .s3_event_keys import MalformedKey, decode_key


@dataclass(frozen=True)
class ObjectCreated:
    bucket: str
    key: str
    size: int | None = None
    etag: str | None = None
    version_id: str | None = None


@dataclass(frozen=True)
class Skipped:
    """A message or record not processed. ``malformed`` when it is not a valid S3 event."""

    reason: str
    malformed: bool = False


def parse_message(body: Any) -> list[ObjectCreated | Skipped]:
    """The object-created events in one SQS message body (one, or several for classic records)."""
    try:
        message = json.loads(body)
    except (TypeError, ValueError, RecursionError):
        return [Skipped("the message body is not JSON", malformed=True)]
    if not isinstance(message, dict):
        return [Skipped("the message body is not a JSON object", malformed=True)]
    if message.get("Event") == "s3:TestEvent":
        return [Skipped("S3 test event")]
    if "detail-type" in message:
        return [_eventbridge(message)]
    records = message.get("Records")
    if isinstance(records, list) and records:
        return [_notification(record) for record in records]
    return [Skipped("the message is not an S3 event", malformed=True)]


def _eventbridge(message: dict[str, Any]) -> ObjectCreated | Skipped:
    if message.get("source") != "aws.s3":
        return Skipped("the EventBridge event does not come from aws.s3", malformed=True)
    if message["detail-type"] != "Object Created":
        return Skipped(f"{str(message['detail-type'])[:64]!r} events are not processed")
    obj = _get(message, "detail", "object")
    return _object_created(
        _get(message, "detail", "bucket", "name"),
        _get(obj, "key"),
        obj,
        etag="etag",
        version="version-id",
    )


def _notification(record: Any) -> ObjectCreated | Skipped:
    if not isinstance(record, dict) or record.get("eventSource") != "aws:s3":
        return Skipped("the record is not an S3 event record", malformed=True)
    name = record.get("eventName")
    if not isinstance(name, str):
        return Skipped("the S3 record has no eventName", malformed=True)
    if not name.startswith("ObjectCreated:"):
        return Skipped(f"{name[:64]!r} events are not processed")
    obj = _get(record, "s3", "object")
    return _object_created(
        _get(record, "s3", "bucket", "name"),
        _get(obj, "key"),
        obj,
        etag="eTag",
        version="versionId",
    )


def _object_created(
    bucket: Any, key: Any, obj: Any, *, etag: str, version: str
) -> ObjectCreated | Skipped:
    if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or not key:
        return Skipped("the S3 event names no bucket or object key", malformed=True)
    try:
        key = decode_key(key)
    except MalformedKey as error:
        return Skipped(str(error), malformed=True)
    size = _get(obj, "size")
    return ObjectCreated(
        bucket=bucket,
        key=key,
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        etag=_string(_get(obj, etag)),
        version_id=_string(_get(obj, version)),
    )


def _get(data: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(data, dict):
            return None
        data = data.get(name)
    return data


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
