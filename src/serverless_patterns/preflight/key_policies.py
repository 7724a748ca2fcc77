"""Resource and key policies that keep the delivering AWS service out.

A queue, topic or log group encrypted with a customer managed key accepts a delivery only
when the key policy lets the delivering service principal use the key. The default key
policy (the account root) does not; neither does the AWS managed key of SQS or SNS, whose
policy cannot be changed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from ._registry import ERROR, rule
from ._template import (
    Template,
    allowing_statements,
    as_list,
    missing_actions,
    regional_logs_principal,
    render,
    service_principal,
)
from .messaging import event_targets, sns_subscriptions

#: What a service needs on the key of a queue or topic it delivers to (SQS and SNS Developer
#: Guides, "Enable compatibility between event sources from AWS services and encrypted ...").
DELIVERY_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
#: What CloudWatch Logs needs on a log group's key ("Encrypt log data in CloudWatch Logs using
#: AWS Key Management Service").
LOGS_KEY_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:GenerateDataKey", "kms:DescribeKey")
#: Condition keys AWS documents as not supported in a KMS key policy for EventBridge delivery
#: to an encrypted SNS topic: the KMS request does not carry them.
_UNSUPPORTED_EVENTBRIDGE_TOPIC_CONDITIONS = {"aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid"}
_ALARM_ACTIONS = ("AlarmActions", "OKActions", "InsufficientDataActions")


def s3_notifications(t: Template) -> Iterator[tuple[str, str, Any]]:
    """``(resource, kind, arn)`` of every S3 event notification: kind is Queue, Topic or Function.

    Reads both ``AWS::S3::Bucket`` ``NotificationConfiguration`` and CDK's
    ``Custom::S3BucketNotifications`` resource, which carries the same structure.
    """
    fields = (("QueueConfigurations", "Queue", "Queue"), ("TopicConfigurations", "Topic", "Topic"),
              ("LambdaConfigurations", "Function", "Function"), ("LambdaFunctionConfigurations", "LambdaFunctionArn", "Function"))
    for logical_id, _ in t.of_type("AWS::S3::Bucket", "Custom::S3BucketNotifications"):
        configuration = t.props(logical_id).get("NotificationConfiguration") or {}
        for field, arn_key, kind in fields:
            for entry in as_list(configuration.get(field)):
                if isinstance(entry, dict):
                    yield logical_id, kind, entry.get(arn_key)


def alarm_topics(t: Template) -> dict[str, list[str]]:
    """``{topic: [alarms]}`` for every template topic an alarm action publishes to."""
    topics: dict[str, list[str]] = defaultdict(list)
    for alarm, _ in t.of_type("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
        for field in _ALARM_ACTIONS:
            for action in as_list(t.props(alarm).get(field)):
                topic = t.target(action)
                if t.type_of(topic) == "AWS::SNS::Topic" and alarm not in topics[topic]:
                    topics[topic].append(alarm)
    return topics


def _aws_managed(key_id: Any, service: str) -> bool:
    return render(key_id).lower() in {f"alias/aws/{service}", f"arn:aws:kms:${{aws::region}}:${{aws::accountid}}:alias/aws/{service}"}


def _names(items: list[str], limit: int = 3) -> str:
    shown = ", ".join(sorted(items)[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


@rule(
    id="AlarmTopicPolicyDeniesCloudWatch",
    severity=ERROR,
    summary="Alarms publish to a topic whose topic policy does not allow cloudwatch.amazonaws.com sns:Publish.",
    fix="Add an Allow statement for the cloudwatch.amazonaws.com service principal and sns:Publish to the "
        "topic policy (a topic policy replaces the default one, e.g. when enforceSSL adds it).",
    source="Amazon SNS Developer Guide: Amazon SNS access control (topic policy replaces the default policy); "
           "Amazon CloudWatch User Guide: Using Amazon CloudWatch alarms (SNS notifications)",
)
def alarm_topic_policy(t: Template) -> Iterator[tuple[str, str, str]]:
    """An ``AWS::SNS::TopicPolicy`` replaces the topic's default policy. Unless it allows
    ``cloudwatch.amazonaws.com`` to ``sns:Publish``, alarm notifications are refused and
    never arrive; nothing fails at deploy time."""
    cloudwatch = service_principal("cloudwatch")
    for topic, alarms in alarm_topics(t).items():
        for policy_id, resource in t.of_type("AWS::SNS::TopicPolicy"):
            props = resource.get("Properties", {})
            if topic not in {t.target(x) for x in as_list(props.get("Topics"))}:
                continue
            if missing_actions([props.get("PolicyDocument")], cloudwatch, ["sns:Publish"]):
                yield (policy_id, (f"is the policy of {topic}, which alarms {_names(alarms)} notify, and does not allow "
                                  "cloudwatch.amazonaws.com sns:Publish"), "Properties.PolicyDocument")


@rule(
    id="AlarmTopicKeyDeniesCloudWatch",
    severity=ERROR,
    summary="Alarms publish to a KMS-encrypted topic whose key does not let CloudWatch use it.",
    fix="Allow cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey* in the key policy; never use the "
        "AWS managed key alias/aws/sns for an alarm topic.",
    source="Amazon SNS Developer Guide: Enable compatibility between event sources from AWS services and encrypted topics",
)
def alarm_topic_key(t: Template) -> Iterator[tuple[str, str, str]]:
    """CloudWatch publishes to an encrypted topic only with ``kms:Decrypt`` and
    ``kms:GenerateDataKey*`` on the topic's key (SNS Developer Guide, "Enable compatibility
    between event sources from AWS services and encrypted topics"). The AWS managed key's
    policy cannot grant that."""
    cloudwatch = service_principal("cloudwatch")
    for topic, alarms in alarm_topics(t).items():
        key_ref = t.props(topic).get("KmsMasterKeyId")
        if key_ref is None:
            continue
        if _aws_managed(key_ref, "sns"):
            yield topic, f"is notified by alarms {_names(alarms)} and encrypted with alias/aws/sns, which CloudWatch cannot use", "Properties.KmsMasterKeyId"
            continue
        key = t.target_key(key_ref)
        if key is None:
            continue
        missing = missing_actions([t.key_policy(key)], cloudwatch, DELIVERY_KEY_ACTIONS)
        if missing:
            yield (key, (f"encrypts {topic}, which alarms {_names(alarms)} notify, and does not allow "
                        f"cloudwatch.amazonaws.com {', '.join(missing)}"), "Properties.KeyPolicy")


def _queue_deliverers(t: Template) -> dict[str, dict[str, list[str]]]:
    """``{queue: {service: [sources]}}`` for every service that sends to a template queue."""
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for rule_id, _, target in event_targets(t):
        for arn in (target.get("Arn"), (target.get("DeadLetterConfig") or {}).get("Arn")):
            queue = t.target(arn)
            if t.type_of(queue) == "AWS::SQS::Queue":
                found[queue]["events"].append(rule_id)
    for source, kind, arn in s3_notifications(t):
        queue = t.target(arn)
        if kind == "Queue" and t.type_of(queue) == "AWS::SQS::Queue":
            found[queue]["s3"].append(source)
    for source, _, protocol, endpoint in sns_subscriptions(t):
        queue = t.target(endpoint)
        if protocol == "sqs" and t.type_of(queue) == "AWS::SQS::Queue":
            found[queue]["sns"].append(source)
    return found


def _topic_publishers(t: Template) -> dict[str, dict[str, list[str]]]:
    """``{topic: {service: [sources]}}`` for EventBridge and S3 publishing to a template topic."""
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for rule_id, _, target in event_targets(t):
        topic = t.target(target.get("Arn"))
        if t.type_of(topic) == "AWS::SNS::Topic":
            found[topic]["events"].append(rule_id)
    for source, kind, arn in s3_notifications(t):
        topic = t.target(arn)
        if kind == "Topic" and t.type_of(topic) == "AWS::SNS::Topic":
            found[topic]["s3"].append(source)
    return found


def _only_unsupported_conditions(statements: list[dict[str, Any]]) -> bool:
    def conditioned(statement: dict[str, Any]) -> bool:
        keys = {key.lower() for block in (statement.get("Condition") or {}).values() if isinstance(block, dict) for key in block}
        return bool(keys & _UNSUPPORTED_EVENTBRIDGE_TOPIC_CONDITIONS)

    return bool(statements) and all(conditioned(s) for s in statements)


@rule(
    id="QueueKeyDeniesDeliveringService",
    severity=ERROR,
    summary="An encrypted queue receives from EventBridge, S3 or SNS, and its key does not let that service in.",
    fix="Allow the delivering service principal (events/s3/sns.amazonaws.com) kms:GenerateDataKey* and kms:Decrypt "
        "in the queue key's policy; do not use alias/aws/sqs for such queues.",
    source="Amazon SQS Developer Guide: Key management (Enable compatibility between event sources from AWS "
           "services and encrypted queues)",
)
def queue_key(t: Template) -> Iterator[tuple[str, str, str]]:
    """SQS Developer Guide, "Key management": an encrypted queue receives messages from
    EventBridge, S3 event notifications or SNS only when the key policy lets the service
    principal call ``kms:GenerateDataKey*`` and ``kms:Decrypt``. The AWS managed key
    ``alias/aws/sqs`` cannot be changed, so those services cannot use it."""
    for queue, services in _queue_deliverers(t).items():
        key_ref = t.props(queue).get("KmsMasterKeyId")
        if key_ref is None:
            continue
        if _aws_managed(key_ref, "sqs"):
            yield queue, f"is encrypted with alias/aws/sqs, which {', '.join(sorted(services))} cannot use to deliver", "Properties.KmsMasterKeyId"
            continue
        key = t.target_key(key_ref)
        if key is None:
            continue
        for service, sources in sorted(services.items()):
            missing = missing_actions([t.key_policy(key)], service_principal(service), DELIVERY_KEY_ACTIONS)
            if missing:
                yield (key, (f"encrypts {queue}, which {service}.amazonaws.com delivers to (from {_names(sources)}), and "
                            f"does not allow it {', '.join(missing)}"), "Properties.KeyPolicy")


@rule(
    id="TopicKeyDeniesDeliveringService",
    severity=ERROR,
    summary="An encrypted topic receives from EventBridge or S3, and its key does not let that service in.",
    fix="Allow events.amazonaws.com / s3.amazonaws.com kms:GenerateDataKey* and kms:Decrypt in the topic key's "
        "policy, without aws:SourceAccount/aws:SourceArn conditions for EventBridge.",
    source="Amazon SNS Developer Guide: Enable compatibility between event sources from AWS services and encrypted topics",
)
def topic_key(t: Template) -> Iterator[tuple[str, str, str]]:
    """EventBridge and S3 publish to an encrypted topic only when its key policy allows them
    ``kms:GenerateDataKey*`` and ``kms:Decrypt`` (SNS Developer Guide, "Enable compatibility
    between event sources from AWS services and encrypted topics"); the AWS managed key
    cannot. For EventBridge, a grant conditioned on ``aws:SourceAccount``, ``aws:SourceArn``
    or ``aws:SourceOrgID`` does not work: AWS documents those keys as unsupported there."""
    for topic, services in _topic_publishers(t).items():
        key_ref = t.props(topic).get("KmsMasterKeyId")
        if key_ref is None:
            continue
        if _aws_managed(key_ref, "sns"):
            yield topic, f"is encrypted with alias/aws/sns, which {', '.join(sorted(services))} cannot use to publish", "Properties.KmsMasterKeyId"
            continue
        key = t.target_key(key_ref)
        if key is None:
            continue
        policy = [t.key_policy(key)]
        for service, sources in sorted(services.items()):
            principal = service_principal(service)
            missing = missing_actions(policy, principal, DELIVERY_KEY_ACTIONS)
            if not missing and service == "events":
                missing = [a for a in DELIVERY_KEY_ACTIONS if _only_unsupported_conditions(allowing_statements(policy, principal, a))]
                if missing:
                    yield (key, (f"encrypts {topic}, which EventBridge publishes to (from {_names(sources)}), and allows "
                                "events.amazonaws.com only under aws:SourceAccount/aws:SourceArn conditions, which "
                                "EventBridge delivery does not carry"), "Properties.KeyPolicy")
                continue
            if missing:
                yield (key, (f"encrypts {topic}, which {service}.amazonaws.com publishes to (from {_names(sources)}), and "
                            f"does not allow it {', '.join(missing)}"), "Properties.KeyPolicy")


_ARN_PARTS = 6  # arn:partition:service:region:account:resource


_TOKEN = re.compile(r"\$\{[^}]*\}")
_MARK = "\x00"  # stands for an unresolved token (a pseudo parameter, a reference)


def _glob(text: str) -> str:
    """An IAM wildcard pattern (``*`` and ``?``) as a regular expression; tokens match anything."""
    return "".join(".*" if c in "*" + _MARK else "." if c == "?" else re.escape(c) for c in text)


def _arn_matches(arn: str, pattern: str) -> bool:
    """Whether ``pattern`` (an ArnLike/ArnEquals value) can match ``arn``.

    Unresolved tokens (``${AWS::Region}``, references) match anything on either side: a
    pattern with the literal Region matches an ARN built from ``AWS::Region``.
    """
    a = _TOKEN.sub(_MARK, arn).split(":", _ARN_PARTS - 1)
    p = _TOKEN.sub(_MARK, pattern).split(":", _ARN_PARTS - 1)
    if len(a) != _ARN_PARTS or len(p) != _ARN_PARTS:
        return re.fullmatch(_glob(p[0] if len(p) == 1 else ":".join(p)), ":".join(a)) is not None
    for value, glob in zip(a, p, strict=True):
        if _MARK in value:
            value_regex = _glob(value)  # compare the literal parts only
            if re.fullmatch(value_regex, glob.replace("*", "x").replace(_MARK, "x")) is None and _MARK not in glob:
                return False
        elif re.fullmatch(_glob(glob), value) is None:
            return False
    return True


def _context_patterns(statement: dict[str, Any]) -> list[str] | None:
    """The ``kms:EncryptionContext:aws:logs:arn`` patterns a statement requires, or None when unconditioned."""
    patterns = None
    for operator, block in (statement.get("Condition") or {}).items():
        if not isinstance(block, dict) or not operator.startswith(("Arn", "String")):
            continue
        for key, values in block.items():
            if key.lower() == "kms:encryptioncontext:aws:logs:arn":
                patterns = (patterns or []) + [render(v) for v in as_list(values)]
    return patterns


@rule(
    id="LogGroupKeyDeniesLogs",
    severity=ERROR,
    summary="A log group's KMS key does not let logs.<region>.amazonaws.com use it for that log group.",
    fix="Allow logs.<region>.amazonaws.com kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey* and "
        "kms:Describe* with an ArnLike kms:EncryptionContext:aws:logs:arn condition that matches the log group.",
    source="Amazon CloudWatch Logs User Guide: Encrypt log data in CloudWatch Logs using AWS Key Management Service",
)
def log_group_key(t: Template) -> Iterator[tuple[str, str, str]]:
    """CloudWatch Logs associates a key with a log group only when the key policy lets the
    Regional principal ``logs.<region>.amazonaws.com`` use it; a
    ``kms:EncryptionContext:aws:logs:arn`` condition must match the log group's ARN
    ("Encrypt log data in CloudWatch Logs using AWS Key Management Service"). Otherwise the
    log group's CREATE fails."""
    logs = regional_logs_principal(t.region)
    for group, _ in t.of_type("AWS::Logs::LogGroup"):
        props = t.props(group)
        key = t.target_key(props.get("KmsKeyId"))
        if key is None:
            continue
        policy = [t.key_policy(key)]
        missing = missing_actions(policy, logs, LOGS_KEY_ACTIONS)
        if missing:
            yield key, f"encrypts log group {group} and does not allow logs.<region>.amazonaws.com {', '.join(missing)}", "Properties.KeyPolicy"
            continue
        name = props.get("LogGroupName")
        arn = f"arn:${{AWS::Partition}}:logs:{t.region or '${AWS::Region}'}:${{AWS::AccountId}}:log-group:" + (
            render(name) if name is not None else "<generated-name>"
        )
        for action in LOGS_KEY_ACTIONS:
            granted = allowing_statements(policy, logs, action)
            if all((patterns := _context_patterns(s)) is not None and not any(_arn_matches(arn, p) for p in patterns) for s in granted):
                yield (key, (f"lets CloudWatch Logs use it only for log groups matching its kms:EncryptionContext:aws:logs:arn "
                            f"condition, which log group {group} ({arn.rsplit(':', 1)[1]}) does not match"), "Properties.KeyPolicy")
                break


def _policies_of(t: Template, policy_type: str, field: str, target: str) -> list[Any]:
    return [
        (resource.get("Properties") or {}).get("PolicyDocument")
        for _, resource in t.of_type(policy_type)
        if target in {t.target(x) for x in as_list((resource.get("Properties") or {}).get(field))}
    ]


@rule(
    id="TargetPolicyDeniesDeliveringService",
    severity=ERROR,
    summary="A queue or topic receives from EventBridge, S3 or SNS, and its resource policy does not let that service send.",
    fix="Allow the delivering service principal sqs:SendMessage in the queue policy (sns:Publish in the topic policy), "
        "scoped with aws:SourceArn to the rule, bucket or topic.",
    source="Amazon EventBridge User Guide: Using resource-based policies for Amazon EventBridge; Amazon S3 User Guide: "
           "Granting permissions to publish event notification messages to a destination",
)
def target_policy(t: Template) -> Iterator[tuple[str, str, str]]:
    """EventBridge, S3 and SNS deliver to SQS queues and SNS topics through the target's
    resource policy ("Using resource-based policies for Amazon EventBridge"; S3 "Granting
    permissions to publish event notification messages to a destination"). Without an
    ``Allow`` for the service principal, every delivery is refused; an EventBridge rule then
    counts FailedInvocations and S3 refuses the notification configuration."""
    checks = [
        (_queue_deliverers(t), "AWS::SQS::QueuePolicy", "Queues", "sqs:SendMessage"),
        (_topic_publishers(t), "AWS::SNS::TopicPolicy", "Topics", "sns:Publish"),
    ]
    for deliverers, policy_type, field, action in checks:
        for target, services in deliverers.items():
            documents = _policies_of(t, policy_type, field, target)
            for service, sources in sorted(services.items()):
                if missing_actions(documents, service_principal(service), [action]):
                    yield (target, (f"receives from {service}.amazonaws.com ({_names(sources)}) but no {policy_type} "
                                   f"allows it {action}"), "Properties")
