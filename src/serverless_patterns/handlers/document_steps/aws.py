"""The coordinator's only AWS calls: GetItem, conditional UpdateItem, Invoke (Event), StartExecution, SendMessage."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from .stages import execution_name

if TYPE_CHECKING:
    from .config import Stage


class Documents:
    """The metadata table, through a DynamoDB client made by the caller."""

    def __init__(self, *, dynamodb: Any, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def get(self, document_id: str) -> dict[str, Any] | None:
        response = self._dynamodb.get_item(TableName=self._table, Key={"document_id": {"S": document_id}}, ConsistentRead=True)
        item = response.get("Item")
        return {name: _decode(value) for name, value in item.items()} if item else None

    def update(self, document_id: str, *, condition: Mapping[str, Any], changes: Mapping[str, Any]) -> bool:
        """Apply ``changes`` if every attribute in ``condition`` has that value; False if not."""
        names = {f"#k{i}": name for i, name in enumerate(changes)}
        values = {f":v{i}": _encode(value) for i, value in enumerate(changes.values())}
        tests = []
        for i, (name, value) in enumerate(condition.items()):
            names[f"#c{i}"] = name
            values[f":c{i}"] = _encode(value)
            tests.append(f"#c{i} = :c{i}")
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"document_id": {"S": document_id}},
                UpdateExpression="SET " + ", ".join(f"#k{i} = :v{i}" for i in range(len(changes))),
                ConditionExpression=" AND ".join(tests),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True


class StageStarter:
    """Starts steps and validators: an asynchronous Lambda invocation, or an execution of a step's runner.

    ``stepfunctions`` makes the Step Functions client, called only for a state-machine step (a
    pipeline without one never creates it, nor needs its endpoint).
    """

    def __init__(self, *, lambda_client: Any, stepfunctions: Callable[[], Any] | None = None) -> None:
        self._lambda = lambda_client
        self._stepfunctions = stepfunctions

    def start(self, stage: Stage, payload: Mapping[str, Any]) -> bool:
        """Start ``stage`` with ``payload``; False when its runner has run for this input already."""
        if not stage.state_machine:
            self._lambda.invoke(FunctionName=stage.function, InvocationType="Event", Payload=json.dumps(payload).encode())
            return True
        if self._stepfunctions is None:
            raise RuntimeError(f"stage {stage.name} is a state machine and no Step Functions client was given")
        try:
            self._stepfunctions().start_execution(
                stateMachineArn=stage.state_machine, name=execution_name(payload), input=json.dumps(payload)
            )
        except ClientError as error:
            # A running execution of this name and input is not an error (StartExecution is
            # idempotent for Standard workflows); a finished one, or other input, is this error.
            if error.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                return False
            raise
        return True


class FailureQueues:
    """The steps' failure queues, through an SQS client."""

    def __init__(self, *, sqs: Any) -> None:
        self._sqs = sqs

    def send(self, queue_url: str, record: Mapping[str, Any], *, document_id: str, step: str) -> None:
        self._sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps(record),
            MessageAttributes={
                "document_id": {"DataType": "String", "StringValue": document_id},
                "step": {"DataType": "String", "StringValue": step},
            },
        )


def _encode(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    return {"S": str(value)}


def _decode(value: Mapping[str, Any]) -> Any:
    if "N" in value:
        number = value["N"]
        return int(number) if number.lstrip("-").isdigit() else float(number)
    if "BOOL" in value:
        return value["BOOL"]
    return value.get("S", value)
