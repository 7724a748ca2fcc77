"""Tells the ops topic about a rejected document (the status topic's subscription filters REJECTED)."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

_sns = boto3.client("sns")


def notice(status_event: dict[str, Any]) -> tuple[str, str]:
    """The subject and text of the notice for one status event."""
    subject = f"Document {status_event['document_id']} rejected"
    return subject, f"{subject}: {status_event.get('reason') or 'no reason given'}"


def handler(event: dict[str, Any], context: Any) -> None:
    for record in event["Records"]:
        subject, text = notice(json.loads(record["Sns"]["Message"]))
        _sns.publish(TopicArn=os.environ["OPS_TOPIC_ARN"], Subject=subject[:100], Message=text)
