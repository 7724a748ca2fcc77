"""AlertTopic: defaults, options, snapshots, compliance and validation."""

from __future__ import annotations

import importlib

import pytest
from aws_cdk import App, CfnParameter, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from harness import acknowledged_rules, assert_compliant, synthesize

from serverless_patterns._roles import ManagedPolicyRole
from serverless_patterns._alarms import IMPORTED_ALARM_TOPIC_WARNING, allow_cloudwatch_alarms
from serverless_patterns.alert_topic import DELIVERY_FAILURES_REASON, AlertTopic


def _alarm(stack: Stack, id: str) -> cloudwatch.Alarm:
    metric = cloudwatch.Metric(namespace="Custom", metric_name="Failures", statistic="Sum")
    return metric.create_alarm(stack, id, threshold=1, evaluation_periods=1)


def _default(stack):
    return AlertTopic(stack, "Alerts")


def _maximal(stack):
    email = CfnParameter(stack, "AlertEmail", type="String")
    topic = AlertTopic(
        stack,
        "Alerts",
        emails=["oncall@example.com", email.value_as_string],
        display_name="Ops alerts",
        topic_name="ops-alerts",
        tags={"Owner": "ops"},
    )
    topic.add_email("team+alerts@example.co.uk")
    topic.add_alarm(_alarm(stack, "Loud"))
    topic.add_alarm(_alarm(stack, "Quiet"), notify_on_recovery=False)
    publisher = ManagedPolicyRole(stack, "Publisher", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    topic.grant_publish(publisher)
    return topic


@pytest.fixture(scope="module")
def default():
    return synthesize(_default)


@pytest.fixture(scope="module")
def maximal():
    return synthesize(_maximal)


def _logical_id(synth, resource_type, prefix):
    (logical_id,) = [i for i in synth.resources(resource_type) if i.startswith(prefix)]
    return logical_id


def _statements(resource):
    key = "KeyPolicy" if "KeyPolicy" in resource["Properties"] else "PolicyDocument"
    return resource["Properties"][key]["Statement"]


# ---- defaults ---------------------------------------------------------------------------------


def test_topic_is_encrypted_with_its_own_rotating_customer_managed_key(default):
    topic = default.only("AWS::SNS::Topic")
    key_id = _logical_id(default, "AWS::KMS::Key", "AlertsKey")
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    key = default.template["Resources"][key_id]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "RetainExceptOnCreate"


def test_topic_signs_messages_with_sha256(default):
    assert default.only("AWS::SNS::Topic")["SignatureVersion"] == "2"


def test_topic_policy_denies_publishing_without_tls(default):
    statements = default.only("AWS::SNS::TopicPolicy")["PolicyDocument"]["Statement"]
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Principal"] == "*"
    assert deny["Action"] == "sns:Publish"


def test_cloudwatch_alarms_of_this_account_may_publish(default):
    statements = default.only("AWS::SNS::TopicPolicy")["PolicyDocument"]["Statement"]
    (allow,) = [s for s in statements if s.get("Sid") == "AllowCloudWatchAlarms"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source_arn = str(allow["Condition"]["ArnLike"]["aws:SourceArn"])
    assert ":cloudwatch:" in source_arn and ":alarm:*" in source_arn


def test_key_policy_lets_cloudwatch_encrypt_for_this_account_only(default):
    key = default.template["Resources"][_logical_id(default, "AWS::KMS::Key", "AlertsKey")]
    (statement,) = [s for s in _statements(key) if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_no_subscription_no_queue_and_a_generated_name_by_default(default):
    assert not default.resources("AWS::SNS::Subscription")
    assert not default.resources("AWS::SQS::Queue")
    assert "TopicName" not in default.only("AWS::SNS::Topic")


def test_resources_are_tagged_with_the_construct_name(default):
    tags = default.only("AWS::SNS::Topic")["Tags"]
    assert {"Key": "serverless-patterns:construct", "Value": "AlertTopic"} in tags


# ---- options ----------------------------------------------------------------------------------


def test_emails_are_subscribed_including_a_parameter(maximal):
    endpoints = [s["Properties"]["Endpoint"] for s in maximal.resources("AWS::SNS::Subscription").values()]
    assert sorted(map(str, endpoints)) == sorted(
        map(str, ["oncall@example.com", {"Ref": "AlertEmail"}, "team+alerts@example.co.uk"])
    )
    protocols = {s["Properties"]["Protocol"] for s in maximal.resources("AWS::SNS::Subscription").values()}
    assert protocols == {"email"}


def test_undeliverable_alerts_go_to_an_encrypted_dead_letter_queue(maximal):
    queue_id = _logical_id(maximal, "AWS::SQS::Queue", "AlertsDeliveryFailures")
    for subscription in maximal.resources("AWS::SNS::Subscription").values():
        assert subscription["Properties"]["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}
        }
    queue = maximal.template["Resources"][queue_id]["Properties"]
    key_id = _logical_id(maximal, "AWS::KMS::Key", "AlertsKey")
    assert queue["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert queue["MessageRetentionPeriod"] == 14 * 86400
    statements = maximal.only("AWS::SQS::QueuePolicy")["PolicyDocument"]["Statement"]
    conditions = [s.get("Condition") for s in statements]
    assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
    (from_sns,) = [s for s in statements if s.get("Principal") == {"Service": "sns.amazonaws.com"}]
    assert from_sns["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": _logical_id(maximal, "AWS::SNS::Topic", "Alerts")}}}
    key = maximal.template["Resources"][key_id]
    assert any(s["Principal"] == {"Service": "sns.amazonaws.com"} for s in _statements(key))


def test_alarms_notify_when_firing_and_recovering_unless_told_not_to(maximal):
    topic_ref = {"Ref": _logical_id(maximal, "AWS::SNS::Topic", "Alerts")}
    alarms = maximal.resources("AWS::CloudWatch::Alarm")
    loud = alarms[_logical_id(maximal, "AWS::CloudWatch::Alarm", "Loud")]["Properties"]
    quiet = alarms[_logical_id(maximal, "AWS::CloudWatch::Alarm", "Quiet")]["Properties"]
    assert loud["AlarmActions"] == [topic_ref] and loud["OKActions"] == [topic_ref]
    assert quiet["AlarmActions"] == [topic_ref] and "OKActions" not in quiet


def test_grant_publish_names_the_topic_and_its_key(maximal):
    assert not maximal.resources("AWS::IAM::Policy")
    (policy,) = maximal.resources("AWS::IAM::ManagedPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    topic_id = _logical_id(maximal, "AWS::SNS::Topic", "Alerts")
    assert {"Action": "sns:Publish", "Effect": "Allow", "Resource": {"Ref": topic_id}} in statements
    key_id = _logical_id(maximal, "AWS::KMS::Key", "AlertsKey")
    assert any(s["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]} for s in statements)


def test_display_name_topic_name_and_tags(maximal):
    topic = maximal.only("AWS::SNS::Topic")
    assert topic["DisplayName"] == "Ops alerts"
    assert topic["TopicName"] == "ops-alerts"
    assert {"Key": "Owner", "Value": "ops"} in topic["Tags"]


def test_alarm_action_publishes_to_the_topic():
    stack = Stack(App(), "T")
    topic = AlertTopic(stack, "Alerts")
    alarm = _alarm(stack, "A")
    alarm.add_alarm_action(topic.alarm_action)
    actions = stack.resolve(alarm.node.default_child.alarm_actions)
    assert actions == [{"Ref": stack.get_logical_id(topic.topic.node.default_child)}]


# ---- snapshots and compliance -----------------------------------------------------------------


def test_default_snapshot(default, snapshot_json):
    assert default.normalised() == snapshot_json


def test_maximal_snapshot(maximal, snapshot_json):
    assert maximal.normalised() == snapshot_json


@pytest.mark.parametrize("configuration", ["default", "maximal"])
def test_compliance(configuration, request):
    assert_compliant(request.getfixturevalue(configuration))


def test_only_the_dead_letter_queue_is_acknowledged_and_only_for_having_no_dead_letter_queue(default, maximal):
    assert acknowledged_rules(default) == {}
    assert acknowledged_rules(maximal) == {
        "Test/Alerts/DeliveryFailures/Resource": {"AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"}
    }
    assert {a.reason for a in maximal.nag.acknowledged} == {DELIVERY_FAILURES_REASON}


def test_an_alert_topic_without_subscribers_is_a_preflight_finding_the_library_does_not_acknowledge():
    def build(stack):
        topic = AlertTopic(stack, "Alerts")
        topic.add_alarm(_alarm(stack, "Failures"))

    synth = synthesize(build, test_alerts_unsubscribed=False)
    assert [(f.rule, f.path) for f in synth.preflight.findings] == [
        ("AlarmTopicWithoutSubscription", "Test/Alerts/Resource/Resource")
    ]
    assert not synth.preflight.acknowledged
    # ... and a subscriber resolves it.
    subscribed = synthesize(
        lambda stack: AlertTopic(stack, "Alerts", emails=["ops@example.com"]).add_alarm(_alarm(stack, "Failures")),
        test_alerts_unsubscribed=False,
    )
    assert not subscribed.preflight.findings


def test_usage_snippet_synthesizes_compliant():
    module = importlib.import_module("examples.snippets.alert_topic_usage")
    synth = synthesize(module.build)
    assert_compliant(synth)
    assert len(synth.resources("AWS::SNS::Subscription")) == 1


# ---- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"emails": ["not-an-address"]}, "emails='not-an-address': is not an email address"),
        ({"emails": ["ops@localhost"]}, "emails='ops@localhost': is not an email address"),
        ({"emails": ["a b@example.com"]}, "emails='a b@example.com': is not an email address"),
        ({"emails": ["x@example.com", "x@example.com"]}, "emails=['x@example.com']: each address may be subscribed once"),
        ({"display_name": "x" * 101}, "display_name='xxxx"),
        ({"topic_name": "has space"}, "topic_name='has space': must be 1-256 letters"),
        ({"tags": {"aws:team": "x"}}, "tags key 'aws:team'"),
    ],
)
def test_invalid_props_raise_value_error_naming_the_prop(props, message):
    with pytest.raises(ValueError) as error:
        AlertTopic(Stack(App(), "V"), "Bad", **props)
    assert message in str(error.value)
    assert str(error.value).startswith("AlertTopic: ")


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"emails": "ops@example.com"}, "emails must be a list of addresses, got str"),
        ({"display_name": 5}, "display_name must be str, got int"),
    ],
)
def test_wrong_types_raise_type_error_naming_the_prop(props, message):
    with pytest.raises(TypeError, match=message):
        AlertTopic(Stack(App(), "V"), "Bad", **props)


