"""SecureQueue: defaults, options, senders, grants, snapshots, compliance and validation."""

from __future__ import annotations

import importlib
import json

import pytest
from aws_cdk import App, CfnParameter, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from deploy_readiness import render_name
from harness import acknowledged_rules, assert_compliant, synthesize

from serverless_patterns._defaults import unique_physical_name
from serverless_patterns._roles import ManagedPolicyRole
from serverless_patterns.alert_topic import AlertTopic
from serverless_patterns._alarms import NO_ALARM_TOPIC_REASON
from serverless_patterns.secure_queue import (
    DEAD_LETTER_QUEUE_REASON,
    SecureQueue,
)

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:uploads"
#: SNS delivers to a FIFO queue only from a FIFO topic.
FIFO_TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:orders.fifo"


def _default(stack):
    return SecureQueue(stack, "Jobs")


def _maximal(stack):
    key = kms.Key(stack, "OwnKey", enable_key_rotation=True)
    alerts = AlertTopic(stack, "Alerts")
    queue = SecureQueue(
        stack,
        "Orders",
        encryption_key=key,
        visibility_timeout=Duration.minutes(5),
        retention_period=Duration.days(7),
        dead_letter_retention_period=Duration.days(14),
        max_receive_count=5,
        receive_message_wait_time=Duration.seconds(10),
        delivery_delay=Duration.seconds(30),
        fifo=True,
        content_based_deduplication=True,
        queue_name=unique_physical_name(stack, "orders", max_length=70, suffix=".fifo"),
        alarm_topic=alerts,
        dead_letter_messages_alarm_threshold=3,
        oldest_message_age_alarm_threshold=Duration.minutes(15),
        alarm_period=Duration.minutes(1),
        alarm_evaluation_periods=2,
        tags={"Owner": "orders-team"},
    )
    rule = events.Rule(stack, "OrderPlaced", event_pattern=events.EventPattern(source=["shop.orders"]))
    rule.add_target(queue.rule_target(retry_attempts=10, max_event_age=Duration.hours(2), message_group_id="orders"))
    queue.allow_send_from("sns.amazonaws.com", source_arn=FIFO_TOPIC_ARN)
    worker = ManagedPolicyRole(stack, "Worker", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    queue.grant_send_messages(worker)
    queue.grant_consume_messages(worker)
    return queue


@pytest.fixture(scope="module")
def default():
    return synthesize(_default)


@pytest.fixture(scope="module")
def maximal():
    return synthesize(_maximal)


@pytest.fixture(scope="module")
def snippet():
    return synthesize(importlib.import_module("examples.snippets.secure_queue_usage").build)


def _queues(synth):
    """Logical ids of the SecureQueue's queue and dead-letter queue."""
    queue = synth.extra["built"]
    stack = Stack.of(queue)
    return tuple(
        stack.resolve(stack.get_logical_id(q.node.default_child)) for q in (queue.queue, queue.dead_letter_queue)
    )


def _props(synth, logical_id):
    return synth.template["Resources"][logical_id]["Properties"]


def _queue_policy(synth, logical_id):
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.resources("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": logical_id}]
    ]
    return policy


def _own_key(synth):
    return next(i for i in synth.resources("AWS::KMS::Key") if i.startswith("OwnKey"))


def _alarms(synth):
    return {i: r["Properties"] for i, r in synth.resources("AWS::CloudWatch::Alarm").items()}


# ---- defaults ---------------------------------------------------------------------------------


