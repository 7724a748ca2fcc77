"""SecureHttpApi: defaults, options, snapshots, compliance and validation."""

from __future__ import annotations

import importlib
import json

import pytest
from aws_cdk import App, CfnParameter, Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_logs as logs
from deploy_readiness import STACK_INSTANCE_ID, ends_with_stack_instance_id, literal_start
from harness import acknowledged_rules, assert_compliant, synthesize

from serverless_patterns.alerting_function import AlertingFunction, Invocation
from serverless_patterns.handlers import handler_code, handler_entry
from serverless_patterns.secure_http_api import ACCESS_LOG_FIELDS, SecureHttpApi

CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"
HEALTH_REASON = "Liveness probe for the load balancer; answers 200 and returns no data."


def _function(stack, id="Data"):
    return AlertingFunction(
        stack, id, code=handler_code("example_echo"), handler=handler_entry("example_echo"),
        invocation=Invocation.SYNCHRONOUS,
    )


def _default(stack):
    api = SecureHttpApi(stack, "Api")
    api.add_route("GET", "/items", _function(stack), authorizer=authorizers.HttpIamAuthorizer())
    return api


def _maximal(stack):
    jwt = authorizers.HttpJwtAuthorizer("Jwt", "https://auth.example.com/", jwt_audience=["data-api"])
    checker = _function(stack, "Checker")
    lambda_authorizer = authorizers.HttpLambdaAuthorizer(
        "Keys", checker.function, response_types=[authorizers.HttpLambdaResponseType.SIMPLE]
    )
    api = SecureHttpApi(
        stack,
        "Api",
        api_name="data-api",
        description="Data of the app",
        authorizer=jwt,
        throttling_rate_limit=20,
        throttling_burst_limit=40,
        cors_origins=["https://app.example.com", "https://admin.example.com"],
        cors_allow_headers=["Content-Type", "Authorization", "X-Request-Id"],
        cors_allow_credentials=True,
        cors_max_age=Duration.hours(1),
        log_retention=logs.RetentionDays.ONE_YEAR,
        detailed_metrics=True,
        domain_name="api.example.com",
        certificate=acm.Certificate.from_certificate_arn(stack, "Certificate", CERTIFICATE_ARN),
        tags={"Owner": "data-team"},
    )
    data = _function(stack)
    api.add_route(["GET", "PUT", "DELETE"], "/api/data/{id}", data)
    api.add_route("GET", "/api/data", data, authorization_scopes=["data/read"])
    api.add_route("GET", "/api/health", data, public_reason=HEALTH_REASON)
    api.add_route("ANY", "/api/admin/{proxy+}", data, authorizer=lambda_authorizer)
    api.add_route("POST", "/api/reports", data, authorizer=authorizers.HttpIamAuthorizer())
    return api


@pytest.fixture(scope="module")
def default():
    return synthesize(_default)


@pytest.fixture(scope="module")
def maximal():
    return synthesize(_maximal)


def _routes(synth):
    return {r["Properties"]["RouteKey"]: r["Properties"] for r in synth.resources("AWS::ApiGatewayV2::Route").values()}


def _one(synth, resource_type, contains=""):
    found = {k: r for k, r in synth.resources(resource_type).items() if contains in k}
    assert len(found) == 1, f"expected one {resource_type} matching {contains!r}, found {sorted(found)}"
    return next(iter(found.items()))


# ---- defaults -----------------------------------------------------------------------------------


def test_default_is_an_http_api_without_cors_reachable_on_execute_api(default):
    props = default.only("AWS::ApiGatewayV2::Api")
    assert props["ProtocolType"] == "HTTP"
    assert "CorsConfiguration" not in props
    assert not props.get("DisableExecuteApiEndpoint"), "without a custom domain the default endpoint is the way in"
    assert props["Name"].startswith("Test-Api-")


def test_default_stage_logs_json_with_http_api_variables_and_throttles(default):
    stage = default.only("AWS::ApiGatewayV2::Stage")
    (group_id, _) = _one(default, "AWS::Logs::LogGroup", "AccessLogs")
    assert stage["StageName"] == "$default" and stage["AutoDeploy"] is True
    assert stage["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": [group_id, "Arn"]}
    fields = json.loads(stage["AccessLogSettings"]["Format"])
    assert fields == dict(ACCESS_LOG_FIELDS)
    for variable in ("$context.requestId", "$context.routeKey", "$context.status", "$context.identity.sourceIp",
                     "$context.integrationErrorMessage"):
        assert variable in fields.values()
    for rest_only in ("$context.resourcePath", "$context.httpMethod", "$context.integration.error"):
        assert rest_only not in fields.values()
    assert stage["DefaultRouteSettings"] == {"DetailedMetricsEnabled": False, "ThrottlingBurstLimit": 200, "ThrottlingRateLimit": 100}


