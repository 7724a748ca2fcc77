"""AlertingFunction: defaults, options, event sources, snapshots, compliance and validation."""

from __future__ import annotations

import importlib
import json

import pytest
from aws_cdk import App, CfnParameter, Duration, SecretValue, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template
from harness import TEST_ENV, acknowledged_rules, assert_compliant, synthesize

from serverless_patterns.alert_topic import AlertTopic
from serverless_patterns.alerting_function import (
    ASYNC_FAILURES_TO_DLQ_REASON,
    NETWORK_INTERFACES_REASON,
    NO_RESERVED_CONCURRENCY_REASON,
    NO_VPC_REASON,
    POWERTOOLS_LAYER_VERSION,
    SQS_SOURCE_FAILURES_REASON,
    SUPPORTED_RUNTIMES,
    AlarmOptions,
    AlertingFunction,
    Invocation,
    no_async_path_reason,
    powertools_layer,
)
from serverless_patterns.compliance import acknowledge
from serverless_patterns.handlers import handler_code, handler_entry
from serverless_patterns.secure_bucket import SecureBucket

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:jobs"
QUEUE_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/docs"
STREAM_ARN = f"{TABLE_ARN}/stream/2026-01-01T00:00:00.000"
WORKER_REASON = "Worker only calls the public GitHub API; no private resources."
REPLAY_RULE_ARN = "arn:aws:events:us-east-1:123456789012:rule/replay-failed-jobs"
RESERVED_REASON = (
    "Test configuration: reserved_concurrent_executions=5 is the user's explicit choice; the account "
    "this configuration stands for has the default quota of 1,000 (5 + 100 unreserved fit)."
)


def _echo(**props):
    return {"code": handler_code("example_echo"), "handler": handler_entry("example_echo"), **props}


def _default(stack):
    return AlertingFunction(stack, "Echo", **_echo())


def _maximal(stack):
    email = CfnParameter(stack, "AlertEmail", type="String")
    alerts = AlertTopic(stack, "Alerts", emails=[email.value_as_string])
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=["us-east-1a", "us-east-1b"],
        isolated_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
        isolated_subnet_route_table_ids=["rtb-0aaaaaaaaaaaaaaa1", "rtb-0bbbbbbbbbbbbbbb2"],
    )
    api = AlertingFunction(
        stack,
        "Api",
        **_echo(),
        memory_size=512,
        timeout=Duration.seconds(20),
        environment={"STAGE": "prod"},
        secrets={"DB_SECRET": secretsmanager.Secret.from_secret_complete_arn(stack, "DbSecret", SECRET_ARN)},
        description="Echo API",
        powertools=True,
        log_retention=logs.RetentionDays.ONE_YEAR,
        reserved_concurrent_executions=5,
        retry_attempts=1,
        max_event_age=Duration.hours(1),
        on_failure=destinations.EventBridgeDestination(events.EventBus.from_event_bus_name(stack, "Bus", "default")),
        vpc=vpc,
        alarms=AlarmOptions(errors=3, duration_percent_of_timeout=90, period=Duration.minutes(1), evaluation_periods=2),
        alert_topic=alerts,
        dashboard=True,
        tags={"Owner": "api-team"},
    )
    # Invoked asynchronously too (an EventBridge rule of another stack replays failed jobs), so
    # the asynchronous settings above have something to act on.
    api.function.add_permission(
        "InvokeFromReplayRule", principal=iam.ServicePrincipal("events.amazonaws.com"), source_arn=REPLAY_RULE_ARN
    )
    # The user asked for the reservation; this test account's quota is assumed to allow it.
    acknowledge(api.function, "DeployPreflight::ReservedConcurrency", RESERVED_REASON)
    jobs = sqs.Queue.from_queue_attributes(stack, "Jobs", queue_arn=QUEUE_ARN, key_arn=QUEUE_KEY_ARN)
    api.add_sqs_source(jobs, batch_size=50, max_batching_window=Duration.seconds(10), max_concurrency=5)
    SecureBucket(stack, "Data").grant_read(api, "incoming/*")
    AlertingFunction(
        stack,
        "Worker",
        code=lambda_.Code.from_inline("exports.handler = async () => ({ ok: true });"),
        handler="index.handler",
        runtime=lambda_.Runtime.NODEJS_24_X,
        architecture=lambda_.Architecture.X86_64,
        vpc_opt_out_reason=WORKER_REASON,
        alarms=AlarmOptions(throttles=None),
        alert_topic=alerts,
    )
    return api


def _streams(stack):
    fn = AlertingFunction(stack, "Indexer", **_echo(invocation=Invocation.EVENT_SOURCE))
    docs = dynamodb.Table.from_table_attributes(stack, "Docs", table_arn=TABLE_ARN, table_stream_arn=STREAM_ARN)
    fn.add_dynamodb_stream_source(docs)
    audit = dynamodb.Table.from_table_attributes(
        stack, "Audit", table_arn=f"{TABLE_ARN}-audit", table_stream_arn=f"{TABLE_ARN}-audit/stream/2026-01-01T00:00:00.000"
    )
    failures = sns.Topic.from_topic_arn(stack, "Failures", "arn:aws:sns:us-east-1:123456789012:stream-failures")
    fn.add_dynamodb_stream_source(
        audit,
        starting_position=lambda_.StartingPosition.LATEST,
        batch_size=500,
        bisect_batch_on_error=False,
        retry_attempts=10,
        max_record_age=Duration.hours(2),
        parallelization_factor=4,
        report_batch_item_failures=False,
        on_failure=failures,
    )
    return fn


@pytest.fixture(scope="module")
def default():
    return synthesize(_default)


@pytest.fixture(scope="module")
def maximal():
    return synthesize(_maximal)


@pytest.fixture(scope="module")
def streams():
    return synthesize(_streams)


# ---- helpers ----------------------------------------------------------------------------------


def _function(synth, prefix):
    (props,) = [r["Properties"] for i, r in synth.resources("AWS::Lambda::Function").items() if i.startswith(prefix)]
    return props


def _id(synth, resource_type, prefix):
    (logical_id,) = [i for i in synth.resources(resource_type) if i.startswith(prefix)]
    return logical_id


def _props(synth, resource_type, prefix):
    return synth.template["Resources"][_id(synth, resource_type, prefix)]["Properties"]