def test_add_email_validates_and_refuses_duplicates():
    topic = AlertTopic(Stack(App(), "V"), "Alerts", emails=["ops@example.com"])
    with pytest.raises(ValueError, match="email='ops@example.com': is already subscribed"):
        topic.add_email("ops@example.com")
    with pytest.raises(ValueError, match="email='ops': is not an email address"):
        topic.add_email("ops")


def test_parameter_tokens_are_not_judged():
    stack = Stack(App(), "V")
    name = CfnParameter(stack, "TopicName", type="String")
    display = CfnParameter(stack, "Display", type="String")
    email = CfnParameter(stack, "Email", type="String")
    topic = AlertTopic(stack, "P", emails=[email.value_as_string], topic_name=name.value_as_string,
                       display_name=display.value_as_string)
    assert stack.resolve(topic.topic.node.default_child.topic_name) == {"Ref": "TopicName"}


# ---- topics that are not AlertTopics: one helper lets CloudWatch alarms in --------------------


def _plain_alarm(stack, id="Alarm"):
    return cloudwatch.Alarm(
        stack, id, metric=cloudwatch.Metric(namespace="N", metric_name="M"), threshold=1, evaluation_periods=1
    )


def _warnings(stack):
    from aws_cdk.assertions import Annotations, Match

    return Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp(IMPORTED_ALARM_TOPIC_WARNING))


