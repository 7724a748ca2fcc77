"""Document processor, format checks: real minimal files, truncations, mismatches, properties."""

from __future__ import annotations

import hashlib
import struct
import zlib

import document_samples as samples
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serverless_patterns.handlers.document_processor.formats import (
    CSV,
    DOCX,
    GIF,
    HEAD_BYTES,
    JPEG,
    JSON,
    PDF,
    PNG,
    PPTX,
    TEXT,
    TIFF,
    XLSX,
    ZIP,
    Verdict,
    check,
    content_range_total,
    detect,
)


def verdict(
    declared_type: str, data: bytes, *, declared_size: int | None = None, sha256: str | None = None
) -> Verdict:
    """Check ``data`` as the processor sees it: at most the first 64 KiB, plus the real size."""
    return check(
        declared_type=declared_type,
        declared_size=len(data) if declared_size is None else declared_size,
        head=data[:HEAD_BYTES],
        total_size=len(data),
        declared_sha256=sha256,
    )


VALID = [
    (PDF, samples.pdf()),
    (PNG, samples.png(3, 2)),
    (JPEG, samples.jpeg()),
    (GIF, samples.gif()),
    (TIFF, samples.tiff()),
    (TIFF, samples.tiff(big_endian=True)),
    (DOCX, samples.office("word/document.xml")),
    (XLSX, samples.office("xl/workbook.xml")),
    (PPTX, samples.office("ppt/presentation.xml")),
    (TEXT, samples.TEXT),
    (CSV, samples.CSV),
    (JSON, samples.JSON),
]


@pytest.mark.parametrize(
    ("media_type", "data"), VALID, ids=[f"{t}-{i}" for i, (t, _) in enumerate(VALID)]
)
def test_minimal_valid_documents_are_accepted_as_declared(media_type, data):
    assert verdict(media_type, data) == Verdict(True, media_type)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (samples.pdf(), PDF),
        (samples.png(), PNG),
        (samples.jpeg(), JPEG),
        (samples.gif(), GIF),
        (samples.tiff(), TIFF),
        (samples.office("word/document.xml"), DOCX),
        (samples.office("xl/workbook.xml"), XLSX),
        (samples.office("ppt/slides/slide1.xml"), PPTX),
        (samples.plain_zip(), ZIP),
        (samples.CSV, TEXT),
        (samples.JSON, TEXT),
        (b"\xef\xbb\xbfwith a byte order mark", TEXT),
        (b"\x00\x01\x02binary", None),
        (b"\xc3\x28 invalid UTF-8", None),
    ],
)
def test_detection_reads_magic_numbers_then_text(data, expected):
    assert detect(data, complete=True) == expected


def test_the_declared_size_must_be_the_object_size():
    data = samples.pdf()
    truncated = verdict(PDF, data[:-10], declared_size=len(data))
    padded = verdict(PDF, data + b"\n" * 10, declared_size=len(data))
    assert (
        not truncated.accepted
        and truncated.reason
        == f"size mismatch: declared {len(data)} bytes, the object has {len(data) - 10}"
    )
    assert not padded.accepted and padded.reason.startswith("size mismatch")
    assert truncated.detected_type == PDF


def test_an_empty_object_is_rejected():
    assert verdict(TEXT, b"", declared_size=1) == Verdict(False, None, "the object is empty")


@pytest.mark.parametrize(
    ("declared", "data", "detected"),
    [
        (PDF, samples.png(), PNG),
        (PNG, samples.jpeg(), JPEG),
        (DOCX, samples.office("xl/workbook.xml"), XLSX),
        (TEXT, samples.pdf(), PDF),
        (JSON, samples.gif(), GIF),
        (PNG, samples.TEXT, TEXT),
        (TEXT, b"%PDF-1.4 an ASCII-only head is still a PDF\n%%EOF\n", PDF),
    ],
)
def test_content_of_another_type_is_rejected_naming_both(declared, data, detected):
    result = verdict(declared, data)
    assert result == Verdict(False, detected, f"declared {declared} but the content is {detected}")


