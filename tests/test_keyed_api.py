"""ApiWithKeyedUsagePlan: defaults, options, the authorizer's wiring, snapshots, compliance, validation."""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass

import pytest
from aws_cdk import App, CfnParameter, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from harness import acknowledged_rules, assert_compliant, synthesize

from serverless_patterns import _actions
from serverless_patterns.alert_topic import AlertTopic
from serverless_patterns.alerting_function import AlertingFunction, Invocation
from serverless_patterns.handlers import handler_code, handler_entry
from serverless_patterns.handlers.api_key_authorizer.decision import authorize
from serverless_patterns.handlers.api_key_authorizer.keys import API_KEY_HEADER, api_key_digest
from serverless_patterns.api_gateway_account import CLOUDWATCH_ROLE_REASON
from serverless_patterns.keyed_api import (
    ACCESS_LOG_FIELDS,
    ACCOUNT_ROLE_EXISTS_REASON,
    COGNITO_REASON,
    DEFAULT_TIERS,
    IDENTITY_SOURCE,
    NO_CACHE_REASON,
    NO_CLIENT_CERTIFICATE_REASON,
    TIER_TAG,
    ApiWithKeyedUsagePlan,
    UsagePlanTier,
)

VPC_ID = "vpc-0123456789abcdef0"
ENDPOINT_ID = "vpce-0123456789abcdef0"
WEB_ACL_ARN = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/shared/0a1b2c3d-1111-2222-3333-444455556666"
DOCUMENT_SCHEMA = {
    "type": "object",
    "required": ["title"],
    "properties": {"title": {"type": "string", "maxLength": 200}},
    "additionalProperties": False,
}
DEFAULT_ROUTES = [
    ("GET", "/documents/{id}", "read-only"),
    ("POST", "/documents", "read-write"),
    ("DELETE", "/documents/{id}", "admin"),
]


def _function(stack, id="Documents"):
    return AlertingFunction(
        stack, id, code=handler_code("example_echo"), handler=handler_entry("example_echo"),
        invocation=Invocation.SYNCHRONOUS,
    )


def _default(stack):
    api = ApiWithKeyedUsagePlan(stack, "Api")
    documents = _function(stack)
    for method, path, level in DEFAULT_ROUTES:
        api.add_route(method, path, documents, level=level, request_schema=DOCUMENT_SCHEMA if method == "POST" else None)
    return api


def _vpc(stack):
    return ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id=VPC_ID,
        vpc_cidr_block="10.20.0.0/16",
        availability_zones=["us-east-1a", "us-east-1b"],
        isolated_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
        isolated_subnet_route_table_ids=["rtb-0aaaaaaaaaaaaaaa1", "rtb-0bbbbbbbbbbbbbbb2"],
    )


MAXIMAL_TIERS = [
    UsagePlanTier("read-only", "read-only", quota_per_day=5000, rate_limit=20, burst_limit=40),
    UsagePlanTier("read-write", "read-write", quota_per_day=2000, rate_limit=10, burst_limit=10),
    UsagePlanTier("partner", "admin", quota_per_day=100, rate_limit=1, burst_limit=2),
]


def _maximal(stack):
    api = ApiWithKeyedUsagePlan(
        stack,
        "Api",
        tiers=MAXIMAL_TIERS,
        stage_name="v1",
        rest_api_name="documents-api",
        description="Documents of the records team",
        authorizer_cache_ttl=Duration.seconds(60),
        throttling_rate_limit=50,
        throttling_burst_limit=100,
        logging_level=apigw.MethodLoggingLevel.INFO,
        detailed_metrics=True,
        log_retention=logs.RetentionDays.ONE_YEAR,
        cors_origins=["https://app.example.com", "https://admin.example.com"],
        private=True,
        vpc=_vpc(stack),
        web_acl_rate_limit=500,
        cloud_watch_role=True,
        denied_alarm_threshold=25,
        denied_alarm_period=Duration.minutes(1),
        alert_emails=["ops@example.com"],
        tags={"Owner": "records-team"},
    )
    documents = _function(stack)
    api.add_route("GET", "/documents", documents, level="read-only", required_query_parameters=["page"])
    api.add_route("GET", "/documents/{id}", documents, level="read-only")
    api.add_route("PUT", "/documents/{id}", documents, level="read-write", request_schema=DOCUMENT_SCHEMA)
    api.add_route("ANY", "/admin/{proxy+}", _function(stack, "Admin"), level="admin")
    return api


@pytest.fixture(scope="module")
def default():
    return synthesize(_default)


@pytest.fixture(scope="module")
def maximal():
    return synthesize(_maximal)


def _one(synth, resource_type, contains=""):
    found = {k: r for k, r in synth.resources(resource_type).items() if contains in k}
    assert len(found) == 1, f"expected one {resource_type} matching {contains!r}, found {sorted(found)}"
    return next(iter(found.items()))


def _methods(synth, *, options=False):
    return {
        k: r["Properties"]
        for k, r in synth.resources("AWS::ApiGateway::Method").items()
        if (r["Properties"]["HttpMethod"] == "OPTIONS") is options
    }


def _authorizer_function(synth):
    return _one(synth, "AWS::Lambda::Function", "AuthorizerFunction")


def _env(synth):
    return _authorizer_function(synth)[1]["Properties"]["Environment"]["Variables"]


def _stage(synth):
    return _one(synth, "AWS::ApiGateway::Stage")


def _statements(policy):
    return policy["Properties"]["PolicyDocument"]["Statement"]


def _actions_of(statement):
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


# ---- the API and its methods ------------------------------------------------------------------


