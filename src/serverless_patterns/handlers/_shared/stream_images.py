"""The images of a DynamoDB Streams record, decoded as Powertools' ``DynamoDBRecord`` does."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.shared.dynamodb_deserializer import TypeDeserializer

#: Numbers become 38-digit Decimals, sets Python sets, binary bytes.
deserializer: TypeDeserializer = TypeDeserializer()


def stream_image(change: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """``change[name]`` (``OldImage`` or ``NewImage``) in Python types; ``{}`` without one.

    Raises what the deserializer raises for a malformed attribute value (TypeError, ValueError,
    LookupError, ArithmeticError): the caller decides whether that drops or retries the record.
    """
    return {key: deserializer.deserialize(value) for key, value in ((change or {}).get(name) or {}).items()}
