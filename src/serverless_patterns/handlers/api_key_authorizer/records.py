"""The permissions table item, as written by the ``clients`` command and read by the authorizer.

One item per issued API key, keyed by the SHA-256 hex digest of the key (``key_digest``); the key
itself is never stored. Attributes (all strings): ``key_digest``, ``client_id``, ``level``
(one of :data:`~.routes.LEVELS`), ``status`` (``active`` or ``revoked``), ``api_key_id`` (the
API Gateway key id), ``created_at`` and, once revoked, ``revoked_at`` (ISO 8601, UTC).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .routes import LEVELS

PARTITION_KEY = "key_digest"
ACTIVE = "active"
REVOKED = "revoked"
STATUSES = (ACTIVE, REVOKED)
#: Client names: they become the policy's principalId and the API Gateway key's name.
CLIENT_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}")


@dataclass(frozen=True)
class PermissionRecord:
    """The authorizer's view of a permissions table item."""

    client_id: str
    level: str
    status: str


def parse_record(item: Mapping[str, Any]) -> PermissionRecord:
    """Validate a table item; raises ValueError naming the bad attribute."""
    client_id, level, status = item.get("client_id"), item.get("level"), item.get("status")
    if not isinstance(client_id, str) or not CLIENT_ID_PATTERN.fullmatch(client_id):
        raise ValueError("client_id is missing or malformed")
    if level not in LEVELS:
        raise ValueError(f"level {level!r} is not one of {list(LEVELS)}")
    if status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of {list(STATUSES)}")
    return PermissionRecord(client_id=client_id, level=level, status=status)