def test_binary_content_of_no_known_format_is_rejected():
    assert verdict(PNG, b"\x00\x01\x02\x03" * 10) == Verdict(
        False, None, "declared image/png but the content matches no known format"
    )
    assert verdict("image/webp", b"RIFF\x10\x00\x00\x00WEBPVP8 ").reason == (
        "declared image/webp but the content matches no known format"
    )
    assert (
        verdict(ZIP, samples.plain_zip()).reason
        == "application/zip is not a format this processor can check"
    )


# ---- PDF ---------------------------------------------------------------------------------------


def test_pdf_trailer_is_checked_only_when_the_whole_file_is_in_the_head():
    whole = samples.pdf().replace(b"%%EOF", b"%%EOX")
    assert verdict(PDF, whole).reason == "truncated PDF: no %%EOF marker in its last 1024 bytes"
    large = samples.pdf(padding=3 * HEAD_BYTES).replace(b"%%EOF", b"%%EOX")
    assert verdict(PDF, large) == Verdict(True, PDF)  # the end is not in the first 64 KiB
    assert (
        verdict(PDF, b"%PDF-x.y\n" + samples.pdf()[9:]).reason
        == "malformed PDF header: expected %PDF-<major>.<minor>"
    )


# ---- PNG ---------------------------------------------------------------------------------------


def test_png_whose_ihdr_is_cut_is_truncated():
    assert verdict(PNG, samples.png()[:20]).reason == "truncated PNG: the IHDR chunk is incomplete"


def test_png_ihdr_is_verified():
    data = bytearray(samples.png())
    data[20] ^= 0xFF  # a byte of the height: the CRC no longer matches
    assert verdict(PNG, bytes(data)).reason == "corrupt PNG: the IHDR chunk fails its CRC"
    ihdr = struct.pack(">IIBBBBB", 1, 1, 3, 2, 0, 0, 0)  # depth 3 is never valid
    bad_depth = (
        samples.png()[:8]
        + struct.pack(">I", 13)
        + b"IHDR"
        + ihdr
        + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    )
    assert (
        verdict(PNG, bad_depth + samples.png()[33:]).reason
        == "malformed PNG: bit depth 3 is invalid for colour type 2"
    )
    zero = struct.pack(">IIBBBBB", 0, 1, 8, 0, 0, 0, 0)
    no_width = (
        samples.png()[:8]
        + struct.pack(">I", 13)
        + b"IHDR"
        + zero
        + struct.pack(">I", zlib.crc32(b"IHDR" + zero))
    )
    assert (
        verdict(PNG, no_width + samples.png()[33:]).reason
        == "malformed PNG: invalid dimensions 0x1"
    )


def test_png_without_iend_is_truncated():
    assert (
        verdict(PNG, samples.png()[:-12]).reason
        == "truncated PNG: it does not end with an IEND chunk"
    )


# ---- JPEG --------------------------------------------------------------------------------------


@pytest.mark.parametrize("cut", [3, 6, 30])
def test_jpeg_too_short_is_truncated(cut):
    assert (
        verdict(JPEG, samples.jpeg()[:cut]).reason
        == "truncated JPEG: it ends before its image data"
    )


def test_jpeg_structure_is_walked_to_the_scan():
    data = samples.jpeg()
    assert verdict(JPEG, data[:-2]).reason == "truncated JPEG: no end-of-image marker"
    broken = data[:20] + b"\x00" + data[21:]  # the DQT marker's 0xFF, after SOI and an 18-byte APP0
    assert verdict(JPEG, broken).reason == "corrupt JPEG: no marker at offset 20"
    assert (
        verdict(JPEG, b"\xff\xd8\xff\xd9").reason
        == "malformed JPEG: end of image before any image data"
    )


def test_jpeg_larger_than_the_head_is_checked_up_to_the_head():
    app1 = b"\xff\xe1" + struct.pack(">H", 65000) + b"\x00" * 64998
    data = b"\xff\xd8" + app1 * 2 + samples.jpeg()[2:]  # the second APP1 runs past 64 KiB
    assert len(data) > HEAD_BYTES
    assert verdict(JPEG, data) == Verdict(True, JPEG)


# ---- GIF and TIFF ------------------------------------------------------------------------------


def test_gif_truncations():
    assert (
        verdict(GIF, samples.gif()[:10]).reason
        == "truncated GIF: the logical screen descriptor is incomplete"
    )
    assert (
        verdict(GIF, samples.gif()[:-1]).reason
        == "truncated GIF: it does not end with the trailer byte 0x3B"
    )


