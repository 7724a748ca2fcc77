"""Opaque ``next`` tokens for ``GET /documents``: the GSI's LastEvaluatedKey, base64url JSON.

The token is not signed; it is checked strictly instead, so a forged token can at most start a
page elsewhere in the same status, which the caller may list anyway.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping

from .errors import bad_request
from .states import DOCUMENT_ID

MAX_TOKEN_CHARS = 1024
_KEY_FIELDS = ("created_at", "document_id", "status")
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")


def encode_token(last_key: Mapping[str, str]) -> str:
    """The ``next`` token for a LastEvaluatedKey of the ``by-status`` index."""
    raw = json.dumps(
        {name: last_key[name] for name in _KEY_FIELDS}, separators=(",", ":"), sort_keys=True
    )
    return base64.urlsafe_b64encode(raw.encode("utf-8")).rstrip(b"=").decode("ascii")


def decode_token(token: str, status: str) -> dict[str, str]:
    """The ExclusiveStartKey in ``token``.

    Raises
    ------
    ApiError
        400 ``invalid_token`` unless ``token`` is one this API issued for a ``status`` query.
    """
    invalid = bad_request(
        "the next token is invalid; pass back the one the previous page returned", "invalid_token"
    )
    if not token or len(token) > MAX_TOKEN_CHARS or not _TOKEN.fullmatch(token):
        raise invalid
    try:
        key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        raise invalid from None
    if (
        not isinstance(key, dict)
        or sorted(key) != list(_KEY_FIELDS)
        or not all(isinstance(value, str) for value in key.values())
        or not DOCUMENT_ID.fullmatch(key["document_id"])
        or not _TIMESTAMP.fullmatch(key["created_at"])
    ):
        raise invalid
    if key["status"] != status:
        raise bad_request(
            f"the next token belongs to a listing of {key['status']}, not {status}", "invalid_token"
        )
    return key
