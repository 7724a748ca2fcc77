"""EmulatedRestApi: API Gateway REST API routing, API keys and a REQUEST authorizer, locally."""

from __future__ import annotations

import fnmatch
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .emulator import EmulatedFunction, EmulatedStack


@dataclass(frozen=True)
class ApiResponse:
    """What a client of the API sees."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Route:
    method: str
    path: str  # template, e.g. /documents/{id}
    function: EmulatedFunction | None
    api_key_required: bool
    authorizer: EmulatedFunction | None
    authorizer_ttl: int

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in (method, "ANY"):
            return None
        pattern = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(self.path))
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
        found = re.fullmatch(pattern, path)
        return found.groupdict() if found else None


class EmulatedRestApi:
    """Calls a template's REST API as API Gateway would: route, API key, authorizer, Lambda proxy.

    API keys are checked against the emulated API Gateway (keys must be enabled and belong to a
    usage plan of the stage). Authorizer results are cached per identity (the ``x-api-key``
    header) for the authorizer's TTL, as on AWS, so a policy that only covers the first route
    called shows up as a wrong 403 here too.
    """

    def __init__(self, stack: EmulatedStack, rest_api_logical_id: str | None = None) -> None:
        self.stack = stack
        apis = [lid for lid, r in stack.resources.items() if r["Type"] == "AWS::ApiGateway::RestApi"]
        self.logical_id: str = rest_api_logical_id or _only(apis, "REST API")
        self.api_id: str = stack.physical[self.logical_id]["Ref"]
        stages = [
            r["Properties"]["StageName"] for r in stack.resources.values()
            if r["Type"] == "AWS::ApiGateway::Stage" and r["Properties"]["RestApiId"] == {"Ref": self.logical_id}
        ]
        self.stage: dict[str, Any] = _only(stages, "stage")
        self.routes: list[_Route] = self._routes()
        self._authorizer_cache: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls: list[tuple[str, str, int]] = []

    # ---- template -> routes ---------------------------------------------------------------

    def _routes(self) -> list[_Route]:
        resources = self.stack.resources
        paths: dict[str, str] = {}

        def path_of(reference: Any) -> str:
            if isinstance(reference, dict) and "Fn::GetAtt" in reference:
                return ""  # the root resource
            logical_id = reference["Ref"]
            if logical_id not in paths:
                props = resources[logical_id]["Properties"]
                paths[logical_id] = f"{path_of(props['ParentId'])}/{props['PathPart']}"
            return paths[logical_id]

        routes = []
        for resource in resources.values():
            if resource["Type"] != "AWS::ApiGateway::Method":
                continue
            props = resource["Properties"]
            if props.get("RestApiId") != {"Ref": self.logical_id} or props["HttpMethod"] == "OPTIONS":
                continue
            authorizer, ttl = None, 300
            if props.get("AuthorizationType") == "CUSTOM":
                authorizer_props = resources[props["AuthorizerId"]["Ref"]]["Properties"]
                authorizer = self._function_in(authorizer_props["AuthorizerUri"])
                ttl = int(authorizer_props.get("AuthorizerResultTtlInSeconds", 300))
            routes.append(
                _Route(
                    method=props["HttpMethod"],
                    path=path_of(props["ResourceId"]) or "/",
                    function=self._function_in(props.get("Integration", {}).get("Uri")),
                    api_key_required=bool(props.get("ApiKeyRequired")),
                    authorizer=authorizer,
                    authorizer_ttl=ttl,
                )
            )
        return routes

    def _function_in(self, uri: Any) -> EmulatedFunction | None:
        text = json.dumps(uri)
        for logical_id, function in self.stack.functions.items():
            if f'"{logical_id}"' in text:
                return function
        return None

    # ---- requests ---------------------------------------------------------------------------

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
        response = self._request(method.upper(), path, api_key, body, dict(query or {}), dict(headers or {}))
        self.calls.append((method.upper(), path, response.status))
        return response

    def _request(self, method, path, api_key, body, query, headers) -> ApiResponse:
        for route in self.routes:
            parameters = route.match(method, path)
            if parameters is not None:
                break
        else:
            return ApiResponse(403, {"message": "Missing Authentication Token"})
        if api_key is not None:
            headers["x-api-key"] = api_key
        if route.api_key_required and not self._key_is_valid(headers.get("x-api-key")):
            return ApiResponse(403, {"message": "Forbidden"})
        context: dict[str, Any] = {}
        if route.authorizer is not None:
            decision = self._authorize(route, method, path, headers, query, parameters)
            if isinstance(decision, ApiResponse):
                return decision
            context = decision
        if route.function is None:
            return ApiResponse(500, {"message": "Internal server error"})
        event = self._proxy_event(route, method, path, parameters, headers, query, body, context)
        try:
            result = self.stack.invoke(route.function, event)
        except Exception:  # Lambda errors surface as 502 from API Gateway
            return ApiResponse(502, {"message": "Internal server error"})
        text = result.get("body") or ""
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return ApiResponse(int(result.get("statusCode", 200)), parsed, result.get("headers") or {})

    def _key_is_valid(self, value: str | None) -> bool:
        if not value:
            return False
        client = self.stack.client("apigateway")
        keys = client.get_api_keys(includeValues=True)["items"]
        key = next((k for k in keys if k.get("value") == value), None)
        if key is None or not key.get("enabled", True):
            return False
        for plan in client.get_usage_plans(keyId=key["id"]).get("items", []):
            if any(s.get("apiId") == self.api_id and s.get("stage") == self.stage for s in plan.get("apiStages", [])):
                return True
        return False

    def method_arn(self, method: str, path: str) -> str:
        return f"arn:aws:execute-api:{self.stack.region}:123456789012:{self.api_id}/{self.stage}/{method}{quote(path)}"

    def _authorize(self, route, method, path, headers, query, parameters) -> dict[str, Any] | ApiResponse:
        identity = headers.get("x-api-key") or ""
        method_arn = self.method_arn(method, path)
        cached = self._authorizer_cache.get((route.authorizer.logical_id, identity)) if route.authorizer_ttl else None
        if cached is None:
            event = {
                "type": "REQUEST",
                "methodArn": method_arn,
                "resource": route.path,
                "path": path,
                "httpMethod": method,
                "headers": headers,
                "queryStringParameters": query or None,
                "pathParameters": parameters or None,
                "stageVariables": None,
                "requestContext": {"apiId": self.api_id, "stage": self.stage, "httpMethod": method,
                                   "resourcePath": route.path, "path": f"/{self.stage}{path}"},
            }
            try:
                cached = self.stack.invoke(route.authorizer, event)
            except Exception as error:
                if str(error) == "Unauthorized":
                    return ApiResponse(401, {"message": "Unauthorized"})
                return ApiResponse(500, {"message": None})
            if route.authorizer_ttl:
                self._authorizer_cache[(route.authorizer.logical_id, identity)] = cached
        if not _policy_allows(cached.get("policyDocument", {}), method_arn):
            return ApiResponse(403, {"message": "User is not authorized to access this resource with an explicit deny"})
        return {**(cached.get("context") or {}), "principalId": cached.get("principalId")}

    def _proxy_event(self, route, method, path, parameters, headers, query, body, context) -> dict[str, Any]:
        if body is not None and not isinstance(body, str):
            body = json.dumps(body)
            headers.setdefault("content-type", "application/json")
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
            "pathParameters": parameters or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": method,
                "path": f"/{self.stage}{path}",
                "stage": self.stage,
                "apiId": self.api_id,
                "requestId": str(uuid.uuid4()),
                "identity": {"sourceIp": "127.0.0.1", "apiKey": headers.get("x-api-key")},
                "authorizer": context,
            },
            "body": body,
            "isBase64Encoded": False,
        }

    def invalidate_authorizer_cache(self) -> None:
        """Forget cached authorizer results, as if their TTL had passed."""
        self._authorizer_cache.clear()


def _policy_allows(policy: Mapping[str, Any], method_arn: str) -> bool:
    allowed = False
    for statement in policy.get("Statement", []):
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if not any(fnmatch.fnmatchcase(method_arn, pattern) for pattern in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed


def _only(items: list[Any], what: str) -> Any:
    if len(items) != 1:
        raise LookupError(f"expected one {what}, found {len(items)}: {items}")
    return items[0]
