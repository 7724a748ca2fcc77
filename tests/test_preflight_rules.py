"""The deploy preflight rules on small dict templates: each rule trips on a bad template and
stays quiet on the fixed one (no CDK, so these run in milliseconds)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from serverless_patterns.preflight import ERROR, RULES, WARNING, check_template

ROOT_ONLY_KEY_POLICY = {
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]]}},
         "Action": "kms:*", "Resource": "*"}
    ]
}


def service_statement(service: Any, actions: list[str], condition: dict | None = None) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": actions, "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    return statement


def key(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [*ROOT_ONLY_KEY_POLICY["Statement"], *statements]}}}


def ids(template: dict[str, Any], rule: str, region: str | None = None) -> list[str]:
    return [v.logical_id for v in check_template(template, region=region, rules=[rule])]


def trips(rule: str, bad: dict[str, Any], good: dict[str, Any], expected: list[str], region: str | None = None) -> None:
    assert ids(bad, rule, region) == expected
    assert ids(good, rule, region) == []


def with_props(template: dict[str, Any], logical_id: str, **props: Any) -> dict[str, Any]:
    result = copy.deepcopy(template)
    for name, value in props.items():
        if value is None:
            result["Resources"][logical_id]["Properties"].pop(name, None)
        else:
            result["Resources"][logical_id]["Properties"][name] = value
    return result


# -- the registry ---------------------------------------------------------------------------------
def test_every_rule_has_an_id_severity_fix_and_aws_source():
    assert len(RULES) >= 20
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id and rule_id.isidentifier()
        assert rule.severity in (ERROR, WARNING)
        assert rule.summary and rule.fix and rule.source
        assert rule.acknowledgement_id == f"DeployPreflight::{rule_id}"
        assert rule.check.__doc__, f"{rule_id} has no docstring citing its AWS page"


def test_unknown_rule_ids_are_refused_by_name():
    with pytest.raises(ValueError, match="unknown rule ids \\['NoSuchRule'\\]"):
        check_template({"Resources": {}}, rules=["NoSuchRule"])


def test_an_empty_template_has_no_findings():
    assert check_template({"Resources": {}}) == []


# -- S3 server access logs ----------------------------------------------------------------------
def _logged_buckets(algorithm: str | None, object_lock: bool = False) -> dict[str, Any]:
    target: dict[str, Any] = {"Type": "AWS::S3::Bucket", "Properties": {}}
    if algorithm:
        target["Properties"]["BucketEncryption"] = {
            "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": algorithm}}]
        }
    if object_lock:
        target["Properties"]["ObjectLockEnabled"] = True
    return {
        "Resources": {
            "Logs": target,
            "Data": {"Type": "AWS::S3::Bucket", "Properties": {"LoggingConfiguration": {"DestinationBucketName": {"Ref": "Logs"}}}},
        }
    }


def test_access_log_target_must_be_sse_s3():
    trips("S3AccessLogTargetNotSseS3", _logged_buckets("aws:kms"), _logged_buckets("AES256"), ["Logs"])
    assert ids(_logged_buckets(None), "S3AccessLogTargetNotSseS3") == []  # S3's default is SSE-S3
    assert ids(_logged_buckets("aws:kms:dsse"), "S3AccessLogTargetNotSseS3") == ["Logs"]


def test_kms_on_a_bucket_that_receives_no_access_logs_is_fine():
    template = _logged_buckets("aws:kms")
    del template["Resources"]["Data"]["Properties"]["LoggingConfiguration"]
    assert ids(template, "S3AccessLogTargetNotSseS3") == []


def test_access_log_target_found_by_literal_bucket_name():
    template = _logged_buckets("aws:kms")
    template["Resources"]["Logs"]["Properties"]["BucketName"] = "my-logs"
    template["Resources"]["Data"]["Properties"]["LoggingConfiguration"]["DestinationBucketName"] = "my-logs"
    assert ids(template, "S3AccessLogTargetNotSseS3") == ["Logs"]


def test_access_log_target_without_object_lock():
    trips("S3AccessLogTargetObjectLock", _logged_buckets("AES256", object_lock=True), _logged_buckets("AES256"), ["Logs"])


# -- Retain with fixed names ----------------------------------------------------------------------
STACK_ID_SUFFIX = {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}


@pytest.mark.parametrize(
    ("resource_type", "prop"),
    [
        ("AWS::Logs::LogGroup", "LogGroupName"),
        ("AWS::DynamoDB::Table", "TableName"),
        ("AWS::SQS::Queue", "QueueName"),
        ("AWS::Backup::BackupVault", "BackupVaultName"),
        ("AWS::S3::Bucket", "BucketName"),
        ("AWS::SNS::Topic", "TopicName"),
        ("AWS::SecretsManager::Secret", "Name"),
        ("AWS::KMS::Alias", "AliasName"),
        ("AWS::IAM::Role", "RoleName"),
        ("AWS::Lambda::Function", "FunctionName"),
    ],
)
def test_retain_with_a_fixed_name_blocks_the_retry(resource_type, prop):
    def template(policy: str, name: Any) -> dict[str, Any]:
        return {"Resources": {"R": {"Type": resource_type, "DeletionPolicy": policy, "Properties": {prop: name}}}}

    literal = "orders"
    by_stack_name = {"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, "orders"]]}
    by_stack_id = {"Fn::Join": ["-", ["orders", STACK_ID_SUFFIX]]}
    assert ids(template("Retain", literal), "RetainWithFixedName") == ["R"]
    assert ids(template("Retain", by_stack_name), "RetainWithFixedName") == ["R"]  # reused after delete + create
    assert ids(template("Retain", {"Fn::Sub": "${AWS::StackName}-orders"}), "RetainWithFixedName") == ["R"]
    assert ids(template("Retain", {"Ref": "NameParameter"}), "RetainWithFixedName") == ["R"]
    assert ids(template("Retain", by_stack_id), "RetainWithFixedName") == []
    assert ids(template("RetainExceptOnCreate", literal), "RetainWithFixedName") == []
    assert ids(template("Delete", literal), "RetainWithFixedName") == []
    generated = {"Resources": {"R": {"Type": resource_type, "DeletionPolicy": "Retain", "Properties": {}}}}
    assert ids(generated, "RetainWithFixedName") == []


def test_retain_except_on_create_with_a_fixed_name_blocks_the_redeploy():
    def template(policy: str, name: Any) -> dict[str, Any]:
        return {"Resources": {"G": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": policy, "Properties": {"LogGroupName": name}}}}

    trips("RetainedNameBlocksRedeploy", template("RetainExceptOnCreate", "/app/audit"),
          template("RetainExceptOnCreate", {"Fn::Sub": ["/app/${Id}", {"Id": STACK_ID_SUFFIX}]}), ["G"])
    assert ids(template("Retain", "/app/audit"), "RetainedNameBlocksRedeploy") == []  # the other rule's case


# -- API Gateway --------------------------------------------------------------------------------
def _rest_api(with_account: bool, stage_depends: bool = True, **stage: Any) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "api"}},
        "Deployment": {"Type": "AWS::ApiGateway::Deployment", "Properties": {"RestApiId": {"Ref": "Api"}}},
        "Stage": {"Type": "AWS::ApiGateway::Stage",
                  "Properties": {"RestApiId": {"Ref": "Api"}, "DeploymentId": {"Ref": "Deployment"}, "StageName": "prod", **stage}},
    }
    if with_account:
        resources["Role"] = {"Type": "AWS::IAM::Role", "Properties": {}}
        resources["Account"] = {"Type": "AWS::ApiGateway::Account", "Properties": {"CloudWatchRoleArn": {"Fn::GetAtt": ["Role", "Arn"]}}}
        if stage_depends:
            resources["Api"]["DependsOn"] = ["Account"]
    return {"Resources": resources}


def test_rest_api_logging_needs_the_account_role():
    access_logs = {"AccessLogSetting": {"DestinationArn": "arn:aws:logs:us-east-1:1:log-group:x", "Format": "$context.requestId"}}
    execution_logs = {"MethodSettings": [{"HttpMethod": "*", "ResourcePath": "/*", "LoggingLevel": "ERROR"}]}
    trips("RestApiLoggingWithoutAccountRole", _rest_api(False, **access_logs), _rest_api(True, **access_logs), ["Stage"])
    trips("RestApiLoggingWithoutAccountRole", _rest_api(False, **execution_logs), _rest_api(True, **execution_logs), ["Stage"])
    assert ids(_rest_api(False, MethodSettings=[{"LoggingLevel": "OFF", "MetricsEnabled": True}]), "RestApiLoggingWithoutAccountRole") == []


def test_rest_api_stage_created_before_the_account_role():
    template = _rest_api(True, stage_depends=False, AccessLogSetting={"DestinationArn": "x"})
    found = check_template(template, rules=["RestApiLoggingWithoutAccountRole"])
    assert [(v.logical_id, v.location) for v in found] == [("Stage", "DependsOn")]


def test_deployment_stage_description_logging_counts_too():
    template = _rest_api(False)
    template["Resources"]["Deployment"]["Properties"].update(StageName="v1", StageDescription={"LoggingLevel": "INFO"})
    assert "Deployment" in ids(template, "RestApiLoggingWithoutAccountRole")


def test_two_stages_with_one_name_collide():
    template = _rest_api(True)
    template["Resources"]["Deployment"]["Properties"]["StageName"] = "prod"
    trips("ApiStageNameCollision", template, _rest_api(True), ["Stage"])


# -- EventBridge and SNS to FIFO queues ---------------------------------------------------------
def _event_rule(target: dict[str, Any], fifo: bool = True) -> dict[str, Any]:
    queue_props = {"FifoQueue": True} if fifo else {}
    return {
        "Resources": {
            "Orders": {"Type": "AWS::SQS::Queue", "Properties": dict(queue_props)},
            "Dlq": {"Type": "AWS::SQS::Queue", "Properties": dict(queue_props)},
            "StandardDlq": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Rule": {"Type": "AWS::Events::Rule", "Properties": {"EventPattern": {"source": ["x"]}, "Targets": [target]}},
        }
    }


def test_eventbridge_target_dead_letter_queue_must_be_standard():
    arn = {"Fn::GetAtt": ["Orders", "Arn"]}
    bad = _event_rule({"Id": "T", "Arn": arn, "SqsParameters": {"MessageGroupId": "g"},
                       "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["Dlq", "Arn"]}}})
    good = _event_rule({"Id": "T", "Arn": arn, "SqsParameters": {"MessageGroupId": "g"},
                        "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["StandardDlq", "Arn"]}}})
    trips("EventTargetFifoDeadLetterQueue", bad, good, ["Rule"])
    literal = _event_rule({"Id": "T", "Arn": "arn:aws:sns:us-east-1:1:t", "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:1:dlq.fifo"}})
    assert ids(literal, "EventTargetFifoDeadLetterQueue") == ["Rule"]


def test_eventbridge_fifo_target_needs_a_message_group_id():
    arn = {"Fn::GetAtt": ["Orders", "Arn"]}
    trips("EventTargetFifoWithoutMessageGroupId", _event_rule({"Id": "T", "Arn": arn}),
          _event_rule({"Id": "T", "Arn": arn, "SqsParameters": {"MessageGroupId": "orders"}}), ["Rule"])
    assert ids(_event_rule({"Id": "T", "Arn": arn}, fifo=False), "EventTargetFifoWithoutMessageGroupId") == []


def _subscription(fifo_topic: bool) -> dict[str, Any]:
    return {
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"FifoTopic": True} if fifo_topic else {}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": True}},
            "Sub": {"Type": "AWS::SNS::Subscription", "Properties": {
                "Protocol": "sqs", "TopicArn": {"Ref": "Topic"}, "Endpoint": {"Fn::GetAtt": ["Queue", "Arn"]}}},
        }
    }


def test_standard_topic_cannot_deliver_to_a_fifo_queue():
    trips("StandardTopicToFifoQueue", _subscription(False), _subscription(True), ["Sub"])


def test_eventbridge_target_with_a_role_on_a_resource_policy_target():
    arn = {"Fn::GetAtt": ["Orders", "Arn"]}
    trips("EventTargetRoleOnResourcePolicyTarget", _event_rule({"Id": "T", "Arn": arn, "RoleArn": "arn:aws:iam::1:role/r"}, fifo=False),
          _event_rule({"Id": "T", "Arn": arn}, fifo=False), ["Rule"])


# -- alarm topics -------------------------------------------------------------------------------
def _alarm_topic(topic_policy: list[dict] | None, key_statements: list[dict] | None) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmActions": [{"Ref": "Topic"}], "Threshold": 1}},
    }
    if topic_policy is not None:
        resources["Policy"] = {"Type": "AWS::SNS::TopicPolicy", "Properties": {
            "Topics": [{"Ref": "Topic"}], "PolicyDocument": {"Statement": topic_policy}}}
    if key_statements is not None:
        resources["Key"] = key(*key_statements)
        resources["Topic"]["Properties"]["KmsMasterKeyId"] = {"Fn::GetAtt": ["Key", "Arn"]}
    return {"Resources": resources}


TLS_ONLY = [{"Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": {"Ref": "Topic"},
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
CLOUDWATCH_PUBLISH = [*TLS_ONLY, service_statement("cloudwatch.amazonaws.com", ["sns:Publish"])]


def test_alarm_topic_policy_must_let_cloudwatch_publish():
    trips("AlarmTopicPolicyDeniesCloudWatch", _alarm_topic(TLS_ONLY, None), _alarm_topic(CLOUDWATCH_PUBLISH, None), ["Policy"])
    assert ids(_alarm_topic(None, None), "AlarmTopicPolicyDeniesCloudWatch") == []  # the default policy lets the account in


def test_alarm_topic_key_must_let_cloudwatch_in():
    bad = _alarm_topic(CLOUDWATCH_PUBLISH, [])
    good = _alarm_topic(CLOUDWATCH_PUBLISH, [service_statement("cloudwatch.amazonaws.com", ["kms:Decrypt", "kms:GenerateDataKey*"])])
    trips("AlarmTopicKeyDeniesCloudWatch", bad, good, ["Key"])
    decrypt_only = _alarm_topic(CLOUDWATCH_PUBLISH, [service_statement("cloudwatch.amazonaws.com", ["kms:Decrypt"])])
    assert "kms:GenerateDataKey" in check_template(decrypt_only, rules=["AlarmTopicKeyDeniesCloudWatch"])[0].message
    aws_managed = _alarm_topic(None, None)
    aws_managed["Resources"]["Topic"]["Properties"]["KmsMasterKeyId"] = "alias/aws/sns"
    assert ids(aws_managed, "AlarmTopicKeyDeniesCloudWatch") == ["Topic"]


# -- keys of queues and topics that services deliver to ------------------------------------------
def _encrypted_queue_target(deliverer: str, *key_statements: dict[str, Any]) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "Key": key(*key_statements),
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"KmsMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}},
    }
    queue_arn = {"Fn::GetAtt": ["Queue", "Arn"]}
    if deliverer == "events":
        resources["Rule"] = {"Type": "AWS::Events::Rule", "Properties": {"Targets": [{"Id": "Q", "Arn": queue_arn}]}}
    elif deliverer == "s3":
        resources["Bucket"] = {"Type": "AWS::S3::Bucket", "Properties": {}}
        resources["Notifications"] = {"Type": "Custom::S3BucketNotifications", "Properties": {
            "BucketName": {"Ref": "Bucket"},
            "NotificationConfiguration": {"QueueConfigurations": [{"Events": ["s3:ObjectCreated:*"], "Queue": queue_arn}]}}}
    elif deliverer == "sns":
        resources["Topic"] = {"Type": "AWS::SNS::Topic", "Properties": {}}
        resources["Sub"] = {"Type": "AWS::SNS::Subscription", "Properties": {
            "Protocol": "sqs", "TopicArn": {"Ref": "Topic"}, "Endpoint": queue_arn}}
    return {"Resources": resources}


@pytest.mark.parametrize("service", ["events", "s3", "sns"])
def test_queue_key_must_let_the_delivering_service_in(service):
    principal = f"{service}.amazonaws.com"
    trips("QueueKeyDeniesDeliveringService", _encrypted_queue_target(service),
          _encrypted_queue_target(service, service_statement(principal, ["kms:GenerateDataKey*", "kms:Decrypt"])), ["Key"])
    other_service = _encrypted_queue_target(service, service_statement("lambda.amazonaws.com", ["kms:*"]))
    assert ids(other_service, "QueueKeyDeniesDeliveringService") == ["Key"]


def test_queue_with_aws_managed_key_cannot_receive_from_services():
    template = _encrypted_queue_target("events")
    template["Resources"]["Queue"]["Properties"]["KmsMasterKeyId"] = "alias/aws/sqs"
    assert ids(template, "QueueKeyDeniesDeliveringService") == ["Queue"]


def test_queue_key_checked_for_the_eventbridge_dead_letter_queue_too():
    template = _encrypted_queue_target("none")
    template["Resources"]["Other"] = {"Type": "AWS::SNS::Topic", "Properties": {}}
    template["Resources"]["Rule"] = {"Type": "AWS::Events::Rule", "Properties": {"Targets": [
        {"Id": "T", "Arn": {"Ref": "Other"}, "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["Queue", "Arn"]}}}]}}
    assert ids(template, "QueueKeyDeniesDeliveringService") == ["Key"]


def _encrypted_topic_target(*key_statements: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": {
        "Key": key(*key_statements),
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}},
        "Rule": {"Type": "AWS::Events::Rule", "Properties": {"Targets": [{"Id": "T", "Arn": {"Ref": "Topic"}}]}},
    }}


def test_topic_key_must_let_eventbridge_in_without_source_conditions():
    grant = ["kms:GenerateDataKey*", "kms:Decrypt"]
    trips("TopicKeyDeniesDeliveringService", _encrypted_topic_target(),
          _encrypted_topic_target(service_statement("events.amazonaws.com", grant)), ["Key"])
    conditioned = _encrypted_topic_target(
        service_statement("events.amazonaws.com", grant, {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}})
    )
    found = check_template(conditioned, rules=["TopicKeyDeniesDeliveringService"])
    assert [v.logical_id for v in found] == ["Key"] and "aws:SourceAccount" in found[0].message


# -- log group keys -----------------------------------------------------------------------------
LOGS_ACTIONS = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
REGIONAL_LOGS = {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}


def _encrypted_log_group(*key_statements: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"KmsKeyId": {"Fn::GetAtt": ["Key", "Arn"]}, "RetentionInDays": 30}
    if name:
        props["LogGroupName"] = name
    return {"Resources": {"Key": key(*key_statements), "Group": {"Type": "AWS::Logs::LogGroup", "Properties": props}}}


def test_log_group_key_must_let_the_regional_logs_principal_in():
    trips("LogGroupKeyDeniesLogs", _encrypted_log_group(), _encrypted_log_group(service_statement(REGIONAL_LOGS, LOGS_ACTIONS)), ["Key"])
    global_principal = _encrypted_log_group(service_statement("logs.amazonaws.com", LOGS_ACTIONS))
    assert ids(global_principal, "LogGroupKeyDeniesLogs") == ["Key"]  # CloudWatch Logs uses the Regional principal
    other_region = _encrypted_log_group(service_statement("logs.eu-west-1.amazonaws.com", LOGS_ACTIONS))
    assert ids(other_region, "LogGroupKeyDeniesLogs", region="us-east-1") == ["Key"]
    assert ids(other_region, "LogGroupKeyDeniesLogs", region="eu-west-1") == []


def test_log_group_key_encryption_context_must_match_the_log_group():
    def context(pattern: Any) -> dict[str, Any]:
        return {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": pattern}}

    any_group = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":logs:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, ":log-group:*"]]}
    audit_only = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":logs:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, ":log-group:/audit/*"]]}
    assert ids(_encrypted_log_group(service_statement(REGIONAL_LOGS, LOGS_ACTIONS, context(any_group))), "LogGroupKeyDeniesLogs") == []
    assert ids(_encrypted_log_group(service_statement(REGIONAL_LOGS, LOGS_ACTIONS, context(audit_only)), name="/audit/trail"),
               "LogGroupKeyDeniesLogs") == []
    assert ids(_encrypted_log_group(service_statement(REGIONAL_LOGS, LOGS_ACTIONS, context(audit_only)), name="/other"),
               "LogGroupKeyDeniesLogs") == ["Key"]
    # a generated log group name cannot match a fixed prefix
    assert ids(_encrypted_log_group(service_statement(REGIONAL_LOGS, LOGS_ACTIONS, context(audit_only))), "LogGroupKeyDeniesLogs") == ["Key"]


# -- Lambda -------------------------------------------------------------------------------------
def _function(**props: Any) -> dict[str, Any]:
    return {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.14", **props}}}}


def test_reserved_concurrency_is_a_warning():
    trips("ReservedConcurrency", _function(ReservedConcurrentExecutions=5), _function(), ["Fn"])
    assert RULES["ReservedConcurrency"].severity == WARNING
    message = check_template(_function(ReservedConcurrentExecutions=5), rules=["ReservedConcurrency"])[0].message
    assert "reserves 5 concurrent executions" in message
    chosen_at_deploy_time = {"Fn::If": ["HasReservation", {"Ref": "Reservation"}, {"Ref": "AWS::NoValue"}]}
    assert ids(_function(ReservedConcurrentExecutions=chosen_at_deploy_time), "ReservedConcurrency") == []
    assert ids(_function(ReservedConcurrentExecutions={"Ref": "Reservation"}), "ReservedConcurrency") == ["Fn"]


def _invoked(principal: str | None, *, dlq: bool = True, esm: bool = False, invoke_config: bool = False) -> dict[str, Any]:
    template = _function(DeadLetterConfig={"TargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}}) if dlq else _function()
    resources = template["Resources"]
    resources["Dlq"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    if principal:
        resources["Permission"] = {"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction", "FunctionName": {"Fn::GetAtt": ["Fn", "Arn"]}, "Principal": principal}}
    if esm:
        resources["Mapping"] = {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "FunctionName": {"Ref": "Fn"}, "EventSourceArn": {"Fn::GetAtt": ["Dlq", "Arn"]}}}
    if invoke_config:
        resources["InvokeConfig"] = {"Type": "AWS::Lambda::EventInvokeConfig", "Properties": {
            "FunctionName": {"Ref": "Fn"}, "Qualifier": "$LATEST",
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["Dlq", "Arn"]}}}}}
    return template


def test_async_failure_destination_on_a_function_only_invoked_synchronously():
    trips("AsyncDestinationNeverInvoked", _invoked("apigateway.amazonaws.com"), _invoked("events.amazonaws.com"), ["Fn"])
    assert ids(_invoked(None, esm=True), "AsyncDestinationNeverInvoked") == ["Fn"]
    assert ids(_invoked(None, dlq=False, esm=True, invoke_config=True), "AsyncDestinationNeverInvoked") == ["InvokeConfig"]
    assert ids(_invoked("s3.amazonaws.com", esm=True), "AsyncDestinationNeverInvoked") == []
    assert ids(_invoked(None), "AsyncDestinationNeverInvoked") == []  # no invoker in the template: may be invoked from outside
    assert ids(_invoked("apigateway.amazonaws.com", dlq=False), "AsyncDestinationNeverInvoked") == []


def test_environment_over_four_kilobytes():
    trips("LambdaEnvironmentTooLarge", _function(Environment={"Variables": {"BIG": "x" * 4100}}),
          _function(Environment={"Variables": {"SMALL": "x" * 100, "ARN": {"Ref": "Other"}}}), ["Fn"])


# -- WAF and CloudTrail -------------------------------------------------------------------------
def _waf_logging(name: str | None) -> dict[str, Any]:
    group: dict[str, Any] = {"Type": "AWS::Logs::LogGroup", "Properties": {}}
    if name:
        group["Properties"]["LogGroupName"] = name
    return {"Resources": {
        "Group": group,
        "Logging": {"Type": "AWS::WAFv2::LoggingConfiguration", "Properties": {
            "ResourceArn": "arn:aws:wafv2:us-east-1:1:regional/webacl/a/b", "LogDestinationConfigs": [{"Fn::GetAtt": ["Group", "Arn"]}]}},
    }}


def test_waf_log_destination_needs_the_prefix():
    trips("WafLogDestinationName", _waf_logging("/app/waf"), _waf_logging("aws-waf-logs-app"), ["Logging"])
    assert ids(_waf_logging(None), "WafLogDestinationName") == ["Logging"]


def _trail(bucket_statements: list[dict], depends: bool = True) -> dict[str, Any]:
    trail: dict[str, Any] = {"Type": "AWS::CloudTrail::Trail", "Properties": {"S3BucketName": {"Ref": "Bucket"}, "IsLogging": True}}
    if depends:
        trail["DependsOn"] = ["BucketPolicy"]
    return {"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "BucketPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": {"Ref": "Bucket"}, "PolicyDocument": {"Statement": bucket_statements}}},
        "Trail": trail,
    }}


def test_cloudtrail_bucket_policy_and_ordering():
    grants = [service_statement("cloudtrail.amazonaws.com", ["s3:GetBucketAcl"]),
              service_statement("cloudtrail.amazonaws.com", ["s3:PutObject"])]
    trips("CloudTrailDeliveryPermissions", _trail(grants[:1]), _trail(grants), ["Trail"])
    unordered = check_template(_trail(grants, depends=False), rules=["CloudTrailDeliveryPermissions"])
    assert [(v.logical_id, v.location) for v in unordered] == [("Trail", "DependsOn")]


def test_every_rule_is_documented_with_its_source():
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "preflight.md").read_text()
    for rule in RULES.values():
        row = next((line for line in page.splitlines() if line.startswith(f"| `{rule.id}` |")), None)
        assert row is not None, f"{rule.id} is missing from docs/preflight.md"
        assert rule.source in row and rule.severity in row


def test_log_group_key_condition_with_the_literal_region_matches_the_stack_region():
    def policy(region: str) -> dict[str, Any]:
        pattern = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":logs:{region}:", {"Ref": "AWS::AccountId"}, ":log-group:/app/*"]]}
        return _encrypted_log_group(service_statement(f"logs.{region}.amazonaws.com", LOGS_ACTIONS,
                                                      {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": pattern}}), name="/app/x")

    assert ids(policy("us-east-1"), "LogGroupKeyDeniesLogs", region="us-east-1") == []
    assert ids(policy("us-east-1"), "LogGroupKeyDeniesLogs") == []  # environment-agnostic: the Region is unknown
    assert ids(policy("eu-west-1"), "LogGroupKeyDeniesLogs", region="us-east-1") == ["Key"]


def test_a_name_built_from_a_generated_id_is_unique_per_attempt():
    def template(api_props: dict[str, Any]) -> dict[str, Any]:
        return {"Resources": {
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": api_props},
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "fixed-bucket"}},
            "Execution": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain", "Properties": {
                "LogGroupName": {"Fn::Join": ["", ["API-Gateway-Execution-Logs_", {"Ref": "Api"}, "/prod"]]}}},
            "ByBucket": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain", "Properties": {
                "LogGroupName": {"Fn::Sub": "/logs/${Bucket}"}}},
        }}

    # a REST API's id is generated on each create; the bucket's name is the same every time
    assert ids(template({"Name": "api"}), "RetainWithFixedName") == ["ByBucket"]


@pytest.mark.parametrize("service", ["events", "s3", "sns"])
def test_queue_policy_must_let_the_delivering_service_send(service):
    bad = _encrypted_queue_target(service, service_statement(f"{service}.amazonaws.com", ["kms:*"]))
    good = copy.deepcopy(bad)
    good["Resources"]["QueuePolicy"] = {"Type": "AWS::SQS::QueuePolicy", "Properties": {
        "Queues": [{"Ref": "Queue"}],
        "PolicyDocument": {"Statement": [service_statement(f"{service}.amazonaws.com", ["sqs:SendMessage", "sqs:GetQueueUrl"])]}}}
    trips("TargetPolicyDeniesDeliveringService", bad, good, ["Queue"])


def test_topic_policy_must_let_eventbridge_publish():
    bad = _encrypted_topic_target()
    good = copy.deepcopy(bad)
    good["Resources"]["TopicPolicy"] = {"Type": "AWS::SNS::TopicPolicy", "Properties": {
        "Topics": [{"Ref": "Topic"}], "PolicyDocument": {"Statement": [service_statement("events.amazonaws.com", ["sns:Publish"])]}}}
    trips("TargetPolicyDeniesDeliveringService", bad, good, ["Topic"])


def test_fifo_queue_policy_admitting_a_standard_topic():
    def template(topic_arn: str) -> dict[str, Any]:
        return {"Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": True}},
            "Policy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"Queues": [{"Ref": "Queue"}], "PolicyDocument": {
                "Statement": [service_statement("sns.amazonaws.com", ["sqs:SendMessage"], {"ArnEquals": {"aws:SourceArn": topic_arn}})]}}},
        }}

    trips("StandardTopicToFifoQueue", template("arn:aws:sns:us-east-1:123456789012:uploads"),
          template("arn:aws:sns:us-east-1:123456789012:uploads.fifo"), ["Policy"])


def test_alarm_topic_without_a_subscription_is_a_warning():
    subscribed = _alarm_topic(None, None)
    subscribed["Resources"]["Email"] = {"Type": "AWS::SNS::Subscription", "Properties": {
        "Protocol": "email", "TopicArn": {"Ref": "Topic"}, "Endpoint": {"Ref": "AlertEmail"}}}
    trips("AlarmTopicWithoutSubscription", _alarm_topic(None, None), subscribed, ["Topic"])
    assert RULES["AlarmTopicWithoutSubscription"].severity == WARNING


def _distribution(error_codes: list[int], list_bucket: bool) -> dict[str, Any]:
    actions = ["s3:GetObject", "s3:ListBucket"] if list_bucket else ["s3:GetObject"]
    return {"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "BucketPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": {"Ref": "Bucket"}, "PolicyDocument": {"Statement": [service_statement("cloudfront.amazonaws.com", actions)]}}},
        "Oac": {"Type": "AWS::CloudFront::OriginAccessControl", "Properties": {}},
        "Cdn": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {
            "Origins": [{"Id": "s3", "DomainName": {"Fn::GetAtt": ["Bucket", "RegionalDomainName"]},
                         "OriginAccessControlId": {"Fn::GetAtt": ["Oac", "Id"]}, "S3OriginConfig": {"OriginAccessIdentity": ""}}],
            "CustomErrorResponses": [{"ErrorCode": code, "ResponseCode": 404, "ResponsePagePath": "/404.html"} for code in error_codes],
        }}},
    }}


def test_cloudfront_404_page_behind_oac_needs_list_bucket_or_a_403_mapping():
    trips("CloudFront404ResponseNeverSent", _distribution([404], list_bucket=False), _distribution([404], list_bucket=True), ["Cdn"])
    assert ids(_distribution([403, 404], list_bucket=False), "CloudFront404ResponseNeverSent") == []


def _sqs_mapping(visibility: int | None, timeout: int | None) -> dict[str, Any]:
    template = _function(**({"Timeout": timeout} if timeout is not None else {}))
    template["Resources"]["Queue"] = {"Type": "AWS::SQS::Queue", "Properties": {} if visibility is None else {"VisibilityTimeout": visibility}}
    template["Resources"]["Mapping"] = {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
        "FunctionName": {"Ref": "Fn"}, "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]}}}
    return template


def test_sqs_visibility_timeout_must_cover_the_function_timeout():
    trips("SqsVisibilityTimeoutBelowFunctionTimeout", _sqs_mapping(None, 60), _sqs_mapping(360, 60), ["Mapping"])
    assert ids(_sqs_mapping(None, None), "SqsVisibilityTimeoutBelowFunctionTimeout") == []  # 30 s vs 3 s defaults


def test_an_eventbridge_rule_has_at_most_five_targets():
    many = _event_rule({"Id": "T0", "Arn": {"Fn::GetAtt": ["StandardDlq", "Arn"]}}, fifo=False)
    many["Resources"]["Rule"]["Properties"]["Targets"] = [
        {"Id": f"T{i}", "Arn": {"Fn::GetAtt": ["StandardDlq", "Arn"]}} for i in range(6)
    ]
    few = copy.deepcopy(many)
    few["Resources"]["Rule"]["Properties"]["Targets"] = few["Resources"]["Rule"]["Properties"]["Targets"][:5]
    trips("EventRuleTooManyTargets", many, few, ["Rule"])
