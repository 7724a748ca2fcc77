"""Threshold alarms shared by the constructs: one way to build, notify and acknowledge them."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from .compliance import acknowledge_all, in_every_pack

NO_ALARM_TOPIC_REASON = (
    "No alarm_topic was given. The alarm still changes state in CloudWatch and emits an Amazon "
    "EventBridge 'CloudWatch Alarm State Change' event that the caller can route; pass alarm_topic "
    "(any SNS topic) to notify through SNS."
)


def as_topic(topic: Any) -> sns.ITopic | None:
    """The SNS topic of an ``AlertTopic`` (its ``topic``), or ``topic`` itself."""
    return getattr(topic, "topic", topic)


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
    sns_topic = as_topic(topic)
    if sns_topic is None:
        acknowledge_all(alarm, in_every_pack("CloudWatchAlarmAction", ("HIPAA.Security", "NIST.800.53.R5")), NO_ALARM_TOPIC_REASON)
        return alarm
    action = _sns_action(sns_topic)
    alarm.add_alarm_action(action)
    if notify_on_recovery:
        alarm.add_ok_action(action)
    return alarm


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
