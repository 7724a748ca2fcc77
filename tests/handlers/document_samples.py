"""Minimal but valid documents of every accepted format, built byte by byte."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib


def pdf(padding: int = 0) -> bytes:
    """A one-page PDF; ``padding`` bytes of comment make it larger without breaking it."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    if padding:
        out += b"%" + b"x" * (padding - 2) + b"\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 1, height: int = 1) -> bytes:
    """A greyscale 8-bit PNG of ``width`` x ``height`` black pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    """Baseline JPEG structure: SOI, APP0 (JFIF), DQT, SOF0, DHT, SOS, scan data, EOI."""

    def segment(marker: int, payload: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload

    app0 = segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    dqt = segment(0xDB, b"\x00" + bytes(range(1, 65)))
    sof0 = segment(0xC0, b"\x08\x00\x01\x00\x01\x01\x01\x11\x00")
    dht = segment(0xC4, b"\x00" + b"\x01" + b"\x00" * 15 + b"\x00")
    sos = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    return b"\xff\xd8" + app0 + dqt + sof0 + dht + sos + b"\x00\x3f\x00" + b"\xff\xd9"


def gif() -> bytes:
    """A 1x1 GIF89a with a two-colour palette."""
    header = b"GIF89a" + struct.pack("<HH", 1, 1) + b"\x80\x00\x00" + b"\x00\x00\x00\xff\xff\xff"
    image = b"\x2c" + struct.pack("<HHHH", 0, 0, 1, 1) + b"\x00" + b"\x02\x02\x44\x01\x00"
    return header + image + b";"


def tiff(big_endian: bool = False) -> bytes:
    """A TIFF header whose first IFD holds one entry (ImageWidth = 1)."""
    order = ">" if big_endian else "<"
    magic = b"MM\x00*" if big_endian else b"II*\x00"
    ifd = (
        struct.pack(order + "H", 1)
        + struct.pack(order + "HHII", 256, 4, 1, 1)
        + struct.pack(order + "I", 0)
    )
    return magic + struct.pack(order + "I", 8) + ifd


def office(part: str = "word/document.xml", *, padding_entry: int = 0) -> bytes:
    """An OOXML package: ``[Content_Types].xml``, ``_rels/.rels`` and ``part``.

    ``padding_entry`` stores that many incompressible bytes in an entry written *before* the
    content types, to push the identifying entries past the first 64 KiB.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        if padding_entry:
            package.writestr(
                zipfile.ZipInfo("docProps/thumbnail.bin"),
                bytes(i * 7919 % 251 for i in range(padding_entry)),
            )
        package.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        package.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        package.writestr(part, '<?xml version="1.0"?><document/>')
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


TEXT = "Grüße aus Köln.\nA second line.\n".encode()
CSV = b'id,name,amount\n1,Alice,10.50\n2,"Bob, Jr.",7\n'
JSON = b'{"invoice": 42, "lines": [{"sku": "A-1", "qty": 2}], "note": "\xc3\xa9t\xc3\xa9"}'
