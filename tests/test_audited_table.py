"""AuditedTable: defaults, options, grants, metrics, snapshots, compliance and validation."""

from __future__ import annotations

import importlib
import json
import re

import boto3
import pytest
from aws_cdk import (
    App,
    CfnParameter,
    Duration,
    Fn,
    RemovalPolicy,
    Stack,
    aws_backup as backup,
    aws_cloudtrail as cloudtrail,
    aws_dynamodb as dynamodb,
    aws_iam as iam,
    aws_kms as kms,
    aws_sns as sns,
)
from aws_cdk.assertions import Annotations, Match, Template
from moto import mock_aws

from deploy_readiness import STACK_INSTANCE_ID
from harness import acknowledged_rules, assert_compliant, normalise_template, synthesize
from serverless_patterns import _actions
from serverless_patterns._defaults import stack_instance_id, unique_physical_name
from serverless_patterns._roles import ManagedPolicyRole
from serverless_patterns.audited_table import (
    DEFAULT_METRIC_OPERATIONS,
    AuditedTable,
    capacity_parameters,
    dynamodb_data_event_selector,
)
from serverless_patterns.compliance import run_cfn_lint

S = dynamodb.AttributeType.STRING
N = dynamodb.AttributeType.NUMBER
PK = dynamodb.Attribute(name="pk", type=S)
SK = dynamodb.Attribute(name="sk", type=S)
IMPORTED_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666"


def _default(stack):
    return AuditedTable(stack, "Orders", partition_key=PK)


def _maximal(stack):
    key = kms.Key(stack, "OwnKey", enable_key_rotation=True)
    # No CloudWatch grants here: the construct adds them to the topic policy and the key policy.
    topic_key = kms.Key(stack, "TopicKey", enable_key_rotation=True)
    topic = sns.Topic(stack, "Alerts", master_key=topic_key, enforce_ssl=True)
    vault = backup.BackupVault(
        stack,
        "Vault",
        backup_vault_name=unique_physical_name(stack, "orders-vault", max_length=50),
        encryption_key=key,
        removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    )
    plan = backup.BackupPlan.daily35_day_retention(stack, "Plan", vault)
    table = AuditedTable(
        stack,
        "Events",
        partition_key=PK,
        sort_key=SK,
        global_secondary_indexes=[
            dynamodb.GlobalSecondaryIndexProps(
                index_name="byStatus",
                partition_key=dynamodb.Attribute(name="status", type=S),
                sort_key=SK,
            ),
            dynamodb.GlobalSecondaryIndexProps(
                index_name="byOwner",
                partition_key=dynamodb.Attribute(name="owner", type=S),
                projection_type=dynamodb.ProjectionType.INCLUDE,
                non_key_attributes=["title"],
                read_capacity=20,
                write_capacity=10,
            ),
        ],
        time_to_live_attribute="expiresAt",
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        billing_mode=dynamodb.BillingMode.PROVISIONED,
        read_capacity=10,
        write_capacity=5,
        max_read_capacity=50,
        target_utilization_percent=60,
        encryption_key=key,
        point_in_time_recovery_period_days=7,
        table_class=dynamodb.TableClass.STANDARD_INFREQUENT_ACCESS,
        contributor_insights=True,
        contributor_insights_mode=dynamodb.ContributorInsightsMode.THROTTLED_KEYS,
        backup_plan=plan,
        alarm_topic=topic,
        throttled_requests_alarm_threshold=5,
        system_errors_alarm_threshold=2,
        alarm_period=Duration.minutes(1),
        alarm_evaluation_periods=3,
        tags={"Owner": "events-team"},
    )
    consumer = ManagedPolicyRole(
        stack, "Consumer", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")
    )
    table.grant_read_write_data(consumer)
    table.grant_stream_read(consumer)
    return table


def _parameters(stack):
    read, write = capacity_parameters(stack)
    name = CfnParameter(stack, "TableName", type="String")
    return AuditedTable(
        stack,
        "Requests",
        partition_key=dynamodb.Attribute(name="id", type=S),
        # A user-given name of a kept table: unique per stack instance, so a redeploy can reuse it.
        table_name=Fn.join("-", [name.value_as_string, stack_instance_id(stack)]),
        billing_mode=dynamodb.BillingMode.PROVISIONED,
        read_capacity=read.value_as_number,
        write_capacity=write.value_as_number,
        max_read_capacity=100,
        max_write_capacity=100,
    )


@pytest.fixture(scope="module")
def default():
    return synthesize(_default)


@pytest.fixture(scope="module")
def maximal():
    return synthesize(_maximal)


@pytest.fixture(scope="module")
def parameters():
    return synthesize(_parameters)


def _table(synth):
    return synth.only("AWS::DynamoDB::Table")


def _table_resource(synth):
    ((logical_id, resource),) = synth.resources("AWS::DynamoDB::Table").items()
    return logical_id, resource


def _alarms(synth):
    return {
        resource["Properties"]["Metrics"][0]["Label"]: resource["Properties"]
        for resource in synth.resources("AWS::CloudWatch::Alarm").values()
    }


def _statements(synth):
    """The statements of every customer-managed policy (the grantee's general one and its ListStreams one)."""
    policies = synth.resources("AWS::IAM::ManagedPolicy").values()
    return [s for policy in policies for s in policy["Properties"]["PolicyDocument"]["Statement"]]


def _props_of(synth, logical_id):
    return synth.template["Resources"][logical_id]["Properties"]


def _actions_of(statement):
    return [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]


def _logical_id(synth, resource_type, prefix):
    (logical_id,) = [i for i in synth.resources(resource_type) if i.startswith(prefix)]
    return logical_id


# ---- defaults ---------------------------------------------------------------------------------