def test_default_is_a_regional_rest_api_reading_keys_from_the_header(default):
    props = default.only("AWS::ApiGateway::RestApi")
    assert props["ApiKeySourceType"] == "HEADER"
    assert props["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert "Policy" not in props


def test_every_route_requires_the_api_key_the_authorizer_and_the_validator(default):
    (authorizer_id, _), (validator_id, validator) = (
        _one(default, "AWS::ApiGateway::Authorizer"),
        _one(default, "AWS::ApiGateway::RequestValidator"),
    )
    methods = _methods(default)
    assert sorted(m["HttpMethod"] for m in methods.values()) == ["DELETE", "GET", "POST"]
    for method in methods.values():
        assert method["ApiKeyRequired"] is True
        assert method["AuthorizationType"] == "CUSTOM"
        assert method["AuthorizerId"] == {"Ref": authorizer_id}
        assert method["RequestValidatorId"] == {"Ref": validator_id}
        assert method["Integration"]["Type"] == "AWS_PROXY"
    assert validator["Properties"]["ValidateRequestBody"] is True
    assert validator["Properties"]["ValidateRequestParameters"] is True
    assert not _methods(default, options=True), "no CORS preflight methods unless cors_origins is set"


def test_path_parameters_are_required_and_bodies_validated_against_the_schema(default):
    methods = {m["HttpMethod"]: m for m in _methods(default).values()}
    assert methods["GET"]["RequestParameters"] == {"method.request.path.id": True}
    (model_id, model) = _one(default, "AWS::ApiGateway::Model")
    assert methods["POST"]["RequestModels"] == {"application/json": {"Ref": model_id}}
    assert model["Properties"]["ContentType"] == "application/json"
    assert model["Properties"]["Schema"] == {"$schema": "http://json-schema.org/draft-04/schema#", **DOCUMENT_SCHEMA}
    assert "RequestModels" not in methods["GET"]


def test_lambda_permissions_are_scoped_to_each_method_and_no_test_invoke(default):
    permissions = [p["Properties"] for p in default.resources("AWS::Lambda::Permission").values()]
    source_arns = json.dumps([p["SourceArn"] for p in permissions])
    assert "test-invoke-stage" not in source_arns
    assert all(p["Principal"] == "apigateway.amazonaws.com" for p in permissions)
    # one per method, one for the authorizer
    assert len(permissions) == len(DEFAULT_ROUTES) + 1


# ---- the authorizer -----------------------------------------------------------------------------


def test_authorizer_is_a_cached_request_authorizer_on_the_api_key_header(default):
    _, authorizer = _one(default, "AWS::ApiGateway::Authorizer")
    props = authorizer["Properties"]
    function_id, _ = _authorizer_function(default)
    assert props["Type"] == "REQUEST"
    assert props["IdentitySource"] == IDENTITY_SOURCE == f"method.request.header.{API_KEY_HEADER}"
    assert props["AuthorizerResultTtlInSeconds"] == 300
    assert {"Fn::GetAtt": [function_id, "Arn"]} in json.loads(json.dumps(props["AuthorizerUri"]))["Fn::Join"][1]


def test_authorizer_function_runs_the_packaged_handler_with_its_environment(default):
    _, function = _authorizer_function(default)
    props = function["Properties"]
    assert props["Handler"] == "api_key_authorizer.index.handler"
    assert "AWSLambdaPowertoolsPythonV3" in json.dumps(props["Layers"])
    env = _env(default)
    table_id, _ = _one(default, "AWS::DynamoDB::Table")
    assert env["PERMISSIONS_TABLE"] == {"Ref": table_id}
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "ServerlessPatterns"
    assert env["POWERTOOLS_SERVICE_NAME"].startswith("Test-Api-")


def test_route_permissions_lists_the_routes_added_after_construction(default):
    routes = json.loads(_env(default)["ROUTE_PERMISSIONS"])
    assert routes == [{"method": m, "path": p, "level": level} for m, p, level in DEFAULT_ROUTES]
    api = default.extra["built"]
    assert [(r.method, r.path, r.level) for r in api.routes] == DEFAULT_ROUTES


def test_the_authorizer_reads_one_item_and_nothing_else_reads_the_table(default):
    table_id, _ = _one(default, "AWS::DynamoDB::Table")
    key_id = default.only("AWS::DynamoDB::Table")["SSESpecification"]["KMSMasterKeyId"]["Fn::GetAtt"][0]
    touching = {
        policy_id: [s for s in _statements(policy) if table_id in json.dumps(s["Resource"]) or key_id in json.dumps(s["Resource"])]
        for policy_id, policy in default.resources("AWS::IAM::ManagedPolicy").items()
    }
    touching = {k: v for k, v in touching.items() if v}
    assert list(touching) == [k for k in touching if "AuthorizerFunction" in k] and len(touching) == 1
    (statements,) = touching.values()
    actions = {(a, json.dumps(s["Resource"])) for s in statements for a in _actions_of(s)}
    assert actions == {
        ("dynamodb:GetItem", json.dumps({"Fn::GetAtt": [table_id, "Arn"]})),
        ("kms:Decrypt", json.dumps({"Fn::GetAtt": [key_id, "Arn"]})),
        ("kms:DescribeKey", json.dumps({"Fn::GetAtt": [key_id, "Arn"]})),
    }
    assert _actions.DYNAMODB_GET_ITEM == ["dynamodb:GetItem"]


def test_permissions_table_is_keyed_by_the_key_digest(default):
    props = default.only("AWS::DynamoDB::Table")
    assert props["KeySchema"] == [{"AttributeName": "key_digest", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "key_digest", "AttributeType": "S"}]
    assert props["SSESpecification"]["SSEType"] == "KMS"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


@dataclass
class _Context:
    function_name: str = "authorizer"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:authorizer"
    aws_request_id: str = "req-1"


@pytest.mark.parametrize("level", ["read-only", "read-write", "admin"])
def test_the_real_decision_logic_applies_the_synthesized_route_table(default, level):
    """The handler's own decision code, fed with the template's ROUTE_PERMISSIONS."""
    key = "K" * 40
    prefix = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod"
    items = {api_key_digest(key): {"client_id": "acme", "level": level, "status": "active"}}
    rank = ["read-only", "read-write", "admin"].index(level)
    for method, path, required in DEFAULT_ROUTES:
        concrete = path.replace("{id}", "doc-1")
        event = {"type": "REQUEST", "methodArn": f"{prefix}/{method}{concrete}", "headers": {API_KEY_HEADER: key}}
        decision = authorize(event, route_permissions=_env(default)["ROUTE_PERMISSIONS"], lookup=items.get)
        assert decision.allowed is (rank >= ["read-only", "read-write", "admin"].index(required)), (method, path)


def test_denied_metric_of_the_alarm_is_the_one_the_handler_emits(default, monkeypatch, capsys):
    from aws_lambda_powertools import Metrics

    index = importlib.import_module("serverless_patterns.handlers.api_key_authorizer.index")
    env = _env(default)
    service, namespace = env["POWERTOOLS_SERVICE_NAME"], env["POWERTOOLS_METRICS_NAMESPACE"]
    monkeypatch.setattr(index, "SERVICE", service)
    monkeypatch.setattr(index, "metrics", Metrics(namespace=namespace, service=service))
    # A request without a key: the caller's fault, a Deny (an operational failure would raise).
    monkeypatch.setenv("ROUTE_PERMISSIONS", json.dumps([{"method": "GET", "path": "/x", "level": "read-only"}]))
    event = {"type": "REQUEST", "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/x", "headers": {}}
    capsys.readouterr()
    index.handler(event, _Context())
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    (record,) = [r for r in emitted if "AuthorizationDenied" in r]
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert ["service"] in directive["Dimensions"]

    _, alarm = _one(default, "AWS::CloudWatch::Alarm", "DeniedAlarm")
    props = alarm["Properties"]
    assert (props["Namespace"], props["MetricName"]) == (directive["Namespace"], "AuthorizationDenied")
    assert props["Dimensions"] == [{"Name": "service", "Value": record["service"]}]
    metric = default.extra["built"].metric_denied()
    assert (metric.namespace, metric.metric_name, metric.dimensions) == (namespace, "AuthorizationDenied", {"service": service})


def test_denied_alarm_defaults_notify_the_alert_topic_on_alarm_and_recovery(default):
    _, alarm = _one(default, "AWS::CloudWatch::Alarm", "DeniedAlarm")
    props = alarm["Properties"]
    assert (props["Statistic"], props["Period"], props["Threshold"]) == ("Sum", 300, 10)
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert props["TreatMissingData"] == "notBreaching"
    (topic_id,) = [k for k in default.resources("AWS::SNS::Topic") if k.startswith("ApiAlertTopic")]
    assert props["AlarmActions"] == [{"Ref": topic_id}] and props["OKActions"] == [{"Ref": topic_id}]
    # the authorizer function's own alarms go to the same topic
    _, errors = _one(default, "AWS::CloudWatch::Alarm", "AuthorizerFunctionErrorsAlarm")
    assert errors["Properties"]["AlarmActions"] == [{"Ref": topic_id}]


# ---- usage plans and outputs ----------------------------------------------------------------------


def test_one_usage_plan_per_tier_with_quota_throttle_and_tier_tag(default):
    (api_id, _), (stage_id, _) = _one(default, "AWS::ApiGateway::RestApi"), _stage(default)
    plans = [p["Properties"] for p in default.resources("AWS::ApiGateway::UsagePlan").values()]
    assert len(plans) == len(DEFAULT_TIERS) == 3
    by_tier = {next(t["Value"] for t in p["Tags"] if t["Key"] == TIER_TAG): p for p in plans}
    assert set(by_tier) == {"read-only", "read-write", "admin"}
    for plan in by_tier.values():
        assert plan["Quota"] == {"Limit": 1000, "Period": "DAY"}
        assert plan["Throttle"] == {"BurstLimit": 20, "RateLimit": 10}
        assert plan["ApiStages"][0]["ApiId"] == {"Ref": api_id}
        assert plan["ApiStages"][0]["Stage"] == {"Ref": stage_id}


def test_tier_tag_is_the_one_the_clients_command_looks_up():
    from serverless_patterns.clients import TIER_TAG as CLIENTS_TIER_TAG

    assert TIER_TAG == CLIENTS_TIER_TAG


def test_the_construct_creates_no_api_keys(default, maximal):
    for synth in (default, maximal):
        assert not synth.resources("AWS::ApiGateway::ApiKey")
        assert not synth.resources("AWS::ApiGateway::UsagePlanKey")


def test_outputs_point_the_clients_command_at_the_api(default):
    outputs = default.template["Outputs"]
    (api_id, _), (stage_id, _), (table_id, _) = (
        _one(default, "AWS::ApiGateway::RestApi"),
        _stage(default),
        _one(default, "AWS::DynamoDB::Table"),
    )
    values = {k: v["Value"] for k, v in outputs.items()}

    def output(prefix):
        (value,) = [v for k, v in values.items() if k.startswith(prefix)]
        return value

    assert output("ApiApiId") == {"Ref": api_id}
    assert output("ApiStageName") == {"Ref": stage_id}
    assert output("ApiPermissionsTableName") == {"Ref": table_id}
    plan_ids = {k for k in default.resources("AWS::ApiGateway::UsagePlan")}
    for tier in ("ReadOnly", "ReadWrite", "Admin"):
        assert output(f"ApiUsagePlanId{tier}")["Ref"] in plan_ids


# ---- stage, logs, tracing, WAF --------------------------------------------------------------------


def test_stage_logs_json_to_the_encrypted_group_without_data_trace_and_traces(default):
    _, stage = _stage(default)
    props = stage["Properties"]
    (log_group_id, log_group) = _one(default, "AWS::Logs::LogGroup", "AccessLogs")
    assert props["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": [log_group_id, "Arn"]}
    fields = json.loads(props["AccessLogSetting"]["Format"])
    assert fields == dict(ACCESS_LOG_FIELDS)
    for variable in ("$context.requestId", "$context.identity.sourceIp", "$context.httpMethod", "$context.resourcePath",
                     "$context.status", "$context.responseLength", "$context.authorizer.principalId",
                     "$context.error.message"):
        assert variable in fields.values()
    assert "$context.identity.apiKey" not in fields.values(), "the key itself is never logged, only its id"
    assert fields["apiKeyId"] == "$context.identity.apiKeyId"
    assert props["TracingEnabled"] is True
    assert props["MethodSettings"] == [
        {
            "DataTraceEnabled": False,
            "HttpMethod": "*",
            "LoggingLevel": "ERROR",
            "MetricsEnabled": False,
            "ResourcePath": "/*",
            "ThrottlingBurstLimit": 200,
            "ThrottlingRateLimit": 100,
        }
    ]
    assert log_group["Properties"]["RetentionInDays"] == 30
    assert "KmsKeyId" in log_group["Properties"]


def test_execution_log_group_exists_encrypted_before_the_stage_logs(default):
    (group_id, group) = _one(default, "AWS::Logs::LogGroup", "ExecutionLogs")
    (api_id, _), (_, stage) = _one(default, "AWS::ApiGateway::RestApi"), _stage(default)
    assert group["Properties"]["LogGroupName"] == {"Fn::Join": ["", ["API-Gateway-Execution-Logs_", {"Ref": api_id}, "/prod"]]}
    assert group["Properties"]["RetentionInDays"] == 30
    assert group["DeletionPolicy"] == "RetainExceptOnCreate"
    assert group_id in stage["DependsOn"]
    logs_key_id = group["Properties"]["KmsKeyId"]["Fn::GetAtt"][0]
    key_policy = json.dumps(default.template["Resources"][logs_key_id]["Properties"]["KeyPolicy"])
    assert "API-Gateway-Execution-Logs_" in key_policy and "kms:EncryptionContext:aws:logs:arn" in key_policy


def test_default_sets_the_account_role_before_the_stage_with_no_aws_managed_policies(default):
    (account_id, _) = _one(default, "AWS::ApiGateway::Account")
    assert account_id.startswith("ApiGatewayAccount")
    _, stage = _stage(default)
    assert account_id in stage["DependsOn"]
    for role in default.resources("AWS::IAM::Role").values():
        assert "aws:policy" not in json.dumps(role["Properties"].get("ManagedPolicyArns", []))
    assert not default.resources("AWS::IAM::Policy"), "no inline policies"


def test_default_web_acl_runs_managed_rules_and_a_rate_limit_on_the_stage(default):
    (acl_id, acl) = _one(default, "AWS::WAFv2::WebACL")
    props = acl["Properties"]
    assert props["Scope"] == "REGIONAL"
    assert props["DefaultAction"] == {"Allow": {}}
    managed = [
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in props["Rules"]
        if "ManagedRuleGroupStatement" in r["Statement"]
    ]
    assert managed == [
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
    ]
    (rate,) = [r for r in props["Rules"] if "RateBasedStatement" in r["Statement"]]
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == 1000 and rate["Action"] == {"Block": {}}
    association = default.only("AWS::WAFv2::WebACLAssociation")
    (stage_id, _), (api_id, _) = _stage(default), _one(default, "AWS::ApiGateway::RestApi")
    assert association["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    arn = json.dumps(association["ResourceArn"])
    assert f'{{"Ref": "{api_id}"}}, "/stages/", {{"Ref": "{stage_id}"}}' in arn
    logging = default.only("AWS::WAFv2::LoggingConfiguration")
    assert "aws-waf-logs-" in json.dumps(logging["LogDestinationConfigs"])


def test_default_tags_resources_with_the_construct_name(default):
    api = default.only("AWS::ApiGateway::RestApi")
    assert {"Key": "serverless-patterns:construct", "Value": "ApiWithKeyedUsagePlan"} in api["Tags"]


# ---- the maximal configuration -------------------------------------------------------------------


def test_maximal_private_api_only_answers_through_its_vpc_endpoint(maximal):
    props = maximal.only("AWS::ApiGateway::RestApi")
    (endpoint_id, endpoint) = _one(maximal, "AWS::EC2::VPCEndpoint")
    assert props["EndpointConfiguration"] == {"Types": ["PRIVATE"], "VpcEndpointIds": [{"Ref": endpoint_id}]}
    statements = props["Policy"]["Statement"]
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"StringNotEquals": {"aws:SourceVpce": {"Ref": endpoint_id}}}
    assert deny["Resource"] == "execute-api:/*"
    assert endpoint["Properties"]["PrivateDnsEnabled"] is True
    assert endpoint["Properties"]["VpcId"] == VPC_ID
    assert "execute-api" in json.dumps(endpoint["Properties"]["ServiceName"])
    group = maximal.only("AWS::EC2::SecurityGroup")
    assert group["SecurityGroupIngress"] == [
        {"CidrIp": "10.20.0.0/16", "Description": "HTTPS from the VPC", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}
    ]
    assert all(rule["CidrIp"] == "255.255.255.255/32" for rule in group["SecurityGroupEgress"]), "no outbound traffic"


def test_maximal_tiers_have_their_own_quotas_and_names(maximal):
    plans = {
        next(t["Value"] for t in p["Properties"]["Tags"] if t["Key"] == TIER_TAG): p["Properties"]
        for p in maximal.resources("AWS::ApiGateway::UsagePlan").values()
    }
    assert {name: (p["Quota"]["Limit"], p["Throttle"]["RateLimit"], p["Throttle"]["BurstLimit"]) for name, p in plans.items()} == {
        "read-only": (5000, 20, 40),
        "read-write": (2000, 10, 10),
        "partner": (100, 1, 2),
    }
    assert "for admin clients" in plans["partner"]["Description"]
    assert set(maximal.extra["built"].usage_plans) == {"read-only", "read-write", "partner"}


def test_maximal_cors_preflight_answers_only_the_named_origins_without_a_key(maximal):
    options = _methods(maximal, options=True)
    assert options, "CORS preflight methods"
    for method in options.values():
        assert method["AuthorizationType"] == "NONE" and method["ApiKeyRequired"] is False
        response = method["Integration"]["IntegrationResponses"][0]
        assert response["ResponseParameters"]["method.response.header.Access-Control-Allow-Origin"] == "'https://app.example.com'"
        assert "https://admin.example.com" in response["ResponseTemplates"]["application/json"]
        assert "'*'" not in json.dumps(response["ResponseParameters"])
    for method in _methods(maximal).values():
        assert method["ApiKeyRequired"] is True and method["AuthorizationType"] == "CUSTOM"


def test_maximal_stage_settings_and_authorizer_ttl(maximal):
    _, stage = _stage(maximal)
    props = stage["Properties"]
    assert props["StageName"] == "v1"
    assert props["MethodSettings"][0] == {
        "DataTraceEnabled": False,
        "HttpMethod": "*",
        "LoggingLevel": "INFO",
        "MetricsEnabled": True,
        "ResourcePath": "/*",
        "ThrottlingBurstLimit": 100,
        "ThrottlingRateLimit": 50,
    }
    assert maximal.only("AWS::ApiGateway::Authorizer")["AuthorizerResultTtlInSeconds"] == 60
    api = maximal.only("AWS::ApiGateway::RestApi")
    assert (api["Name"], api["Description"]) == ("documents-api", "Documents of the records team")
    for group in maximal.resources("AWS::Logs::LogGroup").values():
        if "LogGroupName" in group["Properties"] and "Execution" in json.dumps(group["Properties"]["LogGroupName"]):
            assert group["Properties"]["RetentionInDays"] == 365


def test_maximal_request_parameters_and_schema(maximal):
    methods = {(m["HttpMethod"], m["ResourceId"]["Ref"]): m for m in _methods(maximal).values()}
    get_list = [m for (verb, _), m in methods.items() if verb == "GET" and "querystring" in json.dumps(m.get("RequestParameters"))]
    assert get_list[0]["RequestParameters"] == {"method.request.querystring.page": True}
    (put,) = [m for (verb, _), m in methods.items() if verb == "PUT"]
    assert put["RequestParameters"] == {"method.request.path.id": True}
    assert "application/json" in put["RequestModels"]
    (proxy,) = [m for (verb, _), m in methods.items() if verb == "ANY"]
    assert proxy["RequestParameters"] == {"method.request.path.proxy": True}


def test_opting_out_of_the_account_role_leaves_no_account_role_and_no_dependency():
    def build(stack):
        api = ApiWithKeyedUsagePlan(stack, "Api", cloud_watch_role=False)
        api.add_route("GET", "/documents", _function(stack), level="read-only")

    synth = synthesize(build)
    assert not synth.resources("AWS::ApiGateway::Account")
    assert not [i for i in synth.resources("AWS::IAM::Role") if "CloudWatchRole" in i]
    _, stage = _stage(synth)
    assert not any(d.startswith("ApiGatewayAccount") for d in stage.get("DependsOn", []))
    assert_compliant(synth)
    # The opt-out is the user's statement that the account has the role: acknowledged on the stage only.
    (ack,) = [a for a in synth.preflight.acknowledged if a.rule.startswith("RestApiLoggingWithoutAccountRole")]
    assert ack.path.startswith("Test/Api/Resource/DeploymentStage.")
    assert ack.reason == ACCOUNT_ROLE_EXISTS_REASON


def test_the_default_account_role_needs_no_preflight_acknowledgement(default):
    assert not [a for a in default.preflight.acknowledged if a.rule.startswith("RestApiLoggingWithoutAccountRole")]


def test_maximal_cloudwatch_role_is_least_privilege_and_outlives_the_stack(maximal):
    (account_id, account) = _one(maximal, "AWS::ApiGateway::Account")
    assert account["DeletionPolicy"] == "RetainExceptOnCreate"
    (role_id, role) = _one(maximal, "AWS::IAM::Role", "CloudWatchRole")
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert "aws:policy" not in json.dumps(role["Properties"]["ManagedPolicyArns"])
    assert role["DeletionPolicy"] == "RetainExceptOnCreate"
    (_, policy) = _one(maximal, "AWS::IAM::ManagedPolicy", "CloudWatchRole")
    (statement,) = _statements(policy)
    assert all(a.startswith("logs:") and "*" not in a for a in _actions_of(statement))
    assert all(":log-group:" in json.dumps(r) for r in statement["Resource"])
    _, stage = _stage(maximal)
    assert account_id in stage["DependsOn"]


def test_maximal_alarm_email_and_tags(maximal):
    _, alarm = _one(maximal, "AWS::CloudWatch::Alarm", "DeniedAlarm")
    assert (alarm["Properties"]["Threshold"], alarm["Properties"]["Period"]) == (25, 60)
    maximal.assertions.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"})
    api = maximal.only("AWS::ApiGateway::RestApi")
    assert {"Key": "Owner", "Value": "records-team"} in api["Tags"]
    assert json.loads(_env(maximal)["ROUTE_PERMISSIONS"])[-1] == {"method": "ANY", "path": "/admin/{proxy+}", "level": "admin"}


# ---- variants -------------------------------------------------------------------------------------


def test_web_acl_opt_out_records_the_reason_and_creates_no_web_acl():
    reason = "Internal API behind the corporate proxy, which runs its own WAF."

    def build(stack):
        api = ApiWithKeyedUsagePlan(stack, "Api", web_acl_opt_out_reason=reason)
        api.add_route("GET", "/items", _function(stack), level="read-only")
        return api

    synth = synthesize(build)
    assert not synth.resources("AWS::WAFv2::WebACL") and not synth.resources("AWS::WAFv2::WebACLAssociation")
    (apig3,) = [a for a in synth.nag.acknowledged if a.rule == "AwsSolutions-APIG3"]
    assert apig3.reason == reason
    assert_compliant(synth)


def test_existing_web_acl_and_vpc_endpoint_are_used_as_given():
    def build(stack):
        endpoint = ec2.InterfaceVpcEndpoint.from_interface_vpc_endpoint_attributes(stack, "Endpoint", vpc_endpoint_id=ENDPOINT_ID, port=443)
        api = ApiWithKeyedUsagePlan(stack, "Api", web_acl_arn=WEB_ACL_ARN, private=True, vpc_endpoint=endpoint)
        api.add_route("GET", "/items", _function(stack), level="read-only")
        return api

    synth = synthesize(build)
    assert not synth.resources("AWS::WAFv2::WebACL") and not synth.resources("AWS::EC2::VPCEndpoint")
    assert synth.only("AWS::WAFv2::WebACLAssociation")["WebACLArn"] == WEB_ACL_ARN
    props = synth.only("AWS::ApiGateway::RestApi")
    assert props["EndpointConfiguration"] == {"Types": ["PRIVATE"], "VpcEndpointIds": [ENDPOINT_ID]}
    assert ENDPOINT_ID in json.dumps(props["Policy"])
    assert not synth.nag.findings, "\n".join(map(str, synth.nag.findings))


def test_shared_alert_topic_and_no_denied_alarm():
    def build(stack):
        topic = AlertTopic(stack, "Alerts")
        api = ApiWithKeyedUsagePlan(stack, "Api", alert_topic=topic, denied_alarm_threshold=None)
        api.add_route("GET", "/items", _function(stack), level="read-only")
        return api

    synth = synthesize(build)
    assert not [k for k in synth.resources("AWS::CloudWatch::Alarm") if "DeniedAlarm" in k]
    assert synth.extra["built"].denied_alarm is None
    assert len([k for k in synth.resources("AWS::SNS::Topic") if k.startswith("ApiAlertTopic")]) == 0
    assert not synth.nag.findings


def test_parameter_tokens_are_not_judged():
    def build(stack):
        quota = CfnParameter(stack, "Quota", type="Number", min_value=1)
        rate = CfnParameter(stack, "Rate", type="Number")
        burst = CfnParameter(stack, "Burst", type="Number")
        api = ApiWithKeyedUsagePlan(
            stack,
            "Api",
            tiers=[UsagePlanTier("basic", "read-only", quota_per_day=quota.value_as_number, rate_limit=rate.value_as_number,
                                 burst_limit=burst.value_as_number)],
            throttling_rate_limit=rate.value_as_number,
            throttling_burst_limit=burst.value_as_number,
        )
        api.add_route("GET", "/items", _function(stack), level="read-only")
        return api

    synth = synthesize(build)
    plan = synth.only("AWS::ApiGateway::UsagePlan")
    assert plan["Quota"] == {"Limit": {"Ref": "Quota"}, "Period": "DAY"}
    assert plan["Throttle"] == {"BurstLimit": {"Ref": "Burst"}, "RateLimit": {"Ref": "Rate"}}


def test_no_routes_fails_synthesis_with_a_clear_message():
    with pytest.raises(RuntimeError, match=r"ApiWithKeyedUsagePlan Test/Api: no routes; call add_route\(\) at least once"):
        synthesize(lambda stack: ApiWithKeyedUsagePlan(stack, "Api"))


def test_a_route_table_too_large_for_the_environment_fails_synthesis():
    def build(stack):
        api = ApiWithKeyedUsagePlan(stack, "Api")
        fn = _function(stack)
        for index in range(60):
            api.add_route("GET", f"/collections/collection-number-{index:03d}", fn, level="read-only")
        return api

    with pytest.raises(RuntimeError, match="the route table is .* bytes, more than the 3072"):
        synthesize(build)


# ---- snapshots -------------------------------------------------------------------------------------


def test_default_snapshot(default, snapshot_json):
    assert default.normalised() == snapshot_json


def test_maximal_snapshot(maximal, snapshot_json):
    assert maximal.normalised() == snapshot_json


def test_logical_ids_of_the_api_and_table_are_stable(default):
    (api_id, _), (table_id, _) = _one(default, "AWS::ApiGateway::RestApi"), _one(default, "AWS::DynamoDB::Table")
    assert api_id.startswith("Api") and "Resource" not in api_id
    assert table_id.startswith("ApiPermissions")


# ---- compliance ------------------------------------------------------------------------------------


@pytest.mark.parametrize("configuration", ["default", "maximal"])
def test_compliance(configuration, request):
    assert_compliant(request.getfixturevalue(configuration))


def test_acknowledgements_of_the_api_are_the_expected_narrow_ones(default, maximal):
    expected = {
        "AwsSolutions-COG4": COGNITO_REASON,
        "HIPAA.Security-APIGWCacheEnabledAndEncrypted": NO_CACHE_REASON,
        "NIST.800.53.R5-APIGWCacheEnabledAndEncrypted": NO_CACHE_REASON,
        "PCI.DSS.321-APIGWCacheEnabledAndEncrypted": NO_CACHE_REASON,
        "CKV_AWS_120": NO_CACHE_REASON,
        "HIPAA.Security-APIGWSSLEnabled": NO_CLIENT_CERTIFICATE_REASON,
        "NIST.800.53.R5-APIGWSSLEnabled": NO_CLIENT_CERTIFICATE_REASON,
        "PCI.DSS.321-APIGWSSLEnabled": NO_CLIENT_CERTIFICATE_REASON,
    }
    for synth in (default, maximal):
        on_api = [
            a for a in [*synth.nag.acknowledged, *synth.checkov.acknowledged]
            if a.path.startswith(("Test/Api/Resource", "AWS::ApiGateway"))
        ]
        assert {a.rule: a.reason for a in on_api} == expected
        cog4 = {a.path for a in on_api if a.rule == "AwsSolutions-COG4"}
        assert len(cog4) == len(_methods(synth)), "COG4 on each keyed method, never on the API"
    role_acks = {r for path, rules in acknowledged_rules(maximal).items() if "CloudWatchRole" in path for r in rules}
    assert role_acks == {
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*:log-stream:*]",
    }
    assert all(a.reason == CLOUDWATCH_ROLE_REASON for a in maximal.nag.acknowledged if "CloudWatchRole" in a.path)


