"""Usage of ApiWithKeyedUsagePlan, included in the docs and synthesized by the tests."""

from aws_cdk import Duration, Stack

from serverless_patterns.alerting_function import AlertingFunction, Invocation
from serverless_patterns.handlers import handler_code, handler_entry
from serverless_patterns.keyed_api import ApiWithKeyedUsagePlan, UsagePlanTier


def build(stack: Stack) -> ApiWithKeyedUsagePlan:
    # Defaults: a regional REST API, API key (x-api-key header) and authorizer on every route,
    # JSON access logs and execution logs (KMS-encrypted, 30 days), X-Ray, an AWS WAF web ACL,
    # stage throttling, and an alarm on bursts of denied keys.
    api = ApiWithKeyedUsagePlan(
        stack,
        "DocumentsApi",
        # One usage plan per tier; `serverless-patterns clients create --tier NAME` finds it by name.
        tiers=[
            UsagePlanTier("read-only", "read-only", quota_per_day=10_000, rate_limit=20, burst_limit=40),
            UsagePlanTier("read-write", "read-write"),  # 1000 a day, 10 per second, bursts of 20
            UsagePlanTier("admin", "admin", quota_per_day=500, rate_limit=2, burst_limit=5),
        ],
        authorizer_cache_ttl=Duration.minutes(1),  # a revoked key stops working within a minute
        alert_emails=["oncall@example.com"],
    )

    # Only API Gateway invokes it (synchronously): no dead-letter queue or EventInvokeConfig.
    documents = AlertingFunction(
        stack,
        "DocumentsHandler",
        code=handler_code("example_echo"),
        handler=handler_entry("example_echo"),
        invocation=Invocation.SYNCHRONOUS,
    )
    # Each route names the lowest level that may call it: read-only < read-write < admin.
    api.add_route("GET", "/documents/{id}", documents, level="read-only")
    api.add_route(
        "POST",
        "/documents",
        documents,
        level="read-write",
        request_schema={  # JSON Schema draft 4; API Gateway rejects other bodies with 400
            "type": "object",
            "required": ["title"],
            "properties": {"title": {"type": "string", "maxLength": 200}},
        },
    )
    api.add_route("DELETE", "/documents/{id}", documents, level="admin")
    return api
