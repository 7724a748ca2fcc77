"""Settings of the document notifier, read from the environment on every invocation."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from .transitions import announced_statuses

REQUIRED = ("STATUS_TOPIC_ARN", "STATUS_EVENT_BUS", "IDEMPOTENCY_TABLE")


@dataclass(frozen=True)
class Config:
    topic_arn: str
    event_bus: str
    idempotency_table: str
    #: User statuses announced besides the built-in ones (ANNOUNCED_STATUSES, comma-separated).
    announced: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """Raises ValueError naming STATUS_TOPIC_ARN, STATUS_EVENT_BUS or IDEMPOTENCY_TABLE when
        one is unset."""
        env = os.environ if env is None else env
        missing = [name for name in REQUIRED if not env.get(name)]
        if missing:
            raise ValueError(f"environment variable(s) not set: {', '.join(missing)}")
        return cls(
            topic_arn=env["STATUS_TOPIC_ARN"],
            event_bus=env["STATUS_EVENT_BUS"],
            idempotency_table=env["IDEMPOTENCY_TABLE"],
            announced=announced_statuses(env.get("ANNOUNCED_STATUSES")),
        )
