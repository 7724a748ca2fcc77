"""Settings of the document processor, read from the environment on every invocation."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

#: Set to ``true`` when the pipeline has no API: the processor registers each upload itself.
REGISTER_UPLOADS = "REGISTER_UPLOADS"


@dataclass(frozen=True)
class Registration:
    """What a direct upload must be to be accepted (``REGISTER_UPLOADS=true`` only)."""

    allowed_content_types: frozenset[str]
    max_document_bytes: int


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
    #: Register documents uploaded straight to the bucket (no API registered them). Default: None.
    registration: Registration | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """Raises ValueError naming the variable when a required one is unset or invalid.

        DOCUMENTS_BUCKET and DOCUMENTS_TABLE always; with ``REGISTER_UPLOADS=true`` also
        ALLOWED_CONTENT_TYPES (comma-separated) and MAX_DOCUMENT_BYTES (a positive integer).
        """
        env = os.environ if env is None else env
        required = ["DOCUMENTS_BUCKET", "DOCUMENTS_TABLE"]
        register = (env.get(REGISTER_UPLOADS) or "").lower() == "true"
        if register:
            required += ["ALLOWED_CONTENT_TYPES", "MAX_DOCUMENT_BYTES"]
        missing = [name for name in required if not env.get(name)]
        if missing:
            raise ValueError(f"environment variable(s) not set: {', '.join(missing)}")
        accepted = env.get("ACCEPTED_STATUS") or "PROCESSED"
        if accepted not in ("PROCESSED", "VALIDATED"):
            raise ValueError(f"environment variable ACCEPTED_STATUS={accepted!r}: expected PROCESSED or VALIDATED")
        validator_types = frozenset(t.strip().lower() for t in (env.get("VALIDATOR_TYPES") or "").split(",") if t.strip())
        registration = None
        if register:
            limit = env["MAX_DOCUMENT_BYTES"]
            if not limit.isdigit() or int(limit) < 1:
                raise ValueError(f"MAX_DOCUMENT_BYTES must be a positive integer, got {limit!r}")
            types = frozenset(t.strip().lower() for t in env["ALLOWED_CONTENT_TYPES"].split(",") if t.strip())
            registration = Registration(allowed_content_types=types, max_document_bytes=int(limit))
        return cls(
            bucket=env["DOCUMENTS_BUCKET"],
            table=env["DOCUMENTS_TABLE"],
            accepted_status=accepted,
            validator_types=validator_types,
            registration=registration,
        )