def test_default_encrypts_with_its_own_rotating_retained_customer_managed_key(default):
    key_id = _logical_id(default, "AWS::KMS::Key", "Orders")
    assert _table(default)["SSESpecification"] == {
        "KMSMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]},
        "SSEEnabled": True,
        "SSEType": "KMS",
    }
    key = default.template["Resources"][key_id]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "RetainExceptOnCreate"


def test_default_point_in_time_recovery_35_days_deletion_protection_and_retain(default):
    _, table = _table_resource(default)
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True,
        "RecoveryPeriodInDays": 35,
    }
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "RetainExceptOnCreate"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_default_is_on_demand_with_a_partition_key_only(default):
    props = _table(default)
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in props
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert not default.resources("AWS::ApplicationAutoScaling::ScalableTarget")


def test_default_has_no_optional_features_that_cost_per_request_or_need_a_choice(default):
    props = _table(default)
    for absent in (
        "StreamSpecification",
        "TimeToLiveSpecification",
        "GlobalSecondaryIndexes",
        "ContributorInsightsSpecification",
        "TableName",
        "TableClass",
    ):
        assert absent not in props, absent
    assert not default.resources("AWS::Backup::BackupSelection")
    assert not default.resources("AWS::IAM::Role")


def test_default_alarms_on_throttling_and_system_errors_without_actions(default):
    alarms = _alarms(default)
    assert set(alarms) == {"Throttled requests", "System errors"}
    for alarm in alarms.values():
        assert alarm["Threshold"] == 1
        assert alarm["EvaluationPeriods"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"
        assert "AlarmActions" not in alarm and "OKActions" not in alarm
        assert {m["MetricStat"]["Period"] for m in alarm["Metrics"][1:]} == {300}


def test_alarm_metrics_sum_ten_operations_with_fill_so_idle_operations_do_not_blank_the_sum(
    default,
):
    alarms = _alarms(default)
    for label, metric_name in (
        ("Throttled requests", "ThrottledRequests"),
        ("System errors", "SystemErrors"),
    ):
        expression, *metrics = alarms[label]["Metrics"]
        assert len(metrics) == 10  # the most a CloudWatch alarm may read
        assert expression["Expression"].count("FILL(") == 10
        names = {m["MetricStat"]["Metric"]["MetricName"] for m in metrics}
        assert names == {metric_name}
        operations = {
            d["Value"]
            for m in metrics
            for d in m["MetricStat"]["Metric"]["Dimensions"]
            if d["Name"] == "Operation"
        }
        assert operations == {
            "GetItem",
            "BatchGetItem",
            "Query",
            "Scan",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "BatchWriteItem",
            "TransactGetItems",
            "TransactWriteItems",
        }
        assert all(m["MetricStat"]["Stat"] == "Sum" for m in metrics)


def test_default_tags_the_table_and_key_with_the_construct_name(default):
    tag = {"Key": "serverless-patterns:construct", "Value": "AuditedTable"}
    assert tag in _table(default)["Tags"]
    assert tag in default.only("AWS::KMS::Key")["Tags"]


def test_logical_id_of_the_table_is_stable(default):
    # Changing it replaces the table in deployed stacks: a breaking change.
    logical_id, _ = _table_resource(default)
    built = default.extra["built"]
    assert built.table.node.id == "Resource"
    assert logical_id.startswith("Orders") and "Resource" not in logical_id
    assert Stack.of(built).get_logical_id(built.table.node.default_child) == logical_id


def test_public_attributes(default):
    built = default.extra["built"]
    stack = Stack.of(built)
    logical_id, _ = _table_resource(default)
    assert stack.resolve(built.table_name) == {"Ref": logical_id}
    assert stack.resolve(built.table_arn) == {"Fn::GetAtt": [logical_id, "Arn"]}
    assert built.table_stream_arn is None
    assert dynamodb.ITable in type(built).__jsii_ifaces__
    assert isinstance(built.table, dynamodb.Table)
    assert isinstance(built.encryption_key, kms.Key)
    assert built.index_arns == []
    assert built.throttled_requests_alarm is not None and built.system_errors_alarm is not None


def test_default_acknowledgements_are_exactly_backup_plan_and_alarm_actions(default):
    acks = acknowledged_rules(default)
    assert acks == {
        "Test/Orders/Resource/Resource": {
            "HIPAA.Security-DynamoDBInBackupPlan",
            "NIST.800.53.R5-DynamoDBInBackupPlan",
        },
        "Test/Orders/ThrottledRequestsAlarm/Resource": {
            "HIPAA.Security-CloudWatchAlarmAction",
            "NIST.800.53.R5-CloudWatchAlarmAction",
        },
        "Test/Orders/SystemErrorsAlarm/Resource": {
            "HIPAA.Security-CloudWatchAlarmAction",
            "NIST.800.53.R5-CloudWatchAlarmAction",
        },
    }


# ---- options ----------------------------------------------------------------------------------


def test_maximal_uses_the_given_key_and_creates_none(maximal):
    own_key = _logical_id(maximal, "AWS::KMS::Key", "OwnKey")
    assert _table(maximal)["SSESpecification"]["KMSMasterKeyId"] == {"Fn::GetAtt": [own_key, "Arn"]}
    assert not [i for i in maximal.resources("AWS::KMS::Key") if i.startswith("Events")]


def test_maximal_keys_indexes_ttl_stream_class_and_recovery_period(maximal):
    props = _table(maximal)
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert sorted(a["AttributeName"] for a in props["AttributeDefinitions"]) == [
        "owner",
        "pk",
        "sk",
        "status",
    ]
    indexes = {i["IndexName"]: i for i in props["GlobalSecondaryIndexes"]}
    assert indexes["byStatus"]["KeySchema"] == [
        {"AttributeName": "status", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert indexes["byStatus"]["Projection"] == {"ProjectionType": "ALL"}
    assert indexes["byOwner"]["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["title"],
    }
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert props["TableClass"] == "STANDARD_INFREQUENT_ACCESS"
    assert props["PointInTimeRecoverySpecification"]["RecoveryPeriodInDays"] == 7
    assert props["ContributorInsightsSpecification"] == {"Enabled": True, "Mode": "THROTTLED_KEYS"}
    assert {"Key": "Owner", "Value": "events-team"} in props["Tags"]


def test_provisioned_capacity_indexes_inherit_or_override_it(maximal):
    props = _table(maximal)
    assert "BillingMode" not in props  # CloudFormation's default is PROVISIONED
    assert props["ProvisionedThroughput"] == {"ReadCapacityUnits": 10, "WriteCapacityUnits": 5}
    indexes = {i["IndexName"]: i for i in props["GlobalSecondaryIndexes"]}
    assert indexes["byStatus"]["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 10,
        "WriteCapacityUnits": 5,
    }
    assert indexes["byOwner"]["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 20,
        "WriteCapacityUnits": 10,
    }


def test_provisioned_mode_auto_scales_table_and_every_index_with_target_tracking(maximal):
    targets = {}
    for target in maximal.resources("AWS::ApplicationAutoScaling::ScalableTarget").values():
        props = target["Properties"]
        resource_id = props["ResourceId"]["Fn::Join"][1]
        index = resource_id[2] if len(resource_id) > 2 else "table"
        targets[(index, props["ScalableDimension"].rsplit(":", 1)[1])] = (
            props["MinCapacity"],
            props["MaxCapacity"],
        )
    assert targets == {
        ("table", "ReadCapacityUnits"): (10, 50),
        ("table", "WriteCapacityUnits"): (5, 20),  # default maximum: 4 x capacity
        ("/index/byStatus", "ReadCapacityUnits"): (10, 50),
        ("/index/byStatus", "WriteCapacityUnits"): (5, 20),
        ("/index/byOwner", "ReadCapacityUnits"): (20, 50),
        ("/index/byOwner", "WriteCapacityUnits"): (10, 20),
    }
    policies = maximal.resources("AWS::ApplicationAutoScaling::ScalingPolicy").values()
    assert len(policies) == 6
    for policy in policies:
        config = policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]
        assert config["TargetValue"] == 60
        assert policy["Properties"]["PolicyType"] == "TargetTrackingScaling"


def test_maximal_alarms_are_tuned_and_notify_the_topic_on_alarm_and_ok(maximal):
    topic_id = _logical_id(maximal, "AWS::SNS::Topic", "Alerts")
    alarms = _alarms(maximal)
    assert alarms["Throttled requests"]["Threshold"] == 5
    assert alarms["System errors"]["Threshold"] == 2
    for alarm in alarms.values():
        assert alarm["EvaluationPeriods"] == 3
        assert {m["MetricStat"]["Period"] for m in alarm["Metrics"][1:]} == {60}
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["OKActions"] == [{"Ref": topic_id}]


def test_backup_plan_selects_the_table(maximal):
    logical_id, _ = _table_resource(maximal)
    selection = maximal.only("AWS::Backup::BackupSelection")["BackupSelection"]
    assert selection["Resources"] == [{"Fn::GetAtt": [logical_id, "Arn"]}]


def test_grants_land_in_the_managed_policy_and_name_explicit_actions(maximal):
    assert not maximal.resources("AWS::IAM::Policy"), "grants must not create inline policies"
    statements = _statements(maximal)
    actions = {a for s in statements for a in _actions_of(s)}
    assert not [a for a in actions if "*" in a], "no wildcard actions"
    assert set(_actions.DYNAMODB_READ_DATA) | set(_actions.DYNAMODB_WRITE_DATA) <= actions
    assert set(_actions.DYNAMODB_READ_STREAM) | {"dynamodb:ListStreams"} <= actions


def test_read_grant_names_each_index_instead_of_index_wildcard(maximal):
    logical_id, _ = _table_resource(maximal)
    statements = _statements(maximal)
    index_statements = [s for s in statements if _actions_of(s) == _actions.DYNAMODB_READ_INDEX]
    assert len(index_statements) == 1
    resources = index_statements[0]["Resource"]
    assert resources == [
        {"Fn::Join": ["", [{"Fn::GetAtt": [logical_id, "Arn"]}, f"/index/{name}"]]}
        for name in ("byStatus", "byOwner")
    ]
    assert "index/*" not in str(statements)


def test_grants_include_the_key_with_read_and_write_actions(maximal):
    own_key = {"Fn::GetAtt": [_logical_id(maximal, "AWS::KMS::Key", "OwnKey"), "Arn"]}
    key_actions = {tuple(_actions_of(s)) for s in _statements(maximal) if s["Resource"] == own_key}
    assert tuple(_actions.KMS_DYNAMODB_READ) in key_actions
    assert tuple(_actions.KMS_DYNAMODB_WRITE) in key_actions


def test_stream_grant_reads_the_stream_and_lists_streams(maximal):
    logical_id, _ = _table_resource(maximal)
    statements = _statements(maximal)
    (stream,) = [s for s in statements if _actions_of(s) == _actions.DYNAMODB_READ_STREAM]
    assert stream["Resource"] == {"Fn::GetAtt": [logical_id, "StreamArn"]}
    (list_streams,) = [s for s in statements if _actions_of(s) == ["dynamodb:ListStreams"]]
    assert list_streams["Resource"] == "*"
    # ...in a policy of its own: the grantee's general policy has no '*' resource for the packs to excuse.
    (own,) = [i for i in maximal.resources("AWS::IAM::ManagedPolicy") if i.startswith("ConsumerListStreamsPolicy")]
    assert _props_of(maximal, own)["PolicyDocument"]["Statement"] == [list_streams]


def test_maximal_acknowledgements_are_the_expected_narrow_ones(maximal):
    # No backup or alarm-action acknowledgement: the plan and the topic fix those findings.
    backup_policy = (
        "arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
    )
    assert acknowledged_rules(maximal) == {
        "Test/Consumer/ListStreamsPolicy/Resource": {"AwsSolutions-IAM5[Resource::*]"},
        "Test/Events/BackupSelection/Role/Resource": {
            f"AwsSolutions-IAM4[Policy::{backup_policy}]"
        },
    }


def test_maximal_attributes(maximal):
    built = maximal.extra["built"]
    logical_id, _ = _table_resource(maximal)
    assert Stack.of(built).resolve(built.table_stream_arn) == {
        "Fn::GetAtt": [logical_id, "StreamArn"]
    }
    assert len(built.index_arns) == 2


def test_parameters_are_created_with_minimum_5_and_feed_table_and_auto_scaling(parameters):
    params = parameters.template["Parameters"]
    for name in ("DynamoDbReadCapacity", "DynamoDbWriteCapacity"):
        assert params[name]["Type"] == "Number"
        assert params[name]["MinValue"] == 5
        assert params[name]["Default"] == 5
    props = _table(parameters)
    assert props["ProvisionedThroughput"] == {
        "ReadCapacityUnits": {"Ref": "DynamoDbReadCapacity"},
        "WriteCapacityUnits": {"Ref": "DynamoDbWriteCapacity"},
    }
    assert props["TableName"] == {"Fn::Join": ["-", [{"Ref": "TableName"}, STACK_INSTANCE_ID]]}
    minimums = {
        t["Properties"]["ScalableDimension"]: (
            t["Properties"]["MinCapacity"],
            t["Properties"]["MaxCapacity"],
        )
        for t in parameters.resources("AWS::ApplicationAutoScaling::ScalableTarget").values()
    }
    assert minimums == {
        "dynamodb:table:ReadCapacityUnits": ({"Ref": "DynamoDbReadCapacity"}, 100),
        "dynamodb:table:WriteCapacityUnits": ({"Ref": "DynamoDbWriteCapacity"}, 100),
    }


def test_capacity_parameters_are_idempotent_and_take_a_prefix_and_maximum():
    stack = Stack(App(), "P")
    first = capacity_parameters(stack, prefix="Orders", default=10, maximum=200)
    assert capacity_parameters(stack, prefix="Orders") == first
    resolved = stack.resolve(first[0].value_as_number)
    assert resolved == {"Ref": "OrdersReadCapacity"}
    assert first[1].node.id == "OrdersWriteCapacity"
    assert (first[0].default, first[0].min_value, first[0].max_value) == (10, 5, 200)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"prefix": "Dynamo-Db"},
            "prefix='Dynamo-Db': must start with a letter and hold only letters and digits",
        ),
        ({"default": 4}, "default=4: must be at least 5"),
        ({"maximum": 3}, "maximum=3: must be a whole number, at least default (5)"),
    ],
)
def test_capacity_parameters_validation(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        capacity_parameters(Stack(App(), "P"), **kwargs)


def test_an_imported_key_is_used_and_granted():
    def build(stack):
        key = kms.Key.from_key_arn(stack, "Imported", IMPORTED_KEY_ARN)
        table = AuditedTable(stack, "T", partition_key=PK, encryption_key=key)
        table.grant_read_data(
            ManagedPolicyRole(
                stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")
            )
        )
        return table

    synth = synthesize(build)
    assert _table(synth)["SSESpecification"]["KMSMasterKeyId"] == IMPORTED_KEY_ARN
    assert not synth.resources("AWS::KMS::Key")
    key_statements = [s for s in _statements(synth) if s["Resource"] == IMPORTED_KEY_ARN]
    assert [_actions_of(s) for s in key_statements] == [_actions.KMS_DYNAMODB_READ]
    assert not synth.nag.findings


def test_alarms_can_be_turned_off_one_by_one():
    def build(stack):
        AuditedTable(
            stack,
            "Quiet",
            partition_key=PK,
            throttled_requests_alarm_threshold=None,
            system_errors_alarm_threshold=None,
        )
        return AuditedTable(
            stack, "Half", partition_key=PK, throttled_requests_alarm_threshold=None
        )

    synth = synthesize(build)
    assert list(_alarms(synth)) == ["System errors"]
    built = synth.extra["built"]
    assert built.throttled_requests_alarm is None and built.system_errors_alarm is not None


def test_destroy_turns_deletion_protection_off_and_deletes_the_key_too():
    synth = synthesize(
        lambda stack: AuditedTable(stack, "Tmp", partition_key=PK, removal_policy=RemovalPolicy.DESTROY)
    )
    _, table = _table_resource(synth)
    assert table["DeletionPolicy"] == "Delete"
    assert table["Properties"]["DeletionProtectionEnabled"] is False  # follows removal_policy
    (key,) = synth.resources("AWS::KMS::Key").values()
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("Delete", "Delete")
    assert_compliant(synth)
    assert (
        table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
        is True
    )


def test_grant_read_on_a_table_without_indexes_has_no_index_statement():
    stack = Stack(App(), "G")
    table = AuditedTable(stack, "T", partition_key=PK)
    role = ManagedPolicyRole(stack, "R", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    table.grant_read_data(role)
    statements = stack.resolve(role.policy.document)["Statement"]
    assert [_actions_of(s) for s in statements] == [
        _actions.DYNAMODB_READ_DATA,
        _actions.KMS_DYNAMODB_READ,
    ]


def test_grant_write_data_names_write_actions_on_the_table_only():
    stack = Stack(App(), "G")
    table = AuditedTable(
        stack,
        "T",
        partition_key=PK,
        global_secondary_indexes=[
            dynamodb.GlobalSecondaryIndexProps(
                index_name="byX", partition_key=dynamodb.Attribute(name="x", type=S)
            )
        ],
    )
    role = ManagedPolicyRole(stack, "R", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    grant = table.grant_write_data(role)
    assert grant.success
    statements = stack.resolve(role.policy.document)["Statement"]
    assert [_actions_of(s) for s in statements] == [
        _actions.DYNAMODB_WRITE_DATA,
        _actions.KMS_DYNAMODB_WRITE,
    ]
    assert statements[0]["Resource"] == stack.resolve(table.table_arn)


def test_grant_stream_read_without_a_stream_names_the_prop():
    stack = Stack(App(), "G")
    table = AuditedTable(stack, "T", partition_key=PK)
    role = iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    with pytest.raises(
        ValueError,
        match="AuditedTable: grant_stream_read needs a stream: construct the table with stream=",
    ):
        table.grant_stream_read(role)


# ---- metrics ----------------------------------------------------------------------------------


def test_metric_methods_name_the_table_and_the_metric():
    stack = Stack(App(), "M")
    table = AuditedTable(stack, "T", partition_key=PK)
    table_ref = stack.resolve(table.table_name)
    for metric, name in (
        (table.metric_read_throttle_events(), "ReadThrottleEvents"),
        (table.metric_write_throttle_events(), "WriteThrottleEvents"),
        (table.metric_consumed_read_capacity_units(), "ConsumedReadCapacityUnits"),
        (table.metric_consumed_write_capacity_units(), "ConsumedWriteCapacityUnits"),
        (table.metric("UserErrors", statistic="Sum"), "UserErrors"),
    ):
        assert metric.metric_name == name
        assert metric.namespace == "AWS/DynamoDB"
        assert stack.resolve(metric.dimensions)["TableName"] == table_ref
        assert metric.statistic == "Sum"


def test_operation_metrics_take_a_subset_of_operations_and_a_period():
    stack = Stack(App(), "M")
    table = AuditedTable(stack, "T", partition_key=PK)
    expression = table.metric_throttled_requests_for_operations(
        operations=[dynamodb.Operation.GET_RECORDS, dynamodb.Operation.EXECUTE_STATEMENT],
        period=Duration.minutes(1),
    )
    assert expression.expression == "FILL(get_records, 0) + FILL(execute_statement, 0)"
    operations = {m.dimensions["Operation"] for m in expression.using_metrics.values()}
    assert operations == {"GetRecords", "ExecuteStatement"}
    assert expression.period.to_seconds() == 60
    assert expression.label == "Throttled requests"
    assert len(table.metric_system_errors_for_operations().using_metrics) == len(DEFAULT_METRIC_OPERATIONS) == 10


@pytest.mark.parametrize("operations", [[], list(dynamodb.Operation)])
def test_operation_metrics_refuse_more_than_an_alarm_can_read(operations):
    table = AuditedTable(Stack(App(), "M"), "T", partition_key=PK)
    with pytest.raises(ValueError, match="operations=.*give 1-10 dynamodb.Operation values"):
        table.metric_system_errors_for_operations(operations=operations)


@pytest.mark.parametrize("operations", [[], list(dynamodb.Operation)])
def test_alarm_operations_refuse_what_an_alarm_cannot_read(operations):
    with pytest.raises(ValueError, match=r"alarm_operations=.*: must be 1-10 dynamodb.Operation values"):
        AuditedTable(Stack(App(), "M"), "T", partition_key=PK, alarm_operations=operations)
    with pytest.raises(TypeError, match=r"AuditedTable: alarm_operations\[\] must be Operation, got str"):
        AuditedTable(Stack(App(), "M"), "T", partition_key=PK, alarm_operations=["GetItem"])


def test_alarms_read_one_metric_per_given_operation():
    stack = Stack(App(), "A")
    operations = [dynamodb.Operation.GET_ITEM, dynamodb.Operation.PUT_ITEM]
    table = AuditedTable(stack, "T", partition_key=PK, alarm_operations=operations)
    for alarm in (table.throttled_requests_alarm, table.system_errors_alarm):
        metrics = stack.resolve(alarm.node.default_child.metrics)
        summed = {
            {d["name"]: d["value"] for d in q["metricStat"]["metric"]["dimensions"]}["Operation"]
            for q in metrics if "metricStat" in q
        }
        assert summed == {"GetItem", "PutItem"}
        (expression,) = [q["expression"] for q in metrics if "expression" in q]
        assert expression.count("FILL(") == 2


# ---- audit: CloudTrail data events ------------------------------------------------------------


def test_data_event_selector_names_the_table_and_optionally_reads_or_writes():
    stack = Stack(App(), "D")
    table = AuditedTable(stack, "T", partition_key=PK)
    logical_id = stack.get_logical_id(table.table.node.default_child)
    selector = stack.resolve(table.data_event_selector(read_only=False))
    fields = {f["field"]: f["equalTo"] for f in selector["fieldSelectors"]}
    assert fields == {
        "eventCategory": ["Data"],
        "resources.type": ["AWS::DynamoDB::Table"],
        "resources.ARN": [{"Fn::GetAtt": [logical_id, "Arn"]}],
        "readOnly": ["false"],
    }
    both = stack.resolve(table.data_event_selector())
    assert "readOnly" not in {f["field"] for f in both["fieldSelectors"]}
    with pytest.raises(ValueError, match="tables must name at least one table"):
        dynamodb_data_event_selector([])


def test_snippet_recipe_puts_data_events_on_a_trail_without_losing_management_events():
    snippet = importlib.import_module("examples.snippets.audited_table_usage")

    def build(stack):
        table = snippet.build(stack)
        snippet.log_data_events(cloudtrail.Trail(stack, "Trail"), [table])
        return table

    synth = synthesize(build)
    trail = synth.only("AWS::CloudTrail::Trail")
    assert "EventSelectors" not in trail
    management, data = trail["AdvancedEventSelectors"]
    assert management["FieldSelectors"] == [{"Field": "eventCategory", "Equals": ["Management"]}]
    table_id = _logical_id(synth, "AWS::DynamoDB::Table", "Documents")
    assert {"Field": "resources.ARN", "Equals": [{"Fn::GetAtt": [table_id, "Arn"]}]} in data[
        "FieldSelectors"
    ]
    assert not run_cfn_lint([synth.template_path]).findings  # the selectors match the Trail schema


def test_snippet_synthesizes_with_only_the_plain_roles_inline_policy_open():
    snippet = importlib.import_module("examples.snippets.audited_table_usage")
    synth = synthesize(snippet.build)
    inline = {f.rule for f in synth.nag.findings if "Processor/DefaultPolicy" in f.path}
    others = [f for f in synth.nag.findings if "Processor/DefaultPolicy" not in f.path]
    assert not others, "\n".join(map(str, others))
    assert inline <= {
        f"{p}-IAMNoInlinePolicy" for p in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
    }
    assert set(synth.template["Parameters"]) >= {"DynamoDbReadCapacity", "DynamoDbWriteCapacity"}


# ---- emulator ---------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Tried to parse .* not supported by moto:UserWarning")
def test_table_deploys_on_the_emulator_keeps_items_and_refuses_delete_table():
    # moto's CloudFormation creates AWS::DynamoDB::Table (not GlobalTable) but no KMS keys or
    # alarms, and it ignores SSE and PITR settings: an imported key, and only what moto models.
    def build(stack):
        key = kms.Key.from_key_arn(stack, "Imported", IMPORTED_KEY_ARN)
        return AuditedTable(stack, "Orders", partition_key=PK, sort_key=SK, encryption_key=key)

    template = normalise_template(synthesize(build).template)
    with mock_aws():
        cloudformation = boto3.client("cloudformation", region_name="us-east-1")
        cloudformation.create_stack(StackName="Emulated", TemplateBody=json.dumps(template))
        resources = cloudformation.list_stack_resources(StackName="Emulated")[
            "StackResourceSummaries"
        ]
        (name,) = [
            r["PhysicalResourceId"]
            for r in resources
            if r["ResourceType"] == "AWS::DynamoDB::Table"
        ]
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.put_item(
            TableName=name, Item={"pk": {"S": "order#1"}, "sk": {"S": "v1"}, "total": {"N": "42"}}
        )
        item = client.get_item(TableName=name, Key={"pk": {"S": "order#1"}, "sk": {"S": "v1"}})[
            "Item"
        ]
        assert item["total"] == {"N": "42"}
        with pytest.raises(client.exceptions.ClientError, match="DeletionProtectionEnabled"):
            client.delete_table(TableName=name)


# ---- snapshots --------------------------------------------------------------------------------


def test_default_snapshot(default, snapshot_json):
    assert default.normalised() == snapshot_json


def test_maximal_snapshot(maximal, snapshot_json):
    assert maximal.normalised() == snapshot_json


# ---- compliance -------------------------------------------------------------------------------


@pytest.mark.parametrize("configuration", ["default", "maximal", "parameters"])
def test_compliance(configuration, request):
    assert_compliant(request.getfixturevalue(configuration))


# ---- validation -------------------------------------------------------------------------------


def _gsi(name="byX", attribute="x", type_=S, **props):
    return dynamodb.GlobalSecondaryIndexProps(
        index_name=name, partition_key=dynamodb.Attribute(name=attribute, type=type_), **props
    )


PROVISIONED = {"billing_mode": dynamodb.BillingMode.PROVISIONED}


@pytest.mark.parametrize(
    ("props", "message"),
    [
        # capacity
        ({**PROVISIONED, "read_capacity": 4}, "read_capacity=4: must be at least 5 capacity units"),
        (
            {**PROVISIONED, "write_capacity": 1},
            "write_capacity=1: must be at least 5 capacity units",
        ),
        (
            {**PROVISIONED, "read_capacity": 7.5},
            "read_capacity=7.5: capacity units are whole numbers",
        ),
        (
            {**PROVISIONED, "read_capacity": 10, "max_read_capacity": 8},
            "max_read_capacity=8: must be at least read_capacity (10)",
        ),
        (
            {**PROVISIONED, "max_write_capacity": 4},
            "max_write_capacity=4: must be at least 5 capacity units",
        ),
        (
            {"read_capacity": 5},
            "read_capacity=5: only used with billing_mode=BillingMode.PROVISIONED",
        ),
        (
            {"max_write_capacity": 50},
            "max_write_capacity=50: only used with billing_mode=BillingMode.PROVISIONED",
        ),
        (
            {"target_utilization_percent": 50},
            "target_utilization_percent=50: only used with billing_mode=BillingMode.PROVISIONED",
        ),
        (
            {**PROVISIONED, "target_utilization_percent": 95},
            "target_utilization_percent=95: DynamoDB auto scaling accepts targets from 20 to 90 percent",
        ),
        (
            {**PROVISIONED, "global_secondary_indexes": [_gsi(read_capacity=2)]},
            "global_secondary_indexes['byX'].read_capacity=2: must be at least 5 capacity units",
        ),
        (
            {"global_secondary_indexes": [_gsi(write_capacity=5)]},
            "global_secondary_indexes['byX'].write_capacity=5: only used with billing_mode=BillingMode.PROVISIONED",
        ),
        (
            {**PROVISIONED, "global_secondary_indexes": [_gsi(read_capacity=30)]},
            "global_secondary_indexes['byX'].read_capacity=30: exceeds the auto scaling maximum max_read_capacity (20) that indexes share with the table",
        ),
        # key names and types
        (
            {"sort_key": dynamodb.Attribute(name="pk", type=S)},
            "sort_key.name='pk': must differ from the partition key's name",
        ),
        (
            {"sort_key": dynamodb.Attribute(name="", type=S)},
            "sort_key.name='': an attribute name must be 1-255 bytes of UTF-8",
        ),
        (
            {"partition_key": dynamodb.Attribute(name="k" * 256, type=S)},
            "an attribute name must be 1-255 bytes of UTF-8",
        ),
        (
            {"partition_key": dynamodb.Attribute(name="ü" * 128, type=S)},
            "an attribute name must be 1-255 bytes of UTF-8",
        ),
        (
            {"global_secondary_indexes": [_gsi(attribute="pk", type_=N)]},
            "global_secondary_indexes['byX'].type=<AttributeType.NUMBER: 'NUMBER'>: attribute 'pk' is already a STRING key in partition_key; one attribute has one type",
        ),
        (
            {"time_to_live_attribute": "pk"},
            "time_to_live_attribute='pk': is a STRING key attribute; TTL reads only Number attributes",
        ),
        (
            {"time_to_live_attribute": ""},
            "time_to_live_attribute='': an attribute name must be 1-255 bytes of UTF-8",
        ),
        # indexes
        (
            {"global_secondary_indexes": [_gsi(), _gsi(attribute="y")]},
            "global_secondary_indexes.index_name='byX': is used by more than one index",
        ),
        (
            {"global_secondary_indexes": [_gsi(name="by")]},
            "global_secondary_indexes.index_name='by': must be 3-255 letters, digits",
        ),
        (
            {"global_secondary_indexes": [_gsi(name="by status")]},
            "global_secondary_indexes.index_name='by status'",
        ),
        (
            {"global_secondary_indexes": [_gsi(name=f"i{n:02}") for n in range(21)]},
            "global_secondary_indexes='21 indexes': a table has at most 20 global secondary indexes",
        ),
        (
            {"global_secondary_indexes": [_gsi(projection_type=dynamodb.ProjectionType.INCLUDE)]},
            "non_key_attributes=None: ProjectionType.INCLUDE needs the attributes to include",
        ),
        (
            {"global_secondary_indexes": [_gsi(non_key_attributes=["a"])]},
            "non_key_attributes=['a']: only used with ProjectionType.INCLUDE, not ALL",
        ),
        (
            {
                "global_secondary_indexes": [
                    dynamodb.GlobalSecondaryIndexProps(index_name="byNothing")
                ]
            },
            "global_secondary_indexes['byNothing'].partition_key=None: every index needs a partition key",
        ),
        # recovery, protection, names
        (
            {"point_in_time_recovery_period_days": 0},
            "point_in_time_recovery_period_days=0: must be a whole number of days from 1 to 35",
        ),
        (
            {"point_in_time_recovery_period_days": 36},
            "point_in_time_recovery_period_days=36: must be a whole number of days from 1 to 35",
        ),
        ({"point_in_time_recovery_period_days": 7.5}, "point_in_time_recovery_period_days=7.5"),
        (
            {"deletion_protection": False},
            "deletion_protection=False: may be turned off only with removal_policy=RemovalPolicy.DESTROY",
        ),
        (
            {"removal_policy": RemovalPolicy.DESTROY, "deletion_protection": True},
            "deletion_protection=True: together with removal_policy=RemovalPolicy.DESTROY: CloudFormation cannot "
            "delete a resource with deletion protection",
        ),
        (
            {"removal_policy": RemovalPolicy.SNAPSHOT},
            "DynamoDB tables have no CloudFormation snapshot",
        ),
        ({"table_name": "ab"}, "table_name='ab': must be 3-255 letters, digits, '_', '-' or '.'"),
        ({"table_name": "orders/prod"}, "table_name='orders/prod'"),
        (
            {"contributor_insights_mode": dynamodb.ContributorInsightsMode.THROTTLED_KEYS},
            "contributor_insights_mode=<ContributorInsightsMode.THROTTLED_KEYS: 'THROTTLED_KEYS'>: needs contributor_insights=True",
        ),
        # alarms
        (
            {"throttled_requests_alarm_threshold": 0},
            "throttled_requests_alarm_threshold=0: must be a number greater than 0, or None to turn the alarm off",
        ),
        (
            {"system_errors_alarm_threshold": -1},
            "system_errors_alarm_threshold=-1: must be a number greater than 0",
        ),
        (
            {"alarm_period": Duration.seconds(90)},
            "alarm_period='90 seconds': must be whole minutes",
        ),
        (
            {"alarm_period": Duration.seconds(30)},
            "alarm_period='30 seconds': must be whole minutes",
        ),
        (
            {"alarm_evaluation_periods": 0},
            "alarm_evaluation_periods=0: must be a whole number, at least 1",
        ),
        (
            {"alarm_period": Duration.hours(6), "alarm_evaluation_periods": 5},
            "alarm_evaluation_periods=5: alarm_period x alarm_evaluation_periods (108000 s) must not exceed one day",
        ),
        ({"tags": {"aws:owner": "x"}}, "tags key 'aws:owner'"),
    ],
)
def test_invalid_props_raise_value_error_naming_the_prop_and_value(props, message):
    props = {"partition_key": PK, **props}
    with pytest.raises(ValueError) as error:
        AuditedTable(Stack(App(), "V"), "Bad", **props)
    assert message in str(error.value)
    assert str(error.value).startswith("AuditedTable: ")


def test_alarm_topic_without_any_alarm_is_refused():
    stack = Stack(App(), "V")
    topic = sns.Topic(stack, "Topic")
    with pytest.raises(ValueError, match="alarm_topic=.*both alarms are off"):
        AuditedTable(
            stack,
            "Bad",
            partition_key=PK,
            alarm_topic=topic,
            throttled_requests_alarm_threshold=None,
            system_errors_alarm_threshold=None,
        )


def test_a_parameter_capacity_needs_an_explicit_maximum():
    stack = Stack(App(), "V")
    read, write = capacity_parameters(stack)
    with pytest.raises(ValueError) as error:
        AuditedTable(
            stack,
            "Bad",
            partition_key=PK,
            billing_mode=dynamodb.BillingMode.PROVISIONED,
            read_capacity=read.value_as_number,
            write_capacity=write.value_as_number,
            max_write_capacity=10,
        )
    message = str(error.value)
    assert (
        "max_read_capacity=None: is required when read_capacity is a CloudFormation parameter"
        in message
    )
    assert "max_write_capacity" not in message


def test_several_violations_are_reported_together():
    with pytest.raises(ValueError) as error:
        AuditedTable(
            Stack(App(), "V"),
            "Bad",
            partition_key=PK,
            billing_mode=dynamodb.BillingMode.PROVISIONED,
            read_capacity=1,
            write_capacity=2,
            point_in_time_recovery_period_days=40,
        )
    message = str(error.value)
    assert message.count("\n  - ") == 3
    assert "read_capacity=1" in message and "write_capacity=2" in message
    assert "point_in_time_recovery_period_days=40" in message


def test_parameter_tokens_are_never_judged():
    stack = Stack(App(), "V")
    tiny = CfnParameter(stack, "Tiny", type="Number")  # its value is unknown until deployment
    days = CfnParameter(stack, "Days", type="Number")
    name = CfnParameter(stack, "Name", type="String")
    AuditedTable(
        stack,
        "Ok",
        partition_key=PK,
        global_secondary_indexes=[_gsi()],
        billing_mode=dynamodb.BillingMode.PROVISIONED,
        read_capacity=tiny.value_as_number,
        write_capacity=tiny.value_as_number,
        max_read_capacity=tiny.value_as_number,
        max_write_capacity=tiny.value_as_number,
        point_in_time_recovery_period_days=days.value_as_number,
        table_name=f"{name.value_as_string}-orders",
    )
    (props,) = [
        r["Properties"]
        for r in Template.from_stack(stack).find_resources("AWS::DynamoDB::Table").values()
    ]
    assert props["ProvisionedThroughput"] == {
        "ReadCapacityUnits": {"Ref": "Tiny"},
        "WriteCapacityUnits": {"Ref": "Tiny"},
    }
    assert props["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True,
        "RecoveryPeriodInDays": {"Ref": "Days"},
    }
    assert props["TableName"] == {"Fn::Join": ["", [{"Ref": "Name"}, "-orders"]]}
    (index,) = props["GlobalSecondaryIndexes"]
    assert index["ProvisionedThroughput"] == props["ProvisionedThroughput"]


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"partition_key": None}, "partition_key is required, e.g. dynamodb.Attribute"),
        ({"partition_key": "pk"}, "partition_key must be Attribute, got str"),
        ({"sort_key": {"name": "sk"}}, "sort_key must be Attribute, got dict"),
        ({"stream": "NEW_AND_OLD_IMAGES"}, "stream must be StreamViewType, got str"),
        ({"billing_mode": "PAY_PER_REQUEST"}, "billing_mode must be BillingMode, got str"),
        ({"encryption_key": IMPORTED_KEY_ARN}, "encryption_key must be IKey, got str"),
        (
            {"alarm_topic": "arn:aws:sns:us-east-1:123456789012:alerts"},
            "alarm_topic must be AlertTopic or ITopic, got str",
        ),
        ({"alarm_period": 300}, "alarm_period must be Duration, got int"),
        ({**PROVISIONED, "read_capacity": "10"}, "read_capacity must be float, got str"),
        ({"deletion_protection": "yes"}, "deletion_protection must be bool, got str"),
        (
            {"global_secondary_indexes": [{"index_name": "byX"}]},
            r"global_secondary_indexes\[\] must be GlobalSecondaryIndexProps, got dict",
        ),
        (
            {"global_secondary_indexes": "byX"},
            "global_secondary_indexes must be a sequence of GlobalSecondaryIndexProps",
        ),
    ],
)
def test_wrong_types_raise_type_error_naming_the_prop(props, message):
    props = {"partition_key": PK, **props}
    with pytest.raises(TypeError, match=message):
        AuditedTable(Stack(App(), "V"), "Bad", **props)


