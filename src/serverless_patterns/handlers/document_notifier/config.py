"""Settings of the document notifier, read from the environment on every invocation."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Config:
    topic_arn: str
    idempotency_table: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """Raises ValueError naming STATUS_TOPIC_ARN or IDEMPOTENCY_TABLE when one is unset."""
        env = os.environ if env is None else env
        missing = [name for name in ("STATUS_TOPIC_ARN", "IDEMPOTENCY_TABLE") if not env.get(name)]
        if missing:
            raise ValueError(f"environment variable(s) not set: {', '.join(missing)}")
        return cls(topic_arn=env["STATUS_TOPIC_ARN"], idempotency_table=env["IDEMPOTENCY_TABLE"])