def _policy_statements(synth, prefix):
    return _props(synth, "AWS::IAM::ManagedPolicy", prefix)["PolicyDocument"]["Statement"]


def _actions(statement):
    return [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]


def _alarms(synth, prefix):
    return {
        i[len(prefix):].split("Alarm")[0]: r["Properties"]
        for i, r in synth.resources("AWS::CloudWatch::Alarm").items()
        if i.startswith(prefix)
    }


def _reasons(synth, path, rule):
    return {a.reason for a in [*synth.nag.acknowledged, *synth.checkov.acknowledged] if a.path == path and a.rule == rule}


# ---- defaults: the function -------------------------------------------------------------------


def test_default_runtime_architecture_memory_timeout_and_tracing(default):
    fn = _function(default, "Echo")
    assert fn["Runtime"] == "python3.14" == next(iter(SUPPORTED_RUNTIMES))
    assert fn["Architectures"] == ["arm64"]
    assert fn["MemorySize"] == 256
    assert fn["Timeout"] == 10
    assert fn["TracingConfig"] == {"Mode": "Active"}
    assert fn["Handler"] == "example_echo.index.handler"
    assert "FunctionName" not in fn and "ReservedConcurrentExecutions" not in fn and "VpcConfig" not in fn


def test_function_is_the_resource_child_with_a_stable_logical_id(default):
    built = default.extra["built"]
    assert built.function.node.id == "Resource"
    assert _id(default, "AWS::Lambda::Function", "Echo") == "Echo9EA2AEFC"


def test_role_has_only_its_own_customer_managed_policy(default):
    assert not default.resources("AWS::IAM::Policy"), "no inline policies"
    role = default.only("AWS::IAM::Role")
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    ]
    assert role["ManagedPolicyArns"] == [
        {"Ref": _id(default, "AWS::IAM::ManagedPolicy", "EchoRolePolicy")},
        {"Ref": _id(default, "AWS::IAM::ManagedPolicy", "EchoXRayPolicy")},
    ]
    assert "AWSLambdaBasicExecutionRole" not in json.dumps(default.template)
    assert _function(default, "Echo")["Role"] == {"Fn::GetAtt": [_id(default, "AWS::IAM::Role", "EchoRole"), "Arn"]}


def test_role_writes_logs_only_to_its_own_log_group(default):
    statements = _policy_statements(default, "EchoRolePolicy")
    log_statements = [s for s in statements if any(a.startswith("logs:") for a in _actions(s))]
    assert log_statements == [
        {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [_id(default, "AWS::Logs::LogGroup", "EchoLogGroup"), "Arn"]},
        }
    ]


def test_grants_name_explicit_actions_and_wildcard_resources_only_for_xray(default):
    statements = _policy_statements(default, "EchoRolePolicy")
    assert not [a for s in statements for a in _actions(s) if "*" in a]
    assert not [s for s in statements if s["Resource"] == "*"], "the role's general policy has no '*' resource"
    assert _policy_statements(default, "EchoXRayPolicy") == [
        {"Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Effect": "Allow", "Resource": "*"}
    ]
    assert _function(default, "Echo")["TracingConfig"] == {"Mode": "Active"}


def test_log_group_is_encrypted_retained_for_30_days_and_used_by_the_function(default):
    log_group = default.template["Resources"][_id(default, "AWS::Logs::LogGroup", "EchoLogGroup")]
    key_id = _id(default, "AWS::KMS::Key", "EchoKey")
    assert log_group["Properties"]["RetentionInDays"] == 30
    assert log_group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert log_group["DeletionPolicy"] == "RetainExceptOnCreate"
    assert _function(default, "Echo")["LoggingConfig"] == {"LogGroup": {"Ref": _id(default, "AWS::Logs::LogGroup", "EchoLogGroup")}}


