"""Reference system 000 (examples/data_processing_stack): each requirement, a snapshot, and compliance."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from pathlib import Path

import pytest
from aws_cdk import App, CfnElement
from deploy_readiness import literal_start, render_name
from harness import Synthesized, acknowledged_rules, assert_compliant, synthesize_app
from tag_coverage import missing_tags, taggable_types

from serverless_patterns.alerting_function import POWERTOOLS_LAYER_VERSION

ROOT = Path(__file__).resolve().parent.parent
APP = importlib.import_module("examples.data_processing_stack.app")
REGION = "us-east-1"
PRODUCTION = {"Environment": "Production"}


def _synthesize(tmp_path_factory, context=None) -> Synthesized:
    return synthesize_app(APP.build, context=context)


@pytest.fixture(scope="module")
def default(tmp_path_factory):
    return _synthesize(tmp_path_factory)


@pytest.fixture(scope="module")
def maximal(tmp_path_factory):
    """A second copy beside the first, which leaves API Gateway's account role to the first."""
    return _synthesize(tmp_path_factory, {"stack_name": "AcmeDataProcessing", "api_gateway_logging_role": "false"})


def _id(synth, construct):
    """The logical id of ``construct``'s CloudFormation resource (or of the resource itself)."""
    stack = synth.extra["built"]
    element = construct if isinstance(construct, CfnElement) else construct.node.default_child
    return stack.resolve(stack.get_logical_id(element))


def _props(synth, logical_id):
    return synth.template["Resources"][logical_id]["Properties"]


def _ids(synth):
    stack = synth.extra["built"]
    return {
        "table": _id(synth, stack.table.table),
        "table_key": _id(synth, stack.table.encryption_key),
        "bucket": _id(synth, stack.results.bucket),
        "bucket_key": _id(synth, stack.results.encryption_key),
        "distribution": _id(synth, stack.distribution.distribution),
        "function": _id(synth, stack.processor.function),
        "role": _id(synth, stack.processor.role),
        "function_key": _id(synth, stack.processor.encryption_key),
        "log_group": _id(synth, stack.processor.log_group),
        "topic": _id(synth, stack.alerts.topic),
        "api": _id(synth, stack.api.api),
        "stage": _id(synth, stack.api.stage),
        "access_logs": _id(synth, stack.api.access_log_group),
    }


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _prefixed(base):
    return {"Fn::Join": ["-", [{"Ref": "ResourcePrefix"}, base]]}


# ---- region and tags ----------------------------------------------------------------------------


def test_the_stack_is_in_us_east_1(default):
    stack = default.extra["built"]
    assert stack.region == REGION
    assert stack.account.startswith("${Token")  # the account is the deploying one
    assert _props(default, _ids(default)["function"])["Layers"] == [
        f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:{POWERTOOLS_LAYER_VERSION}"
    ]


def test_every_taggable_resource_is_tagged_environment_production(default, maximal):
    assert not missing_tags(default.template, PRODUCTION, REGION)
    assert not missing_tags(maximal.template, PRODUCTION, REGION)
    # The check covers the system's resources, not an empty subset.
    assert {
        "AWS::Lambda::Function", "AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::CloudFront::Distribution",
        "AWS::SNS::Topic", "AWS::ApiGateway::RestApi", "AWS::ApiGateway::Stage", "AWS::ApiGateway::UsagePlan",
        "AWS::Logs::LogGroup", "AWS::IAM::Role", "AWS::KMS::Key", "AWS::CloudWatch::Alarm",
    } <= taggable_types(default.template, REGION)


# ---- parameters ---------------------------------------------------------------------------------


def test_resource_prefix_is_a_constrained_required_parameter(default):
    parameter = default.template["Parameters"]["ResourcePrefix"]
    assert parameter["Type"] == "String"
    assert "Default" not in parameter  # chosen at deploy time
    assert (parameter["MinLength"], parameter["MaxLength"]) == (1, 20)
    pattern = re.compile(parameter["AllowedPattern"])
    assert all(pattern.fullmatch(value) for value in ("acme", "acme-prod", "a1-b2"))
    assert not any(pattern.fullmatch(value) for value in ("Acme", "1acme", "acme-", "ac--me", "acme_prod", ""))