def test_access_log_group_is_encrypted_retained_and_named_for_vended_logs(default):
    (_, group) = _one(default, "AWS::Logs::LogGroup", "AccessLogs")
    props = group["Properties"]
    assert literal_start(props["LogGroupName"]).startswith("/aws/vendedlogs/apigateway/Test-Api-")
    assert ends_with_stack_instance_id(props["LogGroupName"]), "unique per stack instance: the group outlives the stack"
    assert props["RetentionInDays"] == 30
    assert group["DeletionPolicy"] == "RetainExceptOnCreate"
    key_id = props["KmsKeyId"]["Fn::GetAtt"][0]
    statements = default.template["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
    (logs_statement,) = [s for s in statements if "kms:EncryptionContext:aws:logs:arn" in json.dumps(s.get("Condition", {}))]
    condition = json.dumps(logs_statement["Condition"])
    assert literal_start(props["LogGroupName"]) in condition and json.dumps(STACK_INSTANCE_ID) in condition
    assert default.template["Resources"][key_id]["Properties"]["EnableKeyRotation"] is True


def test_default_route_uses_its_authorizer_and_a_lambda_proxy_integration(default):
    (route,) = _routes(default).values()
    assert route["AuthorizationType"] == "AWS_IAM"
    integration = default.only("AWS::ApiGatewayV2::Integration")
    function_id = _one(default, "AWS::Lambda::Function", "Data")[0]
    assert integration["IntegrationType"] == "AWS_PROXY" and integration["PayloadFormatVersion"] == "2.0"
    assert integration["IntegrationUri"] == {"Fn::GetAtt": [function_id, "Arn"]}
    permission = default.only("AWS::Lambda::Permission")
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert json.dumps(permission["SourceArn"]).endswith('"/*/*/items"]]}')


def test_http_apis_have_no_api_keys_usage_plans_or_rest_resources(default, maximal):
    for synth in (default, maximal):
        assert not [t for t in (r["Type"] for r in synth.template["Resources"].values()) if t.startswith("AWS::ApiGateway::")]


def test_default_output_and_tags(default):
    (output,) = [v for k, v in default.template["Outputs"].items() if k.startswith("ApiUrl")]
    assert "execute-api" in json.dumps(output["Value"])
    assert default.only("AWS::ApiGatewayV2::Api")["Tags"] == {"serverless-patterns:construct": "SecureHttpApi"}


# ---- options ------------------------------------------------------------------------------------


def test_maximal_cors_names_its_origins_and_headers(maximal):
    cors = maximal.only("AWS::ApiGatewayV2::Api")["CorsConfiguration"]
    assert cors == {
        "AllowCredentials": True,
        "AllowHeaders": ["Content-Type", "Authorization", "X-Request-Id"],
        "AllowMethods": ["*"],
        "AllowOrigins": ["https://app.example.com", "https://admin.example.com"],
        "MaxAge": 3600,
    }


def test_maximal_routes_use_the_default_jwt_their_own_authorizers_or_none_on_purpose(maximal):
    routes = _routes(maximal)
    (jwt_id, _) = _one(maximal, "AWS::ApiGatewayV2::Authorizer", "Jwt")
    (lambda_id, lambda_authorizer) = _one(maximal, "AWS::ApiGatewayV2::Authorizer", "Keys")
    for key in ("GET /api/data/{id}", "PUT /api/data/{id}", "DELETE /api/data/{id}", "GET /api/data"):
        assert (routes[key]["AuthorizationType"], routes[key]["AuthorizerId"]) == ("JWT", {"Ref": jwt_id})
    assert routes["GET /api/data"]["AuthorizationScopes"] == ["data/read"]
    assert routes["GET /api/health"]["AuthorizationType"] == "NONE"
    assert (routes["ANY /api/admin/{proxy+}"]["AuthorizationType"], routes["ANY /api/admin/{proxy+}"]["AuthorizerId"]) == (
        "CUSTOM", {"Ref": lambda_id}
    )
    assert routes["POST /api/reports"]["AuthorizationType"] == "AWS_IAM"
    assert lambda_authorizer["Properties"]["EnableSimpleResponses"] is True
    assert sorted(maximal.extra["built"].route_keys) == sorted(routes)


def test_maximal_custom_domain_with_tls12_replaces_the_execute_api_endpoint(maximal):
    assert maximal.only("AWS::ApiGatewayV2::Api")["DisableExecuteApiEndpoint"] is True
    (domain_id, domain) = _one(maximal, "AWS::ApiGatewayV2::DomainName")
    assert domain["Properties"]["DomainName"] == "api.example.com"
    assert domain["Properties"]["DomainNameConfigurations"] == [
        {"CertificateArn": CERTIFICATE_ARN, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}
    ]
    mapping = maximal.only("AWS::ApiGatewayV2::ApiMapping")
    assert mapping["DomainName"] == {"Ref": domain_id} and mapping["Stage"] == "$default"
    (output,) = [v for k, v in maximal.template["Outputs"].items() if k.startswith("ApiUrl")]
    assert output["Value"] == {"Fn::Join": ["", ["https://", {"Ref": domain_id}, "/"]]}


def test_maximal_stage_retention_metrics_name_and_tags(maximal):
    stage = maximal.only("AWS::ApiGatewayV2::Stage")
    assert stage["DefaultRouteSettings"] == {"DetailedMetricsEnabled": True, "ThrottlingBurstLimit": 40, "ThrottlingRateLimit": 20}
    (_, group) = _one(maximal, "AWS::Logs::LogGroup", "AccessLogs")
    assert group["Properties"]["RetentionInDays"] == 365
    api = maximal.only("AWS::ApiGatewayV2::Api")
    assert (api["Name"], api["Description"]) == ("data-api", "Data of the app")
    assert api["Tags"]["Owner"] == "data-team"


def test_parameter_tokens_are_not_judged():
    def build(stack):
        rate = CfnParameter(stack, "Rate", type="Number")
        burst = CfnParameter(stack, "Burst", type="Number")
        api = SecureHttpApi(stack, "Api", throttling_rate_limit=rate.value_as_number, throttling_burst_limit=burst.value_as_number)
        api.add_route("GET", "/", _function(stack), authorizer=authorizers.HttpIamAuthorizer())
        return api

    stage = synthesize(build).only("AWS::ApiGatewayV2::Stage")
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "Rate"}
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == {"Ref": "Burst"}


