"""The request processor's only AWS calls: GetItem on the table, PutObject on the bucket."""

from __future__ import annotations

from typing import Any


class Store:
    """The records table and the results bucket, through low-level clients made by the caller."""

    def __init__(self, *, dynamodb: Any, s3: Any, table: str, bucket: str) -> None:
        self._dynamodb = dynamodb
        self._s3 = s3
        self._table = table
        self._bucket = bucket

    def get_record(self, record_id: str) -> dict[str, Any] | None:
        """The record with partition key ``id`` = ``record_id`` as attribute values, or ``None``.

        A strongly consistent read: a record written just before the request is found.
        """
        response = self._dynamodb.get_item(
            TableName=self._table, Key={"id": {"S": record_id}}, ConsistentRead=True
        )
        return response.get("Item")

    def put_result(self, key: str, body: bytes) -> str | None:
        """Write one result object; returns its version id.

        A SHA-256 checksum travels with the object: S3 verifies it, and buckets with an Object Lock
        retention period refuse uploads without one.
        """
        response = self._s3.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            ChecksumAlgorithm="SHA256",
        )
        return response.get("VersionId")
