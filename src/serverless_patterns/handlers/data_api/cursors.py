"""Continuation tokens of the listing: signed, so clients cannot forge or alter them.

A token carries the last key of a page, the listing's prefix and an expiry, signed with
HMAC-SHA256 under the value of the API's secret. A token signed under the previous value of the
secret is still accepted after a rotation (the caller passes both keys), so a rotation does not break
a listing in progress. Pure functions: no clock, no AWS.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterable

#: S3 keys are at most 1024 bytes. A listing also returns objects written to the bucket directly,
#: whose keys the API would not accept, so a cursor may continue after any key.
MAX_S3_KEY_CHARS = 1024


class CursorError(ValueError):
    """The token is not one this API issued, was altered, belongs to another listing or expired."""


def issue(*, after: str, prefix: str, expires: int, key: bytes) -> str:
    """A token to continue a listing of ``prefix`` after the key ``after``, valid until ``expires``."""
    payload = _b64(
        json.dumps(
            {"a": after, "p": prefix, "e": expires}, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")
    )
    return f"{payload}.{_b64(_mac(key, payload))}"


def verify(token: str, *, prefix: str, now: int, keys: Iterable[bytes]) -> str:
    """The key to continue after, if ``token`` is genuine, for ``prefix`` and not expired.

    ``keys`` are tried in order (the secret's current value, then its previous one) and may be a
    lazy iterable: the previous value is fetched only when the current one does not match.

    Raises
    ------
    CursorError
        With a message safe to show the caller.
    """
    payload, dot, signature = token.partition(".")
    if not token.isascii() or not dot or not payload or not signature:
        raise CursorError("the cursor is not one this API issued")
    try:
        mac = _unb64(signature)
    except ValueError:
        raise CursorError("the cursor is not one this API issued") from None
    if not any(hmac.compare_digest(mac, _mac(key, payload)) for key in keys):
        raise CursorError("the cursor is not one this API issued, or was altered")
    try:
        fields = json.loads(_unb64(payload))
    except (ValueError, UnicodeDecodeError):  # cannot happen for a token we signed
        raise CursorError("the cursor is not one this API issued") from None
    if not isinstance(fields, dict):
        raise CursorError("the cursor is not one this API issued")
    after, cursor_prefix, expires = fields.get("a"), fields.get("p"), fields.get("e")
    if not (
        isinstance(after, str)
        and 0 < len(after) <= MAX_S3_KEY_CHARS
        and isinstance(cursor_prefix, str)
        and isinstance(expires, int)
    ):
        raise CursorError("the cursor is not one this API issued")
    if cursor_prefix != prefix:
        raise CursorError("the cursor belongs to a listing with another prefix")
    if expires < now:
        raise CursorError("the cursor has expired; start the listing again")
    return after


def _mac(key: bytes, payload: str) -> bytes:
    return hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None
