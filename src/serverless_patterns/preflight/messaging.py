"""EventBridge and SNS deliveries to SQS queues that the services refuse."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._registry import ERROR, WARNING, rule
from ._template import Template, allowing_statements, as_list, render, service_principal

#: Target types for which EventBridge uses the target's resource policy, not a role.
_RESOURCE_POLICY_TARGETS = {"AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::Lambda::Function", "AWS::Logs::LogGroup"}
_RESOURCE_POLICY_ARN_MARKERS = (":sqs:", ":sns:", ":lambda:", ":logs:")


def is_fifo_queue(t: Template, arn_or_ref: Any) -> str | None:
    """A readable name of the FIFO queue ``arn_or_ref`` points at, or None when it is not one."""
    target = t.target(arn_or_ref)
    if t.type_of(target) == "AWS::SQS::Queue":
        return target if render(t.props(target).get("FifoQueue")) == "true" else None
    text = render(arn_or_ref)
    return text if text.endswith(".fifo") and ":sqs:" in text else None


def event_targets(t: Template) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """``(rule logical id, index, target)`` of every EventBridge rule target."""
    for logical_id, _ in t.of_type("AWS::Events::Rule"):
        for index, target in enumerate(as_list(t.props(logical_id).get("Targets"))):
            if isinstance(target, dict):
                yield logical_id, index, target


def sns_subscriptions(t: Template) -> Iterator[tuple[str, Any, str, Any]]:
    """``(resource logical id, topic, protocol, endpoint)`` of every SNS subscription in the template."""
    for logical_id, _ in t.of_type("AWS::SNS::Subscription"):
        props = t.props(logical_id)
        yield logical_id, props.get("TopicArn"), render(props.get("Protocol")).lower(), props.get("Endpoint")
    for logical_id, _ in t.of_type("AWS::SNS::Topic"):
        for subscription in as_list(t.props(logical_id).get("Subscription")):
            if isinstance(subscription, dict):
                yield logical_id, {"Ref": logical_id}, render(subscription.get("Protocol")).lower(), subscription.get("Endpoint")


@rule(
    id="EventTargetFifoDeadLetterQueue",
    severity=ERROR,
    summary="An EventBridge rule target's dead-letter queue is a FIFO queue.",
    fix="Use a standard SQS queue as the target's dead-letter queue.",
    source="Amazon EventBridge User Guide: Using dead-letter queues to process undelivered events in EventBridge",
)
def event_target_fifo_dlq(t: Template) -> Iterator[tuple[str, str, str]]:
    """EventBridge target dead-letter queues must be standard queues; PutTargets refuses a
    FIFO queue (EventBridge User Guide, "Using dead-letter queues to process undelivered
    events in EventBridge")."""
    for rule_id, index, target in event_targets(t):
        dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
        fifo = is_fifo_queue(t, dlq) if dlq is not None else None
        if fifo:
            yield rule_id, f"target {target.get('Id', index)!r} has the FIFO queue {fifo} as dead-letter queue", f"Properties.Targets[{index}].DeadLetterConfig"


@rule(
    id="EventTargetFifoWithoutMessageGroupId",
    severity=ERROR,
    summary="An EventBridge rule targets a FIFO queue without SqsParameters.MessageGroupId.",
    fix="Set SqsParameters.MessageGroupId on the target (CDK: SqsQueue(queue, message_group_id=...)).",
    source="Amazon EventBridge API Reference: SqsParameters (MessageGroupId)",
)
def event_target_fifo_without_group(t: Template) -> Iterator[tuple[str, str, str]]:
    """A FIFO queue target needs a message group id ("SqsParameters": "the FIFO message group
    ID to use as the target"); without it EventBridge rejects the target."""
    for rule_id, index, target in event_targets(t):
        fifo = is_fifo_queue(t, target.get("Arn"))
        if fifo and not (target.get("SqsParameters") or {}).get("MessageGroupId"):
            yield rule_id, f"target {target.get('Id', index)!r} is the FIFO queue {fifo} but sets no MessageGroupId", f"Properties.Targets[{index}]"


@rule(
    id="StandardTopicToFifoQueue",
    severity=ERROR,
    summary="A standard SNS topic subscribes a FIFO SQS queue.",
    fix="Subscribe FIFO queues to FIFO topics only, or use a standard queue.",
    source="Amazon SNS Developer Guide: Amazon SNS FIFO topics (message ordering and deduplication)",
)
def standard_topic_to_fifo_queue(t: Template) -> Iterator[tuple[str, str, str]]:
    """Only SNS FIFO topics can deliver to SQS FIFO queues; a standard topic cannot
    subscribe one (SNS Developer Guide, FIFO topics). Also checked: a FIFO queue's policy
    that admits ``sns.amazonaws.com`` from a standard topic (a FIFO topic's name ends in
    ``.fifo``)."""
    for logical_id, topic_ref, protocol, endpoint in sns_subscriptions(t):
        if protocol != "sqs":
            continue
        fifo = is_fifo_queue(t, endpoint)
        topic = t.target(topic_ref)
        if fifo and t.type_of(topic) == "AWS::SNS::Topic" and render(t.props(topic).get("FifoTopic")) != "true":
            yield logical_id, f"subscribes the FIFO queue {fifo} to the standard topic {topic}", "Properties"
    # a queue policy that lets a standard topic send to a FIFO queue (a topic outside the template)
    sns = service_principal("sns")
    for logical_id, _ in t.of_type("AWS::SQS::QueuePolicy"):
        props = t.props(logical_id)
        fifo_queues = [q for q in (t.target(x) for x in as_list(props.get("Queues"))) if q and is_fifo_queue(t, {"Ref": q})]
        if not fifo_queues:
            continue
        for statement in allowing_statements([props.get("PolicyDocument")], sns, "sqs:SendMessage"):
            for topic_arn in _source_arns(statement):
                topic = t.target(topic_arn)
                standard = (render(t.props(topic).get("FifoTopic")) != "true" if t.type_of(topic) == "AWS::SNS::Topic"
                            else not render(topic_arn).endswith((".fifo", "*")))
                if standard:
                    yield (logical_id, (f"lets the standard topic {topic or render(topic_arn)} send to the FIFO queue "
                                       f"{', '.join(fifo_queues)}"), "Properties.PolicyDocument")


def _source_arns(statement: dict[str, Any]) -> list[Any]:
    values: list[Any] = []
    for block in (statement.get("Condition") or {}).values():
        if isinstance(block, dict):
            for key, value in block.items():
                if key.lower() == "aws:sourcearn":
                    values += as_list(value)
    return values


@rule(
    id="EventTargetRoleOnResourcePolicyTarget",
    severity=WARNING,
    summary="An EventBridge target that uses a resource policy (SQS, SNS, Lambda, Logs) also sets a RoleArn.",
    fix="Remove RoleArn from the target; grant EventBridge in the target's resource policy.",
    source="Amazon EventBridge User Guide: Using resource-based policies for Amazon EventBridge",
)
def event_target_role_on_resource_policy_target(t: Template) -> Iterator[tuple[str, str, str]]:
    """For Lambda, SNS, SQS and CloudWatch Logs targets EventBridge uses resource-based
    policies; with a RoleArn on such a target "event delivery may fail, particularly for
    Amazon SQS and Amazon SNS targets with AWS KMS encryption enabled" ("Using
    resource-based policies for Amazon EventBridge")."""
    for rule_id, index, target in event_targets(t):
        if target.get("RoleArn") is None:
            continue
        destination = t.target(target.get("Arn"))
        arn = render(target.get("Arn"))
        if t.type_of(destination) in _RESOURCE_POLICY_TARGETS or (
            destination is None and any(marker in arn for marker in _RESOURCE_POLICY_ARN_MARKERS)
        ):
            yield rule_id, f"target {target.get('Id', index)!r} ({destination or arn}) sets a RoleArn", f"Properties.Targets[{index}].RoleArn"


#: EventBridge quota: targets per rule (not adjustable).
MAX_TARGETS_PER_RULE = 5


@rule(
    id="EventRuleTooManyTargets",
    severity=ERROR,
    summary="An EventBridge rule has more than five targets.",
    fix="Split the targets over several rules with the same event pattern, or fan out through one SNS topic.",
    source="Amazon EventBridge User Guide: Amazon EventBridge quotas (targets per rule)",
)
def event_rule_too_many_targets(t: Template) -> Iterator[tuple[str, str, str]]:
    """A rule can have at most five targets ("Amazon EventBridge quotas"); PutTargets
    refuses more and the rule's CREATE fails."""
    for logical_id, _ in t.of_type("AWS::Events::Rule"):
        targets = as_list(t.props(logical_id).get("Targets"))
        if len(targets) > MAX_TARGETS_PER_RULE:
            yield logical_id, f"has {len(targets)} targets (limit {MAX_TARGETS_PER_RULE})", "Properties.Targets"
