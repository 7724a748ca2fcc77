"""AuditTrail: defaults, data events, alarms, snapshots, compliance and validation."""

from __future__ import annotations

import importlib
import json
from types import SimpleNamespace

import pytest
from aws_cdk import App, CfnParameter, Duration, RemovalPolicy, Stack
from aws_cdk.assertions import Annotations, Match
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from deploy_readiness import STACK_INSTANCE_ID
from harness import TEST_ENV, acknowledged_rules, assert_compliant, synthesize

from serverless_patterns.audit_trail import MAX_SELECTOR_VALUES, SECURITY_ALARMS, AuditTrail
from serverless_patterns.compliance import acknowledge_all, in_every_pack
from serverless_patterns.secure_bucket import SecureBucket

TRAIL_ARN = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":cloudtrail:us-east-1:123456789012:trail/org-audit"]]}


def _default(stack):
    return AuditTrail(stack, "Audit")


def _table(stack, id):
    key = kms.Key(stack, f"{id}Key", enable_key_rotation=True)
    table = dynamodb.Table(
        stack,
        id,
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True),
        removal_policy=RemovalPolicy.RETAIN,
    )
    # Backups of the test table are out of scope for the construct under test.
    acknowledge_all(table, in_every_pack("DynamoDBInBackupPlan"), "Test fixture; backups are the table owner's concern.")
    return table


def _maximal(stack):
    documents = SecureBucket(stack, "Documents")
    orders = _table(stack, "Orders")
    audit = AuditTrail(
        stack,
        "Audit",
        trail_name="org-audit",
        management_events=cloudtrail.ReadWriteType.WRITE_ONLY,
        exclude_management_event_sources=["kms.amazonaws.com"],
        insight_types=[cloudtrail.InsightType.API_CALL_RATE, cloudtrail.InsightType.API_ERROR_RATE],
        encryption_key=kms.Key(stack, "TrailKey", enable_key_rotation=True),
        log_retention=logs.RetentionDays.THREE_MONTHS,
        log_file_retention=Duration.days(2555),
        object_lock_retention=Duration.days(365),
        s3_key_prefix="trail",
        tags={"Owner": "security"},
    )
    audit.add_s3_data_events([documents], key_prefix="contracts/")
    audit.add_dynamodb_data_events([orders], read_write_type=cloudtrail.ReadWriteType.WRITE_ONLY)
    alerts = sns.Topic(stack, "Alerts", master_key=kms.Key(stack, "AlertsKey", enable_key_rotation=True), enforce_ssl=True)
    audit.add_security_alarms(alerts)  # the topic itself: the construct lets CloudWatch in
    return audit


@pytest.fixture(scope="module")
def default():
    return synthesize(_default)


@pytest.fixture(scope="module")
def maximal():
    return synthesize(_maximal, env=TEST_ENV)


def _trail(synth):
    return synth.only("AWS::CloudTrail::Trail")


def _trail_bucket_id(synth):
    return _trail(synth)["S3BucketName"]["Ref"]


