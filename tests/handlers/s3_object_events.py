"""S3 object-created events in the shapes AWS delivers them, for the object metadata writer's tests.

Shapes follow the Amazon S3 user guide: "EventBridge event message structure" (``Object
Created``) and "Event message structure" (event notifications, keys URL-encoded with ``+`` for
spaces, the ``s3:TestEvent`` sent when a notification is configured).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

BUCKET = "ingest-bucket"
TABLE = "ingest-objects"
TIME = "2026-03-01T12:00:00Z"
_ids = itertools.count(1)


@dataclass
class LambdaContext:
    """The attributes Powertools' logger reads from the Lambda context."""

    function_name: str = "object-metadata-writer"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-west-2:123456789012:function:object-metadata-writer"
    aws_request_id: str = "5d0a4b5e-1111-4c2d-9e3f-000000000000"


def eventbridge_event(
    key: str,
    *,
    sequencer: str,
    bucket: str = BUCKET,
    size: int = 5,
    etag: str | None = "b1946ac92492d2347c6235b4d2611184",
    version_id: str | None = None,
    detail_type: str = "Object Created",
    time: str = TIME,
) -> dict[str, Any]:
    """An EventBridge S3 event; EventBridge also URL-encodes the key."""
    obj: dict[str, Any] = {"key": quote_plus(key), "size": size, "sequencer": sequencer}
    if etag is not None:
        obj["etag"] = etag
    if version_id is not None:
        obj["version-id"] = version_id
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": "123456789012",
        "time": time,
        "region": "us-west-2",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": obj,
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "123456789012",
            "source-ip-address": "192.0.2.1",
            "reason": "PutObject",
        },
    }


def notification_record(
    key: str,
    *,
    sequencer: str,
    bucket: str = BUCKET,
    size: int = 5,
    etag: str = "b1946ac92492d2347c6235b4d2611184",
    version_id: str | None = None,
    event_name: str = "ObjectCreated:Put",
) -> dict[str, Any]:
    """One record of an S3 event notification; the key is URL-encoded as S3 sends it."""
    obj: dict[str, Any] = {"key": quote_plus(key), "size": size, "eTag": etag, "sequencer": sequencer}
    if version_id is not None:
        obj["versionId"] = version_id
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-west-2",
        "eventTime": "2026-03-01T12:00:00.000Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "192.0.2.1"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "object-created",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"}, "arn": f"arn:aws:s3:::{bucket}"},
            "object": obj,
        },
    }


def notification(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


TEST_EVENT = {
    "Service": "Amazon S3",
    "Event": "s3:TestEvent",
    "Time": "2026-03-01T12:00:00.000Z",
    "Bucket": BUCKET,
    "RequestId": "5582815E1AEA5ADF",
    "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
}


def sqs_record(body: Any, *, message_id: str | None = None) -> dict[str, Any]:
    """An SQS record as Lambda's event source mapping delivers it; dicts become JSON bodies."""
    return {
        "messageId": message_id or f"msg-{next(_ids)}",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1772366400000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1772366400001",
        },
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-west-2:123456789012:ingest-object-events",
        "awsRegion": "us-west-2",
    }


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def create_table(dynamodb: Any, name: str = TABLE) -> Any:
    """The table as the example app creates it: string ``pk``/``sk``, on-demand."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb.Table(name)
