"""Usage of SecureHttpApi, included in the docs and synthesized by the tests."""

from aws_cdk import Stack
from aws_cdk import aws_apigatewayv2_authorizers as authorizers

from serverless_patterns.alerting_function import AlertingFunction, Invocation
from serverless_patterns.handlers import handler_code, handler_entry
from serverless_patterns.secure_http_api import SecureHttpApi


def build(stack: Stack) -> SecureHttpApi:
    # Every route needs this JWT authorizer unless it says otherwise.
    jwt = authorizers.HttpJwtAuthorizer(
        "Jwt", "https://auth.example.com/", jwt_audience=["documents-api"]
    )
    # Defaults: JSON access logs (KMS-encrypted, 30 days) and throttling on the $default stage.
    api = SecureHttpApi(
        stack,
        "DataApi",
        authorizer=jwt,
        cors_origins=["https://app.example.com"],  # named origins only, never "*"
    )

    # Only API Gateway invokes it (synchronously): no dead-letter queue or EventInvokeConfig.
    data = AlertingFunction(
        stack,
        "DataHandler",
        code=handler_code("example_echo"),
        handler=handler_entry("example_echo"),
        invocation=Invocation.SYNCHRONOUS,
    )
    api.add_route(["GET", "PUT", "DELETE"], "/api/data/{id}", data)
    api.add_route("GET", "/api/data", data, authorization_scopes=["documents/read"])
    # A public route must say why; the reason goes into the compliance report.
    api.add_route("GET", "/api/health", data, public_reason="Liveness probe; answers 200 and returns no data.")
    return api