# ---- snapshots and compliance -------------------------------------------------------------------


def test_default_snapshot(default, snapshot_json):
    assert default.normalised() == snapshot_json


def test_maximal_snapshot(maximal, snapshot_json):
    assert maximal.normalised() == snapshot_json


@pytest.mark.parametrize("configuration", ["default", "maximal"])
def test_compliance(configuration, request):
    assert_compliant(request.getfixturevalue(configuration))


def test_only_the_public_route_is_acknowledged_on_the_api(default, maximal):
    assert not [p for p in acknowledged_rules(default) if p.startswith("Test/Api/")]
    on_api = {p: r for p, r in acknowledged_rules(maximal).items() if p.startswith("Test/Api/")}
    assert on_api == {"Test/Api/Resource/GET--api--health/Resource": {"AwsSolutions-APIG4"}}
    (apig4,) = [a for a in maximal.nag.acknowledged if a.rule == "AwsSolutions-APIG4"]
    assert apig4.reason == HEALTH_REASON


# ---- validation ---------------------------------------------------------------------------------


def _new(**props):
    return SecureHttpApi(Stack(App(), "V"), "Bad", **props)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"cors_origins": ["*"]}, "cors_origins='*': must be an https origin"),
        ({"cors_origins": ["http://localhost.example.com:3000"]}, "cors_origins='http://localhost.example.com:3000': must be an https origin"),
        ({"cors_origins": ["https://App.example.com"]}, "cors_origins='https://App.example.com'"),
        ({"cors_origins": ["https://a.example.com"] * 2}, "each origin may be listed once"),
        ({"cors_origins": ["https://a.example.com"], "cors_allow_headers": ["*"]}, "cors_allow_headers='*': must be a header name"),
        ({"cors_allow_credentials": True}, "cors_allow_credentials=True: needs cors_origins"),
        ({"cors_max_age": Duration.days(2)}, "cors_max_age='172800 seconds': must be whole seconds from 0 to 86400"),
        ({"throttling_rate_limit": 0}, "throttling_rate_limit=0: must be a number of requests per second greater than 0"),
        ({"throttling_rate_limit": 50, "throttling_burst_limit": 10}, "throttling_burst_limit=10: must be at least throttling_rate_limit (50)"),
        ({"throttling_burst_limit": 2.5}, "throttling_burst_limit=2.5: must be a whole number of requests, at least 1"),
        ({"log_retention": logs.RetentionDays.INFINITE}, "logs must expire"),
        ({"domain_name": "api.example.com"}, "a custom domain needs both domain_name and certificate"),
        ({"authorizer": apigwv2.HttpNoneAuthorizer()}, "a default authorizer that lets everyone in is no authorizer"),
        ({"api_name": ""}, "api_name='': must be 1-128 characters"),
        ({"tags": {"aws:x": "y"}}, "tags key 'aws:x'"),
    ],
)
def test_invalid_props_raise_value_error_naming_the_prop(props, message):
    with pytest.raises(ValueError) as error:
        _new(**props)
    assert message in str(error.value)
    assert str(error.value).startswith("SecureHttpApi: ")


