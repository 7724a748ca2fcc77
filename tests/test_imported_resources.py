"""Props that take a resource accept the CDK interface, imported resources included.

Each construct is built with an imported key, topic, bucket or function (``from_*_arn``) or a plain
CDK L2: the resource is wired into the template, grants the library can make through IAM are made,
and every statement only the resource's owner can add (a key or bucket policy) is named exactly in
a CDK warning.
"""

from __future__ import annotations

import json
import re

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match, Template
from harness import TEST_ENV

from serverless_patterns._alarms import IMPORTED_ALARM_TOPIC_WARNING
from serverless_patterns._resource_policies import BUCKET_POLICY_WARNING, KEY_POLICY_WARNING
from serverless_patterns.alert_topic import AlertTopic
from serverless_patterns.alerting_function import AlertingFunction
from serverless_patterns.audit_trail import AuditTrail
from serverless_patterns.audited_table import AuditedTable
from serverless_patterns.bucket_distribution import BucketDistribution
from serverless_patterns.handlers import handler_code, handler_entry
from serverless_patterns.keyed_api import ApiWithKeyedUsagePlan
from serverless_patterns.secure_bucket import SecureBucket
from serverless_patterns.secure_queue import SecureQueue
from serverless_patterns.secure_secret import ROTATION_ROLE_WARNING, SecureSecret

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:ops-alerts"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:partner-rotation"


def _stack() -> Stack:
    return Stack(App(), "Imported", env=TEST_ENV)


def _imported_key(stack: Stack) -> kms.IKey:
    return kms.Key.from_key_arn(stack, "PlatformKey", KEY_ARN)


def _warnings(stack: Stack, warning_id: str) -> list[str]:
    """The messages of the warnings ``warning_id`` in ``stack`` (without CDK's ``[ack: ...]`` suffix)."""
    messages = [m.entry.data for m in Annotations.from_stack(stack).find_warning("*", Match.any_value())]
    return [re.sub(r" \[ack: [^\]]+\]$", "", m) for m in messages if m.endswith(f"[ack: {warning_id}]")]


def _statement(message: str) -> dict:
    """The policy statement a warning names (the JSON object after 'policy: ')."""
    return json.loads(message.split("policy: ", 1)[1])


def _resources(template: dict, kind: str) -> list[dict]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def _function(stack: Stack, id: str = "Plain") -> lambda_.Function:
    return lambda_.Function(
        stack, id, code=handler_code("example_echo"), handler=handler_entry("example_echo"), runtime=lambda_.Runtime.PYTHON_3_13
    )


# ---- imported keys ------------------------------------------------------------------------------


def test_alerting_function_uses_an_imported_key_and_names_the_cloudwatch_logs_statement():
    stack = _stack()
    fn = AlertingFunction(stack, "Fn", code=handler_code("example_echo"), handler=handler_entry("example_echo"),
                          environment={"MODE": "test"}, encryption_key=_imported_key(stack))
    template = Template.from_stack(stack).to_json()
    (function,) = [f for f in _resources(template, "AWS::Lambda::Function")]
    assert function["Properties"]["KmsKeyArn"] == KEY_ARN
    (log_group,) = _resources(template, "AWS::Logs::LogGroup")
    assert log_group["Properties"]["KmsKeyId"] == KEY_ARN
    (queue,) = _resources(template, "AWS::SQS::Queue")  # the dead-letter queue
    assert queue["Properties"]["KmsMasterKeyId"] == KEY_ARN
    descriptions = [k["Properties"]["Description"] for k in _resources(template, "AWS::KMS::Key")]
    assert descriptions == ["Encrypts the alerts of Imported/Fn/AlertTopic"], "only the alert topic makes a key"
    # IAM suffices for the role: the environment (Decrypt) and the dead-letter queue (GenerateDataKey).
    statements = [s for p in _resources(template, "AWS::IAM::ManagedPolicy") for s in p["Properties"]["PolicyDocument"]["Statement"]]
    kms_actions = {a for s in statements if s["Resource"] == KEY_ARN for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"kms:Decrypt", "kms:GenerateDataKey"} <= kms_actions
    (warning,) = _warnings(stack, KEY_POLICY_WARNING)
    assert f"uses the imported KMS key Imported/PlatformKey ({KEY_ARN})" in warning
    assert "CloudWatch Logs to encrypt the log group of Imported/Fn" in warning
    statement = _statement(warning)
    assert statement["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert statement["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:<partition>:logs:us-east-1:123456789012:log-group:*"}
    }
    assert fn.encryption_key is not None


