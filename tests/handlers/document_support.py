"""Shared pieces of the document pipeline's handler tests: resources on moto and event shapes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import quote_plus

BUCKET = "documents-bucket"
TABLE = "documents"
STATUS_INDEX = "by-status"
IDEMPOTENCY_TABLE = "notifier-idempotency"
TOPIC = "document-status"


@dataclass
class LambdaContext:
    function_name: str = "documents"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:documents"
    aws_request_id: str = "lambda-request-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def create_bucket(s3: Any) -> None:
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})


def create_documents_table(dynamodb: Any) -> str:
    """The table the construct must build; returns the stream ARN."""
    response = dynamodb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "document_id", "AttributeType": "S"},
            {"AttributeName": "status", "AttributeType": "S"},
            {"AttributeName": "created_at", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "document_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": STATUS_INDEX,
                "KeySchema": [
                    {"AttributeName": "status", "KeyType": "HASH"},
                    {"AttributeName": "created_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return response["TableDescription"]["LatestStreamArn"]


def create_idempotency_table(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName=IDEMPOTENCY_TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )


def api_environment(monkeypatch: Any, **overrides: str) -> None:
    values = {
        "DOCUMENTS_BUCKET": BUCKET,
        "DOCUMENTS_TABLE": TABLE,
        "STATUS_INDEX": STATUS_INDEX,
        **overrides,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def api_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    level: str | None = "read-write",
    client_id: str = "client-a",
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST API proxy event as API Gateway sends it after the authorizer allowed it."""
    authorizer = (
        {"principalId": client_id, "client_id": client_id, "level": level} if level else None
    )
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "multiValueHeaders": None,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"requestId": "api-request-1", "stage": "prod", "authorizer": authorizer},
        "body": body if body is None or isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"message-{number}",
                "receiptHandle": f"handle-{number}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:document-events",
                "awsRegion": "us-east-1",
            }
            for number, body in enumerate(bodies)
        ]
    }


def eventbridge_body(
    key: str, *, size: int = 1, version_id: str | None = None, bucket: str = BUCKET
) -> str:
    """An S3 "Object Created" event as EventBridge delivers it to SQS (key URL-encoded, as S3 sends it)."""
    obj: dict[str, Any] = {
        "key": quote_plus(key),
        "size": size,
        "etag": "0123456789abcdef",
        "sequencer": "00617F08299329D189",
    }
    if version_id:
        obj["version-id"] = version_id
    return json.dumps(
        {
            "version": "0",
            "id": "17793124-05d4-b198-2fde-7ededc63b103",
            "detail-type": "Object Created",
            "source": "aws.s3",
            "account": "123456789012",
            "time": "2026-01-01T00:00:00Z",
            "region": "us-east-1",
            "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {
                "version": "0",
                "bucket": {"name": bucket},
                "object": obj,
                "reason": "PutObject",
            },
        }
    )


def notification_body(
    *keys: str, event_name: str = "ObjectCreated:Post", bucket: str = BUCKET
) -> str:
    """A classic S3 notification with one record per key, keys URL-encoded as S3 does."""
    return json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": "us-east-1",
                    "eventTime": "2026-01-01T00:00:00.000Z",
                    "eventName": event_name,
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                        "object": {"key": quote_plus(key), "size": 1, "eTag": "0123456789abcdef"},
                    },
                }
                for key in keys
            ]
        }
    )


TEST_EVENT_BODY = json.dumps(
    {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2026-01-01T00:00:00.000Z",
        "Bucket": BUCKET,
        "RequestId": "5582815E1AEA5ADF",
        "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
    }
)


def streams_client() -> Any:
    """A DynamoDB Streams client on the classic endpoint (moto does not route account endpoints)."""
    import boto3
    from botocore.config import Config

    return boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))


def drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Receive and delete every message waiting in a queue."""
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        messages += batch
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def stream_event(dynamodbstreams: Any, stream_arn: str) -> dict[str, Any]:
    """Every record the table's stream holds so far, as a Lambda DynamoDB Streams event."""
    records = []
    description = dynamodbstreams.describe_stream(StreamArn=stream_arn)["StreamDescription"]
    for shard in description["Shards"]:
        iterator = dynamodbstreams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in dynamodbstreams.get_records(ShardIterator=iterator)["Records"]:
            record = json.loads(json.dumps(record, default=str))
            record["eventSourceARN"] = stream_arn
            records.append(record)
    return {"Records": records}


