"""Format detection and checking from the head of a document (at most 64 KiB) and its size.

What can be checked without reading more than the head:

- Every format: the object's size equals the declared size (a truncated or padded upload is
  rejected), the object is not empty, and the magic number matches the declared type.
- PDF: the ``%PDF-x.y`` header. The ``%%EOF`` trailer is at the end of the file, so it is
  checked only when the whole file fits in the head.
- PNG: the IHDR chunk (length, CRC, dimensions, bit depth/colour type); ``IEND`` when whole.
- JPEG: the marker segments up to the start of scan; the end-of-image marker when whole.
- GIF: the logical screen descriptor; the ``;`` trailer when whole.
- TIFF (classic and BigTIFF): the first IFD lies inside the file, is not empty and ends inside
  the file, when the head reaches it.
- Office documents (docx/xlsx/pptx): a ZIP whose entries in the head include
  ``[Content_Types].xml`` and a ``word/``, ``xl/`` or ``ppt/`` part; the end-of-central-directory
  record when whole. A package that stores large parts before these entries is not
  recognisable from its head and is rejected.
- Text (text/plain, text/csv, application/json): UTF-8 (a BOM is allowed) without control
  characters other than tab, line breaks, vertical tab and form feed; a multibyte character cut
  by the 64 KiB boundary is tolerated. CSV rows in the head have the same number of fields;
  JSON parses when whole, and when larger than the head it starts with ``{``, ``[`` or ``"``.
- A declared SHA-256 is verified here when the whole file fits in the head (S3 verifies it at
  upload in every case).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

HEAD_BYTES = 64 * 1024
#: Deepest nesting of arrays and objects a JSON document may have. Checked before parsing, so the
#: verdict does not depend on the interpreter's recursion limits (3.11 fails near 1000 levels,
#: 3.13 parses far deeper).
MAX_JSON_DEPTH = 500

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
TIFF = "image/tiff"
ZIP = "application/zip"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
TEXT = "text/plain"
CSV = "text/csv"
JSON = "application/json"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_ZIP_ENTRY = b"PK\x03\x04"
_ZIP_END = b"PK\x05\x06"
_OFFICE_PARTS = (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX))
_OFFICE_TYPES = frozenset({DOCX, XLSX, PPTX})
_BOM = codecs.BOM_UTF8
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


@dataclass(frozen=True)
class Verdict:
    """``accepted``, the type the content was found to be, and why it was rejected."""

    accepted: bool
    detected_type: str | None
    reason: str | None = None


def detect(head: bytes, complete: bool) -> str | None:
    """The media type the bytes say they are: magic numbers first, then UTF-8 text.

    ``complete`` tells whether ``head`` is the whole file (it decides whether a multibyte
    character cut at the end is an error). Text of any kind is reported as ``text/plain``;
    ``None`` means binary content of no known format.
    """
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(_PNG_SIGNATURE):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] in _TIFF_MAGIC:
        return TIFF
    if head.startswith(_ZIP_ENTRY):
        names = zip_entry_names(head)
        if "[Content_Types].xml" in names:
            for prefix, media_type in _OFFICE_PARTS:
                if any(name.startswith(prefix) for name in names):
                    return media_type
        return ZIP
    return TEXT if decode_text(head, complete) is not None else None


def check(
    *,
    declared_type: str,
    declared_size: int,
    head: bytes,
    total_size: int,
    declared_sha256: str | None = None,
) -> Verdict:
    """Whether the object (``total_size`` bytes, starting with ``head``) is what was declared."""
    head = head[:total_size]
    complete = len(head) >= total_size
    if total_size == 0:
        return Verdict(False, None, "the object is empty")
    detected = detect(head, complete)
    if total_size != declared_size:
        return Verdict(
            False,
            detected,
            f"size mismatch: declared {declared_size} bytes, the object has {total_size}",
        )
    if declared_type in _TEXT_CHECKS:
        if detected != TEXT:  # a magic number wins over text that happens to decode
            return Verdict(
                False,
                detected,
                f"declared {declared_type} but the content is {detected or 'not UTF-8 text'}",
            )
        problem = _TEXT_CHECKS[declared_type](decode_text(head, complete) or "", complete)
        detected = declared_type if problem is None else detected
    elif detected is None:
        return Verdict(
            False, None, f"declared {declared_type} but the content matches no known format"
        )
    elif detected != declared_type:
        reason = f"declared {declared_type} but the content is {detected}"
        if detected == ZIP and declared_type in _OFFICE_TYPES:
            reason += (
                " (no [Content_Types].xml and matching part among the entries in its first 64 KiB)"
            )
        return Verdict(False, detected, reason)
    elif detected in _STRUCTURE_CHECKS:
        problem = _STRUCTURE_CHECKS[detected](head, total_size)
    else:
        return Verdict(False, detected, f"{detected} is not a format this processor can check")
    if problem is not None:
        return Verdict(False, detected, problem)
    if declared_sha256 and complete and hashlib.sha256(head).hexdigest() != declared_sha256:
        return Verdict(
            False, detected, "checksum mismatch: the content's SHA-256 is not the declared one"
        )
    return Verdict(True, detected)


def decode_text(head: bytes, complete: bool) -> str | None:
    """The head as UTF-8 text, or None when it is not text (invalid UTF-8, control bytes)."""
    data = head.removeprefix(_BOM)
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(data, final=complete)
    except UnicodeDecodeError:
        return None
    return None if _CONTROL.search(text) else text


def zip_entry_names(head: bytes) -> set[str]:
    """Names of the ZIP entries whose local headers lie in ``head``.

    The head is scanned for local-header signatures rather than walked entry by entry, because
    entries written with a data descriptor do not record their size in the local header.
    """
    names = set()
    position = head.find(_ZIP_ENTRY)
    while position != -1 and position + 30 <= len(head):
        length = int.from_bytes(head[position + 26 : position + 28], "little")
        end = position + 30 + length
        if length and end <= len(head):
            names.add(head[position + 30 : end].decode("utf-8", "replace"))
        position = head.find(_ZIP_ENTRY, position + 4)
    return names


def content_range_total(
    content_range: str | None, content_length: int | None, received: int
) -> int:
    """The object's size from a ranged GET's ``Content-Range: bytes a-b/total``."""
    match = re.fullmatch(r"bytes \d+-\d+/(\d+)", content_range or "")
    if match:
        return int(match.group(1))
    return content_length if content_length is not None else received


# ---- text -------------------------------------------------------------------------------------


def _plain(text: str, complete: bool) -> str | None:
    return None


def _csv(text: str, complete: bool) -> str | None:
    if not complete:
        text = text[: text.rfind("\n") + 1]  # whole lines only
        if not text:
            return None  # a first line longer than the head: nothing checkable
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    widths: list[tuple[int, int]] = []
    try:
        for row in reader:
            if row:
                widths.append((reader.line_num, len(row)))
    except csv.Error as error:
        # A quoted field that spans the cut at the end of the head is not an error.
        if complete or "unexpected end of data" not in str(error):
            return f"invalid CSV at line {reader.line_num}: {error}"
    if not widths:
        return "the CSV has no rows"
    expected = widths[0][1]
    for line, width in widths:
        if width != expected:
            return f"inconsistent CSV: line {line} has {width} fields, the first row has {expected}"
    return None


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def _json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text`` (brackets inside strings ignored)."""
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _json(text: str, complete: bool) -> str | None:
    if complete:
        if _json_depth(text) > MAX_JSON_DEPTH:
            return f"invalid JSON: nested deeper than {MAX_JSON_DEPTH} levels"
        try:
            json.loads(text)
        except json.JSONDecodeError as error:
            return f"invalid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        except (ValueError, RecursionError):
            return "invalid JSON: nested too deeply or a number too long"
        return None
    if text.lstrip()[:1] not in ("{", "[", '"'):
        return "JSON larger than 64 KiB must start with an object, an array or a string"
    return None