# ---- validation ------------------------------------------------------------------------------------


def _new(**props):
    return ApiWithKeyedUsagePlan(Stack(App(), "V"), "Bad", **props)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"tiers": []}, "tiers=[]: at least one usage plan tier is needed"),
        ({"tiers": [UsagePlanTier("gold", "superuser")]}, "tiers['gold'].level='superuser': must be one of read-only, read-write, admin"),
        ({"tiers": [UsagePlanTier("gold", "admin", quota_per_day=0)]}, "tiers['gold'].quota_per_day=0: must be a whole number of requests, at least 1"),
        ({"tiers": [UsagePlanTier("gold", "admin", quota_per_day=10.5)]}, "tiers['gold'].quota_per_day=10.5"),
        ({"tiers": [UsagePlanTier("gold", "admin", rate_limit=50, burst_limit=10)]}, "tiers['gold'].burst_limit=10: must be at least tiers['gold'].rate_limit (50)"),
        ({"tiers": [UsagePlanTier("gold", "admin", rate_limit=0)]}, "tiers['gold'].rate_limit=0: must be a number of requests per second greater than 0"),
        ({"tiers": [UsagePlanTier("a", "admin"), UsagePlanTier("a", "read-only")]}, "tiers=['a']: tier names must be unique"),
        ({"tiers": [UsagePlanTier("has space", "admin")]}, "tiers['has space'].name='has space'"),
        ({"stage_name": "prod stage"}, "stage_name='prod stage': must be 1-128 letters, digits, '_' or '-'"),
        ({"authorizer_cache_ttl": Duration.seconds(3601)}, "authorizer_cache_ttl='3601 seconds': must be whole seconds from 0 (no caching) to 3600"),
        ({"authorizer_cache_ttl": Duration.millis(1500)}, "authorizer_cache_ttl='1.5 seconds'"),
        ({"throttling_rate_limit": 100, "throttling_burst_limit": 50}, "throttling_burst_limit=50: must be at least throttling_rate_limit (100)"),
        ({"logging_level": apigw.MethodLoggingLevel.OFF}, "execution logging stays on: use ERROR (default) or INFO"),
        ({"log_retention": logs.RetentionDays.INFINITE}, "logs must expire"),
        ({"cors_origins": ["*"]}, "cors_origins='*': must be an https origin"),
        ({"cors_origins": ["http://app.example.com"]}, "cors_origins='http://app.example.com': must be an https origin"),
        ({"cors_origins": ["https://app.example.com/"]}, "cors_origins='https://app.example.com/'"),
        ({"cors_origins": ["https://a.example.com", "https://a.example.com"]}, "each origin may be listed once"),
        ({"private": True}, "private=True: a private API needs vpc (an endpoint is created) or vpc_endpoint"),
        ({"web_acl_opt_out_reason": " "}, "say why the API needs no web ACL"),
        ({"web_acl_opt_out_reason": "x", "web_acl_arn": WEB_ACL_ARN}, "cannot opt out of a web ACL and pass web_acl_arn"),
        ({"web_acl_arn": WEB_ACL_ARN.replace("regional", "global")}, "must be the ARN of a REGIONAL web ACL"),
        ({"web_acl_rate_limit": 50}, "web_acl_rate_limit=50: must be at least 100"),
        ({"denied_alarm_threshold": 0}, "denied_alarm_threshold=0: must be at least 1, or None"),
        ({"denied_alarm_period": Duration.seconds(90)}, "denied_alarm_period='90 seconds': must be a whole number of minutes"),
        ({"alert_emails": ["not-an-address"]}, "alert_emails='not-an-address': is not an email address"),
        ({"tags": {"aws:x": "y"}}, "tags key 'aws:x'"),
    ],
)
def test_invalid_props_raise_value_error_naming_the_prop(props, message):
    with pytest.raises(ValueError) as error:
        _new(**props)
    assert message in str(error.value)
    assert str(error.value).startswith("ApiWithKeyedUsagePlan: ")


