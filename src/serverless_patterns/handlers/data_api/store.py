"""The API's only AWS calls: objects in the data bucket, and the value of the API's secret."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

_MISSING_OBJECT = frozenset({"NoSuchKey", "404", "NotFound"})


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    etag: str | None
    version_id: str | None


@dataclass(frozen=True)
class FetchedObject:
    body: bytes
    content_type: str
    etag: str | None
    version_id: str | None


class ObjectTooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


class ObjectStore:
    """Objects under ``prefix`` in ``bucket``; keys passed in and out are relative to the prefix."""

    def __init__(self, s3: Any, *, bucket: str, prefix: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._prefix = prefix

    def put(self, key: str, body: bytes, *, content_type: str) -> StoredObject:
        answer = self._s3.put_object(
            Bucket=self._bucket, Key=self._prefix + key, Body=body, ContentType=content_type
        )
        return StoredObject(
            key=key, size=len(body), etag=answer.get("ETag"), version_id=answer.get("VersionId")
        )

    def get(self, key: str, *, max_bytes: int) -> FetchedObject | None:
        """The object, or ``None`` when there is none; :class:`ObjectTooLarge` above ``max_bytes``."""
        try:
            answer = self._s3.get_object(Bucket=self._bucket, Key=self._prefix + key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING_OBJECT:
                return None
            raise
        stream = answer["Body"]
        try:
            size = int(answer.get("ContentLength") or 0)
            if size > max_bytes:
                raise ObjectTooLarge(size)
            body = stream.read(max_bytes + 1)
        finally:
            stream.close()
        if len(body) > max_bytes:
            raise ObjectTooLarge(len(body))
        return FetchedObject(
            body=body,
            content_type=answer.get("ContentType") or "application/octet-stream",
            etag=answer.get("ETag"),
            version_id=answer.get("VersionId"),
        )

    def list(
        self, *, prefix: str, after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """Up to ``limit`` objects whose key starts with ``prefix``, after ``after``; and whether more follow."""
        params: dict[str, Any] = {
            "Bucket": self._bucket,
            "Prefix": self._prefix + prefix,
            "MaxKeys": limit,
        }
        if after:
            params["StartAfter"] = self._prefix + after
        answer = self._s3.list_objects_v2(**params)
        items = [
            {
                "key": entry["Key"][len(self._prefix) :],
                "size": entry.get("Size", 0),
                "last_modified": entry["LastModified"].isoformat()
                if entry.get("LastModified")
                else None,
                "etag": entry.get("ETag"),
            }
            for entry in answer.get("Contents", [])
        ]
        return items, bool(answer.get("IsTruncated"))


class SecretValues:
    """The current and previous value of a secret, each cached for ``max_age`` seconds.

    The values never leave this object except as bytes for signing; nothing here logs them.
    """

    def __init__(
        self,
        client: Any,
        *,
        secret_arn: str,
        max_age: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._arn = secret_arn
        self._max_age = max_age
        self._clock = clock
        self._cache: dict[str, tuple[float, bytes | None]] = {}

    def _value(self, stage: str) -> bytes | None:
        cached = self._cache.get(stage)
        now = self._clock()
        if cached is not None and now - cached[0] < self._max_age:
            return cached[1]
        try:
            answer = self._client.get_secret_value(SecretId=self._arn, VersionStage=stage)
            value: bytes | None = answer["SecretString"].encode("utf-8")
        except ClientError as error:
            if (
                stage == "AWSCURRENT"
                or error.response.get("Error", {}).get("Code") != "ResourceNotFoundException"
            ):
                raise
            value = None  # no rotation yet: there is no previous value
        self._cache[stage] = (now, value)
        return value

    def current(self) -> bytes:
        value = self._value("AWSCURRENT")
        if not value:
            raise ValueError("the secret has an empty value")
        return value

    def candidates(self) -> Iterator[bytes]:
        """The current value, then (fetched only if asked for) the previous one when there is one."""
        yield self.current()
        previous = self._value("AWSPREVIOUS")
        if previous:
            yield previous