_TEXT_CHECKS: dict[str, Callable[[str, bool], str | None]] = {TEXT: _plain, CSV: _csv, JSON: _json}


# ---- binary formats ---------------------------------------------------------------------------


def _pdf(head: bytes, total_size: int) -> str | None:
    if not re.match(rb"%PDF-\d\.\d", head):
        return "malformed PDF header: expected %PDF-<major>.<minor>"
    if len(head) >= total_size and b"%%EOF" not in head[-1024:]:
        return "truncated PDF: no %%EOF marker in its last 1024 bytes"
    return None


def _png(head: bytes, total_size: int) -> str | None:
    if len(head) < 33:
        return "truncated PNG: the IHDR chunk is incomplete"
    length, chunk_type = struct.unpack(">I4s", head[8:16])
    if length != 13 or chunk_type != b"IHDR":
        return "malformed PNG: the first chunk is not a 13-byte IHDR"
    if zlib.crc32(head[12:29]) != int.from_bytes(head[29:33], "big"):
        return "corrupt PNG: the IHDR chunk fails its CRC"
    width, height, depth, colour = struct.unpack(">IIBB", head[16:26])
    if not (0 < width < 2**31 and 0 < height < 2**31):
        return f"malformed PNG: invalid dimensions {width}x{height}"
    if depth not in _PNG_DEPTHS.get(colour, ()):
        return f"malformed PNG: bit depth {depth} is invalid for colour type {colour}"
    if len(head) >= total_size and not head.endswith(_PNG_IEND):
        return "truncated PNG: it does not end with an IEND chunk"
    return None