def test_secure_queue_uses_an_imported_key_and_names_the_statement_of_each_sending_service():
    stack = _stack()
    queue = SecureQueue(stack, "Jobs", encryption_key=_imported_key(stack))
    rule = events.Rule(stack, "Rule", event_pattern=events.EventPattern(source=["aws.s3"]))
    rule.add_target(queue.rule_target())
    queue.allow_send_from("s3.amazonaws.com", source_arn="arn:aws:s3:::uploads")
    template = Template.from_stack(stack).to_json()
    assert {q["Properties"]["KmsMasterKeyId"] for q in _resources(template, "AWS::SQS::Queue")} == {KEY_ARN}
    assert not _resources(template, "AWS::KMS::Key")
    by_service = {_statement(w)["Principal"]["Service"]: _statement(w) for w in _warnings(stack, KEY_POLICY_WARNING)}
    assert set(by_service) == {"events.amazonaws.com", "s3.amazonaws.com"}
    assert by_service["events.amazonaws.com"]["Condition"] == {
        "ArnLike": {"aws:SourceArn": "arn:<partition>:events:us-east-1:123456789012:rule/*"}
    }
    assert sorted(by_service["events.amazonaws.com"]["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert by_service["s3.amazonaws.com"]["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    # The queue policy (the app's own) still names the exact senders.
    (policy,) = [p for p in _resources(template, "AWS::SQS::QueuePolicy") if any(
        s.get("Principal") == {"Service": "s3.amazonaws.com"} for s in p["Properties"]["PolicyDocument"]["Statement"])]
    assert policy


def test_audit_trail_uses_an_imported_key_and_names_the_cloudtrail_and_logs_statements():
    stack = _stack()
    AuditTrail(stack, "Audit", encryption_key=_imported_key(stack))
    template = Template.from_stack(stack).to_json()
    (trail,) = _resources(template, "AWS::CloudTrail::Trail")
    assert trail["Properties"]["KMSKeyId"] == KEY_ARN
    (log_group,) = _resources(template, "AWS::Logs::LogGroup")
    assert log_group["Properties"]["KmsKeyId"] == KEY_ARN
    statements = [_statement(w) for w in _warnings(stack, KEY_POLICY_WARNING)]
    by_sid = {s.get("Sid"): s for s in statements}
    encrypt = by_sid["AllowCloudTrailToEncryptLogs"]
    assert encrypt["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert encrypt["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:cloudtrail:arn": "arn:<partition>:cloudtrail:*:123456789012:trail/*"
    }
    assert by_sid["AllowCloudTrailToDescribeKey"]["Action"] == "kms:DescribeKey"
    (logs,) = [s for s in statements if s["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}]
    assert "kms:EncryptionContext:aws:logs:arn" in logs["Condition"]["ArnEquals"]


def test_alert_topic_with_an_imported_key_names_the_cloudwatch_statement_once():
    stack = _stack()
    topic = AlertTopic(stack, "Alerts", emails=["ops@example.com"], encryption_key=_imported_key(stack))
    AlertingFunction(stack, "Fn", code=handler_code("example_echo"), handler=handler_entry("example_echo"), alert_topic=topic)
    template = Template.from_stack(stack).to_json()
    (sns_topic,) = _resources(template, "AWS::SNS::Topic")
    assert sns_topic["Properties"]["KmsMasterKeyId"] == KEY_ARN
    assert topic.allows_cloudwatch_alarms is False
    services = sorted(_statement(w)["Principal"]["Service"] for w in _warnings(stack, KEY_POLICY_WARNING)
                      if "Imported/Alerts" in w.split(" uses ")[0])
    assert services == ["cloudwatch.amazonaws.com", "sns.amazonaws.com"]
    # The alarms of the function do not repeat it: the topic's own warning names the statement.
    assert _warnings(stack, IMPORTED_ALARM_TOPIC_WARNING) == []


def test_secure_bucket_logging_to_an_imported_bucket_names_the_log_delivery_statement():
    stack = _stack()
    SecureBucket(stack, "Docs", server_access_logs_bucket=s3.Bucket.from_bucket_name(stack, "OrgLogs", "org-access-logs"))
    template = Template.from_stack(stack).to_json()
    (bucket,) = _resources(template, "AWS::S3::Bucket")
    assert bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"] == "org-access-logs"
    (warning,) = _warnings(stack, BUCKET_POLICY_WARNING)
    assert "uses the imported bucket Imported/OrgLogs, whose bucket policy this app cannot change" in warning
    statement = _statement(warning)
    assert statement["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert statement["Action"] == "s3:PutObject"
    assert statement["Resource"].startswith("arn:<partition>:s3:::org-access-logs/")
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}


# ---- topics, buckets and functions ----------------------------------------------------------------


def test_audited_table_accepts_an_alert_topic_and_an_imported_topic():
    stack = _stack()
    alerts = AlertTopic(stack, "Alerts")
    AuditedTable(stack, "Orders", partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
                 alarm_topic=alerts)
    AuditedTable(stack, "Audit", partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
                 alarm_topic=sns.Topic.from_topic_arn(stack, "Ops", TOPIC_ARN))
    template = Template.from_stack(stack).to_json()
    actions = [a["Properties"]["AlarmActions"] for a in _resources(template, "AWS::CloudWatch::Alarm")]
    topic_id = next(k for k, r in template["Resources"].items() if r["Type"] == "AWS::SNS::Topic")
    assert [{"Ref": topic_id}] in actions
    assert [TOPIC_ARN] in actions
    (warning,) = _warnings(stack, IMPORTED_ALARM_TOPIC_WARNING)
    assert f"notify the topic Imported/Ops ({TOPIC_ARN})" in warning


def test_bucket_distribution_accepts_a_plain_bucket_and_an_imported_one():
    stack = _stack()
    plain = s3.Bucket(stack, "Plain", enforce_ssl=True)
    BucketDistribution(stack, "Site", bucket=plain)
    key = _imported_key(stack)
    imported = s3.Bucket.from_bucket_attributes(stack, "Shared", bucket_name="shared-site", encryption_key=key)
    BucketDistribution(stack, "Shared Site", bucket=imported)
    template = Template.from_stack(stack).to_json()
    origins = [d["Properties"]["DistributionConfig"]["Origins"][0]["DomainName"] for d in _resources(template, "AWS::CloudFront::Distribution")]
    plain_id = next(k for k, r in template["Resources"].items() if r["Type"] == "AWS::S3::Bucket" and k.startswith("Plain"))
    assert {"Fn::GetAtt": [plain_id, "RegionalDomainName"]} in origins
    assert any("shared-site" in json.dumps(o) for o in origins)
    # The plain bucket's policy lets this distribution read (CDK's origin writes it).
    (policy,) = [p for p in _resources(template, "AWS::S3::BucketPolicy") if p["Properties"]["Bucket"] == {"Ref": plain_id}]
    assert any(s.get("Principal") == {"Service": "cloudfront.amazonaws.com"} for s in policy["Properties"]["PolicyDocument"]["Statement"])
    (bucket_warning,) = _warnings(stack, BUCKET_POLICY_WARNING)
    statement = _statement(bucket_warning)
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"] == "arn:<partition>:s3:::shared-site/*"
    assert statement["Condition"]["StringEquals"]["AWS:SourceArn"].startswith("arn:<partition>:cloudfront::123456789012:distribution/")
    (key_warning,) = [w for w in _warnings(stack, KEY_POLICY_WARNING) if "Origin Access Control" in w]
    assert _statement(key_warning)["Action"] == "kms:Decrypt"


def test_add_route_accepts_a_plain_lambda_function():
    stack = _stack()
    api = ApiWithKeyedUsagePlan(stack, "Api")
    fn = _function(stack)
    api.add_route("GET", "/items", fn, level="read-only")
    template = Template.from_stack(stack).to_json()
    fn_id = stack.get_logical_id(fn.node.default_child)
    (method,) = [m for m in _resources(template, "AWS::ApiGateway::Method") if m["Properties"]["HttpMethod"] == "GET"]
    assert fn_id in json.dumps(method["Properties"]["Integration"]["Uri"])
    permissions = [p for p in _resources(template, "AWS::Lambda::Permission") if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [fn_id, "Arn"]}]
    assert permissions and all(p["Properties"]["Principal"] == "apigateway.amazonaws.com" for p in permissions)


def test_secure_secret_rotates_with_a_plain_function_and_warns_for_an_imported_one():
    stack = _stack()
    fn = _function(stack, "Rotation")
    SecureSecret(stack, "Password", rotation_function=fn)
    SecureSecret(stack, "Partner", rotation_function=lambda_.Function.from_function_arn(stack, "PartnerRotation", FUNCTION_ARN))
    template = Template.from_stack(stack).to_json()
    fn_id = stack.get_logical_id(fn.node.default_child)
    arns = [r["Properties"]["RotationLambdaARN"] for r in _resources(template, "AWS::SecretsManager::RotationSchedule")]
    assert {"Fn::GetAtt": [fn_id, "Arn"]} in arns and FUNCTION_ARN in arns
    role_policy = json.dumps([p for p in _resources(template, "AWS::IAM::Policy")])
    assert "secretsmanager:PutSecretValue" in role_policy and "kms:EncryptionContext:SecretARN" in role_policy
    warnings = _warnings(stack, ROTATION_ROLE_WARNING)
    assert len(warnings) == 2 and all(f"Imported/PartnerRotation ({FUNCTION_ARN})" in w for w in warnings)
    assert "secretsmanager:PutSecretValue" in json.dumps(json.loads(warnings[0].split("allow: ", 1)[1]))


# ---- what is still refused ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda s: SecureQueue(s, "Q", encryption_key=sns.Topic.from_topic_arn(s, "T", TOPIC_ARN)),
         f"SecureQueue: encryption_key must be IKey, got TopicBase (Imported/T ({TOPIC_ARN}))"),
        (lambda s: AuditedTable(s, "T", partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
                                alarm_topic=kms.Key.from_key_arn(s, "K", KEY_ARN)),
         f"AuditedTable: alarm_topic must be AlertTopic or ITopic, got IKey (Imported/K ({KEY_ARN}))"),
        (lambda s: BucketDistribution(s, "D", bucket=kms.Key.from_key_arn(s, "K", KEY_ARN)),
         f"BucketDistribution: bucket must be SecureBucket or IBucket, got IKey (Imported/K ({KEY_ARN}))"),
    ],
)
def test_a_resource_of_another_kind_is_refused_and_shown_by_path_and_arn(build, message):
    with pytest.raises(TypeError) as error:
        build(_stack())
    assert str(error.value) == message
    assert "InterfaceDynamicProxy" not in str(error.value)


def test_add_route_refuses_what_is_not_a_function():
    stack = _stack()
    api = ApiWithKeyedUsagePlan(stack, "Api")
    with pytest.raises(TypeError, match=r"ApiWithKeyedUsagePlan.add_route: function must be AlertingFunction or IFunction, got IKey \(Imported/K"):
        api.add_route("GET", "/items", kms.Key.from_key_arn(stack, "K", KEY_ARN), level="read-only")


def test_a_duration_in_an_error_is_shown_readably():
    with pytest.raises(ValueError) as error:
        SecureQueue(_stack(), "Q", visibility_timeout=Duration.hours(13))
    assert "<aws_cdk" not in str(error.value)


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda s, k: AlertingFunction(s, "Fn", code=handler_code("example_echo"), handler=handler_entry("example_echo"),
                                       encryption_key=k), "AlertingFunction"),
        (lambda s, k: SecureQueue(s, "Q", encryption_key=k), "SecureQueue"),
        (lambda s, k: AuditTrail(s, "Audit", encryption_key=k), "AuditTrail"),
        (lambda s, k: AlertTopic(s, "Alerts", encryption_key=k), "AlertTopic"),
    ],
)
def test_an_imported_key_of_another_region_is_refused(build, name):
    stack = _stack()
    arn = KEY_ARN.replace("us-east-1", "eu-west-1")
    with pytest.raises(ValueError) as error:
        build(stack, kms.Key.from_key_arn(stack, "Remote", arn))
    assert str(error.value) == (
        f"{name}: invalid props:\n  - encryption_key=Imported/Remote ({arn}): is a key of Region eu-west-1; "
        "KMS keys are Regional and this stack is in us-east-1"
    )