def test_an_alert_topic_needs_nothing_more_and_gets_no_duplicate_statements():
    stack = Stack(App(), "Own")
    alerts = AlertTopic(stack, "Alerts")
    assert allow_cloudwatch_alarms(stack, alerts) and allow_cloudwatch_alarms(stack, alerts.topic)
    template = Template.from_stack(stack).to_json()
    (policy,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::SNS::TopicPolicy"]
    sids = [s.get("Sid") for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    assert sids.count("AllowCloudWatchAlarms") == 1
    assert not _warnings(stack)


def test_a_topic_of_the_app_with_an_imported_key_gets_the_topic_allow_and_a_warning_about_the_key():
    stack = Stack(App(), "Mixed")
    key = kms.Key.from_key_arn(stack, "Key", "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555")
    topic = sns.Topic(stack, "Topic", master_key=key, enforce_ssl=True)
    assert allow_cloudwatch_alarms(_plain_alarm(stack), topic) is False
    template = Template.from_stack(stack).to_json()
    (policy,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::SNS::TopicPolicy"]
    allows = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in allows] == [{"Service": "cloudwatch.amazonaws.com"}]
    (warning,) = _warnings(stack)
    assert "KMS key's policy must allow kms:Decrypt and kms:GenerateDataKey to cloudwatch.amazonaws.com" in warning.entry.data
    assert "topic policy must allow" not in warning.entry.data  # that one was added


def test_an_unencrypted_topic_of_the_app_needs_only_the_topic_allow():
    stack = Stack(App(), "Plain")
    topic = sns.Topic(stack, "Topic")
    assert allow_cloudwatch_alarms(_plain_alarm(stack), topic) is True
    assert not _warnings(stack)