def _key_statements(synth, key_id):
    return synth.template["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]


def _trail_key_id(synth):
    return _trail(synth)["KMSKeyId"]["Fn::GetAtt"][0]


def _service(statements, service):
    return [s for s in statements if s.get("Principal") == {"Service": service}]


def _selectors(synth):
    return {s["Name"]: s["FieldSelectors"] for s in _trail(synth)["AdvancedEventSelectors"]}


# ---- the trail ------------------------------------------------------------------------------


def test_default_trail_is_multi_region_validated_logging_and_encrypted(default):
    trail = _trail(default)
    assert trail["IsMultiRegionTrail"] is True
    assert trail["EnableLogFileValidation"] is True
    assert trail["IncludeGlobalServiceEvents"] is True
    assert trail["IsLogging"] is True
    assert trail["TrailName"].startswith("Test-Audit-")
    assert _trail_key_id(default).startswith("AuditKey")
    default.assertions.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_default_records_all_management_events_with_advanced_selectors_only(default):
    trail = _trail(default)
    assert "EventSelectors" not in trail
    assert trail["AdvancedEventSelectors"] == [
        {"Name": "Management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}
    ]
    assert "InsightSelectors" not in trail


def test_key_policy_lets_only_this_trail_encrypt_and_describe(maximal):
    statements = _service(_key_statements(maximal, _trail_key_id(maximal)), "cloudtrail.amazonaws.com")
    by_sid = {s["Sid"]: s for s in statements}
    assert set(by_sid) == {"AllowCloudTrailToEncryptLogs", "AllowCloudTrailToDescribeKey"}
    encrypt = by_sid["AllowCloudTrailToEncryptLogs"]
    assert encrypt["Action"] == "kms:GenerateDataKey"
    assert encrypt["Condition"] == {
        "StringEquals": {"aws:SourceArn": TRAIL_ARN},
        "StringLike": {
            "kms:EncryptionContext:aws:cloudtrail:arn": {
                "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":cloudtrail:*:123456789012:trail/*"]]
            }
        },
    }
    assert by_sid["AllowCloudTrailToDescribeKey"]["Action"] == "kms:DescribeKey"
    assert by_sid["AllowCloudTrailToDescribeKey"]["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL_ARN}}


def test_bucket_policy_lets_only_this_trail_check_the_acl_and_write(maximal):
    bucket_id = _trail_bucket_id(maximal)
    (policy,) = [p for p in maximal.resources("AWS::S3::BucketPolicy").values() if p["Properties"]["Bucket"] == {"Ref": bucket_id}]
    statements = _service(policy["Properties"]["PolicyDocument"]["Statement"], "cloudtrail.amazonaws.com")
    assert {s["Action"] for s in statements} == {"s3:GetBucketAcl", "s3:PutObject"}
    for statement in statements:
        assert statement["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL_ARN
    (write,) = [s for s in statements if s["Action"] == "s3:PutObject"]
    assert write["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/trail/AWSLogs/123456789012/*"]]}
    assert write["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"


def test_every_cloudtrail_grant_in_the_default_names_the_trail(default):
    trail_name = _trail(default)["TrailName"]
    for resource in default.template["Resources"].values():
        properties = resource.get("Properties", {})
        document = properties.get("PolicyDocument") or properties.get("KeyPolicy") or {}
        for statement in _service(document.get("Statement", []), "cloudtrail.amazonaws.com"):
            assert trail_name in str(statement["Condition"]["StringEquals"]["aws:SourceArn"])


def test_trail_bucket_is_a_secure_bucket_with_the_trail_key_and_access_logs(default):
    bucket = default.template["Resources"][_trail_bucket_id(default)]["Properties"]
    sse = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert sse == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": [_trail_key_id(default), "Arn"]}}
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["LoggingConfiguration"]["LogFilePrefix"] == "access-logs/"
    assert {"Key": "serverless-patterns:construct", "Value": "SecureBucket"} in bucket["Tags"]


def test_cloudwatch_logs_copy_is_encrypted_retained_and_named_after_the_trail(default):
    trail = _trail(default)
    (group_id,) = default.resources("AWS::Logs::LogGroup")
    group = default.template["Resources"][group_id]
    assert trail["CloudWatchLogsLogGroupArn"] == {"Fn::GetAtt": [group_id, "Arn"]}
    # Kept when the stack is deleted: the name ends in the stack instance's id.
    assert group["Properties"]["LogGroupName"] == {
        "Fn::Join": ["", [f"/aws/cloudtrail/{trail['TrailName']}-", STACK_INSTANCE_ID]]
    }
    assert group["Properties"]["RetentionInDays"] == 365
    assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [_trail_key_id(default), "Arn"]}
    assert group["DeletionPolicy"] == "RetainExceptOnCreate"
    (logs_use,) = [s for s in _key_statements(default, _trail_key_id(default)) if "logs." in str(s.get("Principal"))]
    assert logs_use["Principal"] == {"Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}}
    assert f"log-group:/aws/cloudtrail/{trail['TrailName']}" in str(logs_use["Condition"]["ArnEquals"])


def test_logs_role_is_scoped_to_the_trail_and_its_log_streams_in_a_managed_policy(default):
    trail = _trail(default)
    (role_id,) = default.resources("AWS::IAM::Role")
    assert trail["CloudWatchLogsRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    (trust,) = default.template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert trail["TrailName"] in str(trust["Condition"]["StringEquals"]["aws:SourceArn"])
    assert not default.resources("AWS::IAM::Policy"), "no inline policies"
    (policy,) = default.resources("AWS::IAM::ManagedPolicy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    account, partition, region = ({"Ref": f"AWS::{p}"} for p in ("AccountId", "Partition", "Region"))
    assert statement["Resource"] == {
        "Fn::Join": [
            "",
            [
                "arn:", partition, ":logs:", region, ":", account,
                f":log-group:/aws/cloudtrail/{trail['TrailName']}-", STACK_INSTANCE_ID, ":log-stream:", account,
                "_CloudTrail_*",
            ],
        ]
    }


def test_trail_waits_for_the_bucket_policy_and_the_logs_policy(default):
    (trail_id,) = default.resources("AWS::CloudTrail::Trail")
    depends_on = set(default.template["Resources"][trail_id]["DependsOn"])
    (bucket_policy,) = [
        i for i, p in default.resources("AWS::S3::BucketPolicy").items() if p["Properties"]["Bucket"] == {"Ref": _trail_bucket_id(default)}
    ]
    (logs_policy,) = default.resources("AWS::IAM::ManagedPolicy")
    assert {bucket_policy, logs_policy} <= depends_on


# ---- options and data events ----------------------------------------------------------------


def test_maximal_selectors_for_management_s3_and_dynamodb(maximal):
    selectors = _selectors(maximal)
    assert selectors["Management events"] == [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "readOnly", "Equals": ["false"]},
        {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]},
    ]
    (documents,) = [i for i in maximal.resources("AWS::S3::Bucket") if i.startswith("Documents") and "AccessLogs" not in i]
    assert selectors["AWS::S3::Object data events (reads and writes)"] == [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "resources.ARN", "StartsWith": [{"Fn::Join": ["", [{"Fn::GetAtt": [documents, "Arn"]}, "/contracts/"]]}]},
    ]
    (table_id,) = maximal.resources("AWS::DynamoDB::Table")
    assert selectors["AWS::DynamoDB::Table data events (writes)"] == [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::DynamoDB::Table"]},
        {"Field": "resources.ARN", "Equals": [{"Fn::GetAtt": [table_id, "Arn"]}]},
        {"Field": "readOnly", "Equals": ["false"]},
    ]


def test_maximal_insights_prefix_name_key_retention_lock_and_tags(maximal):
    trail = _trail(maximal)
    assert trail["InsightSelectors"] == [{"InsightType": "ApiCallRateInsight"}, {"InsightType": "ApiErrorRateInsight"}]
    assert trail["S3KeyPrefix"] == "trail"
    assert trail["TrailName"] == "org-audit"
    assert _trail_key_id(maximal).startswith("TrailKey")
    assert {"Key": "Owner", "Value": "security"} in trail["Tags"]
    bucket = maximal.template["Resources"][_trail_bucket_id(maximal)]["Properties"]
    assert bucket["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 365}},
    }
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-log-files"]["ExpirationInDays"] == 2555
    assert maximal.only("AWS::Logs::LogGroup")["RetentionInDays"] == 90


def test_security_alarms_have_filters_on_the_trail_log_group_and_notify(maximal):
    filters = maximal.resources("AWS::Logs::MetricFilter")
    alarms = maximal.resources("AWS::CloudWatch::Alarm")
    assert len(filters) == len(alarms) == len(SECURITY_ALARMS)
    (group_id,) = maximal.resources("AWS::Logs::LogGroup")
    (topic_id,) = maximal.resources("AWS::SNS::Topic")
    patterns = {f["Properties"]["FilterPattern"] for f in filters.values()}
    assert patterns == {pattern for _, _, pattern in SECURITY_ALARMS}
    for metric_filter in filters.values():
        assert metric_filter["Properties"]["LogGroupName"] == {"Ref": group_id}
        assert metric_filter["Properties"]["MetricTransformations"][0]["MetricNamespace"] == "AuditTrail/org-audit"
    for alarm in alarms.values():
        props = alarm["Properties"]
        assert props["AlarmActions"] == [{"Ref": topic_id}]
        assert (props["Threshold"], props["EvaluationPeriods"], props["Period"], props["Statistic"]) == (1, 1, 300, "Sum")
        assert props["TreatMissingData"] == "notBreaching"


def _statements(synth, resource_type, logical_id=None):
    resources = synth.resources(resource_type)
    (resource,) = [r for i, r in resources.items() if logical_id is None or i.startswith(logical_id)]
    document = resource["Properties"].get("PolicyDocument") or resource["Properties"]["KeyPolicy"]
    return document["Statement"]


def test_the_alarm_topic_and_its_key_let_cloudwatch_alarms_of_this_account_in(maximal):
    """Without these, enforce_ssl's topic policy leaves only a Deny and no alarm ever notifies."""
    (topic_id,) = maximal.resources("AWS::SNS::Topic")
    (allow,) = [s for s in _statements(maximal, "AWS::SNS::TopicPolicy") if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert (allow["Action"], allow["Resource"]) == ("sns:Publish", {"Ref": topic_id})
    assert allow["Condition"] == {
        "ArnLike": {
            "aws:SourceArn": {
                "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":cloudwatch:us-east-1:123456789012:alarm:*"]]
            }
        },
        "StringEquals": {"aws:SourceAccount": "123456789012"},
    }
    (key_allow,) = [
        s for s in _statements(maximal, "AWS::KMS::Key", "AlertsKey") if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert key_allow["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert key_allow["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_an_sns_action_still_works_but_warns_that_the_topic_must_let_cloudwatch_in():
    stack = Stack(App(), "T")
    audit = AuditTrail(stack, "Audit")
    audit.add_security_alarms(_sns_action(stack))
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("cloudwatch.amazonaws.com"))
    assert len(warnings) == 1  # once per trail, not once per alarm
    assert "serverless-patterns:alarmTopicNotWritable" in warnings[0].entry.data


def _build_trail():
    stack = Stack(App(), "T")
    return stack, AuditTrail(stack, "Audit")


def test_data_event_methods_accept_interfaces_and_wrappers_and_merge_selectors():
    stack, audit = _build_trail()
    plain = s3.Bucket.from_bucket_name(stack, "Plain", "plain-bucket")
    secure = SecureBucket(stack, "Secure")
    table = dynamodb.Table.from_table_name(stack, "Table", "orders")
    audit.add_s3_data_events([plain])
    audit.add_s3_data_events([secure, plain])  # same read/write type: merged, duplicates dropped
    audit.add_dynamodb_data_events([SimpleNamespace(table=table)])
    audit.add_dynamodb_data_events([table], read_write_type=cloudtrail.ReadWriteType.READ_ONLY)
    rendered = {s["Name"]: s["FieldSelectors"] for s in _rendered_selectors(stack)}
    s3_arns = rendered["AWS::S3::Object data events (reads and writes)"][2]["StartsWith"]
    assert len(s3_arns) == 2
    assert rendered["AWS::DynamoDB::Table data events (reads and writes)"][2]["Equals"] == rendered[
        "AWS::DynamoDB::Table data events (reads)"
    ][2]["Equals"]
    assert rendered["AWS::DynamoDB::Table data events (reads)"][3] == {"Field": "readOnly", "Equals": ["true"]}


def _sns_action(stack):
    return actions.SnsAction(sns.Topic.from_topic_arn(stack, "Topic", "arn:aws:sns:us-east-1:123456789012:alerts"))


def _rendered_selectors(stack):
    from aws_cdk.assertions import Template

    (trail,) = Template.from_stack(stack).find_resources("AWS::CloudTrail::Trail").values()
    return trail["Properties"]["AdvancedEventSelectors"]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda a, s: a.add_s3_data_events([a.bucket]), ValueError, "the trail's own bucket cannot be given"),
        (lambda a, s: a.add_s3_data_events([a.bucket.bucket]), ValueError, "the trail's own bucket cannot be given"),
        (lambda a, s: a.add_s3_data_events([]), ValueError, "buckets is empty"),
        (lambda a, s: a.add_s3_data_events("my-bucket"), TypeError, "buckets must be an iterable"),
        (lambda a, s: a.add_s3_data_events(["my-bucket"]), TypeError, "buckets must hold IBucket objects or objects with a .bucket attribute, got str"),
        (
            lambda a, s: a.add_dynamodb_data_events([s3.Bucket.from_bucket_name(s, "B", "other-bucket")]),
            TypeError,
            "tables must hold ITable objects or objects with a .table attribute",
        ),
        (
            lambda a, s: a.add_s3_data_events([s3.Bucket.from_bucket_name(s, "B", "other-bucket")], key_prefix="/logs"),
            ValueError,
            "key_prefix='/logs'",
        ),
        (
            lambda a, s: a.add_dynamodb_data_events(
                [dynamodb.Table.from_table_name(s, "T", "t")], read_write_type=cloudtrail.ReadWriteType.NONE
            ),
            ValueError,
            "read_write_type=<ReadWriteType.NONE",
        ),
        (lambda a, s: a.add_security_alarms(None), TypeError, "action must be AlertTopic, ITopic or IAlarmAction, got None"),
        (lambda a, s: a.add_security_alarms("arn:aws:sns:us-east-1:123456789012:t"), TypeError, "action must be IAlarmAction, got str"),
        (
            lambda a, s: a.alarm_on_pattern("Custom", pattern=" ", description="d", action=_sns_action(s)),
            ValueError,
            "pattern=' ': must not be empty",
        ),
    ],
)
def test_data_event_and_alarm_methods_reject_bad_arguments(call, error, message):
    stack, audit = _build_trail()
    with pytest.raises(error) as raised:
        call(audit, stack)
    assert message in str(raised.value)
    assert str(raised.value).startswith("AuditTrail: ")


def test_too_many_data_event_resources_are_refused_before_changing_the_trail():
    stack, audit = _build_trail()
    buckets = [s3.Bucket.from_bucket_name(stack, f"B{i}", f"bucket-{i}") for i in range(MAX_SELECTOR_VALUES)]
    with pytest.raises(ValueError, match=r"would hold 50\d values; CloudTrail allows at most 500"):
        audit.add_s3_data_events(buckets)
    audit.add_s3_data_events(buckets[:100])
    _, s3_data = _rendered_selectors(stack)
    assert len(s3_data["FieldSelectors"][2]["StartsWith"]) == 100  # nothing of the refused call was kept


# ---- snapshots ------------------------------------------------------------------------------


def test_default_snapshot(default, snapshot_json):
    assert default.normalised() == snapshot_json


def test_maximal_snapshot(maximal, snapshot_json):
    assert maximal.normalised() == snapshot_json


def test_logical_id_of_the_trail_is_stable(default):
    # Changing it replaces the trail: a gap in the audit record.
    assert list(default.resources("AWS::CloudTrail::Trail")) == ["Audit60AC924E"]


# ---- compliance -----------------------------------------------------------------------------


@pytest.mark.parametrize("configuration", ["default", "maximal"])
def test_compliance(configuration, request):
    assert_compliant(request.getfixturevalue(configuration))


def test_acknowledgements_are_the_expected_narrow_ones(default):
    rules = set().union(*acknowledged_rules(default).values())
    iam5 = {r for r in rules if r.startswith("AwsSolutions-IAM5")}
    assert iam5 == {
        (
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"
            f"/aws/cloudtrail/{_trail(default)['TrailName']}-{json.dumps(STACK_INSTANCE_ID, separators=(',', ':'))}"
            ":log-stream:<AWS::AccountId>_CloudTrail_*]"
        )
    }
    assert rules - iam5 <= {
        "AwsSolutions-S1", "CKV_AWS_18", "CKV_AWS_144",
        *(f"{p}-{r}" for p in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
          for r in ("S3BucketLoggingEnabled", "S3BucketReplicationEnabled", "S3DefaultEncryptionKMS")),
    }
    trail_rules = {r for p, rs in acknowledged_rules(default).items() if "Audit/Resource" in p for r in rs}
    assert not trail_rules, "nothing on the trail itself is acknowledged"


# ---- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"trail_name": "ab"}, "trail_name='ab': must be 3-128 letters"),
        ({"trail_name": "my--trail"}, "trail_name='my--trail'"),
        ({"trail_name": "-trail"}, "trail_name='-trail'"),
        ({"trail_name": "192.168.0.1"}, "not look like an IP address"),
        ({"management_events": cloudtrail.ReadWriteType.NONE}, "management_events=<ReadWriteType.NONE"),
        ({"is_multi_region_trail": False}, "is_multi_region_trail=False: activity in other Regions"),
        ({"enable_file_validation": False}, "enable_file_validation=False: digest files prove"),
        ({"exclude_management_event_sources": ["kms"]}, "exclude_management_event_sources='kms': must be an event source"),
        ({"s3_key_prefix": "trail/"}, "s3_key_prefix='trail/': must not be empty or start or end with '/'"),
        ({"log_file_retention": Duration.hours(12)}, "log_file_retention='0.5 days': must be a whole number of days"),
        (
            {"object_lock_retention": Duration.days(365), "log_file_retention": Duration.days(30)},
            "log_file_retention='30.0 days': must not be shorter than object_lock_retention (365.0 days)",
        ),
        ({"tags": {"aws:owner": "x"}}, "tags key 'aws:owner'"),
    ],
)
def test_invalid_props_raise_value_error_naming_the_prop(props, message):
    with pytest.raises(ValueError) as error:
        AuditTrail(Stack(App(), "V"), "Bad", **props)
    assert message in str(error.value)
    assert str(error.value).startswith("AuditTrail: ")


def test_several_violations_are_reported_together():
    with pytest.raises(ValueError) as error:
        AuditTrail(Stack(App(), "V"), "Bad", is_multi_region_trail=False, enable_file_validation=False)
    assert "is_multi_region_trail=False" in str(error.value) and "enable_file_validation=False" in str(error.value)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"trail_name": 42}, "trail_name must be str, got int"),
        ({"management_events": "All"}, "management_events must be ReadWriteType, got str"),
        ({"log_retention": 365}, "log_retention must be RetentionDays, got int"),
        ({"insight_types": ["ApiCallRateInsight"]}, "insight_types must be InsightType, got str"),
        ({"exclude_management_event_sources": "kms.amazonaws.com"}, "exclude_management_event_sources must be a sequence of str"),
        ({"is_multi_region_trail": "yes"}, "is_multi_region_trail must be bool, got str"),
    ],
)
def test_wrong_types_raise_type_error_naming_the_prop(props, message):
    with pytest.raises(TypeError, match=message):
        AuditTrail(Stack(App(), "V"), "Bad", **props)


def test_parameter_tokens_are_not_judged():
    def build(stack):
        name = CfnParameter(stack, "TrailName", type="String")
        return AuditTrail(stack, "Audit", trail_name=name.value_as_string)

    synth = synthesize(build)
    assert _trail(synth)["TrailName"] == {"Ref": "TrailName"}
    assert synth.only("AWS::Logs::LogGroup")["LogGroupName"] == {
        "Fn::Join": ["", ["/aws/cloudtrail/", {"Ref": "TrailName"}, "-", STACK_INSTANCE_ID]]
    }


# ---- documentation snippet ------------------------------------------------------------------


def test_docs_snippet_synthesizes_clean():
    module = importlib.import_module("examples.snippets.audit_trail_usage")
    synth = synthesize(module.build)
    assert len(synth.resources("AWS::CloudWatch::Alarm")) == len(SECURITY_ALARMS)
    assert len(_trail(synth)["AdvancedEventSelectors"]) == 3
    (policy,) = synth.resources("AWS::SNS::TopicPolicy").values()
    principals = [s["Principal"] for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert principals == [{"Service": "cloudwatch.amazonaws.com"}]  # the documented way lets CloudWatch in
    assert_compliant(synth)
