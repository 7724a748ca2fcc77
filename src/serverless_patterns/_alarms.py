"""Threshold alarms shared by the constructs: one way to build, notify and acknowledge them."""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, ArnFormat, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from . import _actions
from ._resource_policies import render_statement
from ._validation import describe
from .compliance import acknowledge_all, in_every_pack
from ._kernel import path_of, stack_of

#: Id of the warning emitted when an alarm notifies a topic whose policies the construct cannot
#: change (an imported topic or key); acknowledge it with ``Annotations.of(scope).acknowledge_warning``.
IMPORTED_ALARM_TOPIC_WARNING = "serverless-patterns:alarmTopicNotWritable"

NO_ALARM_TOPIC_REASON = (
    "No alarm_topic was given. The alarm still changes state in CloudWatch and emits an Amazon "
    "EventBridge 'CloudWatch Alarm State Change' event that the caller can route; pass alarm_topic "
    "(any SNS topic) to notify through SNS."
)


def as_topic(topic: Any) -> sns.ITopic | None:
    """The SNS topic of an ``AlertTopic`` (its ``topic``), or ``topic`` itself."""
    return getattr(topic, "topic", topic)


def cloudwatch_alarms_statement(topic_arn: str, stack: Stack) -> iam.PolicyStatement:
    """The topic-policy statement that lets CloudWatch alarms of ``stack``'s account and Region publish.

    The form AWS documents for CloudWatch alarms -> SNS, scoped with ``aws:SourceArn`` (alarms of
    this account and Region) and ``aws:SourceAccount``.
    """
    return iam.PolicyStatement(
        sid="AllowCloudWatchAlarms",
        principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions=["sns:Publish"],
        resources=[topic_arn],
        conditions={
            "ArnLike": {
                "aws:SourceArn": stack.format_arn(
                    service="cloudwatch", resource="alarm", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
                )
            },
            "StringEquals": {"aws:SourceAccount": stack.account},
        },
    )


def cloudwatch_alarms_key_statement(stack: Stack) -> iam.PolicyStatement:
    """The key-policy statement that lets CloudWatch alarms use a topic's KMS key (this account only)."""
    return iam.PolicyStatement(
        sid="AllowCloudWatchAlarms",
        principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions=_actions.KMS_FOR_SERVICE_PUBLISHERS,
        resources=["*"],  # in a key policy, "*" means this key
        conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
    )


def allow_cloudwatch_alarms(scope: Construct, topic: Any) -> bool:
    """Make sure CloudWatch alarms can publish to ``topic`` (an ``AlertTopic`` or any ``sns.ITopic``).

    ``enforce_ssl`` and any topic policy replace SNS's default policy, so an alarm can publish only if
    the topic policy allows ``cloudwatch.amazonaws.com`` and, for a KMS-encrypted topic, the key lets
    CloudWatch call ``kms:Decrypt`` and ``kms:GenerateDataKey``. Both statements are added when the
    topic (and its key) belong to this app; adding them again is a no-op. An imported topic or key
    keeps its own policies: a warning (:data:`IMPORTED_ALARM_TOPIC_WARNING`) on ``scope`` then names
    what its owner must add. Returns whether everything needed could be added.
    """
    if topic is None:
        return True
    sns_topic: sns.ITopic = as_topic(topic)
    allowed_by_alert_topic = _alert_topic_allowance(sns_topic)
    if allowed_by_alert_topic is not None:
        # AlertTopic: allowed at creation, or (imported key) its own warning names the statement.
        return allowed_by_alert_topic
    stack = stack_of(sns_topic)
    missing = []
    topic_statement = cloudwatch_alarms_statement(sns_topic.topic_arn, stack)
    if not sns_topic.add_to_resource_policy(topic_statement).statement_added:
        missing.append(
            "its topic policy must allow sns:Publish to the service principal cloudwatch.amazonaws.com, "
            f"with this statement: {render_statement(scope, topic_statement)}"
        )
    key = getattr(sns_topic, "master_key", None)
    key_statement = cloudwatch_alarms_key_statement(stack)
    if key is not None and not key.add_to_resource_policy(key_statement).statement_added:
        missing.append(
            "its KMS key's policy must allow kms:Decrypt and kms:GenerateDataKey to cloudwatch.amazonaws.com "
            f"(key {describe(key)}), with this statement: {render_statement(scope, key_statement)}"
        )
    elif key is None and _is_imported(sns_topic):
        missing.append(
            "if it is encrypted with a customer-managed key, that key's policy must allow kms:Decrypt and "
            f"kms:GenerateDataKey to cloudwatch.amazonaws.com, with this statement: {render_statement(scope, key_statement)}"
        )
    if missing:
        Annotations.of(scope).add_warning_v2(
            IMPORTED_ALARM_TOPIC_WARNING,
            f"Alarms of {path_of(scope)} notify the topic {describe(sns_topic)}, whose policies this app cannot fully "
            f"change. For the notifications to arrive, {'; '.join(missing)}.",
        )
    return not missing