def test_key_rotates_and_lets_cloudwatch_logs_use_it_by_encryption_context(default):
    key = default.template["Resources"][_id(default, "AWS::KMS::Key", "EchoKey")]
    assert key["Properties"]["EnableKeyRotation"] is True
    (statement,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "AllowCloudWatchLogs"]
    assert statement["Principal"] == {"Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}}
    condition = statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert ":log-group:*" in json.dumps(condition) and "AWS::AccountId" in json.dumps(condition)
    assert "kms:Decrypt" in statement["Action"] and "kms:GenerateDataKey" in statement["Action"]


def test_environment_is_encrypted_with_the_key_the_role_may_decrypt(default):
    key_arn = {"Fn::GetAtt": [_id(default, "AWS::KMS::Key", "EchoKey"), "Arn"]}
    assert _function(default, "Echo")["KmsKeyArn"] == key_arn
    statements = _policy_statements(default, "EchoRolePolicy")
    assert {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": key_arn} in statements


# ---- defaults: failure handling ---------------------------------------------------------------


def test_dead_letter_queue_is_encrypted_tls_only_and_keeps_14_days(default):
    queue_id = _id(default, "AWS::SQS::Queue", "EchoDeadLetterQueue")
    queue = default.template["Resources"][queue_id]["Properties"]
    assert queue["KmsMasterKeyId"] == {"Fn::GetAtt": [_id(default, "AWS::KMS::Key", "EchoKey"), "Arn"]}
    assert queue["MessageRetentionPeriod"] == 14 * 86400
    (deny,) = _props(default, "AWS::SQS::QueuePolicy", "EchoDeadLetterQueue")["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert _function(default, "Echo")["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}}


def test_role_may_send_to_the_encrypted_dead_letter_queue(default):
    statements = _policy_statements(default, "EchoRolePolicy")
    queue_arn = {"Fn::GetAtt": [_id(default, "AWS::SQS::Queue", "EchoDeadLetterQueue"), "Arn"]}
    key_arn = {"Fn::GetAtt": [_id(default, "AWS::KMS::Key", "EchoKey"), "Arn"]}
    assert {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": queue_arn} in statements
    assert {"Action": "kms:GenerateDataKey", "Effect": "Allow", "Resource": key_arn} in statements


def test_async_invocations_retry_twice_then_go_to_the_dead_letter_queue(default):
    config = default.only("AWS::Lambda::EventInvokeConfig")
    assert config["MaximumRetryAttempts"] == 2
    assert "DestinationConfig" not in config and "MaximumEventAgeInSeconds" not in config
    assert _reasons(default, "Test/Echo/Resource/EventInvokeConfig/Resource", "Serverless-LambdaAsyncFailureDestination") == {
        ASYNC_FAILURES_TO_DLQ_REASON
    }


# ---- defaults: alarms -------------------------------------------------------------------------


def test_default_alarms_thresholds_and_statistics(default):
    alarms = _alarms(default, "Echo")
    assert set(alarms) == {"Errors", "Throttles", "Duration", "DeadLetterQueue"}
    errors, throttles, duration, dlq = (alarms[k] for k in ("Errors", "Throttles", "Duration", "DeadLetterQueue"))
    assert (errors["MetricName"], errors["Statistic"], errors["Threshold"]) == ("Errors", "Sum", 1)
    assert errors["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert (throttles["MetricName"], throttles["Statistic"], throttles["Threshold"]) == ("Throttles", "Sum", 1)
    assert (duration["MetricName"], duration["ExtendedStatistic"]) == ("Duration", "p99")
    assert duration["Threshold"] == 8000  # 80 % of the 10 s timeout, in ms
    assert duration["ComparisonOperator"] == "GreaterThanThreshold"
    assert (dlq["Namespace"], dlq["MetricName"], dlq["Statistic"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum")
    assert dlq["Threshold"] == 1
    for alarm in alarms.values():
        assert alarm["Period"] == 300
        assert alarm["EvaluationPeriods"] == 1
        assert alarm["TreatMissingData"] == "notBreaching"


def test_default_alarms_notify_a_topic_of_their_own_when_firing_and_recovering(default):
    built = default.extra["built"]
    assert isinstance(built.alert_topic, AlertTopic)
    assert built.alert_topic.node.scope is built
    topic_ref = {"Ref": _id(default, "AWS::SNS::Topic", "EchoAlertTopic")}
    for alarm in _alarms(default, "Echo").values():
        assert alarm["AlarmActions"] == [topic_ref]
        assert alarm["OKActions"] == [topic_ref]
    assert sorted(built.alarms) == ["dead_letter_queue", "duration", "errors", "throttles"]
    assert not default.resources("AWS::SNS::Subscription")


def test_no_dashboard_by_default_and_tags(default):
    assert not default.resources("AWS::CloudWatch::Dashboard")
    assert {"Key": "serverless-patterns:construct", "Value": "AlertingFunction"} in _function(default, "Echo")["Tags"]
    topic_tags = default.only("AWS::SNS::Topic")["Tags"]
    assert {"Key": "serverless-patterns:construct", "Value": "AlertTopic"} in topic_tags


# ---- defaults: acknowledgements ---------------------------------------------------------------


def test_no_vpc_and_no_reserved_concurrency_are_acknowledged_with_documented_reasons(default):
    path = "Test/Echo/Resource/Resource"
    for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"):
        assert _reasons(default, path, f"{pack}-LambdaInsideVPC") == {NO_VPC_REASON}
    for pack in ("HIPAA.Security", "NIST.800.53.R5"):
        assert _reasons(default, path, f"{pack}-LambdaConcurrency") == {NO_RESERVED_CONCURRENCY_REASON}
    checkov = {a.rule: a.reason for a in default.checkov.acknowledged}
    assert checkov == {"CKV_AWS_117": NO_VPC_REASON, "CKV_AWS_115": NO_RESERVED_CONCURRENCY_REASON}


def test_acknowledgements_are_exactly_the_expected_narrow_ones(default):
    assert acknowledged_rules(default) == {
        "Test/Echo/XRayPolicy/Resource": {"AwsSolutions-IAM5[Resource::*]"},
        "Test/Echo/DeadLetterQueue/Resource": {"Serverless-SQSRedrivePolicy"},
        "Test/Echo/Resource/EventInvokeConfig/Resource": {"Serverless-LambdaAsyncFailureDestination"},
        "Test/Echo/Resource/Resource": {
            "HIPAA.Security-LambdaInsideVPC",
            "NIST.800.53.R5-LambdaInsideVPC",
            "PCI.DSS.321-LambdaInsideVPC",
            "HIPAA.Security-LambdaConcurrency",
            "NIST.800.53.R5-LambdaConcurrency",
        },
        "AWS::Lambda::Function.Echo9EA2AEFC": {"CKV_AWS_117", "CKV_AWS_115"},
    }


# ---- maximal ----------------------------------------------------------------------------------


def test_maximal_function_settings(maximal):
    fn = _function(maximal, "Api")
    assert (fn["MemorySize"], fn["Timeout"], fn["ReservedConcurrentExecutions"]) == (512, 20, 5)
    assert fn["Description"] == "Echo API"
    assert {"Key": "Owner", "Value": "api-team"} in fn["Tags"]
    assert _props(maximal, "AWS::Logs::LogGroup", "ApiLogGroup")["RetentionInDays"] == 365


def test_secrets_arrive_as_arns_with_read_access_and_never_as_values(maximal):
    variables = _function(maximal, "Api")["Environment"]["Variables"]
    assert variables["DB_SECRET_ARN"] == SECRET_ARN
    assert variables["STAGE"] == "prod"
    assert "resolve:secretsmanager" not in json.dumps(maximal.template)
    statements = _policy_statements(maximal, "ApiRolePolicy")
    assert {
        "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        "Effect": "Allow",
        "Resource": SECRET_ARN,
    } in statements


def test_powertools_layer_for_runtime_architecture_and_region(maximal):
    fn = _function(maximal, "Api")
    assert fn["Layers"] == [
        {
            "Fn::Sub": "arn:aws:lambda:${AWS::Region}:017000801446:layer:"
            f"AWSLambdaPowertoolsPythonV3-python314-arm64:{POWERTOOLS_LAYER_VERSION}"
        }
    ]
    assert fn["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "Api"


def test_vpc_isolated_subnets_and_a_security_group_without_inbound_rules(maximal):
    fn = _function(maximal, "Api")
    sg_id = _id(maximal, "AWS::EC2::SecurityGroup", "ApiSecurityGroup")
    assert fn["VpcConfig"] == {
        "SecurityGroupIds": [{"Fn::GetAtt": [sg_id, "GroupId"]}],
        "SubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
    }
    sg = maximal.template["Resources"][sg_id]["Properties"]
    assert "SecurityGroupIngress" not in sg
    assert not maximal.resources("AWS::EC2::SecurityGroupIngress")
    assert sg["SecurityGroupEgress"] == [
        {"CidrIp": "0.0.0.0/0", "Description": "HTTPS to AWS APIs", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}
    ]


def test_network_interface_permissions_sit_in_a_separate_acknowledged_policy(maximal):
    (statement,) = _policy_statements(maximal, "ApiNetworkInterfacePolicy")
    assert statement["Resource"] == "*" and "ec2:CreateNetworkInterface" in statement["Action"]
    role = _props(maximal, "AWS::IAM::Role", "ApiRole")
    assert {"Ref": _id(maximal, "AWS::IAM::ManagedPolicy", "ApiNetworkInterfacePolicy")} in role["ManagedPolicyArns"]
    assert all(s["Resource"] != "*" or s["Action"][0].startswith("xray:") for s in _policy_statements(maximal, "ApiRolePolicy"))
    assert _reasons(maximal, "Test/Api/NetworkInterfacePolicy/Resource", "AwsSolutions-IAM5[Resource::*]") == {
        NETWORK_INTERFACES_REASON
    }
    checkov = {(a.rule, a.path) for a in maximal.checkov.acknowledged}
    policy_id = _id(maximal, "AWS::IAM::ManagedPolicy", "ApiNetworkInterfacePolicy")
    assert ("CKV_AWS_111", f"AWS::IAM::ManagedPolicy.{policy_id}") in checkov


def test_in_a_vpc_with_reserved_concurrency_nothing_about_either_is_acknowledged(maximal):
    api_rules = acknowledged_rules(maximal).get("Test/Api/Resource/Resource", set())
    assert not {r for r in api_rules if "LambdaInsideVPC" in r or "LambdaConcurrency" in r}
    checkov_api = {a.rule for a in maximal.checkov.acknowledged if "Api" in a.path and "Function" in a.path}
    assert not checkov_api & {"CKV_AWS_115", "CKV_AWS_117"}


def test_async_retries_max_age_and_on_failure_destination(maximal):
    config = _props(maximal, "AWS::Lambda::EventInvokeConfig", "ApiEventInvokeConfig")
    assert config["MaximumRetryAttempts"] == 1
    assert config["MaximumEventAgeInSeconds"] == 3600
    assert ":event-bus/default" in json.dumps(config["DestinationConfig"]["OnFailure"]["Destination"])
    assert "Test/Api/Resource/EventInvokeConfig/Resource" not in acknowledged_rules(maximal)


def test_sqs_source_reports_partial_batch_failures_and_waits_for_the_role_policy(maximal):
    mapping_id = _id(maximal, "AWS::Lambda::EventSourceMapping", "ApiSqsSourceJobs")
    mapping = maximal.template["Resources"][mapping_id]
    assert mapping["Properties"]["EventSourceArn"] == QUEUE_ARN
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["Properties"]["BatchSize"] == 50
    assert mapping["Properties"]["MaximumBatchingWindowInSeconds"] == 10
    assert mapping["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 5}
    assert _id(maximal, "AWS::IAM::ManagedPolicy", "ApiRolePolicy") in mapping["DependsOn"]
    statements = _policy_statements(maximal, "ApiRolePolicy")
    assert any(s["Resource"] == QUEUE_ARN and "sqs:ReceiveMessage" in _actions(s) for s in statements)
    assert {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": QUEUE_KEY_ARN} in statements
    assert _reasons(maximal, "Test/Api/SqsSourceJobs/Resource", "Serverless-LambdaEventSourceMappingDestination") == {
        SQS_SOURCE_FAILURES_REASON
    }


def test_grants_from_other_constructs_land_in_the_functions_policy(maximal):
    assert not maximal.resources("AWS::IAM::Policy")
    statements = _policy_statements(maximal, "ApiRolePolicy")
    reads = [s for s in statements if "s3:GetObject" in _actions(s)]
    assert reads and "/incoming/*" in json.dumps(reads[0]["Resource"])


def test_tuned_alarms_on_a_shared_topic_with_an_email_parameter(maximal):
    assert len(maximal.resources("AWS::SNS::Topic")) == 1, "both functions share one topic"
    (subscription,) = maximal.resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlertEmail"}
    topic_ref = {"Ref": _id(maximal, "AWS::SNS::Topic", "Alerts")}
    api, worker = _alarms(maximal, "Api"), _alarms(maximal, "Worker")
    assert api["Errors"]["Threshold"] == 3
    assert api["Duration"]["Threshold"] == 18000  # 90 % of 20 s
    assert all(a["Period"] == 60 and a["EvaluationPeriods"] == 2 for a in api.values())
    assert set(worker) == {"Errors", "Duration", "DeadLetterQueue"}, "throttle alarm switched off"
    for alarm in [*api.values(), *worker.values()]:
        assert alarm["AlarmActions"] == [topic_ref]


def test_dashboard_shows_invocations_errors_duration_concurrency_and_dead_letters(maximal):
    (dashboard,) = maximal.resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in ("Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions", "ApproximateNumberOfMessagesVisible"):
        assert metric in body
    assert "timeout" in body and "20000" in body, "duration graph marks the timeout"


def test_node_runtime_x86_and_a_custom_vpc_opt_out_reason(maximal):
    worker = _function(maximal, "Worker")
    assert (worker["Runtime"], worker["Architectures"]) == ("nodejs24.x", ["x86_64"])
    assert "Layers" not in worker
    path = "Test/Worker/Resource/Resource"
    assert _reasons(maximal, path, "HIPAA.Security-LambdaInsideVPC") == {WORKER_REASON}
    checkov = {a.reason for a in maximal.checkov.acknowledged if a.rule == "CKV_AWS_117"}
    assert checkov == {WORKER_REASON}


# ---- stream sources ---------------------------------------------------------------------------


def test_stream_source_defaults_bisect_retry_twice_and_fail_to_the_dead_letter_queue(streams):
    mapping = _props(streams, "AWS::Lambda::EventSourceMapping", "IndexerStreamSourceDocs")
    dlq_arn = {"Fn::GetAtt": [_id(streams, "AWS::SQS::Queue", "IndexerDeadLetterQueue"), "Arn"]}
    assert mapping["EventSourceArn"] == STREAM_ARN
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BatchSize"] == 100
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 2
    assert mapping["ParallelizationFactor"] == 1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": dlq_arn}}


def test_stream_source_options_and_an_sns_failure_destination(streams):
    mapping = _props(streams, "AWS::Lambda::EventSourceMapping", "IndexerStreamSourceAudit")
    topic_arn = "arn:aws:sns:us-east-1:123456789012:stream-failures"
    assert mapping["StartingPosition"] == "LATEST"
    assert (mapping["BatchSize"], mapping["MaximumRetryAttempts"], mapping["ParallelizationFactor"]) == (500, 10, 4)
    assert mapping["BisectBatchOnFunctionError"] is False
    assert mapping["MaximumRecordAgeInSeconds"] == 7200
    assert "FunctionResponseTypes" not in mapping
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": topic_arn}}
    statements = _policy_statements(streams, "IndexerRolePolicy")
    assert {"Action": "sns:Publish", "Effect": "Allow", "Resource": topic_arn} in statements


def test_stream_read_permissions_and_one_iterator_age_alarm(streams):
    statements = _policy_statements(streams, "IndexerRolePolicy")
    assert any(s["Resource"] == STREAM_ARN and "dynamodb:GetRecords" in _actions(s) for s in statements)
    assert not [a for s in statements for a in _actions(s) if "*" in a], "no wildcard actions"
    alarms = _alarms(streams, "Indexer")
    assert alarms["IteratorAge"]["MetricName"] == "IteratorAge"
    assert alarms["IteratorAge"]["Statistic"] == "Maximum"
    assert alarms["IteratorAge"]["Threshold"] == 300_000  # 5 minutes in ms
    assert sorted(streams.extra["built"].alarms) == ["dead_letter_queue", "duration", "errors", "iterator_age", "throttles"]
    assert not [s for s in statements if s["Resource"] == "*"], "ListStreams sits in its own policy"
    assert _policy_statements(streams, "IndexerRoleListStreamsPolicy") == [
        {"Action": "dynamodb:ListStreams", "Effect": "Allow", "Resource": "*"}
    ]
    assert not _reasons(streams, "Test/Indexer/Role/Policy/Resource", "AwsSolutions-IAM5[Resource::*]")
    (reason,) = _reasons(streams, "Test/Indexer/Role/ListStreamsPolicy/Resource", "AwsSolutions-IAM5[Resource::*]")
    assert "dynamodb:ListStreams" in reason
    (reason,) = _reasons(streams, "Test/Indexer/XRayPolicy/Resource", "AwsSolutions-IAM5[Resource::*]")
    assert "X-Ray" in reason


# ---- snapshots and compliance -----------------------------------------------------------------


def test_default_snapshot(default, snapshot_json):
    assert default.normalised() == snapshot_json


def test_maximal_snapshot(maximal, snapshot_json):
    assert maximal.normalised() == snapshot_json


@pytest.mark.parametrize("configuration", ["default", "maximal", "streams"])
def test_compliance(configuration, request):
    assert_compliant(request.getfixturevalue(configuration))


def test_usage_snippet_synthesizes_compliant():
    module = importlib.import_module("examples.snippets.alerting_function_usage")
    synth = synthesize(module.build)
    assert_compliant(synth)
    assert len(synth.resources("AWS::Lambda::Function")) == 2
    assert len(synth.resources("AWS::SNS::Topic")) == 1


# ---- more options, each synthesized once ------------------------------------------------------


def test_alarms_none_creates_no_alarm_and_no_topic():
    synth = synthesize(lambda stack: AlertingFunction(stack, "Quiet", **_echo(), alarms=None))
    assert not synth.resources("AWS::CloudWatch::Alarm")
    assert not synth.resources("AWS::SNS::Topic")
    assert synth.extra["built"].alert_topic is None
    assert not synth.nag.findings


def test_every_alarm_can_be_switched_off_and_an_imported_topic_is_notified():
    def build(stack):
        topic = sns.Topic.from_topic_arn(stack, "Ops", "arn:aws:sns:us-east-1:123456789012:ops")
        options = AlarmOptions(throttles=None, duration_percent_of_timeout=None, dead_letter_messages=None,
                               notify_on_recovery=False)
        return AlertingFunction(stack, "Lean", **_echo(), alarms=options, alert_topic=topic)

    synth = synthesize(build)
    (alarm,) = synth.resources("AWS::CloudWatch::Alarm").values()
    assert alarm["Properties"]["MetricName"] == "Errors"
    assert alarm["Properties"]["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:ops"]
    assert "OKActions" not in alarm["Properties"]
    assert not synth.resources("AWS::SNS::Topic")


def test_own_key_is_used_for_logs_environment_and_dead_letter_queue():
    def build(stack):
        key = kms.Key(stack, "Shared", enable_key_rotation=True)
        return AlertingFunction(stack, "Keyed", **_echo(), encryption_key=key, alert_emails=["ops@example.com"])

    synth = synthesize(build)
    key_arn = {"Fn::GetAtt": [_id(synth, "AWS::KMS::Key", "Shared"), "Arn"]}
    assert _function(synth, "Keyed")["KmsKeyArn"] == key_arn
    assert _props(synth, "AWS::Logs::LogGroup", "KeyedLogGroup")["KmsKeyId"] == key_arn
    assert _props(synth, "AWS::SQS::Queue", "KeyedDeadLetterQueue")["KmsMasterKeyId"] == key_arn
    assert [i for i in synth.resources("AWS::KMS::Key") if i.startswith("Keyed")] == [
        _id(synth, "AWS::KMS::Key", "KeyedAlertTopic")
    ], "no function key besides the given one"
    (subscription,) = synth.resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == "ops@example.com"


def test_parameter_tokens_pass_and_the_duration_alarm_uses_metric_math():
    def build(stack):
        memory = CfnParameter(stack, "Memory", type="Number")
        seconds = CfnParameter(stack, "Timeout", type="Number")
        email = CfnParameter(stack, "AlertEmail", type="String")
        name = CfnParameter(stack, "FunctionName", type="String")
        concurrency = CfnParameter(stack, "Concurrency", type="Number")
        return AlertingFunction(
            stack, "Tokens", **_echo(), memory_size=memory.value_as_number,
            timeout=Duration.seconds(seconds.value_as_number), alert_emails=[email.value_as_string],
            function_name=name.value_as_string, reserved_concurrent_executions=concurrency.value_as_number,
        )

    synth = synthesize(build)
    fn = _function(synth, "Tokens")
    assert (fn["MemorySize"], fn["Timeout"], fn["FunctionName"]) == ({"Ref": "Memory"}, {"Ref": "Timeout"}, {"Ref": "FunctionName"})
    duration = _alarms(synth, "Tokens")["Duration"]
    assert duration["Threshold"] == 80
    expression = json.dumps(duration["Metrics"])
    assert '"Ref": "Timeout"' in expression and "duration / (" in expression


def test_queue_and_topic_failure_destinations_are_granted_exact_kms_actions():
    def build(stack):
        key = kms.Key(stack, "Shared", enable_key_rotation=True)
        queue = sqs.Queue(stack, "Failed", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key)
        topic = sns.Topic(stack, "FailedTopic", master_key=key)
        AlertingFunction(stack, "ToQueue", **_echo(), on_failure=queue, alarms=None)
        AlertingFunction(stack, "ToTopic", **_echo(), on_failure=topic, alarms=None)

    synth = synthesize(build)
    key_arn = {"Fn::GetAtt": [_id(synth, "AWS::KMS::Key", "Shared"), "Arn"]}
    for prefix, destination, action in (
        ("ToQueue", {"Fn::GetAtt": [_id(synth, "AWS::SQS::Queue", "Failed"), "Arn"]}, "sqs:SendMessage"),
        ("ToTopic", {"Ref": _id(synth, "AWS::SNS::Topic", "FailedTopic")}, "sns:Publish"),
    ):
        config = _props(synth, "AWS::Lambda::EventInvokeConfig", f"{prefix}EventInvokeConfig")
        assert config["DestinationConfig"] == {"OnFailure": {"Destination": destination}}
        statements = _policy_statements(synth, f"{prefix}RolePolicy")
        assert {"Action": action, "Effect": "Allow", "Resource": destination} in statements
        assert {"Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Effect": "Allow", "Resource": key_arn} in statements
        assert not [a for s in statements for a in _actions(s) if "*" in a]
        assert f"Test/{prefix}/Resource/EventInvokeConfig/Resource" not in acknowledged_rules(synth)


def test_vpc_with_private_subnets_uses_them_by_default():
    def build(stack):
        vpc = ec2.Vpc.from_vpc_attributes(
            stack, "Vpc", vpc_id="vpc-1", availability_zones=["us-east-1a"], private_subnet_ids=["subnet-private1"],
            isolated_subnet_ids=["subnet-isolated1"], private_subnet_route_table_ids=["rtb-private1"],
            isolated_subnet_route_table_ids=["rtb-isolated1"],
        )
        return AlertingFunction(stack, "InVpc", **_echo(), vpc=vpc)

    synth = synthesize(build)
    assert _function(synth, "InVpc")["VpcConfig"]["SubnetIds"] == ["subnet-private1"]


def test_handler_asset_holds_only_its_own_handler_directory(default):
    (asset_dir,) = [p for p in default.outdir.glob("asset.*") if p.is_dir()]
    files = sorted(str(p.relative_to(asset_dir)) for p in asset_dir.rglob("*") if p.is_file())
    assert files == ["example_echo/__init__.py", "example_echo/index.py", "example_echo/logic.py"]


# ---- powertools_layer -------------------------------------------------------------------------


def test_powertools_layer_in_a_concrete_region_is_a_plain_arn_imported_once_per_stack():
    stack = Stack(App(), "Layers", env=TEST_ENV)
    first = powertools_layer(stack, lambda_.Runtime.PYTHON_3_13, lambda_.Architecture.X86_64)
    again = powertools_layer(stack, lambda_.Runtime.PYTHON_3_13, lambda_.Architecture.X86_64)
    assert first is again or first.layer_version_arn == again.layer_version_arn
    assert first.layer_version_arn == (
        "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-x86_64:"
        f"{POWERTOOLS_LAYER_VERSION}"
    )
    assert len([c for c in stack.node.children if c.node.id.startswith("PowertoolsLayer")]) == 1
    assert powertools_layer(stack, version=3).layer_version_arn.endswith("python314-arm64:3")


@pytest.mark.parametrize(
    ("kwargs", "env", "message"),
    [
        ({"runtime": lambda_.Runtime.NODEJS_24_X}, None, "runtime='nodejs24.x': must be one of python3.10"),
        ({"version": 0}, None, "version=0: must be a positive integer"),
        ({}, {"account": "123456789012", "region": "cn-north-1"}, "region='cn-north-1': the public layer"),
    ],
)
def test_powertools_layer_refuses_what_has_no_public_layer(kwargs, env, message):
    from aws_cdk import Environment

    stack = Stack(App(), "Layers", env=Environment(**env) if env else None)
    with pytest.raises(ValueError, match=message):
        powertools_layer(stack, **kwargs)


# ---- validation -------------------------------------------------------------------------------


def _construct(**props):
    stack = Stack(App(), "V")
    return AlertingFunction(stack, "Bad", **{**_echo(), **props})


SUPPORTED = "python3.14, python3.13, python3.12, python3.11, nodejs24.x, nodejs22.x"


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"runtime": lambda_.Runtime.PYTHON_3_8}, f"runtime='python3.8': is deprecated or not supported; use one of {SUPPORTED}"),
        ({"runtime": lambda_.Runtime.NODEJS_14_X}, f"runtime='nodejs14.x': is deprecated or not supported; use one of {SUPPORTED}"),
        ({"runtime": lambda_.Runtime.PYTHON_3_10}, "runtime='python3.10': is deprecated"),
        ({"runtime": lambda_.Runtime.JAVA_21}, "runtime='java21': is deprecated or not supported"),
        ({"runtime": lambda_.Runtime.NODEJS_LATEST}, "runtime='nodejs24.x': a runtime that follows the CDK version"),
        ({"memory_size": 127}, "memory_size=127: must be at least 128 MB"),
        ({"memory_size": 10241}, "memory_size=10241: must be at most 10240 MB"),
        ({"memory_size": 256.5}, "memory_size=256.5: must be a whole number of MB"),
        ({"timeout": Duration.seconds(0)}, "timeout='0 seconds': must be whole seconds from 1 to 900"),
        ({"timeout": Duration.minutes(16)}, "timeout='960 seconds': must be whole seconds from 1 to 900"),
        ({"timeout": Duration.millis(1500)}, "timeout='1.5 seconds': must be whole seconds"),
        ({"retry_attempts": 3}, "retry_attempts=3: must be at most 2"),
        ({"retry_attempts": -1}, "retry_attempts=-1: must be at least 0"),
        ({"max_event_age": Duration.seconds(30)}, "max_event_age='30 seconds': must be whole seconds from 60 to 21600"),
        ({"reserved_concurrent_executions": 0}, "reserved_concurrent_executions=0: must be at least 1"),
        ({"log_retention": logs.RetentionDays.INFINITE}, "logs must expire"),
        ({"handler": "index handler"}, "handler='index handler': must be 1-128 characters without spaces"),
        ({"function_name": "bad name"}, "function_name='bad name': must be 1-64 letters"),
        ({"powertools": True, "runtime": lambda_.Runtime.NODEJS_22_X}, "powertools=True: the Powertools layer is for Python runtimes"),
        ({"environment": {"AWS_REGION": "x"}}, "environment='AWS_REGION': is reserved by Lambda"),
        ({"environment": {"1ST": "x"}}, "environment='1ST': names must start with a letter"),
        ({"vpc_opt_out_reason": "  "}, "vpc_opt_out_reason='  ': say why the function needs no VPC"),
        ({"vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)}, "): needs vpc"),
        ({"alert_emails": ["oncall"]}, "alert_emails='oncall': is not an email address"),
        ({"alarms": None, "alert_emails": ["a@example.com"]}, "alert_emails=['a@example.com']: alarms=None creates no alarms"),
        ({"alarms": AlarmOptions(errors=0)}, "alarms.errors=0: must be at least 1"),
        ({"alarms": AlarmOptions(duration_percent_of_timeout=150)}, "alarms.duration_percent_of_timeout=150: must be more than 0"),
        ({"alarms": AlarmOptions(period=Duration.seconds(90))}, "alarms.period='90 seconds': must be a whole number of minutes"),
        ({"alarms": AlarmOptions(evaluation_periods=0)}, "alarms.evaluation_periods=0: must be a whole number"),
    ],
)
def test_invalid_props_raise_value_error_naming_the_prop(props, message):
    with pytest.raises(ValueError) as error:
        _construct(**props)
    assert message in str(error.value)
    assert str(error.value).startswith("AlertingFunction: invalid props:")


def test_conflicting_network_and_alerting_options_are_reported_together():
    stack = Stack(App(), "V")
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-1", availability_zones=["a"], isolated_subnet_ids=["s-1"])
    topic = AlertTopic(stack, "Alerts")
    with pytest.raises(ValueError) as error:
        AlertingFunction(
            stack, "Bad", **_echo(), vpc=vpc, vpc_opt_out_reason="no need",
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            alert_topic=topic, alert_emails=["a@example.com"],
        )
    message = str(error.value)
    assert "vpc_opt_out_reason='no need': cannot opt out of a VPC and pass vpc at the same time" in message
    assert "functions in public subnets get no public IP" in message
    assert "alert_emails=['a@example.com']: subscribe addresses to the alert_topic you pass" in message


def test_alarms_none_with_a_topic_is_refused():
    stack = Stack(App(), "V")
    with pytest.raises(ValueError, match="alert_topic=.*alarms=None creates no alarms to notify it"):
        AlertingFunction(stack, "Bad", **_echo(), alarms=None, alert_topic=AlertTopic(stack, "Alerts"))


def test_secret_values_in_the_environment_are_refused():
    secret = SecretValue.secrets_manager("prod/db", json_field="password")
    with pytest.raises(ValueError, match="environment='DB_PASSWORD': holds a secret value"):
        _construct(environment={"DB_PASSWORD": secret.unsafe_unwrap()})


def test_secret_names_are_validated():
    stack = Stack(App(), "V")
    secret = secretsmanager.Secret.from_secret_complete_arn(stack, "S", SECRET_ARN)
    with pytest.raises(ValueError) as error:
        AlertingFunction(stack, "Bad", **_echo(), secrets={"DB_SECRET_ARN": secret, "DB": secret},
                         environment={"DB_ARN": "x"})
    message = str(error.value)
    assert "secrets='DB_SECRET_ARN': the _ARN suffix is added for you" in message
    assert "secrets='DB_ARN': collides with a name in environment" in message


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"runtime": "python3.14"}, "runtime must be Runtime, got str"),
        ({"timeout": 30}, "timeout must be Duration, got int"),
        ({"alert_topic": "arn:aws:sns:us-east-1:123456789012:ops"}, "alert_topic must be AlertTopic or ITopic, got str"),
        ({"secrets": {"DB": "arn:aws:secretsmanager:..."}}, r"secrets\['DB'\] must be ISecret, got str"),
        ({"secrets": {"DB": None}}, r"secrets\['DB'\] must be ISecret, got NoneType"),
        ({"alarms": {"errors": 1}}, "alarms must be AlarmOptions, got dict"),
        ({"alert_emails": "ops@example.com"}, "alert_emails must be a sequence of str, got str"),
        ({"dashboard": "yes"}, "dashboard must be bool, got str"),
    ],
)
def test_wrong_types_raise_type_error_naming_the_prop(props, message):
    with pytest.raises(TypeError, match=message):
        _construct(**props)


# ---- event source validation ------------------------------------------------------------------


@pytest.fixture
def function_stack():
    stack = Stack(App(), "V")
    return stack, AlertingFunction(stack, "Fn", **_echo(), timeout=Duration.seconds(60))


def test_sqs_source_needs_a_redrive_policy_and_a_long_enough_visibility_timeout(function_stack):
    stack, fn = function_stack
    queue = sqs.Queue(stack, "NoDlq")
    with pytest.raises(ValueError) as error:
        fn.add_sqs_source(queue)
    message = str(error.value)
    assert message.startswith("AlertingFunction.add_sqs_source: invalid props:")
    assert "queue='V/NoDlq': needs a dead_letter_queue (redrive policy)" in message
    assert "its visibility timeout (30 s) must be at least the function's timeout (60 s)" in message


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 11}, "batch_size=11: must be at most 10"),
        ({"batch_size": 20000, "max_batching_window": Duration.seconds(5)}, "batch_size=20000: must be at most 10000"),
        ({"max_batching_window": Duration.minutes(6)}, "max_batching_window='360 seconds'"),
        ({"max_concurrency": 1}, "max_concurrency=1: must be at least 2"),
    ],
)
def test_sqs_source_limits(function_stack, kwargs, message):
    stack, fn = function_stack
    dlq = sqs.Queue(stack, "Dlq")
    queue = sqs.Queue(stack, "Jobs", visibility_timeout=Duration.minutes(6),
                      dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=3, queue=dlq))
    with pytest.raises(ValueError, match=message):
        fn.add_sqs_source(queue, **kwargs)
    fn.add_sqs_source(queue)  # the same queue with default settings is fine
    with pytest.raises(ValueError, match="queue='V/Jobs': is already an event source of this function"):
        fn.add_sqs_source(queue)


