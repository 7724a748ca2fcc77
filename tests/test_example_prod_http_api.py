"""Reference system 004 (examples/prod_http_api): each requirement, a snapshot, and compliance."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from pathlib import Path

import pytest
from aws_cdk import App, CfnElement
from deploy_readiness import render_name
from harness import Synthesized, acknowledged_rules, assert_compliant, synthesize_app


ROOT = Path(__file__).resolve().parent.parent
APP = importlib.import_module("examples.prod_http_api.app")
REGION = "us-east-1"
#: Properties that hold a physical name the app or a construct sets.
NAME_PROPERTIES = {
    "AWS::Lambda::Function": "FunctionName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::ApiGatewayV2::Api": "Name",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::KMS::Alias": "AliasName",
}


def _synthesize(tmp_path_factory, context=None) -> Synthesized:
    return synthesize_app(APP.build, context=context)


@pytest.fixture(scope="module")
def default(tmp_path_factory):
    return _synthesize(tmp_path_factory)


@pytest.fixture(scope="module")
def configured(tmp_path_factory):
    return _synthesize(tmp_path_factory, {"app_version": "2.3.4", "alert_email": "ops@example.com"})


def _id(synth, construct):
    stack = synth.extra["built"]
    element = construct if isinstance(construct, CfnElement) else construct.node.default_child
    return stack.resolve(stack.get_logical_id(element))


def _props(synth, logical_id):
    return synth.template["Resources"][logical_id]["Properties"]


def _ids(synth):
    stack = synth.extra["built"]
    return {
        "function": _id(synth, stack.function.function),
        "role": _id(synth, stack.function.role),
        "function_key": _id(synth, stack.function.encryption_key),
        "log_group": _id(synth, stack.function.log_group),
        "bucket": _id(synth, stack.log_bucket.bucket),
        "bucket_key": _id(synth, stack.log_bucket.encryption_key),
        "topic": _id(synth, stack.alerts.topic),
        "api": _id(synth, stack.api.api),
        "stage": _id(synth, stack.api.stage),
        "access_logs": _id(synth, stack.api.access_log_group),
    }


def _as_list(value):
    return value if isinstance(value, list) else [value]


# ---- region and names ---------------------------------------------------------------------------


def test_the_stack_is_in_us_east_1(default):
    stack = default.extra["built"]
    assert stack.region == REGION
    assert stack.account.startswith("${Token")


def test_names_the_app_sets_start_with_prod(default):
    ids = _ids(default)
    assert _props(default, ids["function"])["FunctionName"] == "Prod-info"
    assert _props(default, ids["topic"])["TopicName"] == "Prod-alerts"
    assert _props(default, ids["api"])["Name"] == "Prod-http-api"


def test_every_fixed_name_starts_with_prod_and_generated_names_start_with_the_stack_name(default):
    """CloudFormation generates ``<stack name>-<logical id>-<suffix>`` where no name is set."""
    assert default.extra["built"].stack_name.startswith(APP.PREFIX)
    fixed = {}
    for logical_id, resource in default.template["Resources"].items():
        prop = NAME_PROPERTIES.get(resource["Type"])
        if prop and prop in resource.get("Properties", {}):
            fixed[logical_id] = resource["Properties"][prop]
    ids = _ids(default)
    # API Gateway's vended-log group must live under /aws/vendedlogs/; its own name carries the stack's.
    # Kept on delete, so its name ends in the stack instance's id.
    access_logs = render_name(fixed.pop(ids["access_logs"]))
    assert re.fullmatch(r"/aws/vendedlogs/apigateway/ProdHttpApi-[0-9A-F]{8}/access-<stack-instance-id>", access_logs)
    assert set(fixed) == {ids["function"], ids["topic"], ids["api"]}
    assert all(name.startswith("Prod-") for name in fixed.values())
    # Buckets keep generated names: S3 names are global and lowercase ("prodhttpapi-logbucket...").
    assert not any("BucketName" in b["Properties"] for b in default.resources("AWS::S3::Bucket").values())


# ---- the HTTP API -------------------------------------------------------------------------------


def test_an_http_api_serves_get_through_a_lambda_integration(default):
    ids = _ids(default)
    assert _props(default, ids["api"])["ProtocolType"] == "HTTP"
    (route,) = default.resources("AWS::ApiGatewayV2::Route").values()
    assert route["Properties"]["RouteKey"] == "GET /"
    integration_id = route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
    integration = _props(default, integration_id)
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    assert integration["IntegrationUri"] == {"Fn::GetAtt": [ids["function"], "Arn"]}
    (permission,) = default.resources("AWS::Lambda::Permission").values()
    assert permission["Properties"]["Principal"] == "apigateway.amazonaws.com"
    assert {"Ref": ids["api"]} in permission["Properties"]["SourceArn"]["Fn::Join"][1]


def test_the_get_route_is_public_on_purpose_with_a_stated_reason(default):
    (route,) = default.resources("AWS::ApiGatewayV2::Route").values()
    assert route["Properties"]["AuthorizationType"] == "NONE"
    (finding,) = [f for f in default.nag.acknowledged if f.rule == "AwsSolutions-APIG4"]
    assert finding.path.endswith("/Api/Resource/GET--/Resource")
    assert finding.reason == APP.PUBLIC_REASON


def test_access_logs_use_http_api_context_variables(default):
    ids = _ids(default)
    settings = _props(default, ids["stage"])["AccessLogSettings"]
    assert settings["DestinationArn"] == {"Fn::GetAtt": [ids["access_logs"], "Arn"]}
    fields = json.loads(settings["Format"])
    assert fields["routeKey"] == "$context.routeKey"
    assert fields["status"] == "$context.status"
    assert fields["integrationErrorMessage"] == "$context.integrationErrorMessage"
    assert "$context.resourcePath" not in settings["Format"]  # a REST API variable the seed used
    log_group = _props(default, ids["access_logs"])
    assert log_group["RetentionInDays"] == 30 and "KmsKeyId" in log_group


def test_the_public_stage_is_throttled(default):
    routes = _props(default, _ids(default)["stage"])["DefaultRouteSettings"]
    assert (routes["ThrottlingRateLimit"], routes["ThrottlingBurstLimit"]) == (10, 20)


# ---- the function -------------------------------------------------------------------------------


def test_the_function_has_128_mb_a_15_second_timeout_and_its_environment(default):
    ids = _ids(default)
    props = _props(default, ids["function"])
    assert (props["MemorySize"], props["Timeout"]) == (128, 15)
    assert (props["Runtime"], props["Handler"]) == ("python3.14", "prod_info.index.handler")
    assert props["Environment"]["Variables"] == {
        "ENVIRONMENT_NAME": "Production",
        "APP_VERSION": "1.0.0",
        "LOG_BUCKET": {"Ref": ids["bucket"]},
        "LOG_PREFIX": "requests/",
        "POWERTOOLS_METRICS_NAMESPACE": "ProdHttpApi",
        "POWERTOOLS_SERVICE_NAME": "Info",
    }
    assert props["KmsKeyArn"] == {"Fn::GetAtt": [ids["function_key"], "Arn"]}
    assert _props(default, ids["log_group"])["RetentionInDays"] == 30


def test_the_version_comes_from_context(configured):
    variables = _props(configured, _ids(configured)["function"])["Environment"]["Variables"]
    assert variables["APP_VERSION"] == "2.3.4"


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "latest", "1.0.0 ", "1.0.0\n", "١.٠.٠"])
def test_a_malformed_version_is_refused(version):
    with pytest.raises(ValueError, match=re.escape(f"context app_version={version!r}: must be a semantic version")):
        APP.build(App(context={"app_version": version}))


# ---- the log bucket -----------------------------------------------------------------------------


def test_the_log_bucket_is_kms_encrypted_private_and_expires_objects(default):
    ids = _ids(default)
    bucket = default.template["Resources"][ids["bucket"]]
    props = bucket["Properties"]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": [ids["bucket_key"], "Arn"]},
    }
    key = default.template["Resources"][ids["bucket_key"]]
    assert key["Type"] == "AWS::KMS::Key" and key["Properties"]["EnableKeyRotation"] is True
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-logs"] == {"Id": "expire-logs", "ExpirationInDays": 90, "Status": "Enabled"}
    assert rules["secure-defaults"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 7}
    assert bucket["DeletionPolicy"] == "RetainExceptOnCreate"


# ---- alarms -------------------------------------------------------------------------------------


def test_errors_throttles_and_duration_alarm_to_the_sns_topic(default):
    alarms = default.extra["built"].function.alarms
    topic = [{"Ref": _ids(default)["topic"]}]
    expected = {
        "errors": ("Errors", 1, "GreaterThanOrEqualToThreshold"),
        "throttles": ("Throttles", 1, "GreaterThanOrEqualToThreshold"),
        "duration": ("Duration", 12_000, "GreaterThanThreshold"),  # p99 above 80 % of 15 s
    }
    for name, (metric, threshold, comparison) in expected.items():
        props = _props(default, _id(default, alarms[name]))
        assert (props["Namespace"], props["MetricName"]) == ("AWS/Lambda", metric)
        assert (props["Threshold"], props["ComparisonOperator"]) == (threshold, comparison)
        assert props["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": _ids(default)["function"]}}]
        assert props["AlarmActions"] == props["OKActions"] == topic


def test_alarms_notify_the_required_alert_email_parameter(default, configured):
    """Production alarms must reach someone: the address is a parameter without a default."""
    for synth, address in ((default, None), (configured, "ops@example.com")):
        (subscription,) = synth.resources("AWS::SNS::Subscription").values()
        assert (subscription["Properties"]["Endpoint"], subscription["Properties"]["Protocol"]) == ({"Ref": "AlertEmail"}, "email")
        assert synth.template["Parameters"]["AlertEmail"].get("Default") == address


# ---- IAM ----------------------------------------------------------------------------------------


def test_roles_have_customer_managed_policies_only(default):
    managed = set(default.resources("AWS::IAM::ManagedPolicy"))
    (role,) = default.resources("AWS::IAM::Role").values()
    assert "Policies" not in role["Properties"]
    assert [arn["Ref"] for arn in role["Properties"]["ManagedPolicyArns"]] == sorted(managed)
    assert not default.resources("AWS::IAM::Policy")
    assert "arn:aws:iam::aws:policy" not in json.dumps(default.template)


def test_the_function_writes_request_records_and_its_logs_and_nothing_else(default):
    ids = _ids(default)

    def arn(logical_id):
        return json.dumps({"Fn::GetAtt": [logical_id, "Arn"]})

    records = json.dumps({"Fn::Join": ["", [{"Fn::GetAtt": [ids["bucket"], "Arn"]}, "/requests/*"]]})
    required = {
        # the log bucket: objects under requests/ only, encrypted with the bucket's key
        *((f"s3:{a}", records) for a in ("PutObject", "DeleteObject", "AbortMultipartUpload")),
        *((f"kms:{a}", arn(ids["bucket_key"])) for a in ("Encrypt", "GenerateDataKey", "Decrypt")),
        # its logs: its own log group only
        *((f"logs:{a}", arn(ids["log_group"])) for a in ("CreateLogStream", "PutLogEvents")),
    }
    exceptions = {
        ("kms:Decrypt", arn(ids["function_key"])),  # AlertingFunction: encrypted environment variables
        # No dead-letter queue (invoked only synchronously), so no sqs:SendMessage or GenerateDataKey.
        # AlertingFunction: X-Ray, no resource-level permissions (its own XRayPolicy)
        ("xray:PutTraceSegments", '"*"'),
        ("xray:PutTelemetryRecords", '"*"'),
    }
    policy_refs = _props(default, ids["role"])["ManagedPolicyArns"]
    assert len(policy_refs) == 2  # the general policy and the X-Ray policy
    granted = set()
    statements = [s for ref in policy_refs for s in _props(default, ref["Ref"])["PolicyDocument"]["Statement"]]
    for statement in statements:
        assert statement["Effect"] == "Allow" and "Condition" not in statement
        for action in _as_list(statement["Action"]):
            for resource in _as_list(statement["Resource"]):
                granted.add((action, json.dumps(resource)))
    assert granted == required | exceptions


# ---- snapshot and compliance --------------------------------------------------------------------


def test_snapshot(default, snapshot_json):
    assert default.normalised() == snapshot_json


@pytest.mark.parametrize("configuration", ["default", "configured"])
def test_compliance(configuration, request):
    assert_compliant(request.getfixturevalue(configuration))


def test_acknowledgements_are_the_libraries_known_ones_and_the_public_route(default):
    acknowledged = set().union(*acknowledged_rules(default).values())
    assert {rule for rule in acknowledged if rule.startswith("AwsSolutions-IAM5")} == {
        "AwsSolutions-IAM5[Resource::*]",  # X-Ray
        f"AwsSolutions-IAM5[Resource::<{_ids(default)['bucket']}.Arn>/requests/*]",  # request records
    }
    assert {rule for rule in acknowledged if not rule.startswith("AwsSolutions-IAM5")} == {
        *(f"{pack}-{rule}" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
          for rule in ("S3BucketReplicationEnabled", "LambdaInsideVPC", "S3DefaultEncryptionKMS")),
        "HIPAA.Security-LambdaConcurrency", "NIST.800.53.R5-LambdaConcurrency",
        "AwsSolutions-APIG4",  # the public GET route, with PUBLIC_REASON
        # The alert topic's delivery-failures queue is a dead-letter queue itself.
        "Serverless-SQSRedrivePolicy", "AwsSolutions-SQS3",
        # The function is invoked only synchronously (by the HTTP API): no dead-letter queue.
        *(f"{pack}-LambdaDLQ" for pack in ("Serverless", "HIPAA.Security", "NIST.800.53.R5")),
        "CKV_AWS_18", "CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117",
    }


def test_the_main_job_synthesizes_this_example():
    spec = importlib.util.spec_from_file_location("main_job", ROOT / "scripts" / "main_job.py")
    main_job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(main_job)
    assert ("prod_http_api", "examples.prod_http_api.app") in main_job.EXAMPLES


def test_the_synchronously_invoked_function_has_no_async_failure_path(default):
    """Only the HTTP API invokes it: a dead-letter queue or EventInvokeConfig would never fill."""
    assert not default.resources("AWS::Lambda::EventInvokeConfig")
    assert "DeadLetterConfig" not in _props(default, _ids(default)["function"])
    assert default.extra["built"].function.dead_letter_queue is None