def test_resource_prefix_starts_the_names_the_app_sets(default):
    ids = _ids(default)
    # The table is kept on delete: its name also carries the stack instance's id.
    assert render_name(_props(default, ids["table"])["TableName"]) == "<ResourcePrefix>-records-<stack-instance-id>"
    assert _props(default, ids["function"])["FunctionName"] == _prefixed("request-processor")
    assert _props(default, ids["topic"])["TopicName"] == _prefixed("alerts")
    assert _props(default, ids["api"])["Name"] == _prefixed("data-processing")
    # Bucket names are global: generated by CloudFormation, never fixed.
    assert "BucketName" not in _props(default, ids["bucket"])


@pytest.mark.parametrize("name", ["DynamoDbReadCapacity", "DynamoDbWriteCapacity"])
def test_capacity_parameters_are_numbers_of_at_least_5(default, name):
    parameter = default.template["Parameters"][name]
    assert parameter["Type"] == "Number"
    assert (parameter["MinValue"], parameter["Default"], parameter["MaxValue"]) == (5, 5, APP.MAX_CAPACITY)


def test_alert_email_is_a_constrained_required_parameter_subscribed_to_the_topic(default):
    parameter = default.template["Parameters"]["AlertEmail"]
    assert parameter["Type"] == "String" and "Default" not in parameter
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("ops@example.com") and not pattern.fullmatch("ops@") and not pattern.fullmatch("ops")
    (subscription,) = default.resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlertEmail"}
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["TopicArn"] == {"Ref": _ids(default)["topic"]}


# ---- the function -------------------------------------------------------------------------------


def test_the_function_runs_a_supported_python_runtime_instead_of_nodejs14(default):
    props = _props(default, _ids(default)["function"])
    assert props["Runtime"] == "python3.14"
    assert props["Handler"] == "request_processor.index.handler"
    ids = _ids(default)
    assert props["Environment"]["Variables"] == {
        "TABLE_NAME": {"Ref": ids["table"]},
        "BUCKET_NAME": {"Ref": ids["bucket"]},
        "RESULT_PREFIX": "results/",
        "RESULT_BASE_URL": {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [ids["distribution"], "DomainName"]}]]},
        "POWERTOOLS_METRICS_NAMESPACE": "DataProcessing",
        "POWERTOOLS_SERVICE_NAME": "Processor",
    }


def test_the_function_log_group_keeps_logs_30_days(default):
    ids = _ids(default)
    assert _props(default, ids["function"])["LoggingConfig"] == {"LogGroup": {"Ref": ids["log_group"]}}
    assert _props(default, ids["log_group"])["RetentionInDays"] == 30


def test_lambda_errors_notify_the_alert_topic(default):
    alarm = _props(default, _id(default, default.extra["built"].processor.alarms["errors"]))
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/Lambda", "Errors", "Sum")
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": _ids(default)["function"]}}]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert alarm["AlarmActions"] == [{"Ref": _ids(default)["topic"]}]


def test_every_alarm_notifies_the_one_alert_topic(default):
    alarms = default.resources("AWS::CloudWatch::Alarm").values()
    assert {json.dumps(a["Properties"]["AlarmActions"]) for a in alarms} == {json.dumps([{"Ref": _ids(default)["topic"]}])}
    assert len(default.resources("AWS::SNS::Topic")) == 1


# ---- the API ------------------------------------------------------------------------------------


def test_post_process_is_the_only_method_and_requires_an_api_key(default):
    (method,) = default.resources("AWS::ApiGateway::Method").values()
    props = method["Properties"]
    assert props["HttpMethod"] == "POST"
    assert _props(default, props["ResourceId"]["Ref"])["PathPart"] == "process"
    assert props["ApiKeyRequired"] is True
    assert props["AuthorizationType"] == "CUSTOM"  # and the key's permission level (read-write)
    assert props["Integration"]["Type"] == "AWS_PROXY"
    assert _ids(default)["function"] in json.dumps(props["Integration"]["Uri"])
    model = _props(default, props["RequestModels"]["application/json"]["Ref"])
    assert model["Schema"]["required"] == ["id"]
    assert [route.level for route in default.extra["built"].api.routes] == ["read-write"]


