"""Settings of the document processor, read from the environment on every invocation."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Config:
    """``accepted_status`` (``ACCEPTED_STATUS``): what a document that passes the checks becomes,
    ``PROCESSED``, or ``VALIDATED`` when processing steps follow. ``validator_types``
    (``VALIDATOR_TYPES``, comma-separated): content types a user validator checks; such a document
    is only checked for presence and size here and marked ``validation = PENDING``."""

    bucket: str
    table: str
    accepted_status: str = "PROCESSED"
    validator_types: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """Raises ValueError naming DOCUMENTS_BUCKET or DOCUMENTS_TABLE when one is unset."""
        env = os.environ if env is None else env
        missing = [name for name in ("DOCUMENTS_BUCKET", "DOCUMENTS_TABLE") if not env.get(name)]
        if missing:
            raise ValueError(f"environment variable(s) not set: {', '.join(missing)}")
        accepted = env.get("ACCEPTED_STATUS") or "PROCESSED"
        if accepted not in ("PROCESSED", "VALIDATED"):
            raise ValueError(f"environment variable ACCEPTED_STATUS={accepted!r}: expected PROCESSED or VALIDATED")
        types = frozenset(t.strip().lower() for t in (env.get("VALIDATOR_TYPES") or "").split(",") if t.strip())
        return cls(bucket=env["DOCUMENTS_BUCKET"], table=env["DOCUMENTS_TABLE"], accepted_status=accepted, validator_types=types)
