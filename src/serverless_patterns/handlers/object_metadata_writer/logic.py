"""Pure logic of the object metadata writer: parse S3 events, build idempotent DynamoDB writes.

No AWS calls here, so every branch is testable without an emulator.

Items (table key ``pk``/``sk``, both strings):

- one item per object version: ``pk = OBJECT#<bucket>/<key>``, ``sk = VERSION#<version id>``, or
  ``VERSION#<sequencer>`` in a bucket without versioning. It is written only if it does not exist,
  so a duplicate delivery changes nothing;
- one ``LATEST`` item per object (``sk = LATEST``), replaced only by an event with a greater S3
  sequencer, so an event that arrives late never overwrites a newer one.

S3 sequencers are hexadecimal strings that order the events of one key; they are compared after
padding to the same length with leading zeros. Items store them padded to
:data:`SEQUENCER_WIDTH` upper-case digits, so DynamoDB's string comparison orders them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import s3_event_keys

#: Width of the zero-padded, upper-case sequencers stored in items.
SEQUENCER_WIDTH = 64
#: Sort key of the item that holds the newest version of an object.
LATEST_SK = "LATEST"
#: S3 keys are at most 1024 bytes of UTF-8.
MAX_KEY_BYTES: int = s3_event_keys.MAX_KEY_BYTES

#: A version item is written once; a duplicate delivery finds it and changes nothing.
VERSION_CONDITION = "attribute_not_exists(pk)"
#: The latest item is replaced only by a newer event of the same object.
LATEST_CONDITION = "attribute_not_exists(pk) OR sequencer < :sequencer"

_SEQUENCER = re.compile(r"[0-9A-Fa-f]{1,64}")  # fullmatch: "$" would let "1A\n" through
_MAX_TEXT = 1024


class MalformedMessage(ValueError):
    """The message is not an S3 object event this handler can record; the reason says why."""


@dataclass(frozen=True)
class ObjectCreated:
    """One object-created event, decoded (the key is no longer URL-encoded)."""

    bucket: str
    key: str
    size: int
    etag: str | None
    version_id: str | None
    sequencer: str  # normalised: SEQUENCER_WIDTH upper-case hexadecimal digits
    event_time: str
    event_name: str
    requester: str | None
    source: str  # "eventbridge" or "s3-notification"

    @property
    def pk(self) -> str:
        return object_pk(self.bucket, self.key)

    @property
    def version_sk(self) -> str:
        return f"VERSION#{self.version_id or self.sequencer}"


@dataclass(frozen=True)
class Message:
    """What one queue message holds: events to record and the reasons for records ignored."""

    events: tuple[ObjectCreated, ...]
    ignored: tuple[str, ...] = ()


def object_pk(bucket: str, key: str) -> str:
    """The partition key of an object's items."""
    return f"OBJECT#{bucket}/{key}"


def normalise_sequencer(value: str) -> str:
    """Pad an S3 sequencer to :data:`SEQUENCER_WIDTH` upper-case digits (comparable as strings)."""
    if not isinstance(value, str) or not _SEQUENCER.fullmatch(value):
        raise MalformedMessage(f"sequencer {value!r} is not 1-{SEQUENCER_WIDTH} hexadecimal digits")
    return value.upper().rjust(SEQUENCER_WIDTH, "0")


def decode_key(raw: Any) -> str:
    """The object key of an S3 event, by the rule every handler shares (:mod:`.s3_event_keys`).

    Raises
    ------
    MalformedMessage
        When the key is not a URL-encoded S3 key (a broken ``%`` escape, not UTF-8, too long).
    """
    try:
        return s3_event_keys.decode_key(raw)
    except s3_event_keys.MalformedKey as error:
        raise MalformedMessage(str(error)) from None


