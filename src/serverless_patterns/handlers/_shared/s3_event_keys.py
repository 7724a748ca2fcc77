"""How S3 writes object keys into its events, and the one rule every handler decodes them with.

Amazon S3 URL-encodes the object key in the events it sends, with ``+`` for a space
(``red flower.jpg`` becomes ``red+flower.jpg``, a literal ``+`` becomes ``%2B``): in classic event
notifications (Amazon S3 user guide, "Event message structure") and in the ``Object Created``
events it sends to EventBridge (``detail.object.key``; Powertools'
``S3EventBridgeNotificationEvent`` decodes it with ``unquote_plus`` too). Both shapes are decoded
with :func:`decode_key`, so one event names one object, whichever handler reads it.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_plus

#: S3 keys are at most 1024 bytes of UTF-8.
MAX_KEY_BYTES = 1024

#: A ``%`` that does not start a two-digit hexadecimal escape (``%ZZ``, ``100%``, ``a%4``).
_BROKEN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


class MalformedKey(ValueError):
    """The event's key is not a URL-encoded S3 key; the message says why (and quotes at most 100 characters)."""


def decode_key(raw: Any) -> str:
    """The object key of an S3 event: URL-decoded (``+`` is a space), strict UTF-8, 1-1024 bytes.

    Raises
    ------
    MalformedKey
        For a non-string or empty key, a broken ``%`` escape, escapes that are not UTF-8, a lone
        surrogate, or a key over :data:`MAX_KEY_BYTES` bytes once decoded.
    """
    if not isinstance(raw, str) or not raw:
        raise MalformedKey(f"object key {_show(raw)} is not a non-empty string")
    if _BROKEN_ESCAPE.search(raw):
        raise MalformedKey(f"object key {_show(raw)} has a '%' that starts no escape")
    try:
        key = unquote_plus(raw, errors="strict")
        size = len(key.encode("utf-8"))
    except UnicodeError:
        raise MalformedKey(f"object key {_show(raw)} is not URL-encoded UTF-8") from None
    if not 0 < size <= MAX_KEY_BYTES:
        raise MalformedKey(f"object key {_show(raw)} must decode to 1-{MAX_KEY_BYTES} bytes of UTF-8")
    return key


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."