def test_tiff_first_ifd_must_lie_inside_the_file():
    data = samples.tiff()
    assert verdict(TIFF, data[:6]).reason == "truncated TIFF: the header is incomplete"
    outside = data[:4] + struct.pack("<I", 4096) + data[8:]
    assert (
        verdict(TIFF, outside).reason
        == "malformed TIFF: the first IFD offset 4096 lies outside the file"
    )
    assert (
        verdict(TIFF, data[:-3]).reason
        == "truncated TIFF: the first IFD runs past the end of the file"
    )
    empty = data[:8] + b"\x00\x00" + b"\x00" * 16
    assert verdict(TIFF, empty).reason == "malformed TIFF: the first IFD is empty"


def test_bigtiff_is_recognised():
    ifd = struct.pack("<Q", 1) + struct.pack("<HHQQ", 256, 4, 1, 1) + struct.pack("<Q", 0)
    data = b"II+\x00" + struct.pack("<HH", 8, 0) + struct.pack("<Q", 16) + ifd
    assert verdict(TIFF, data) == Verdict(True, TIFF)


# ---- Office (ZIP) ------------------------------------------------------------------------------


def test_office_package_is_identified_from_its_entries_in_the_head():
    large = samples.office("word/document.xml", padding_entry=100_000)
    assert len(large) > HEAD_BYTES
    result = verdict(DOCX, large)
    assert result.detected_type == ZIP and not result.accepted
    assert (
        "no [Content_Types].xml and matching part among the entries in its first 64 KiB"
        in result.reason
    )


def test_office_package_without_central_directory_is_truncated():
    data = samples.office()
    end = data.rfind(b"PK\x05\x06")
    assert (
        verdict(DOCX, data[:end]).reason
        == "truncated ZIP package: no end-of-central-directory record"
    )


def test_plain_zip_is_not_an_office_document():
    assert verdict(
        XLSX, samples.plain_zip()
    ).reason == f"declared {XLSX} but the content is {ZIP}" + (
        " (no [Content_Types].xml and matching part among the entries in its first 64 KiB)"
    )


# ---- text ----------------------------------------------------------------------------------------


def test_multibyte_character_cut_by_the_head_boundary_is_tolerated():
    data = b"a" * (HEAD_BYTES - 1) + "ü and more".encode()
    assert data[:HEAD_BYTES].endswith(b"\xc3")  # the head ends inside the two-byte "ü"
    assert verdict(TEXT, data) == Verdict(True, TEXT)


def test_a_file_ending_inside_a_multibyte_character_is_not_text():
    assert (
        verdict(TEXT, b"caf\xc3").reason == "declared text/plain but the content is not UTF-8 text"
    )


@pytest.mark.parametrize(
    "data", [b"\xff\xfe\x00t\x00e\x00x\x00t", b"line\x00with a NUL", b"\xc3\x28"]
)
def test_invalid_utf8_or_control_bytes_are_not_text(data):
    assert not verdict(TEXT, data).accepted


def test_csv_rows_must_have_the_same_number_of_fields():
    assert (
        verdict(CSV, b"a,b,c\n1,2,3\n\n4,5\n").reason
        == "inconsistent CSV: line 4 has 2 fields, the first row has 3"
    )
    assert verdict(CSV, b'a,b\n"unterminated,2\n').reason.startswith("invalid CSV at line")
    assert verdict(CSV, b'a,b\n"x"y,2\n').reason.startswith("invalid CSV at line 2")
    assert verdict(CSV, b"\n\n").reason == "the CSV has no rows"
    assert verdict(CSV, b'name,note\r\n"A","multi\r\nline"\r\n') == Verdict(True, CSV)


