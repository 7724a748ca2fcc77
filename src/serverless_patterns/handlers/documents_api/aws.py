"""The API's only AWS calls: the documents table and the documents bucket."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError


class DocumentStore:
    """The table and the bucket, through AWS clients made by the caller."""

    def __init__(
        self, *, s3: Any, dynamodb: Any, bucket: str, table: str, status_index: str
    ) -> None:
        self._s3 = s3
        self._dynamodb = dynamodb
        self._bucket = bucket
        self._table = table
        self._status_index = status_index

    def insert(self, item: Mapping[str, Any]) -> bool:
        """Put ``item`` unless its id exists; False when it does."""
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item=encode_item(item),
                ConditionExpression="attribute_not_exists(document_id)",
            )
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, document_id: str) -> dict[str, Any] | None:
        response = self._dynamodb.get_item(
            TableName=self._table, Key={"document_id": {"S": document_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return decode_item(item) if item else None

    def query_status(
        self, status: str, *, limit: int, start_key: Mapping[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of the status index, newest first, and its LastEvaluatedKey."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": self._status_index,
            "KeyConditionExpression": "#status = :status",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":status": {"S": status}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start_key:
            request["ExclusiveStartKey"] = encode_item(start_key)
        response = self._dynamodb.query(**request)
        last_key = response.get("LastEvaluatedKey")
        return [decode_item(item) for item in response.get("Items", [])], decode_item(
            last_key
        ) if last_key else None

    def transition(
        self,
        document_id: str,
        *,
        expected_status: str,
        expected_version: int,
        changes: Mapping[str, Any],
    ) -> bool:
        """Apply ``changes`` if the item is still at ``expected_status``/``expected_version``."""
        names = {f"#k{i}": name for i, name in enumerate(changes)}
        values = {f":v{i}": _encode(value) for i, value in enumerate(changes.values())}
        names.update({"#status": "status", "#version": "status_version"})
        values.update(
            {
                ":expected_status": {"S": expected_status},
                ":expected_version": {"N": str(expected_version)},
            }
        )
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"document_id": {"S": document_id}},
                UpdateExpression="SET " + ", ".join(f"#k{i} = :v{i}" for i in range(len(changes))),
                ConditionExpression="#status = :expected_status AND #version = :expected_version",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def delete_object(self, key: str) -> None:
        """Delete the current object; on a versioned bucket this adds a delete marker."""
        self._s3.delete_object(Bucket=self._bucket, Key=key)

    def upload_form(
        self, key: str, *, fields: dict[str, str], conditions: list[Any], expires: int
    ) -> dict[str, Any]:
        """A presigned POST (``{"url", "fields"}``); computed locally, no request to S3."""
        return self._s3.generate_presigned_post(
            Bucket=self._bucket, Key=key, Fields=fields, Conditions=conditions, ExpiresIn=expires
        )

    def download_url(
        self, key: str, *, version_id: str | None, disposition: str, expires: int
    ) -> str:
        """A presigned GET of ``key`` (of that version, when given); computed locally."""
        params = {"Bucket": self._bucket, "Key": key, "ResponseContentDisposition": disposition}
        if version_id:
            params["VersionId"] = version_id
        return self._s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires)


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _encode(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if value is None:
        return {"NULL": True}
    return {"S": str(value)}


def _decode(value: Mapping[str, Any]) -> Any:
    if "S" in value:
        return value["S"]
    if "N" in value:
        number = value["N"]
        return int(number) if number.lstrip("-").isdigit() else float(number)
    if "BOOL" in value:
        return value["BOOL"]
    if "NULL" in value:
        return None
    return dict(value)


def encode_item(item: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A plain item (str, int, bool, None values) in DynamoDB's attribute-value form."""
    return {name: _encode(value) for name, value in item.items()}


def decode_item(item: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    return {name: _decode(value) for name, value in item.items()}
