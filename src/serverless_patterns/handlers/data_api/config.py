"""Settings of the data API, read from the function's environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

#: The largest object the API accepts and returns. Lambda takes at most 6 MB per synchronous
#: request and response, and binary bodies travel base64-encoded (4/3 of their size), so 4 MiB is
#: the most that fits with room for headers; larger objects belong in presigned S3 transfers.
MAX_OBJECT_BYTES_LIMIT = 4 * 1024 * 1024
DEFAULT_MAX_OBJECT_BYTES = 1024 * 1024

_KEY_PREFIX = re.compile(r"^(?:[A-Za-z0-9._-]+/)+$")


@dataclass(frozen=True)
class Config:
    """What the stack wires into the function's environment.

    Raises
    ------
    ValueError
        From :meth:`from_env`, naming the variable, when one is missing or out of range: a
        deployment error, answered with a 500 and logged.
    """

    bucket: str
    secret_arn: str
    key_prefix: str = "data/"
    max_object_bytes: int = DEFAULT_MAX_OBJECT_BYTES
    secret_cache_seconds: int = 300
    cursor_ttl_seconds: int = 3600

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        prefix = env.get("KEY_PREFIX") or "data/"
        if not _KEY_PREFIX.fullmatch(prefix) or ".." in prefix.split("/"):
            raise ValueError(
                f"environment variable KEY_PREFIX={prefix!r} must be segments ending in '/', e.g. 'data/'"
            )
        return cls(
            bucket=_required(env, "BUCKET_NAME"),
            secret_arn=_required(env, "CURSOR_KEY_ARN"),
            key_prefix=prefix,
            max_object_bytes=_integer(
                env, "MAX_OBJECT_BYTES", DEFAULT_MAX_OBJECT_BYTES, 1, MAX_OBJECT_BYTES_LIMIT
            ),
            secret_cache_seconds=_integer(env, "SECRET_CACHE_SECONDS", 300, 0, 3600),
            cursor_ttl_seconds=_integer(env, "CURSOR_TTL_SECONDS", 3600, 60, 86400),
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