def parse_message(body: Any, *, expected_bucket: str | None = None) -> Message:
    """Parse the body of one SQS message.

    Accepted: an EventBridge event from ``aws.s3`` (``Object Created`` is recorded, other detail
    types are ignored) and an S3 event notification ``{"Records": [...]}`` (``ObjectCreated:*``
    records are recorded, others ignored). The ``s3:TestEvent`` S3 sends when a notification is
    configured is ignored.

    Raises
    ------
    MalformedMessage
        For anything else, for events of another bucket than ``expected_bucket``, and for events
        with missing or invalid fields; the message says which.
    """
    if not isinstance(body, str):
        raise MalformedMessage(f"the message body must be a string, not {type(body).__name__}")
    try:
        data = json.loads(body)
    except json.JSONDecodeError as error:
        raise MalformedMessage(f"the message body is not JSON ({error.msg} at position {error.pos})") from None
    except RecursionError:
        raise MalformedMessage("the message body is nested too deeply") from None
    if not isinstance(data, dict):
        raise MalformedMessage(f"the message body must be a JSON object, not {type(data).__name__}")
    if data.get("Event") == "s3:TestEvent":
        return Message(events=(), ignored=("s3:TestEvent",))
    if "detail-type" in data:
        return _parse_eventbridge(data, expected_bucket)
    if "Records" in data:
        return _parse_notification(data, expected_bucket)
    raise MalformedMessage("the message is neither an EventBridge S3 event nor an S3 event notification")


def _parse_eventbridge(data: dict[str, Any], expected_bucket: str | None) -> Message:
    source, detail_type = data.get("source"), data.get("detail-type")
    if source != "aws.s3":
        raise MalformedMessage(f"EventBridge event from source {_short(source)}, not aws.s3")
    if detail_type != "Object Created":
        return Message(events=(), ignored=(f"EventBridge detail-type {_short(detail_type)}",))
    detail = _object(data, "detail", "event")
    bucket = _bucket(_text(_object(detail, "bucket", "detail"), "name", "detail.bucket"), expected_bucket)
    obj = _object(detail, "object", "detail")
    event = ObjectCreated(
        bucket=bucket,
        key=decode_key(obj.get("key")),
        size=_size(obj.get("size"), "detail.object.size"),
        etag=_optional_text(obj, "etag", "detail.object"),
        version_id=_version(_optional_text(obj, "version-id", "detail.object")),
        sequencer=normalise_sequencer(obj.get("sequencer")),
        event_time=_time(data.get("time"), "time"),
        event_name=_optional_text(detail, "reason", "detail") or "Object Created",
        requester=_optional_text(detail, "requester", "detail"),
        source="eventbridge",
    )
    return Message(events=(event,))


def _parse_notification(data: dict[str, Any], expected_bucket: str | None) -> Message:
    records = data["Records"]
    if not isinstance(records, list) or not records:
        raise MalformedMessage("Records must be a non-empty list")
    events: list[ObjectCreated] = []
    ignored: list[str] = []
    for index, record in enumerate(records):
        where = f"Records[{index}]"
        if not isinstance(record, dict):
            raise MalformedMessage(f"{where} must be an object, not {type(record).__name__}")
        if record.get("eventSource") != "aws:s3":
            raise MalformedMessage(f"{where}.eventSource is {_short(record.get('eventSource'))}, not aws:s3")
        name = _text(record, "eventName", where)
        if not name.startswith("ObjectCreated:"):
            ignored.append(f"{where}.eventName {_short(name)}")
            continue
        s3 = _object(record, "s3", where)
        obj = _object(s3, "object", f"{where}.s3")
        identity = record.get("userIdentity")
        events.append(
            ObjectCreated(
                bucket=_bucket(_text(_object(s3, "bucket", f"{where}.s3"), "name", f"{where}.s3.bucket"), expected_bucket),
                key=decode_key(obj.get("key")),
                size=_size(obj.get("size"), f"{where}.s3.object.size"),
                etag=_optional_text(obj, "eTag", f"{where}.s3.object"),
                version_id=_version(_optional_text(obj, "versionId", f"{where}.s3.object")),
                sequencer=normalise_sequencer(obj.get("sequencer")),
                event_time=_time(record.get("eventTime"), f"{where}.eventTime"),
                event_name=name,
                requester=_optional_text(identity, "principalId", f"{where}.userIdentity")
                if isinstance(identity, dict)
                else None,
                source="s3-notification",
            )
        )
    return Message(events=tuple(events), ignored=tuple(ignored))


