"""A deployed stack and its REST API, seen the way the moto flow sees an :class:`EmulatedStack`.

``make deploy-local`` deploys the example apps on a local CloudFormation engine (MiniStack) and
runs the flagship's document flow against them: the same driver as the moto run
(``examples/document_pipeline/local_flow.py``), with the deployed functions doing the work.
:class:`DeployedStack` finds the stack's resources with ``ListStackResources`` and the
functions' configuration with ``GetFunctionConfiguration``; :meth:`DeployedStack.pump` waits
until the asynchronous parts (queues, streams, tables) stop moving. :class:`HttpRestApi`
sends real HTTP requests to the engine's API Gateway data plane.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import boto3
import requests

from .rest_api import ApiResponse


@dataclass(frozen=True)
class DeployedFunction:
    """A deployed function's name, handler and environment (as the engine reports them)."""

    logical_id: str
    name: str
    handler: str
    environment: dict[str, str] = field(default_factory=dict)


class DeployedStack:
    """A stack deployed on the engine at the session's endpoint.

    Parameters
    ----------
    stack_name
        The CloudFormation stack name.
    session
        A boto3 session whose clients reach the engine (e.g. ``AWS_ENDPOINT_URL`` set).
    settle_seconds
        :meth:`pump` returns once nothing moved for this long (a cold start of a function that reads a
        stream shows in no queue). Default: 6.
    timeout_seconds
        :meth:`pump` raises ``TimeoutError`` when things still move after this long. Default: 180.
    """

    def __init__(
        self, stack_name: str, session: boto3.Session, *, settle_seconds: float = 6.0, timeout_seconds: float = 180.0
    ) -> None:
        self.stack_name = stack_name
        self.session = session
        self.region: str = session.region_name
        self.settle_seconds = settle_seconds
        self.timeout_seconds = timeout_seconds
        self._clients: dict[str, Any] = {}
        self.resources: dict[str, dict[str, Any]] = {}
        paginator = self.client("cloudformation").get_paginator("list_stack_resources")
        for page in paginator.paginate(StackName=stack_name):
            for summary in page["StackResourceSummaries"]:
                self.resources[summary["LogicalResourceId"]] = summary
        self.physical: dict[str, dict[str, Any]] = {
            logical_id: {"QueueUrl": summary["PhysicalResourceId"]}
            for logical_id, summary in self.resources.items()
            if summary["ResourceType"] == "AWS::SQS::Queue"
        }
        self.functions: dict[str, DeployedFunction] = {}
        lambda_client = self.client("lambda")
        for logical_id, summary in self.resources.items():
            if summary["ResourceType"] != "AWS::Lambda::Function":
                continue
            configuration = lambda_client.get_function_configuration(FunctionName=summary["PhysicalResourceId"])
            self.functions[logical_id] = DeployedFunction(
                logical_id, configuration["FunctionName"], configuration.get("Handler", ""),
                dict((configuration.get("Environment") or {}).get("Variables") or {}),
            )
        self.watched_queues: list[str] = []

    def client(self, service: str) -> Any:
        """A client of ``service`` on the engine (one per service, reused)."""
        if service not in self._clients:
            self._clients[service] = self.session.client(service)
        return self._clients[service]

    def physical_id(self, logical_id: str) -> str:
        return self.resources[logical_id]["PhysicalResourceId"]

    def of_type(self, resource_type: str) -> dict[str, str]:
        """Logical id -> physical id of every resource of ``resource_type``."""
        return {lid: s["PhysicalResourceId"] for lid, s in self.resources.items() if s["ResourceType"] == resource_type}

    def function(self, handler_prefix: str) -> DeployedFunction:
        """The one function whose handler starts with ``handler_prefix`` (e.g. ``"documents_api."``)."""
        matches = [f for f in self.functions.values() if f.handler.startswith(handler_prefix)]
        if len(matches) != 1:
            raise LookupError(f"expected one function with handler {handler_prefix}*, found {[f.handler for f in matches]}")
        return matches[0]

    def watch_queue(self, url: str) -> None:
        """Count ``url`` (a queue outside the stack, e.g. a test subscriber) in :meth:`pump`."""
        self.watched_queues.append(url)

    def pump(self) -> int:
        """Wait until the stack is quiet: no queue holds a message in flight and nothing changed
        in its queues and tables for ``settle_seconds``. Returns the number of polls it took."""
        deadline = time.monotonic() + self.timeout_seconds
        last, quiet_since, polls = None, None, 0
        while True:
            polls += 1
            snapshot, busy = self._snapshot()
            now = time.monotonic()
            if snapshot != last or busy:
                last, quiet_since = snapshot, now
            elif now - quiet_since >= self.settle_seconds:
                return polls
            if now > deadline:
                raise TimeoutError(f"{self.stack_name} still busy after {self.timeout_seconds:.0f} s")
            time.sleep(0.5)

    def _snapshot(self) -> tuple[str, bool]:
        sqs, dynamodb = self.client("sqs"), self.client("dynamodb")
        counts, busy = [], False
        for url in [*self.of_type("AWS::SQS::Queue").values(), *self.watched_queues]:
            attributes = sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
            )["Attributes"]
            counts.append((url, attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]))
            busy |= attributes["ApproximateNumberOfMessagesNotVisible"] != "0"
        tables = []
        for name in self.of_type("AWS::DynamoDB::Table").values():
            items = []
            for page in dynamodb.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
                items.extend(page.get("Items", []))
            tables.append((name, sorted(json.dumps(item, sort_keys=True) for item in items)))
        digest = hashlib.sha256(json.dumps([counts, tables]).encode()).hexdigest()
        return digest, busy


class HttpRestApi:
    """A deployed REST API stage, reached over HTTP on the engine's API Gateway data plane.

    ``endpoint`` is the engine's URL; requests go to
    ``<endpoint>/_aws/execute-api/<api id>/<stage>/<path>`` (MiniStack's path form of
    ``https://<api id>.execute-api.<region>.amazonaws.com/<stage>/<path>``).
    """

    def __init__(self, endpoint: str, api_id: str, stage: str, *, timeout_seconds: float = 60.0) -> None:
        self.api_id = api_id
        self.stage = stage
        self.base_url: str = f"{endpoint.rstrip('/')}/_aws/execute-api/{api_id}/{stage}"
        self.timeout_seconds = timeout_seconds
        self.calls: list[tuple[str, str, int]] = []
        self._http = requests.Session()

    def request(
        self,
        method: str,
        path: str,
        *,
        api_key: str | None = None,
        body: Any = None,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        """Send one request; ``body`` that is not a str is sent as JSON."""
        sent_headers = dict(headers or {})
        if api_key is not None:
            sent_headers["x-api-key"] = api_key
        data = None
        if body is not None:
            data = body if isinstance(body, str) else json.dumps(body)
            sent_headers.setdefault("content-type", "application/json")
        url = self.base_url + quote(path, safe="/{}")
        response = self._http.request(
            method.upper(), url, params=dict(query or {}), data=data, headers=sent_headers, timeout=self.timeout_seconds
        )
        try:
            parsed = response.json() if response.content else None
        except ValueError:
            parsed = response.text
        self.calls.append((method.upper(), path, response.status_code))
        return ApiResponse(response.status_code, parsed, dict(response.headers))