def _jpeg(head: bytes, total_size: int) -> str | None:
    complete = len(head) >= total_size
    truncated = "truncated JPEG: it ends before its image data" if complete else None
    position = 2
    while True:
        if position + 2 > len(head):
            return truncated
        if head[position] != 0xFF:
            return f"corrupt JPEG: no marker at offset {position}"
        marker = head[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _JPEG_STANDALONE:
            position += 2
            continue
        if marker == 0xD9:
            return "malformed JPEG: end of image before any image data"
        if position + 4 > len(head):
            return truncated
        length = int.from_bytes(head[position + 2 : position + 4], "big")
        if length < 2:
            return f"corrupt JPEG: segment length {length} at offset {position}"
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            if complete and b"\xff\xd9" not in head[position + 2 + length :]:
                return "truncated JPEG: no end-of-image marker"
            return None
        position += 2 + length


def _gif(head: bytes, total_size: int) -> str | None:
    if len(head) < 13:
        return "truncated GIF: the logical screen descriptor is incomplete"
    if len(head) >= total_size and not head.endswith(b";"):
        return "truncated GIF: it does not end with the trailer byte 0x3B"
    return None


def _tiff(head: bytes, total_size: int) -> str | None:
    order = "<" if head[:2] == b"II" else ">"
    big = head[2:4] in (b"+\x00", b"\x00+")
    header_size, count_size, entry_size, next_size = (16, 8, 20, 8) if big else (8, 2, 12, 4)
    if len(head) < header_size:
        return "truncated TIFF: the header is incomplete"
    offset = (
        struct.unpack(order + "Q", head[8:16])[0]
        if big
        else struct.unpack(order + "I", head[4:8])[0]
    )
    if not header_size <= offset < total_size:
        return f"malformed TIFF: the first IFD offset {offset} lies outside the file"
    if offset + count_size <= len(head):
        count = int.from_bytes(
            head[offset : offset + count_size], "little" if order == "<" else "big"
        )
        if count == 0:
            return "malformed TIFF: the first IFD is empty"
        if offset + count_size + count * entry_size + next_size > total_size:
            return "truncated TIFF: the first IFD runs past the end of the file"
    return None


def _office(head: bytes, total_size: int) -> str | None:
    if len(head) >= total_size and _ZIP_END not in head[-(22 + 65535) :]:
        return "truncated ZIP package: no end-of-central-directory record"
    return None


_STRUCTURE_CHECKS: dict[str, Callable[[bytes, int], str | None]] = {
    PDF: _pdf,
    PNG: _png,
    JPEG: _jpeg,
    GIF: _gif,
    TIFF: _tiff,
    DOCX: _office,
    XLSX: _office,
    PPTX: _office,
}
