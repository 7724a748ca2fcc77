"""Validation of what callers send: new-document requests, file names, ids, list queries."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import bad_request, show
from .pagination import decode_token
from .states import DOCUMENT_ID, STATUSES

MAX_FILE_NAME_BYTES = 255
DEFAULT_LIST_STATUS = "PROCESSED"
DEFAULT_LIMIT = 25
MAX_LIMIT = 100

_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_LIMIT = re.compile(r"[0-9]{1,3}")
_SEPARATORS = re.compile(r"[/\\]")
_S3_FILENAME_VARIABLE = "${filename}"
#: Control, format (e.g. right-to-left override), surrogate, private-use and unassigned
#: characters, and the line/paragraph separators: none belongs in a file name.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_REQUIRED_FIELDS = ("file_name", "content_type", "size")
_LIST_PARAMETERS = ("status", "limit", "next")


@dataclass(frozen=True)
class NewDocument:
    """A validated ``POST /documents`` request."""

    file_name: str
    content_type: str
    size: int
    sha256: str | None = None


@dataclass(frozen=True)
class ListQuery:
    """A validated ``GET /documents`` query."""

    status: str
    limit: int
    start_key: dict[str, str] | None = None


def sanitise_file_name(raw: Any) -> str:
    """The base name of ``raw``, NFC-normalised and trimmed.

    Directories (``/`` or ``\\``) are stripped; unicode letters, digits, punctuation and spaces
    are kept.

    Raises
    ------
    TypeError
        For a non-string.
    ValueError
        For a ``..`` segment anywhere (path traversal), a control or invisible
        formatting character, an empty name, a name over 255 bytes in UTF-8, or one holding
        ``${filename}`` (S3 would substitute it, so the upload's key would not be the document's).
    """
    if not isinstance(raw, str):
        raise TypeError(f"file_name must be a string, not {type(raw).__name__}")
    for char in raw:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise ValueError(
                f"file_name contains a control or invisible character (U+{ord(char):04X})"
            )
    segments = _SEPARATORS.split(unicodedata.normalize("NFC", raw))
    if any(segment.strip() == ".." for segment in segments):
        raise ValueError("file_name must not contain '..' path segments")
    name = segments[-1].strip()
    if name in ("", "."):
        raise ValueError("file_name is empty once directories are stripped")
    if _S3_FILENAME_VARIABLE in name.lower():
        # In a POST upload S3 replaces ${filename} in the key with the uploader's local file name,
        # and botocore turns a key ending in it into a "starts-with" policy: the stored key would
        # never be the registered one.
        raise ValueError("file_name must not contain '${filename}' (S3 substitutes it on upload)")
    size = len(name.encode("utf-8"))
    if size > MAX_FILE_NAME_BYTES:
        raise ValueError(f"file_name is {size} bytes in UTF-8; the limit is {MAX_FILE_NAME_BYTES}")
    return name


def parse_new_document(
    payload: Mapping[str, Any], *, max_bytes: int, allowed_types: frozenset[str]
) -> NewDocument:
    """Validate a ``POST /documents`` body; every problem is reported at once.

    Raises
    ------
    ApiError
        400 ``validation_error`` whose message lists each problem, naming the field.
    """
    checks: dict[str, Callable[[Any], Any]] = {
        "file_name": sanitise_file_name,
        "content_type": lambda value: _content_type(value, allowed_types),
        "size": lambda value: _size(value, max_bytes),
        "sha256": _sha256,
    }
    problems: list[str] = []
    unknown = sorted(set(payload) - set(checks))
    if unknown:
        problems.append(f"unknown field(s) {show(unknown)}; accepted: {', '.join(checks)}")
    missing = [name for name in _REQUIRED_FIELDS if name not in payload]
    if missing:
        problems.append(f"missing field(s): {', '.join(missing)}")
    values: dict[str, Any] = {}
    for name, check in checks.items():
        if payload.get(name) is None and name not in _REQUIRED_FIELDS:
            continue
        if name in payload:
            try:
                values[name] = check(payload[name])
            except (TypeError, ValueError) as error:
                problems.append(str(error))
    if problems:
        raise bad_request("invalid request: " + "; ".join(problems))
    return NewDocument(**values)


def _content_type(value: Any, allowed: frozenset[str]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"content_type must be a string, not {type(value).__name__}")
    if ";" in value:
        raise ValueError(
            "content_type must be a bare media type such as 'application/pdf', without parameters"
        )
    media_type = value.strip().lower()
    if media_type not in allowed:
        raise ValueError(
            f"content_type {show(value)} is not accepted; accepted: {', '.join(sorted(allowed))}"
        )
    return media_type


def _size(value: Any, max_bytes: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"size must be an integer number of bytes, not {type(value).__name__}")
    if not 1 <= value <= max_bytes:
        raise ValueError(f"size must be between 1 and {max_bytes} bytes, not {value}")
    return value


def _sha256(value: Any) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise ValueError(
            "sha256 must be 64 hexadecimal characters (the SHA-256 digest of the document)"
        )
    return value.lower()


def parse_document_id(raw: Any) -> str:
    """Raises ApiError 400 ``invalid_document_id`` unless ``raw`` is a 32-digit lowercase hex id."""
    if not isinstance(raw, str) or not DOCUMENT_ID.fullmatch(raw):
        raise bad_request(
            "a document id is 32 lowercase hexadecimal characters", "invalid_document_id"
        )
    return raw


def parse_list_query(params: Mapping[str, list[str]]) -> ListQuery:
    """Validate ``?status=&limit=&next=``.

    ``status`` defaults to ``PROCESSED`` (the documents that can be downloaded) and is echoed in
    the answer; ``limit`` is 1..100 (default 25); ``next`` is the token of the previous page,
    valid only for the same status.

    Raises
    ------
    ApiError
        400 ``invalid_query`` for unknown or repeated parameters and bad values, 400
        ``invalid_token`` for a ``next`` token this API did not issue for this status.
    """
    unknown = sorted(set(params) - set(_LIST_PARAMETERS))
    if unknown:
        raise bad_request(
            f"unknown query parameter(s) {show(unknown)}; accepted: {', '.join(_LIST_PARAMETERS)}",
            "invalid_query",
        )
    for name, values in params.items():
        if len(values) > 1:
            raise bad_request(f"query parameter {name} is given more than once", "invalid_query")
    status = params.get("status", [DEFAULT_LIST_STATUS])[0].upper()
    if status not in STATUSES:
        raise bad_request(f"status must be one of {', '.join(STATUSES)}", "invalid_query")
    raw_limit = params.get("limit", [str(DEFAULT_LIMIT)])[0]
    if not _LIMIT.fullmatch(raw_limit) or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise bad_request(f"limit must be an integer from 1 to {MAX_LIMIT}", "invalid_query")
    token = params.get("next", [None])[0]
    start_key = decode_token(token, status) if token is not None else None
    return ListQuery(status=status, limit=int(raw_limit), start_key=start_key)