def test_network_props_need_each_other():
    stack = Stack(App(), "V")
    vpc = _vpc(stack)
    endpoint = ec2.InterfaceVpcEndpoint.from_interface_vpc_endpoint_attributes(stack, "E", vpc_endpoint_id=ENDPOINT_ID, port=443)
    with pytest.raises(ValueError, match="vpc and vpc_endpoint serve a private API; also pass private=True"):
        ApiWithKeyedUsagePlan(stack, "A", vpc=vpc)
    with pytest.raises(ValueError, match=r"pass vpc \(to create an endpoint\) or vpc_endpoint, not both"):
        ApiWithKeyedUsagePlan(stack, "B", private=True, vpc=vpc, vpc_endpoint=endpoint)
    with pytest.raises(ValueError, match="alert_emails=.*subscribe addresses to the alert_topic you pass"):
        ApiWithKeyedUsagePlan(stack, "C", alert_topic=sns.Topic(stack, "T"), alert_emails=["a@example.com"])


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"tiers": "admin"}, "tiers must be a list, got str"),
        ({"tiers": [("gold", "admin")]}, "tiers[] must be UsagePlanTier, got tuple"),
        ({"authorizer_cache_ttl": 300}, "authorizer_cache_ttl must be Duration, got int"),
        ({"cors_origins": "https://app.example.com"}, "cors_origins must be a list, got str"),
        ({"private": "yes"}, "private must be bool, got str"),
    ],
)
def test_wrong_types_raise_type_error_naming_the_prop(props, message):
    with pytest.raises(TypeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        _new(**props)


@pytest.fixture(scope="module")
def routed():
    """One API with a few routes, for the add_route checks (no synthesis)."""
    stack = Stack(App(), "R")
    api = ApiWithKeyedUsagePlan(stack, "Api", cors_origins=["https://app.example.com"])
    fn = _function(stack)
    api.add_route("GET", "/documents/{id}", fn, level="read-only")
    api.add_route("DELETE", "/documents/{id}", fn, level="admin")
    return api, fn


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("GET", "/items"), {"level": "owner"}, "level='owner': must be one of read-only, read-write, admin"),
        (("GET", "items"), {"level": "admin"}, "path='items': must start with '/'"),
        (("GET", "/items/"), {"level": "admin"}, "path='/items/': must not end with '/'"),
        (("GET", "/items/a b"), {"level": "admin"}, "segment 'a b' must be a literal"),
        (("GET", "/{proxy+}/x"), {"level": "admin"}, "the greedy segment '{proxy+}' must be the last one"),
        (("GET", "/a/{id}/b/{id}"), {"level": "admin"}, "the parameter {id} appears twice"),
        (("FETCH", "/items"), {"level": "admin"}, "method='FETCH': must be one of"),
        (("OPTIONS", "/items"), {"level": "admin"}, "OPTIONS answers CORS preflight requests"),
        (("GET", "/documents/{id}"), {"level": "admin"}, "the route GET /documents/{id} exists already"),
        (("GET", "/documents/{name}"), {"level": "read-only"}, "which are the same method ARN 'GET/documents/*'"),
        (("PUT", "/documents/{name}/tags"), {"level": "read-write"}, "{name} and {id} are both variable segments under '/documents'"),
        (
            ("DELETE", "/documents/{id}/tags"),
            {"level": "read-only"},
            (
                "DELETE /documents/{id}/tags (read-only) would be denied to read-only keys by the Deny of "
                "DELETE /documents/{id} (admin)"
            ),
        ),
        (
            ("POST", "/items"),
            {"level": "admin", "request_schema": {"$schema": "http://json-schema.org/draft-07/schema#"}},
            "API Gateway models use JSON Schema draft 4",
        ),
        (("POST", "/items"), {"level": "admin", "request_schema": {"type": object}}, "must be JSON-serialisable"),
        (("GET", "/items"), {"level": "admin", "required_query_parameters": ["a b"]}, "required_query_parameters='a b'"),
    ],
)
def test_add_route_validates_and_names_the_problem(routed, args, kwargs, message):
    api, fn = routed
    before = api.routes
    with pytest.raises(ValueError) as error:
        api.add_route(*args, fn, **kwargs)
    assert message in str(error.value)
    assert str(error.value).startswith("ApiWithKeyedUsagePlan.add_route")
    assert api.routes == before, "a refused route is not recorded"


def test_add_route_type_errors(routed):
    api, fn = routed
    with pytest.raises(TypeError, match=r"function must be AlertingFunction or IFunction, got Key \(R/NotAFunction\)"):
        api.add_route("GET", "/x", kms.Key(Stack.of(api), "NotAFunction"), level="admin")
    with pytest.raises(TypeError, match="request_schema must be a JSON schema dict, got str"):
        api.add_route("POST", "/x", fn, level="admin", request_schema='{"type": "object"}')
    with pytest.raises(TypeError, match="required_query_parameters must be a list of names, got str"):
        api.add_route("GET", "/x", fn, level="admin", required_query_parameters="page")


# ---- the docs' example ----------------------------------------------------------------------------


def test_usage_snippet_synthesizes_compliant():
    module = importlib.import_module("examples.snippets.keyed_api_usage")
    synth = synthesize(module.build)
    assert_compliant(synth)
    api = synth.extra["built"]
    assert [(r.method, r.path, r.level) for r in api.routes] == [
        ("GET", "/documents/{id}", "read-only"),
        ("POST", "/documents", "read-write"),
        ("DELETE", "/documents/{id}", "admin"),
    ]
