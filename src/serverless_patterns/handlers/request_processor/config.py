"""Settings of the request processor, read from the environment on every invocation."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_RESULT_PREFIX = "results/"
_PREFIX = re.compile(r"([A-Za-z0-9._-]+/)+")
_BASE_URL = re.compile(r"https://[A-Za-z0-9.-]+")


@dataclass(frozen=True)
class Config:
    """What the app wires into the function's environment.

    Raises
    ------
    ValueError
        From :meth:`from_env`, naming the variable, when a required one is missing or a value is
        malformed: a deployment error, which fails the invocation (and raises the errors alarm).
    """

    table: str
    bucket: str
    result_prefix: str = DEFAULT_RESULT_PREFIX
    result_base_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        prefix = env.get("RESULT_PREFIX") or DEFAULT_RESULT_PREFIX
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"environment variable RESULT_PREFIX={prefix!r} must be path segments ending in '/'")
        base_url = env.get("RESULT_BASE_URL") or None
        if base_url is not None and not _BASE_URL.fullmatch(base_url):
            raise ValueError(f"environment variable RESULT_BASE_URL={base_url!r} must be https://<host>")
        return cls(
            table=_required(env, "TABLE_NAME"),
            bucket=_required(env, "BUCKET_NAME"),
            result_prefix=prefix,
            result_base_url=base_url,
        )


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name)
    if not value:
        raise ValueError(f"environment variable {name} is not set")
    return value
