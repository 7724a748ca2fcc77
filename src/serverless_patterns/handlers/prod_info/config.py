"""Settings of the info function, read from the environment on every invocation."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_LOG_PREFIX = "requests/"
_PREFIX = re.compile(r"([A-Za-z0-9._-]+/)+")


@dataclass(frozen=True)
class Config:
    """What the app wires into the function's environment.

    Raises
    ------
    ValueError
        From :meth:`from_env`, naming the variable, when a required one is missing or malformed:
        a deployment error, which fails the invocation (and raises the errors alarm).
    """

    environment: str
    version: str
    log_bucket: str
    log_prefix: str = DEFAULT_LOG_PREFIX

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        prefix = env.get("LOG_PREFIX") or DEFAULT_LOG_PREFIX
        if not _PREFIX.fullmatch(prefix) or len(prefix) > 128:
            raise ValueError(f"environment variable LOG_PREFIX={prefix!r} must be path segments ending in '/'")
        return cls(
            environment=_required(env, "ENVIRONMENT_NAME"),
            version=_required(env, "APP_VERSION"),
            log_bucket=_required(env, "LOG_BUCKET"),
            log_prefix=prefix,
        )


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name)
    if not value:
        raise ValueError(f"environment variable {name} is not set")
    return value