def _alert_topic_allowance(topic: sns.ITopic) -> bool | None:
    """An ``AlertTopic``'s ``allows_cloudwatch_alarms`` for its ``topic``, None for any other topic.

    Asked of the kernel once per topic, not once per alarm.
    """
    if hasattr(topic, "_serverless_patterns_alert_topic"):
        return topic._serverless_patterns_alert_topic
    allowed = getattr(topic.node.scope, "allows_cloudwatch_alarms", None)
    allowed = allowed if isinstance(allowed, bool) else None
    try:
        topic._serverless_patterns_alert_topic = allowed
    except AttributeError:  # a topic object that takes no attributes: asked each time
        pass
    return allowed


def _is_imported(topic: sns.ITopic) -> bool:
    return not isinstance(topic, sns.Topic)


def threshold_alarm(
    scope: Construct,
    id: str,
    *,
    metric: cloudwatch.IMetric,
    threshold: float,
    description: str,
    topic: Any,
    evaluation_periods: int = 1,
    comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    notify_on_recovery: bool = True,
) -> cloudwatch.Alarm:
    """An alarm on ``metric`` crossing ``threshold``; missing data counts as fine.

    It notifies ``topic`` (an ``AlertTopic`` or any ``sns.ITopic``) on ALARM and, unless
    ``notify_on_recovery`` is False, on OK. Without a topic the HIPAA and NIST rule that wants an
    alarm action is acknowledged on this alarm only, with :data:`NO_ALARM_TOPIC_REASON`.
    """
    alarm = cloudwatch.Alarm(
        scope,
        id,
        metric=metric,
        threshold=threshold,
        evaluation_periods=evaluation_periods,
        comparison_operator=comparison,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=description,
    )
    if as_topic(topic) is None:
        acknowledge_all(alarm, in_every_pack("CloudWatchAlarmAction", ("HIPAA.Security", "NIST.800.53.R5")), NO_ALARM_TOPIC_REASON)
        return alarm
    notify(scope, alarm, topic, notify_on_recovery=notify_on_recovery)
    return alarm


def notify(scope: Construct, alarm: cloudwatch.Alarm, topic: Any, *, notify_on_recovery: bool = True) -> None:
    """Send ``alarm``'s ALARM (and, unless turned off, OK) notifications to ``topic``.

    ``topic`` is an ``AlertTopic`` or any ``sns.ITopic``; the topic and key policies are made to
    let CloudWatch in where this app can change them, and a warning says what to add otherwise.
    """
    sns_topic = as_topic(topic)
    if sns_topic is None:
        raise TypeError(f"{path_of(scope)}: no SNS topic to notify for alarm {path_of(alarm)}")
    allow_cloudwatch_alarms(scope, topic)
    action = _sns_action(sns_topic)
    alarm.add_alarm_action(action)
    if notify_on_recovery:
        alarm.add_ok_action(action)


def _sns_action(topic: sns.ITopic) -> cw_actions.SnsAction:
    """One ``SnsAction`` per topic, shared by all its alarms.

    The action only names the topic's ARN when an alarm binds it, so sharing it writes the same
    template; it saves a jsii object per alarm (each is a round trip to the Node kernel).
    """
    action = getattr(topic, "_serverless_patterns_alarm_action", None)
    if action is None:
        action = cw_actions.SnsAction(topic)
        try:
            topic._serverless_patterns_alarm_action = action
        except AttributeError:  # a topic object that takes no attributes: no sharing
            pass
    return action
