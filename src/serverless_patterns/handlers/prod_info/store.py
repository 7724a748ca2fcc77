"""The info function's only AWS call: PutObject of one request record into the log bucket."""

from __future__ import annotations

from typing import Any


class RequestLog:
    """The log bucket, through an S3 client made by the caller."""

    def __init__(self, *, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def put(self, key: str, body: bytes) -> None:
        """Write one record, with a SHA-256 checksum that S3 verifies."""
        self._s3.put_object(
            Bucket=self._bucket, Key=key, Body=body, ContentType="application/json", ChecksumAlgorithm="SHA256"
        )
