"""Processing step 1: classify a validated document from its first 64 KiB.

Input: the pipeline's step input (``document_id``, ``bucket``, ``key``, ``version_id``,
``content_type``, ``size``, ``status``, ``schema_version``). Output: one of the step's statuses
and a detail the pipeline records with it.
"""

from __future__ import annotations

from typing import Any

import boto3

HEAD_BYTES = 64 * 1024
#: A document whose head carries one of these markers goes to a person before it is published.
REVIEW_MARKERS = (b"CONFIDENTIAL", b"INTERNAL ONLY")

_s3 = boto3.client("s3")


def classify(head: bytes) -> dict[str, Any]:
    """``NEEDS_REVIEW`` with the marker found, else ``CLASSIFIED`` as public."""
    upper = head.upper()
    for marker in REVIEW_MARKERS:
        if marker in upper:
            return {"status": "NEEDS_REVIEW", "detail": {"label": "restricted", "marker": marker.decode()}}
    return {"status": "CLASSIFIED", "detail": {"label": "public"}}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"Bucket": event["bucket"], "Key": event["key"], "Range": f"bytes=0-{HEAD_BYTES - 1}"}
    if event.get("version_id"):
        request["VersionId"] = event["version_id"]
    head = _s3.get_object(**request)["Body"].read()
    return classify(head)
