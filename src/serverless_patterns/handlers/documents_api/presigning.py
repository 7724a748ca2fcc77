"""What the presigned URLs allow: the upload policy and the download's Content-Disposition."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote


def upload_form(item: dict[str, Any]) -> tuple[dict[str, str], list[Any]]:
    """Form fields and policy conditions of the presigned POST for ``item``.

    The policy accepts only the item's object key (botocore adds the key and bucket conditions),
    exactly the declared size, the declared Content-Type and, when a SHA-256 was declared, that
    checksum, which S3 then verifies on upload.
    """
    size = item["declared_size"]
    fields = {"Content-Type": item["declared_type"]}
    if item.get("declared_sha256"):
        fields["x-amz-checksum-algorithm"] = "SHA256"
        fields["x-amz-checksum-sha256"] = base64.b64encode(
            bytes.fromhex(item["declared_sha256"])
        ).decode("ascii")
    conditions: list[Any] = [{name: value} for name, value in fields.items()]
    conditions.append(["content-length-range", size, size])
    return fields, conditions


def content_disposition(file_name: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact UTF-8 name (RFC 6266/5987)."""
    fallback = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\%' else "_" for c in file_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"