def test_domain_name_must_be_a_dns_name():
    stack = Stack(App(), "V")
    certificate = acm.Certificate.from_certificate_arn(stack, "C", CERTIFICATE_ARN)
    with pytest.raises(ValueError, match="domain_name='API.example.com': must be a lowercase DNS name"):
        SecureHttpApi(stack, "Bad", domain_name="API.example.com", certificate=certificate)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"cors_origins": "https://app.example.com"}, "cors_origins must be a list, got str"),
        ({"authorizer": "jwt"}, "authorizer must be IHttpRouteAuthorizer, got str"),
        ({"certificate": CERTIFICATE_ARN}, "certificate must be ICertificate, got str"),
        ({"cors_max_age": 600}, "cors_max_age must be Duration, got int"),
    ],
)
def test_wrong_types_raise_type_error_naming_the_prop(props, message):
    with pytest.raises(TypeError, match=message):
        _new(**props)


@pytest.fixture(scope="module")
def routed():
    stack = Stack(App(), "R")
    api = SecureHttpApi(stack, "Api", cors_origins=["https://app.example.com"])
    fn = _function(stack)
    api.add_route("GET", "/items/{id}", fn, authorizer=authorizers.HttpIamAuthorizer())
    return api, fn


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("GET", "/open"), {}, "authorizer=None: the route would be public: pass an authorizer"),
        (("GET", "/open"), {"public_reason": " "}, "say why the route needs no authorizer"),
        (("GET", "/x"), {"public_reason": "ok", "authorizer": authorizers.HttpIamAuthorizer()}, "a public route takes no authorizer"),
        (("GET", "/x"), {"public_reason": "ok", "authorization_scopes": ["a/b"]}, "authorization_scopes=['a/b']: scopes need an authorizer"),
        (("FETCH", "/x"), {"public_reason": "ok"}, "methods='FETCH': must be one of GET, POST"),
        (([], "/x"), {"public_reason": "ok"}, "methods=[]: name at least one method"),
        ((["GET", "get"], "/x"), {"public_reason": "ok"}, "methods=['GET']: each method may be listed once"),
        (("OPTIONS", "/x"), {"public_reason": "ok"}, "API Gateway answers CORS preflight (OPTIONS) requests itself"),
        (("GET", "x"), {"public_reason": "ok"}, "path='x': must start with '/'"),
        (("GET", "/x/"), {"public_reason": "ok"}, "path='/x/': must not end with '/'"),
        (("GET", "/{proxy+}/x"), {"public_reason": "ok"}, "the greedy segment '{proxy+}' must be the last one"),
        (("GET", "/items/{id}"), {"public_reason": "ok"}, "the route 'GET /items/{id}' exists already"),
    ],
)
def test_add_route_validates_and_names_the_problem(routed, args, kwargs, message):
    api, fn = routed
    before = api.route_keys
    with pytest.raises(ValueError) as error:
        api.add_route(*args, fn, **kwargs)
    assert message in str(error.value)
    assert str(error.value).startswith("SecureHttpApi.add_route: invalid props:")
    assert api.route_keys == before


def test_add_route_type_errors(routed):
    api, fn = routed
    with pytest.raises(TypeError, match=r"function must be AlertingFunction or IFunction, got str \('arn:aws:lambda"):
        api.add_route("GET", "/y", "arn:aws:lambda:us-east-1:123456789012:function:f", public_reason="ok")
    with pytest.raises(TypeError, match="authorization_scopes must be a list, got str"):
        api.add_route("GET", "/y", fn, authorizer=authorizers.HttpIamAuthorizer(), authorization_scopes="a/b")


# ---- the docs' example ----------------------------------------------------------------------------


def test_usage_snippet_synthesizes_compliant():
    module = importlib.import_module("examples.snippets.secure_http_api_usage")
    synth = synthesize(module.build)
    assert_compliant(synth)
    assert set(_routes(synth)) == {
        "GET /api/data/{id}", "PUT /api/data/{id}", "DELETE /api/data/{id}", "GET /api/data", "GET /api/health"
    }
    assert _routes(synth)["GET /api/health"]["AuthorizationType"] == "NONE"