def put_document(
    dynamodb: Any,
    document_id: str,
    file_name: str,
    declared_type: str,
    declared_size: int,
    *,
    sha256: str | None = None,
    status: str = "AWAITING_UPLOAD",
    created_at: str = "2026-01-01T00:00:00.000Z",
) -> str:
    """Write a document item exactly as the API registers one; returns its object key."""
    key = f"documents/{document_id}/{file_name}"
    item = {
        "document_id": {"S": document_id},
        "status": {"S": status},
        "file_name": {"S": file_name},
        "declared_type": {"S": declared_type},
        "declared_size": {"N": str(declared_size)},
        "object_key": {"S": key},
        "owner": {"S": "client-a"},
        "created_at": {"S": created_at},
        "updated_at": {"S": created_at},
        "status_version": {"N": "1"},
    }
    if sha256:
        item["declared_sha256"] = {"S": sha256}
    dynamodb.put_item(TableName=TABLE, Item=item)
    return key


def read_item(dynamodb: Any, document_id: str) -> dict[str, Any]:
    """The item as plain values (numbers as int)."""
    raw = dynamodb.get_item(
        TableName=TABLE, Key={"document_id": {"S": document_id}}, ConsistentRead=True
    )["Item"]
    return {name: int(value["N"]) if "N" in value else value["S"] for name, value in raw.items()}


class Throttle:
    """Answer one operation of a botocore client with a throttling error, for chosen parameters."""

    def __init__(self, client: Any, operation: str, when: Any = lambda params: True) -> None:
        service = client.meta.service_model.service_id.hyphenize()
        self.client = client
        self.events = (
            f"before-parameter-build.{service}.{operation}",
            f"before-call.{service}.{operation}",
        )
        self.code = (
            "ProvisionedThroughputExceededException" if service == "dynamodb" else "SlowDown"
        )
        self.when = when
        self.hits = 0

    def _remember(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["test_api_params"] = dict(params)

    def _answer(self, context: dict[str, Any], **_: Any) -> Any:
        if not self.when(context.get("test_api_params", {})):
            return None
        self.hits += 1
        response = {
            "Error": {"Code": self.code, "Message": "Rate exceeded"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return _HttpStatus(400), response

    def __enter__(self) -> Self:
        self.client.meta.events.register(self.events[0], self._remember)
        self.client.meta.events.register(self.events[1], self._answer)
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.meta.events.unregister(self.events[0], self._remember)
        self.client.meta.events.unregister(self.events[1], self._answer)


@dataclass
class _HttpStatus:
    status_code: int
    headers: dict[str, str] | None = None


class CallLog:
    """Every call a botocore client makes (operation and parameters), and S3 bytes received."""

    def __init__(self, *clients: Any) -> None:
        self.clients = clients
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.content_lengths: list[int] = []

    def _before(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls.append((model.name, dict(params)))

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "GetObject" and "ContentLength" in parsed:
            self.content_lengths.append(parsed["ContentLength"])

    def operations(self) -> list[str]:
        return [name for name, _ in self.calls]

    def __enter__(self) -> Self:
        for client in self.clients:
            client.meta.events.register("before-parameter-build.*.*", self._before)
            client.meta.events.register("after-call.*.*", self._after)
        return self

    def __exit__(self, *exc: object) -> None:
        for client in self.clients:
            client.meta.events.unregister("before-parameter-build.*.*", self._before)
            client.meta.events.unregister("after-call.*.*", self._after)


def metrics_emitted(output: str) -> dict[str, float]:
    """Totals of the EMF metrics Powertools printed in ``output``."""
    totals: dict[str, float] = {}
    for line in output.splitlines():
        if line.startswith('{"_aws"'):
            blob = json.loads(line)
            for metric in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(blob[metric["Name"]])
    return totals