def test_the_function_may_not_consume_its_own_dead_letter_queue(function_stack):
    _, fn = function_stack
    with pytest.raises(ValueError, match="must not consume its own dead-letter queue"):
        fn.add_sqs_source(fn.dead_letter_queue)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"retry_attempts": 10001}, "retry_attempts=10001: must be at most 10000"),
        ({"parallelization_factor": 11}, "parallelization_factor=11: must be at most 10"),
        ({"max_record_age": Duration.seconds(59)}, "max_record_age='59 seconds'"),
        ({"starting_position": lambda_.StartingPosition.AT_TIMESTAMP}, "must be TRIM_HORIZON or LATEST"),
        ({"bisect_batch_on_error": "yes"}, "bisect_batch_on_error='yes': must be True or False"),
    ],
)
def test_stream_source_limits(function_stack, kwargs, message):
    stack, fn = function_stack
    table = dynamodb.Table.from_table_attributes(stack, "T", table_arn=TABLE_ARN, table_stream_arn=STREAM_ARN)
    with pytest.raises(ValueError, match=message):
        fn.add_dynamodb_stream_source(table, **kwargs)


def test_stream_source_needs_a_stream(function_stack):
    stack, fn = function_stack
    table = dynamodb.Table.from_table_arn(stack, "NoStream", TABLE_ARN)
    with pytest.raises(ValueError, match="table='V/NoStream': has no stream"):
        fn.add_dynamodb_stream_source(table)