def test_one_usage_plan_allows_1000_requests_a_day(default):
    (plan,) = default.resources("AWS::ApiGateway::UsagePlan").values()
    props = plan["Properties"]
    assert props["Quota"] == {"Limit": 1000, "Period": "DAY"}
    assert props["ApiStages"][0]["ApiId"] == {"Ref": _ids(default)["api"]}
    assert props["ApiStages"][0]["Stage"] == {"Ref": _ids(default)["stage"]}
    assert {"Key": "serverless-patterns:tier", "Value": "read-write"} in props["Tags"]


def test_api_access_logs_are_json_in_an_encrypted_log_group(default):
    ids = _ids(default)
    setting = _props(default, ids["stage"])["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": [ids["access_logs"], "Arn"]}
    fields = json.loads(setting["Format"])
    assert fields["httpMethod"] == "$context.httpMethod"  # REST API variables: this is a REST API
    assert fields["apiKeyId"] == "$context.identity.apiKeyId"
    log_group = _props(default, ids["access_logs"])
    assert log_group["RetentionInDays"] == 30 and "KmsKeyId" in log_group


# ---- data ---------------------------------------------------------------------------------------


def test_the_table_has_partition_key_id_and_provisioned_throughput_from_the_parameters(default):
    props = _props(default, _ids(default)["table"])
    assert props["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert props.get("BillingMode", "PROVISIONED") == "PROVISIONED"
    assert props["ProvisionedThroughput"] == {
        "ReadCapacityUnits": {"Ref": "DynamoDbReadCapacity"},
        "WriteCapacityUnits": {"Ref": "DynamoDbWriteCapacity"},
    }


def test_the_table_capacity_is_auto_scaled_from_the_parameters_up_to_the_maximum(default):
    table = _ids(default)["table"]
    targets = {
        t["Properties"]["ScalableDimension"]: t["Properties"]
        for t in default.resources("AWS::ApplicationAutoScaling::ScalableTarget").values()
    }
    assert set(targets) == {"dynamodb:table:ReadCapacityUnits", "dynamodb:table:WriteCapacityUnits"}
    for dimension, parameter in (("Read", "DynamoDbReadCapacity"), ("Write", "DynamoDbWriteCapacity")):
        target = targets[f"dynamodb:table:{dimension}CapacityUnits"]
        assert target["MinCapacity"] == {"Ref": parameter}
        assert target["MaxCapacity"] == APP.MAX_CAPACITY
        assert target["ResourceId"] == {"Fn::Join": ["", ["table/", {"Ref": table}]]}
    assert len(default.resources("AWS::ApplicationAutoScaling::ScalingPolicy")) == 2


def test_the_bucket_is_private_encrypted_versioned_and_object_locked(default):
    ids = _ids(default)
    bucket = default.template["Resources"][ids["bucket"]]
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": [ids["bucket_key"], "Arn"]},
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["ObjectLockEnabled"] is True  # set at creation: it cannot be turned on later
    assert bucket["DeletionPolicy"] == "RetainExceptOnCreate"


def test_cloudfront_serves_the_bucket_over_https_only_through_origin_access_control(default):
    ids = _ids(default)
    config = _props(default, ids["distribution"])["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "https-only"
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": [ids["bucket"], "RegionalDomainName"]}
    oac_id = origin["OriginAccessControlId"]["Fn::GetAtt"][0]
    assert _props(default, oac_id)["OriginAccessControlConfig"] | {"Name": None} == {
        "Name": None, "OriginAccessControlOriginType": "s3", "SigningBehavior": "always", "SigningProtocol": "sigv4",
    }
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy OAI
    assert "WebACLId" in config
    (policy,) = [
        p["Properties"]["PolicyDocument"]
        for p in default.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": ids["bucket"]}
    ]
    (allow,) = [s for s in policy["Statement"] if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}]
    assert allow["Action"] == "s3:GetObject"
    assert ids["distribution"] in json.dumps(allow["Condition"])


# ---- IAM ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("configuration", ["default", "maximal"])
def test_roles_have_separate_customer_managed_policies_only(configuration, request):
    synth = request.getfixturevalue(configuration)
    managed = set(synth.resources("AWS::IAM::ManagedPolicy"))
    roles = synth.resources("AWS::IAM::Role")
    assert roles
    for logical_id, role in roles.items():
        props = role["Properties"]
        assert "Policies" not in props, f"{logical_id} has inline policies"
        arns = props.get("ManagedPolicyArns", [])
        assert arns and all(arn.get("Ref") in managed for arn in arns), f"{logical_id}: {arns}"
    assert not synth.resources("AWS::IAM::Policy")  # attached to one role only: what the packs call inline
    assert "arn:aws:iam::aws:policy" not in json.dumps(synth.template)


def _role_statements(synth, role):
    attached = {arn["Ref"] for arn in _props(synth, role)["ManagedPolicyArns"]}
    return [
        statement
        for logical_id in attached
        for statement in _props(synth, logical_id)["PolicyDocument"]["Statement"]
    ]


def test_the_function_reads_dynamodb_writes_s3_writes_its_logs_and_nothing_else(default):
    ids = _ids(default)

    def arn(logical_id):
        return json.dumps({"Fn::GetAtt": [logical_id, "Arn"]})

    results = json.dumps({"Fn::Join": ["", [{"Fn::GetAtt": [ids["bucket"], "Arn"]}, "/results/*"]]})
    required = {
        # reads DynamoDB: the records table, and decrypts with its key
        *((f"dynamodb:{a}", arn(ids["table"])) for a in ("BatchGetItem", "ConditionCheckItem", "GetItem", "Query", "Scan")),
        *((f"kms:{a}", arn(ids["table_key"])) for a in ("Decrypt", "DescribeKey")),
        # writes S3: objects under results/ only, encrypted with the bucket's key
        *((f"s3:{a}", results) for a in ("PutObject", "DeleteObject", "AbortMultipartUpload")),
        *((f"kms:{a}", arn(ids["bucket_key"])) for a in ("Encrypt", "GenerateDataKey", "Decrypt")),
        # writes its logs: its own log group only
        *((f"logs:{a}", arn(ids["log_group"])) for a in ("CreateLogStream", "PutLogEvents")),
    }
    exceptions = {
        # AlertingFunction: its environment variables are encrypted with its own key (read at start)
        ("kms:Decrypt", arn(ids["function_key"])),
        # (only API Gateway invokes it, synchronously: no dead-letter queue, so no sqs:SendMessage)
        # AlertingFunction: X-Ray active tracing; these actions have no resource-level permissions
        ("xray:PutTraceSegments", '"*"'),
        ("xray:PutTelemetryRecords", '"*"'),
    }
    granted = set()
    for statement in _role_statements(default, ids["role"]):
        assert statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
        assert "Condition" not in statement
        for action in _as_list(statement["Action"]):
            assert "*" not in action, f"wildcard action {action}"
            for resource in _as_list(statement["Resource"]):
                granted.add((action, json.dumps(resource)))
    assert granted == required | exceptions


# ---- a second copy, and API Gateway's logging role -----------------------------------------------


def test_a_second_copy_gets_its_own_stack_name_and_derived_names(maximal):
    assert maximal.extra["built"].stack_name == "AcmeDataProcessing"
    access_logs = _props(maximal, _ids(maximal)["access_logs"])["LogGroupName"]
    assert literal_start(access_logs).startswith("/aws/apigateway/AcmeDataProcessing-Api-")
    assert "DataProcessingStack" not in json.dumps(maximal.template)


def test_the_logging_role_is_set_by_default_kept_and_waited_for_and_can_be_left_out(default, maximal):
    (account_id, account) = next(iter(default.resources("AWS::ApiGateway::Account").items()))
    role_id = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    assert account["DeletionPolicy"] == default.template["Resources"][role_id]["DeletionPolicy"] == "RetainExceptOnCreate"
    (stage,) = default.resources("AWS::ApiGateway::Stage").values()
    assert account_id in stage["DependsOn"]
    assert not maximal.resources("AWS::ApiGateway::Account")
    (stage,) = maximal.resources("AWS::ApiGateway::Stage").values()
    assert not any(d.startswith("ApiGatewayAccount") for d in stage["DependsOn"])


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"api_gateway_logging_role": "yes"}, "context api_gateway_logging_role='yes': must be true or false"),
        ({"stack_name": "1-data"}, "context stack_name='1-data': must be 1-128 letters, digits and hyphens"),
        ({"stack_name": "data_processing"}, "context stack_name='data_processing': must be"),
        ({"stack_name": "data\n"}, "context stack_name='data\\n': must be"),
    ],
)
def test_bad_context_values_are_refused(context, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        APP.build(App(context=context))


# ---- snapshot and compliance --------------------------------------------------------------------


def test_snapshot(default, snapshot_json):
    assert default.normalised() == snapshot_json


@pytest.mark.parametrize("configuration", ["default", "maximal"])
def test_compliance(configuration, request):
    assert_compliant(request.getfixturevalue(configuration))


def test_acknowledgements_are_the_libraries_known_ones(default, maximal):
    for synth in (default, maximal):
        acknowledged = set().union(*acknowledged_rules(synth).values())
        wildcards = {rule for rule in acknowledged if rule.startswith("AwsSolutions-IAM5")}
        expected = {
            "AwsSolutions-IAM5[Resource::*]",  # X-Ray has no resource-level permissions
            f"AwsSolutions-IAM5[Resource::<{_ids(synth)['bucket']}.Arn>/results/*]",  # result objects
        }
        if synth is default:  # API Gateway's account role: log groups of this account and Region
            pattern = f"arn:<AWS::Partition>:logs:{REGION}:<AWS::AccountId>:log-group:*"
            expected |= {f"AwsSolutions-IAM5[Resource::{pattern}]", f"AwsSolutions-IAM5[Resource::{pattern}:log-stream:*]"}
        assert wildcards == expected
        known = {
            *(f"{pack}-{rule}" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321") for rule in (
                "S3BucketReplicationEnabled", "S3BucketLoggingEnabled", "LambdaInsideVPC", "LambdaConcurrency",
                "DynamoDBInBackupPlan", "APIGWCacheEnabledAndEncrypted", "APIGWSSLEnabled",
                "S3DefaultEncryptionKMS",  # the SSE-S3 server-access-log sinks
            )),
            "AwsSolutions-S1", "AwsSolutions-SQS3", "AwsSolutions-COG4",
            "AwsSolutions-CFR1", "AwsSolutions-CFR3", "AwsSolutions-CFR4",
            "Serverless-SQSRedrivePolicy", "Serverless-LambdaAsyncFailureDestination",
            # The API key authorizer is invoked only synchronously by API Gateway: no dead-letter queue.
            *(f"{pack}-LambdaDLQ" for pack in ("Serverless", "HIPAA.Security", "NIST.800.53.R5")),
            "CKV_AWS_18", "CKV_AWS_86", "CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_120", "CKV_AWS_174",
            # The configuration whose account already has API Gateway's CloudWatch role (cloud_watch_role=False).
            "RestApiLoggingWithoutAccountRole",
        }
        assert acknowledged - wildcards <= known, sorted(acknowledged - wildcards - known)


def test_the_main_job_synthesizes_this_example():
    spec = importlib.util.spec_from_file_location("main_job", ROOT / "scripts" / "main_job.py")
    main_job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(main_job)
    assert ("data_processing_stack", "examples.data_processing_stack.app") in main_job.EXAMPLES
