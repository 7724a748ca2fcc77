"""What each route does, given the request and the stores: no AWS clients, no Powertools."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from . import cursors
from .config import Config
from .errors import ApiError
from .request import Request, body_bytes, content_type, list_query
from .responses import json_response, object_response
from .store import ObjectStore, ObjectTooLarge


class SigningKeys(Protocol):
    """The values that sign cursors: the current one, and every one still accepted."""

    def current(self) -> bytes: ...

    def candidates(self) -> Iterator[bytes]: ...


def health() -> dict[str, Any]:
    """Liveness only: touches neither the bucket nor the secret, and reveals nothing."""
    return json_response(200, {"status": "ok"})


def put_object(store: ObjectStore, config: Config, request: Request, key: str) -> dict[str, Any]:
    body = body_bytes(request, config.max_object_bytes)
    stored = store.put(key, body, content_type=content_type(request))
    return json_response(
        200,
        {
            "key": stored.key,
            "size": stored.size,
            "etag": stored.etag,
            "version_id": stored.version_id,
        },
    )


def get_object(store: ObjectStore, config: Config, key: str) -> dict[str, Any]:
    try:
        found = store.get(key, max_bytes=config.max_object_bytes)
    except ObjectTooLarge as error:
        raise ApiError(
            422,
            "object_too_large",
            f"the object has {error.size} bytes; this API returns objects of up to {config.max_object_bytes} bytes",
        ) from None
    if found is None:
        raise ApiError(404, "object_not_found", f"no object with the key {key!r}")
    return object_response(
        found.body, content_type=found.content_type, etag=found.etag, version_id=found.version_id
    )


def list_objects(
    store: ObjectStore, config: Config, request: Request, keys: SigningKeys, *, now: int
) -> dict[str, Any]:
    query = list_query(request)
    after = None
    if query.cursor is not None:
        try:
            after = cursors.verify(
                query.cursor, prefix=query.prefix, now=now, keys=keys.candidates()
            )
        except cursors.CursorError as error:
            raise ApiError(400, "invalid_cursor", str(error)) from None
    items, truncated = store.list(prefix=query.prefix, after=after, limit=query.limit)
    next_cursor = None
    if truncated and items:
        next_cursor = cursors.issue(
            after=items[-1]["key"],
            prefix=query.prefix,
            expires=now + config.cursor_ttl_seconds,
            key=keys.current(),
        )
    return json_response(200, {"items": items, "next_cursor": next_cursor})
