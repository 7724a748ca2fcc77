"""Reading the API key from the request headers, and the digest the table is keyed by.

Pure functions only. The key itself never leaves this module except as its SHA-256 digest.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

#: The header API Gateway reads API keys from (``apiKeySource: HEADER``); matched case-insensitively.
API_KEY_HEADER = "x-api-key"
#: Longer header values are rejected before any other check.
MAX_HEADER_LENGTH = 512
#: API Gateway API key values are alphanumeric strings of 20 to 128 characters.
API_KEY_PATTERN = re.compile(r"[A-Za-z0-9]{20,128}")
#: Characters of the digest that logs may carry: enough to correlate, useless to an attacker.
DIGEST_PREFIX_LENGTH = 8


class KeyRejected(Exception):
    """The request carries no usable API key.

    ``missing`` is True when there is no key at all (no header, or an empty one), False when the
    header is there but cannot be an API Gateway key. ``detail`` never contains the header value.
    """

    def __init__(self, detail: str, *, missing: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        self.missing = missing


def api_key_digest(api_key: str) -> str:
    """SHA-256 hex digest of an API key: the permissions table's partition key.

    Examples
    --------
    >>> api_key_digest("a" * 40)[:16]
    'e33cdf9c7f7120b9'
    """
    return hashlib.sha256(api_key.encode("ascii")).hexdigest()


def digest_prefix(digest: str) -> str:
    """The part of a digest that may appear in logs."""
    return digest[:DIGEST_PREFIX_LENGTH]


def extract_api_key(headers: object) -> str:
    """Return the ``x-api-key`` header value of a REQUEST authorizer event's ``headers``.

    Raises
    ------
    KeyRejected
        When the header is absent, empty, given twice with different spellings, longer than
        :data:`MAX_HEADER_LENGTH`, not ASCII, or not an API Gateway key value.
    """
    if headers is None:
        raise KeyRejected("no headers", missing=True)
    if not isinstance(headers, Mapping):
        raise KeyRejected("headers is not an object", missing=False)
    values = [value for name, value in headers.items() if isinstance(name, str) and name.lower() == API_KEY_HEADER]
    if not values:
        raise KeyRejected(f"no {API_KEY_HEADER} header", missing=True)
    if len(values) > 1:
        raise KeyRejected(f"{len(values)} {API_KEY_HEADER} headers", missing=False)
    (value,) = values
    if value is None or value == "":
        raise KeyRejected(f"empty {API_KEY_HEADER} header", missing=True)
    if not isinstance(value, str):
        raise KeyRejected(f"{API_KEY_HEADER} header is not a string", missing=False)
    if len(value) > MAX_HEADER_LENGTH:
        raise KeyRejected(f"{API_KEY_HEADER} header longer than {MAX_HEADER_LENGTH} characters", missing=False)
    if not value.isascii():
        raise KeyRejected(f"{API_KEY_HEADER} header is not ASCII", missing=False)
    if not API_KEY_PATTERN.fullmatch(value):
        raise KeyRejected(
            f"{API_KEY_HEADER} header of {len(value)} characters is not an API Gateway key value", missing=False
        )
    return value
