"""Settings of the document processor, read from the environment on every invocation."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Config:
    bucket: str
    table: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """Raises ValueError naming DOCUMENTS_BUCKET or DOCUMENTS_TABLE when one is unset."""
        env = os.environ if env is None else env
        missing = [name for name in ("DOCUMENTS_BUCKET", "DOCUMENTS_TABLE") if not env.get(name)]
        if missing:
            raise ValueError(f"environment variable(s) not set: {', '.join(missing)}")
        return cls(bucket=env["DOCUMENTS_BUCKET"], table=env["DOCUMENTS_TABLE"])
