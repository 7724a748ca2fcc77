"""Counts the catalog's documents by classification and sends the digest to the ops topic."""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

import boto3

_table = boto3.resource("dynamodb").Table(os.environ["CATALOG_TABLE"])
_sns = boto3.client("sns")


def digest(items: list[dict[str, Any]]) -> dict[str, int]:
    return dict(sorted(Counter(item["classification"] for item in items if item["entry"] == "catalog").items()))


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {}
    while True:
        page = _table.scan(**request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    counts = digest(items)
    _sns.publish(TopicArn=os.environ["OPS_TOPIC_ARN"], Subject="Daily document digest", Message=json.dumps(counts))
    return counts
