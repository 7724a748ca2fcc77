"""API Gateway HTTP API (payload format 2.0) events for the data_api handler's tests.

The shape follows the API Gateway developer guide, "Working with AWS Lambda proxy integrations for
HTTP APIs": header names lower case, repeated headers and query parameters joined by commas.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

BUCKET = "secure-data-bucket"
REGION = "us-east-1"


@dataclass
class LambdaContext:
    """The attributes Powertools' logger reads from the Lambda context."""

    function_name: str = "secure-data-api"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:secure-data-api"
    aws_request_id: str = "7e4c2b1a-0000-4f00-8000-000000000001"


def http_event(
    method: str,
    path: str,
    *,
    body: str | bytes | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    request_id: str = "Kx1yZgXYoAMEV3w=",
) -> dict[str, Any]:
    """An HTTP API request as API Gateway passes it to the function; bytes bodies are base64-encoded."""
    is_base64 = isinstance(body, bytes)
    if is_base64:
        body = base64.b64encode(body).decode("ascii")
    segments = path.strip("/").split("/")
    route_key = f"{method} {path}"
    path_parameters = None
    if len(segments) == 3 and segments[:2] == ["api", "data"]:
        route_key, path_parameters = f"{method} /api/data/{{key}}", {"key": segments[2]}
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "headers": {"host": "abc123.execute-api.us-east-1.amazonaws.com", **(headers or {})},
        "queryStringParameters": query,
        "pathParameters": path_parameters,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "test",
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }
