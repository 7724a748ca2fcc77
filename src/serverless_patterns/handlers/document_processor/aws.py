"""The processor's only AWS calls: GetItem, one ranged GetObject, one conditional UpdateItem.

Without an API, a first event of a key also makes one conditional PutItem (the registration).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from .formats import HEAD_BYTES, content_range_total
from .states import AWAITING_UPLOAD, ObjectHead


class DocumentStore:
    """The documents table and bucket, through AWS clients made by the caller."""

    def __init__(self, *, s3: Any, dynamodb: Any, bucket: str, table: str) -> None:
        self._s3 = s3
        self._dynamodb = dynamodb
        self._bucket = bucket
        self._table = table

    def get(self, document_id: str) -> dict[str, Any] | None:
        response = self._dynamodb.get_item(
            TableName=self._table, Key={"document_id": {"S": document_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return {name: _decode(value) for name, value in item.items()} if item else None

    def register(self, item: Mapping[str, Any]) -> bool:
        """Put ``item`` unless a document with its id exists; False when one does.

        The one write that registers a directly uploaded document: of all deliveries of its
        events, exactly one succeeds.
        """
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={name: _encode(value) for name, value in item.items()},
                ConditionExpression="attribute_not_exists(document_id)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def read_head(self, key: str, *, version_id: str | None) -> ObjectHead | None:
        """The first :data:`HEAD_BYTES` of the object (of that version, when known).

        One ranged GET, whatever the object's size; the body is read up to the limit even if a
        server ignored the range. None when the object or version no longer exists.
        """
        request = {"Bucket": self._bucket, "Key": key, "Range": f"bytes=0-{HEAD_BYTES - 1}"}
        if version_id:
            request["VersionId"] = version_id
        try:
            response = self._s3.get_object(**request)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in ("NoSuchKey", "NoSuchVersion"):
                return None
            if code == "InvalidRange":  # only an empty object has no byte 0
                return ObjectHead(b"", 0, version_id=version_id)
            raise
        body = response["Body"]
        try:
            data = body.read(HEAD_BYTES)
        finally:
            body.close()
        return ObjectHead(
            data=data,
            total_size=content_range_total(
                response.get("ContentRange"), response.get("ContentLength"), len(data)
            ),
            etag=response.get("ETag"),
            version_id=response.get("VersionId") or version_id,
            content_type=response.get("ContentType"),
        )

    def close(self, document_id: str, *, expected_version: int, changes: Mapping[str, Any]) -> bool:
        """Apply ``changes`` if the item is still AWAITING_UPLOAD at ``expected_version``.

        False when it is not (another delivery of the same event got there first, or the
        document was deleted): the caller treats that as done.
        """
        names = {f"#k{i}": name for i, name in enumerate(changes)}
        values = {f":v{i}": _encode(value) for i, value in enumerate(changes.values())}
        names.update({"#status": "status", "#version": "status_version"})
        values.update(
            {":awaiting": {"S": AWAITING_UPLOAD}, ":expected": {"N": str(expected_version)}}
        )
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"document_id": {"S": document_id}},
                UpdateExpression="SET " + ", ".join(f"#k{i} = :v{i}" for i in range(len(changes))),
                ConditionExpression="#status = :awaiting AND #version = :expected",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _encode(value: Any) -> dict[str, Any]:
    if isinstance(value, int) and not isinstance(value, bool):
        return {"N": str(value)}
    return {"S": str(value)}


def _decode(value: Mapping[str, Any]) -> Any:
    if "N" in value:
        number = value["N"]
        return int(number) if number.lstrip("-").isdigit() else float(number)
    return value.get("S", value)