# ---- how the function is invoked ----------------------------------------------------------------


def _synchronous(stack):
    return AlertingFunction(
        stack, "Api", **_echo(invocation=Invocation.SYNCHRONOUS, invoked_by="API Gateway (the orders API)")
    )


@pytest.fixture(scope="module")
def synchronous():
    return synthesize(_synchronous)


def test_a_synchronous_function_gets_no_dead_letter_queue_event_invoke_config_or_dlq_alarm(synchronous):
    """They could never receive anything: the synchronous caller receives the error itself."""
    assert not synchronous.resources("AWS::SQS::Queue")
    assert not synchronous.resources("AWS::Lambda::EventInvokeConfig")
    function = synchronous.only("AWS::Lambda::Function")
    assert "DeadLetterConfig" not in function
    metrics = {a["Properties"].get("MetricName") for a in synchronous.resources("AWS::CloudWatch::Alarm").values()}
    assert "ApproximateNumberOfMessagesVisible" not in metrics
    assert {"Errors", "Throttles"} <= metrics
    built = synchronous.extra["built"]
    assert built.dead_letter_queue is None and "dead_letter_queue" not in built.alarms
    with pytest.raises(ValueError, match="has no dead-letter queue"):
        built.metric_dead_letter_messages()


def test_a_synchronous_function_acknowledges_the_dlq_rules_naming_its_caller(synchronous):
    reason = no_async_path_reason(Invocation.SYNCHRONOUS, "API Gateway (the orders API)")
    assert reason.startswith("Invoked only synchronously by API Gateway (the orders API); the caller receives the error")
    acks = {(f.rule.split(" ")[0], f.reason) for f in [*synchronous.nag.acknowledged, *synchronous.checkov.acknowledged]}
    assert ("CKV_AWS_116", reason) in acks
    assert ("Serverless-LambdaDLQ", reason) in acks
    assert_compliant(synchronous)