# ---- items --------------------------------------------------------------------------------------


def trusted_content_type(event: ObjectCreated, head_etag: str | None, content_type: str | None) -> str | None:
    """The content type read with HeadObject, if it belongs to the event's object version.

    A head by version id reads exactly that version. Without a version id (a bucket without
    versioning) the object may have been overwritten since: the type is kept only when the ETags
    match.
    """
    if not content_type:
        return None
    if event.version_id:
        return content_type
    if event.etag and head_etag and head_etag.strip('"') == event.etag.strip('"'):
        return content_type
    return None


def metadata(event: ObjectCreated, *, content_type: str | None, recorded_at: str) -> dict[str, Any]:
    """The attributes both items carry (without ``pk``/``sk``); absent values are left out."""
    item: dict[str, Any] = {
        "bucket": event.bucket,
        "key": event.key,
        "size": event.size,
        "sequencer": event.sequencer,
        "event_time": event.event_time,
        "event_name": event.event_name,
        "event_source": event.source,
        "recorded_at": recorded_at,
    }
    optional = {
        "etag": event.etag,
        "version_id": event.version_id,
        "requester": event.requester,
        "content_type": content_type,
    }
    item.update({name: value for name, value in optional.items() if value})
    return item


def version_put(event: ObjectCreated, *, content_type: str | None, recorded_at: str) -> dict[str, Any]:
    """``Table.put_item`` arguments that write the version item once."""
    item = {"pk": event.pk, "sk": event.version_sk, **metadata(event, content_type=content_type, recorded_at=recorded_at)}
    return {"Item": item, "ConditionExpression": VERSION_CONDITION}


def latest_put(event: ObjectCreated, *, content_type: str | None, recorded_at: str) -> dict[str, Any]:
    """``Table.put_item`` arguments that replace the ``LATEST`` item only with a newer event."""
    item = {
        "pk": event.pk,
        "sk": LATEST_SK,
        "version_sk": event.version_sk,
        **metadata(event, content_type=content_type, recorded_at=recorded_at),
    }
    return {
        "Item": item,
        "ConditionExpression": LATEST_CONDITION,
        "ExpressionAttributeValues": {":sequencer": event.sequencer},
    }


# ---- field helpers ------------------------------------------------------------------------------


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _object(data: dict[str, Any], field: str, where: str) -> dict[str, Any]:
    value = data.get(field)
    if not isinstance(value, dict):
        raise MalformedMessage(f"{where}.{field} must be an object, not {_short(value)}")
    return value


def _text(data: dict[str, Any], field: str, where: str) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value or len(value) > _MAX_TEXT or not _is_utf8(value):
        raise MalformedMessage(f"{where}.{field} must be a non-empty string, not {_short(value)}")
    return value


def _is_utf8(value: str) -> bool:
    # JSON can carry lone surrogates ("\ud800"), which no S3 name holds and DynamoDB refuses.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _optional_text(data: dict[str, Any], field: str, where: str) -> str | None:
    if data.get(field) is None:
        return None
    return _text(data, field, where)


def _bucket(name: str, expected: str | None) -> str:
    if expected is not None and name != expected:
        raise MalformedMessage(f"event for bucket {_short(name)}, expected {expected!r}")
    return name


def _size(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedMessage(f"{where} must be a whole number of bytes, not {_short(value)}")
    return value


def _version(value: str | None) -> str | None:
    # Objects written while versioning was never enabled or suspended carry the version id "null".
    return None if value in (None, "null") else value


def _time(value: Any, where: str) -> str:
    if not isinstance(value, str) or len(value) > 64:
        raise MalformedMessage(f"{where} must be an ISO 8601 timestamp, not {_short(value)}")
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise MalformedMessage(f"{where} must be an ISO 8601 timestamp, not {_short(value)}") from None
    return value
