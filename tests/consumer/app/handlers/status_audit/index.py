"""Records every status change of a document, from the pipeline's status events on EventBridge.

The events reach us through an SQS queue (an EventBridge rule's target): each message body is the
EventBridge event, whose ``detail`` is the versioned status event. A malformed message is reported
as a batch item failure (it goes to the queue's dead-letter queue after its retries), never dropped.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

SCHEMA_VERSION = "1"

_table = boto3.resource("dynamodb").Table(os.environ["CATALOG_TABLE"])


def history_entry(body: str) -> dict[str, Any]:
    """The catalog item for one status event; ValueError when it is not one we understand."""
    event = json.loads(body)
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(detail, dict) or detail.get("schema_version") != SCHEMA_VERSION:
        raise ValueError("not a version 1 document status event")
    entry = {
        "document_id": detail["document_id"],
        "entry": f"status#{detail['status']}",
        "status": detail["status"],
        "previous_status": detail.get("previous_status") or "-",
        "occurred_at": detail["occurred_at"],
    }
    if detail.get("reason"):
        entry["reason"] = detail["reason"]
    return entry


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event["Records"]:
        try:
            _table.put_item(Item=history_entry(record["body"]))
        except (ValueError, KeyError):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