def test_a_given_topic_and_its_key_are_opened_to_cloudwatch_alarms_once(maximal):
    """enforce_ssl's topic policy holds only a Deny: without the Allow, no alarm would notify."""
    topic_id = _logical_id(maximal, "AWS::SNS::TopicPolicy", "AlertsPolicy")
    statements = maximal.template["Resources"][topic_id]["Properties"]["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in allows] == [{"Service": "cloudwatch.amazonaws.com"}]  # two alarms, one statement
    assert allows[0]["Action"] == "sns:Publish"
    assert set(allows[0]["Condition"]) == {"ArnLike", "StringEquals"}
    key_id = _logical_id(maximal, "AWS::KMS::Key", "TopicKey")
    key_statements = maximal.template["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
    (key_allow,) = [s for s in key_statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert key_allow["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]


def test_an_imported_topic_gets_a_warning_naming_what_its_owner_must_add():
    stack = Stack(App(), "Imported")
    topic = sns.Topic.from_topic_arn(stack, "Alerts", "arn:aws:sns:us-east-1:123456789012:alerts")
    AuditedTable(stack, "Orders", partition_key=PK, alarm_topic=topic)
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("serverless-patterns:alarmTopicNotWritable"))
    assert len(warnings) == 1  # both alarms, one construct: one warning
    text = warnings[0].entry.data
    assert "sns:Publish" in text and "cloudwatch.amazonaws.com" in text and "kms:GenerateDataKey" in text
