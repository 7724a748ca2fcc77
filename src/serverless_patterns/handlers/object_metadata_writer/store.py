"""The AWS calls of the object metadata writer: HeadObject on S3, conditional puts on DynamoDB."""

from __future__ import annotations

import enum
from typing import Any

from botocore.exceptions import ClientError

from .logic import ObjectCreated, latest_put, trusted_content_type, version_put

#: HeadObject answers for a version that no longer exists (deleted since, or a delete marker).
_GONE = frozenset({"404", "NoSuchKey", "NoSuchVersion", "NotFound", "405", "MethodNotAllowed"})
_CONDITION_FAILED = "ConditionalCheckFailedException"


class Outcome(enum.Enum):
    """What recording one event changed."""

    RECORDED = "recorded"  # a new version; it is the object's latest
    RECORDED_OUT_OF_ORDER = "recorded_out_of_order"  # a new version, but a newer one was already latest
    DUPLICATE = "duplicate"  # the version was recorded before: nothing changed


class MetadataStore:
    """Writes the items of :mod:`.logic` with an S3 client and a DynamoDB ``Table`` resource."""

    def __init__(self, *, table: Any, s3: Any) -> None:
        self._table = table
        self._s3 = s3

    def content_type(self, event: ObjectCreated) -> str | None:
        """The object version's content type, or ``None`` when it is gone or was overwritten.

        Other S3 errors (throttling, access denied) raise, so the message is retried.
        """
        params = {"Bucket": event.bucket, "Key": event.key}
        if event.version_id:
            params["VersionId"] = event.version_id
        try:
            head = self._s3.head_object(**params)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _GONE:
                return None
            raise
        return trusted_content_type(event, head.get("ETag"), head.get("ContentType"))

    def record(self, event: ObjectCreated, *, recorded_at: str) -> Outcome:
        """Write the version item once and the ``LATEST`` item if the event is the newest.

        Both writes are conditional, so redelivered and late events change nothing that a newer
        event wrote; a retry after a failure between the two writes completes the second.
        """
        content_type = self.content_type(event)
        new_version = self._put(version_put(event, content_type=content_type, recorded_at=recorded_at))
        newest = self._put(latest_put(event, content_type=content_type, recorded_at=recorded_at))
        if not new_version:
            return Outcome.DUPLICATE
        return Outcome.RECORDED if newest else Outcome.RECORDED_OUT_OF_ORDER

    def _put(self, arguments: dict[str, Any]) -> bool:
        """``put_item``; False when its condition failed, other errors raise."""
        try:
            self._table.put_item(**arguments)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == _CONDITION_FAILED:
                return False
            raise
        return True