def test_an_event_source_function_gets_the_dead_letter_queue_only_as_a_stream_destination():
    stack = Stack(App(), "Sources")
    table = dynamodb.Table(
        stack, "Docs", partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
        stream=dynamodb.StreamViewType.NEW_IMAGE,
    )
    worker = AlertingFunction(stack, "Worker", **_echo(invocation=Invocation.EVENT_SOURCE))
    assert worker.dead_letter_queue is None
    worker.add_dynamodb_stream_source(table)
    assert worker.dead_letter_queue is not None and "dead_letter_queue" in worker.alarms
    template = Template.from_stack(stack).to_json()
    types = [r["Type"] for r in template["Resources"].values()]
    assert "AWS::Lambda::EventInvokeConfig" not in types
    (mapping,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    queue_id = stack.resolve(stack.get_logical_id(worker.dead_letter_queue.node.default_child))
    assert mapping["Properties"]["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [queue_id, "Arn"]}}}


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"retry_attempts": 1}, "retry_attempts=1: configures asynchronous invocations"),
        ({"max_event_age": Duration.minutes(5)}, "max_event_age=.*configures asynchronous invocations"),
        ({"on_failure": sqs.Queue.from_queue_arn(Stack(App(), "Q"), "Q", QUEUE_ARN)}, "on_failure=.*configures asynchronous"),
    ],
)
def test_asynchronous_settings_are_refused_for_a_function_never_invoked_asynchronously(props, message):
    with pytest.raises(ValueError, match=message):
        AlertingFunction(Stack(App(), "Invalid"), "Api", **_echo(invocation=Invocation.SYNCHRONOUS, **props))


def test_invoked_by_is_only_for_functions_not_invoked_asynchronously():
    with pytest.raises(ValueError, match="invoked_by='API Gateway': describes the caller of a SYNCHRONOUS"):
        AlertingFunction(Stack(App(), "Invalid"), "Api", **_echo(invoked_by="API Gateway"))
