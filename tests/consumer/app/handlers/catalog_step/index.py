"""Processing step 2: record the document in our catalog, with the classification step 1 gave it.

The step input's ``status`` is the document's status when this step starts: the one step 1
returned (``CLASSIFIED`` or ``NEEDS_REVIEW``).
"""

from __future__ import annotations

import os
from typing import Any

import boto3

_table = boto3.resource("dynamodb").Table(os.environ["CATALOG_TABLE"])


def catalog_entry(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "document_id": event["document_id"],
        "entry": "catalog",
        "key": event["key"],
        "content_type": event["content_type"],
        "size": event["size"],
        "classification": event["status"],
    }


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    entry = catalog_entry(event)
    _table.put_item(Item=entry)
    return {"status": "CATALOGUED", "detail": {"classification": entry["classification"]}}