def test_default_encrypts_both_queues_with_one_rotating_customer_managed_key(default):
    (key_id,) = default.resources("AWS::KMS::Key")
    assert _props(default, key_id)["EnableKeyRotation"] is True
    for queue in _queues(default):
        assert _props(default, queue)["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_default_refuses_plain_http_on_both_queues(default):
    for queue in _queues(default):
        (deny,) = [s for s in _queue_policy(default, queue) if s["Effect"] == "Deny"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert deny["Action"] == "sqs:*"


def test_default_redrives_after_three_receives_to_a_longer_kept_dead_letter_queue(default):
    queue, dead_letters = _queues(default)
    props = _props(default, queue)
    assert props["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dead_letters, "Arn"]}, "maxReceiveCount": 3}
    assert props["MessageRetentionPeriod"] == 4 * 86400
    assert props["VisibilityTimeout"] == 60
    assert props["ReceiveMessageWaitTimeSeconds"] == 20
    assert _props(default, dead_letters)["MessageRetentionPeriod"] == 14 * 86400
    for logical_id in (queue, dead_letters):
        assert default.template["Resources"][logical_id]["DeletionPolicy"] == "RetainExceptOnCreate"


def test_default_alarms_on_dead_letters_and_on_old_messages(default):
    queue, dead_letters = _queues(default)
    alarms = _alarms(default)
    (dlq_alarm,) = [a for i, a in alarms.items() if i.startswith("JobsDeadLetterMessagesAlarm")]
    assert dlq_alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert dlq_alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dead_letters, "QueueName"]}}]
    assert (dlq_alarm["Statistic"], dlq_alarm["Threshold"], dlq_alarm["Period"]) == ("Maximum", 1, 300)
    (age_alarm,) = [a for i, a in alarms.items() if i.startswith("JobsOldestMessageAgeAlarm")]
    assert age_alarm["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert age_alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    assert (age_alarm["Statistic"], age_alarm["Threshold"]) == ("Maximum", 3600)
    for alarm in alarms.values():
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"
        assert "AlarmActions" not in alarm


def test_default_has_no_names_no_senders_and_tags_every_resource(default):
    queue, dead_letters = _queues(default)
    for logical_id in (queue, dead_letters):
        props = _props(default, logical_id)
        assert "QueueName" not in props
        assert {"Key": "serverless-patterns:construct", "Value": "SecureQueue"} in props["Tags"]
        assert [s["Effect"] for s in _queue_policy(default, logical_id)] == ["Deny"]


# ---- options ----------------------------------------------------------------------------------


def test_maximal_fifo_queue_and_its_fifo_dead_letter_queue(maximal):
    queue, dead_letters = _queues(maximal)
    props, dlq = _props(maximal, queue), _props(maximal, dead_letters)
    # Kept on delete, so the test names them uniquely per stack instance.
    assert (render_name(props["QueueName"]), render_name(dlq["QueueName"])) == (
        "orders-<stack-instance-id>.fifo",
        "orders-<stack-instance-id>-dlq.fifo",
    )
    assert props["FifoQueue"] is dlq["FifoQueue"] is True
    assert props["ContentBasedDeduplication"] is True
    assert (props["VisibilityTimeout"], props["MessageRetentionPeriod"], props["DelaySeconds"]) == (300, 7 * 86400, 30)
    assert props["ReceiveMessageWaitTimeSeconds"] == 10
    assert props["RedrivePolicy"]["maxReceiveCount"] == 5
    own_key = _own_key(maximal)
    assert props["KmsMasterKeyId"] == {"Fn::GetAtt": [own_key, "Arn"]}
    assert {"Key": "Owner", "Value": "orders-team"} in props["Tags"]


def test_maximal_alarms_use_the_thresholds_and_notify_the_topic(maximal):
    alarms = {i: a for i, a in _alarms(maximal).items() if i.startswith("Orders")}
    (topic,) = maximal.resources("AWS::SNS::Topic")
    by_metric = {a["MetricName"]: a for a in alarms.values()}
    assert by_metric["ApproximateNumberOfMessagesVisible"]["Threshold"] == 3
    assert by_metric["ApproximateAgeOfOldestMessage"]["Threshold"] == 900
    for alarm in alarms.values():
        assert (alarm["Period"], alarm["EvaluationPeriods"]) == (60, 2)
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": topic}]


def _target_dead_letters(synth):
    queue = synth.extra["built"]
    stack = Stack.of(queue)
    return stack.resolve(stack.get_logical_id(queue.target_dead_letter_queue.node.default_child))


def test_the_rule_target_of_a_fifo_queue_sends_failures_to_a_standard_dead_letter_queue(maximal):
    """EventBridge refuses FIFO dead-letter queues ("SQS FIFO is not supported by Dead Letter Queues")."""
    queue, fifo_dead_letters = _queues(maximal)
    dead_letters = _target_dead_letters(maximal)
    rule_id, rule = next(iter(maximal.resources("AWS::Events::Rule").items()))
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [queue, "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dead_letters, "Arn"]}}
    props = _props(maximal, dead_letters)
    assert "FifoQueue" not in props and "QueueName" not in props
    assert props["KmsMasterKeyId"] == {"Fn::GetAtt": [_own_key(maximal), "Arn"]}
    assert props["MessageRetentionPeriod"] == 14 * 86400
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 7200}
    assert target["SqsParameters"] == {"MessageGroupId": "orders"}
    # The FIFO dead-letter queue keeps its role (the queue's redrive), EventBridge is not let into it.
    assert not [s for s in _queue_policy(maximal, fifo_dead_letters) if s["Principal"] == {"Service": "events.amazonaws.com"}]
    (alarm,) = [a for a in _alarms(maximal).values() if a["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dead_letters, "QueueName"]}}]]
    assert (alarm["Threshold"], alarm["Period"], alarm["EvaluationPeriods"]) == (3, 60, 2)
    for logical_id in (queue, dead_letters):
        allows = [s for s in _queue_policy(maximal, logical_id) if s["Principal"] == {"Service": "events.amazonaws.com"}]
        assert allows == [
            {
                "Action": "sqs:SendMessage",
                "Condition": {
                    "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}},
                    "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                },
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Resource": {"Fn::GetAtt": [logical_id, "Arn"]},
            }
        ]


def test_senders_may_use_the_key_for_this_account_only_with_exact_actions(maximal):
    own_key = _own_key(maximal)
    statements = _props(maximal, own_key)["KeyPolicy"]["Statement"]
    (statement,) = [s for s in statements if s.get("Principal") == {"Service": "sns.amazonaws.com"}]
    assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_eventbridge_may_use_the_key_for_rules_of_this_account_and_region_by_source_arn(maximal):
    """The SQS Developer Guide lists aws:SourceArn (not aws:SourceAccount) as what EventBridge supports."""
    statements = _props(maximal, _own_key(maximal))["KeyPolicy"]["Statement"]
    (statement,) = [s for s in statements if s.get("Principal") == {"Service": "events.amazonaws.com"}]
    assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    rules = {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, ":events:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, ":rule/*"],
        ]
    }
    assert statement["Condition"] == {"ArnLike": {"aws:SourceArn": rules}}


def test_the_rule_alarms_on_failed_invocations_and_notifies_the_topic(maximal):
    rule_id = next(iter(maximal.resources("AWS::Events::Rule")))
    (topic,) = maximal.resources("AWS::SNS::Topic")
    (alarm,) = [a for a in _alarms(maximal).values() if a["MetricName"] == "FailedInvocations"]
    assert alarm["Namespace"] == "AWS/Events"
    assert alarm["Dimensions"] == [{"Name": "RuleName", "Value": {"Ref": rule_id}}]
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == ("Sum", 1, "GreaterThanOrEqualToThreshold")
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["TreatMissingData"]) == (60, 2, "notBreaching")
    assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": topic}]


def test_a_standard_queue_uses_its_own_dead_letter_queue_for_the_rule_and_alarms_once_per_rule():
    stack = Stack(App(), "Standard")
    queue = SecureQueue(stack, "Jobs")
    rule = events.Rule(stack, "Rule", event_pattern=events.EventPattern(source=["x"]))
    rule.add_target(queue.rule_target())
    rule.add_target(SecureQueue(stack, "More").rule_target())
    template = Template.from_stack(stack).to_json()
    (target, _) = template["Resources"][stack.resolve(stack.get_logical_id(rule.node.default_child))]["Properties"]["Targets"]
    dead_letters = stack.resolve(stack.get_logical_id(queue.dead_letter_queue.node.default_child))
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dead_letters, "Arn"]}}
    assert queue.target_dead_letter_queue is None
    failed = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"]["MetricName"] == "FailedInvocations"]
    assert len(failed) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"service": "sns.amazonaws.com", "source_arn": TOPIC_ARN},
            "a FIFO queue receives only from a FIFO topic",
        ),
        ({"service": "s3.amazonaws.com", "source_arn": "arn:aws:s3:::bucket"}, "S3 event notifications cannot deliver to a FIFO queue"),
        (
            {"service": "events.amazonaws.com", "source_arn": "arn:aws:events:us-east-1:123456789012:rule/r", "dead_letter_queue": True},
            "dead_letter_queue=True: EventBridge accepts only standard queues as a target's dead-letter queue",
        ),
    ],
)
def test_a_fifo_queue_refuses_senders_that_cannot_deliver_to_it(kwargs, message):
    queue = SecureQueue(Stack(App(), "Fifo"), "Orders", fifo=True)
    with pytest.raises(ValueError, match="SecureQueue.allow_send_from: invalid props") as error:
        queue.allow_send_from(**kwargs)
    assert message in str(error.value)


def test_a_fifo_queue_accepts_a_fifo_topic():
    queue = SecureQueue(Stack(App(), "Fifo"), "Orders", fifo=True)
    queue.allow_send_from("sns.amazonaws.com", source_arn=FIFO_TOPIC_ARN)


def test_allow_send_from_names_the_sender_on_the_queue_only(maximal):
    queue, dead_letters = _queues(maximal)
    (sns_allow,) = [s for s in _queue_policy(maximal, queue) if s["Principal"] == {"Service": "sns.amazonaws.com"}]
    assert sns_allow["Condition"]["ArnEquals"] == {"aws:SourceArn": FIFO_TOPIC_ARN}
    assert not [s for s in _queue_policy(maximal, dead_letters) if s["Principal"] == {"Service": "sns.amazonaws.com"}]


def test_grants_name_exact_sqs_and_kms_actions(maximal):
    queue, _ = _queues(maximal)
    assert not maximal.resources("AWS::IAM::Policy")
    (policy,) = maximal.resources("AWS::IAM::ManagedPolicy").values()
    granted = {}
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        granted.setdefault(json.dumps(statement["Resource"]), set()).update(actions)
    own_key = _own_key(maximal)
    assert granted == {
        json.dumps({"Fn::GetAtt": [queue, "Arn"]}): {
            "sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
            "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage",
        },
        json.dumps({"Fn::GetAtt": [own_key, "Arn"]}): {"kms:GenerateDataKey", "kms:Decrypt"},
    }


def test_the_snippet_wires_a_bucket_rule_and_a_lambda_consumer(snippet):
    (mapping,) = snippet.resources("AWS::Lambda::EventSourceMapping").values()
    queue, _ = _queues(snippet)
    assert mapping["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue, "Arn"]}
    (rule,) = snippet.resources("AWS::Events::Rule").values()
    assert rule["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [queue, "Arn"]}


def test_cloudformation_parameters_are_not_judged():
    stack = Stack(App(), "Params")
    receives = CfnParameter(stack, "MaxReceives", type="Number")
    name = CfnParameter(stack, "QueueName", type="String")
    visibility = CfnParameter(stack, "Visibility", type="Number")
    SecureQueue(
        stack,
        "Jobs",
        max_receive_count=receives.value_as_number,
        queue_name=name.value_as_string,
        visibility_timeout=Duration.seconds(visibility.value_as_number),
    )
    template = Template.from_stack(stack).to_json()
    names = sorted(json.dumps(r["Properties"].get("QueueName")) for r in template["Resources"].values() if r["Type"] == "AWS::SQS::Queue")
    assert names == [json.dumps({"Fn::Join": ["", [{"Ref": "QueueName"}, "-dlq"]]}), json.dumps({"Ref": "QueueName"})]


# ---- snapshots and compliance -----------------------------------------------------------------


def test_default_snapshot(default, snapshot_json):
    assert default.normalised() == snapshot_json


def test_maximal_snapshot(maximal, snapshot_json):
    assert maximal.normalised() == snapshot_json


@pytest.mark.parametrize("configuration", ["default", "maximal", "snippet"])
def test_compliance(configuration, request):
    assert_compliant(request.getfixturevalue(configuration))


def test_acknowledgements_are_the_narrow_expected_ones(default):
    acks = acknowledged_rules(default)
    dead_letter_rules = set().union(*(rules for path, rules in acks.items() if path.endswith("/DeadLetterQueue/Resource")))
    # AwsSolutions-SQS3 is acknowledged too, for stacks where cdk-nag does not see the redrive.
    assert "Serverless-SQSRedrivePolicy" in dead_letter_rules <= {"AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"}
    alarm_rules = set().union(*(rules for path, rules in acks.items() if "Alarm" in path))
    assert alarm_rules == {"HIPAA.Security-CloudWatchAlarmAction", "NIST.800.53.R5-CloudWatchAlarmAction"}
    assert len(acks) == 3  # the dead-letter queue and the two alarms, nothing else
    reasons = {finding.reason for finding in default.nag.acknowledged}
    assert reasons == {DEAD_LETTER_QUEUE_REASON, NO_ALARM_TOPIC_REASON}


# ---- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"visibility_timeout": Duration.hours(13)}, "visibility_timeout='46800 seconds': must be whole seconds from 0 to 43200"),
        ({"retention_period": Duration.seconds(30)}, "retention_period='30 seconds': must be whole seconds from 60 to 1209600"),
        ({"retention_period": Duration.days(15)}, "retention_period='1296000 seconds'"),
        (
            {"retention_period": Duration.days(14)},
            "dead_letter_retention_period='1209600 seconds': must be longer than retention_period (1209600 seconds)",
        ),
        ({"max_receive_count": 0}, "max_receive_count=0: must be a whole number from 1 to 1000"),
        ({"max_receive_count": 2.5}, "max_receive_count=2.5: must be a whole number from 1 to 1000"),
        ({"receive_message_wait_time": Duration.seconds(21)}, "receive_message_wait_time='21 seconds'"),
        ({"delivery_delay": Duration.minutes(16)}, "delivery_delay='960 seconds': must be whole seconds from 0 to 900"),
        ({"content_based_deduplication": True}, "content_based_deduplication=True: is only for FIFO queues"),
        ({"queue_name": "jobs.fifo"}, "queue_name='jobs.fifo': only FIFO queues end in '.fifo'"),
        ({"queue_name": "jobs", "fifo": True}, "queue_name='jobs': a FIFO queue's name must end in '.fifo'"),
        ({"queue_name": "bad name"}, "queue_name='bad name': must be letters, digits, hyphens or underscores"),
        ({"queue_name": "q" * 77}, "short enough that '<name>-dlq' fits in 80 characters"),
        ({"dead_letter_messages_alarm_threshold": 0}, "dead_letter_messages_alarm_threshold=0: must be at least 1"),
        ({"oldest_message_age_alarm_threshold": Duration.seconds(30)}, "oldest_message_age_alarm_threshold='30 seconds'"),
        (
            {"oldest_message_age_alarm_threshold": Duration.days(5)},
            "less than retention_period (345600 seconds)",
        ),
        ({"alarm_period": Duration.seconds(90)}, "alarm_period='90 seconds': must be a whole number of minutes"),
        ({"alarm_evaluation_periods": 0}, "alarm_evaluation_periods=0: must be a whole number, at least 1"),
    ],
)
def test_invalid_props_are_refused_naming_prop_and_value(props, message):
    with pytest.raises(ValueError) as error:
        SecureQueue(Stack(App(), "Invalid"), "Jobs", **props)
    assert message in str(error.value)
    assert str(error.value).startswith("SecureQueue: invalid props:")


def test_several_problems_are_reported_together():
    with pytest.raises(ValueError) as error:
        SecureQueue(Stack(App(), "Invalid"), "Jobs", max_receive_count=0, alarm_evaluation_periods=0)
    assert "max_receive_count=0" in str(error.value) and "alarm_evaluation_periods=0" in str(error.value)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"visibility_timeout": 30}, "SecureQueue: visibility_timeout must be Duration, got int (30)"),
        ({"alarm_topic": "arn:aws:sns:us-east-1:123456789012:t"}, "SecureQueue: alarm_topic must be AlertTopic or ITopic, got str"),
        ({"fifo": "yes"}, "SecureQueue: fifo must be bool, got str ('yes')"),
        ({"tags": {"Owner": 1}}, "SecureQueue: tags must map str to str"),
    ],
)
def test_wrong_types_are_refused(props, message):
    with pytest.raises(TypeError) as error:
        SecureQueue(Stack(App(), "Invalid"), "Jobs", **props)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("fifo", "kwargs", "message"),
    [
        (False, {"message_group_id": "g"}, "message_group_id='g': is only for FIFO queues"),
        (True, {}, "message_group_id=None: is required for a FIFO queue"),
        (False, {"retry_attempts": 186}, "retry_attempts=186: must be at most 185"),
        (False, {"max_event_age": Duration.seconds(59)}, "max_event_age='59 seconds': must be whole seconds from 60 to 86400"),
    ],
)
def test_rule_target_options_are_validated(fifo, kwargs, message):
    queue = SecureQueue(Stack(App(), "Invalid"), "Jobs", fifo=fifo)
    with pytest.raises(ValueError) as error:
        queue.rule_target(**kwargs)
    assert message in str(error.value)
    assert str(error.value).startswith("SecureQueue.rule_target: invalid props:")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"service": "events", "source_arn": TOPIC_ARN}, "service='events': must be a service principal"),
        ({"service": "sns.amazonaws.com", "source_arn": "my-topic"}, "source_arn='my-topic': must be the ARN of the resource"),
    ],
)
def test_allow_send_from_is_validated(kwargs, message):
    queue = SecureQueue(Stack(App(), "Invalid"), "Jobs")
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        queue.allow_send_from(**kwargs)


def test_a_topic_can_be_any_sns_topic():
    stack = Stack(App(), "Topics")
    queue = SecureQueue(stack, "Jobs", alarm_topic=sns.Topic.from_topic_arn(stack, "T", TOPIC_ARN))
    assert queue.dead_letter_messages_alarm is not None and queue.oldest_message_age_alarm is not None
    switched_off = SecureQueue(stack, "Quiet", dead_letter_messages_alarm_threshold=None, oldest_message_age_alarm_threshold=None)
    assert switched_off.dead_letter_messages_alarm is None and switched_off.oldest_message_age_alarm is None