def test_csv_larger_than_the_head_is_checked_on_its_whole_lines():
    row = b'1,"quoted, field",x\n'
    data = b"a,b,c\n" + row * (2 * HEAD_BYTES // len(row))
    assert verdict(CSV, data) == Verdict(True, CSV)
    quoted = b"a,b\n" + b'1,"' + b"y" * (2 * HEAD_BYTES) + b'"\n'  # a quoted field spans the cut
    assert verdict(CSV, quoted) == Verdict(True, CSV)
    broken = b"a,b,c\n" + b"1,2\n" + row * (2 * HEAD_BYTES // len(row))
    assert (
        verdict(CSV, broken).reason == "inconsistent CSV: line 2 has 2 fields, the first row has 3"
    )


def test_json_is_parsed_when_whole_and_its_opening_checked_when_larger():
    assert (
        verdict(JSON, b'{"a": [1, 2}').reason
        == "invalid JSON: Expecting ',' delimiter at line 1 column 12"
    )
    # The same verdict on every interpreter (their recursion limits differ): depth is checked first.
    assert verdict(JSON, b"[" * 5000 + b"]" * 5000).reason == "invalid JSON: nested deeper than 500 levels"
    assert verdict(JSON, b"[" * 1200 + b"]" * 1200).reason == "invalid JSON: nested deeper than 500 levels"
    assert verdict(JSON, b"[" * 500 + b"]" * 500) == Verdict(True, JSON)
    assert verdict(JSON, b'{"a": "' + b"[" * 600 + b'"}') == Verdict(True, JSON)  # brackets in a string
    assert verdict(JSON, b'{"a": "\\"' + b"}" * 3).reason.startswith("invalid JSON: ")
    assert verdict(JSON, b"1" * 5000).reason == "invalid JSON: nested too deeply or a number too long"
    big = b'{"items": [' + b'{"n": 1},' * (HEAD_BYTES // 4) + b'{"n": 1}]}'
    assert verdict(JSON, big) == Verdict(True, JSON)
    assert verdict(JSON, b"not json " * (HEAD_BYTES // 4)).reason == (
        "JSON larger than 64 KiB must start with an object, an array or a string"
    )


def test_declared_sha256_is_verified_when_the_whole_file_is_read():
    data = samples.pdf()
    assert verdict(PDF, data, sha256=hashlib.sha256(data).hexdigest()) == Verdict(True, PDF)
    assert (
        verdict(PDF, data, sha256="0" * 64).reason
        == "checksum mismatch: the content's SHA-256 is not the declared one"
    )
    large = samples.pdf(padding=2 * HEAD_BYTES)
    assert verdict(
        PDF, large, sha256="0" * 64
    ).accepted  # S3 verified it at upload; not re-readable here


def test_total_size_comes_from_content_range():
    assert content_range_total("bytes 0-65535/104857600", 65536, 65536) == 104857600
    assert content_range_total(None, 1234, 1234) == 1234
    assert content_range_total("bytes */0", None, 0) == 0


# ---- properties --------------------------------------------------------------------------------

MAGIC = [
    b"%PDF-",
    b"%PDF-1.",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF89a",
    b"GIF87a",
    b"II*\x00",
    b"MM\x00*",
    b"II+\x00",
    b"MM\x00+",
    b"PK\x03\x04",
    b"\xef\xbb\xbf",
    b"",
]
TYPES = [PDF, PNG, JPEG, GIF, TIFF, DOCX, XLSX, PPTX, TEXT, CSV, JSON, ZIP, "image/webp"]


@settings(max_examples=400, deadline=None)
@given(
    prefix=st.sampled_from(MAGIC),
    body=st.binary(max_size=2048),
    declared_type=st.sampled_from(TYPES),
    extra=st.integers(min_value=0, max_value=10**9),
    size_delta=st.integers(min_value=-3, max_value=3),
    sha=st.none() | st.text("0123456789abcdef", min_size=64, max_size=64),
)
def test_arbitrary_heads_never_crash_and_verdicts_are_consistent(
    prefix, body, declared_type, extra, size_delta, sha
):
    head = prefix + body
    total = len(head) + (extra if extra % 2 else 0)
    result = check(
        declared_type=declared_type,
        declared_size=max(total + size_delta, 0),
        head=head,
        total_size=total,
        declared_sha256=sha,
    )
    if result.accepted:
        assert result.detected_type == declared_type and result.reason is None
        assert total + size_delta == total
    else:
        assert isinstance(result.reason, str) and result.reason


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=HEAD_BYTES + 64), st.booleans())
def test_detection_of_arbitrary_bytes_never_crashes(data, complete):
    assert detect(data, complete) in {PDF, PNG, JPEG, GIF, TIFF, DOCX, XLSX, PPTX, ZIP, TEXT, None}
