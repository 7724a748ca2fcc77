"""Settings of the documents API, read from the environment on every invocation."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_ALLOWED_CONTENT_TYPES = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/tiff",
    "text/plain",
    "text/csv",
    "application/json",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
)
DEFAULT_MAX_DOCUMENT_BYTES = 100 * 1024 * 1024
#: S3 refuses presigned URLs valid for longer than seven days.
MAX_URL_EXPIRY_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Config:
    """What the construct wires into the function's environment.

    Raises
    ------
    ValueError
        From :meth:`from_env`, naming the variable, when a required one is missing or a value
        is out of range: a deployment error, answered with a 500 and logged.
    """

    bucket: str
    table: str
    status_index: str = "by-status"
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
    allowed_content_types: frozenset[str] = frozenset(DEFAULT_ALLOWED_CONTENT_TYPES)
    upload_url_expiry_seconds: int = 900
    download_url_expiry_seconds: int = 300

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        types = env.get("ALLOWED_CONTENT_TYPES") or ",".join(DEFAULT_ALLOWED_CONTENT_TYPES)
        allowed = frozenset(t.strip().lower() for t in types.split(",") if t.strip())
        if not allowed:
            raise ValueError("ALLOWED_CONTENT_TYPES lists no content type")
        return cls(
            bucket=_required(env, "DOCUMENTS_BUCKET"),
            table=_required(env, "DOCUMENTS_TABLE"),
            status_index=env.get("STATUS_INDEX") or "by-status",
            max_document_bytes=_integer(
                env, "MAX_DOCUMENT_BYTES", DEFAULT_MAX_DOCUMENT_BYTES, 1, 5 * 1024**4
            ),
            allowed_content_types=allowed,
            upload_url_expiry_seconds=_integer(
                env, "UPLOAD_URL_EXPIRY_SECONDS", 900, 1, MAX_URL_EXPIRY_SECONDS
            ),
            download_url_expiry_seconds=_integer(
                env, "DOWNLOAD_URL_EXPIRY_SECONDS", 300, 1, MAX_URL_EXPIRY_SECONDS
            ),
        )


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name)
    if not value:
        raise ValueError(f"environment variable {name} is not set")
    return value


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"environment variable {name}={raw!r} is not an integer") from None
    if not low <= value <= high:
        raise ValueError(f"environment variable {name}={value} is outside {low}..{high}")
    return value
