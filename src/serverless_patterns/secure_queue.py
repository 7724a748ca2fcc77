"""SecureQueue: an encrypted, TLS-only SQS queue whose failed messages are kept and alarmed."""

from __future__ import annotations

import re
from collections.abc import Mapping

import jsii
from aws_cdk import ArnFormat, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import _actions
from ._interop import QueueInterface
from ._defaults import STATEFUL_REMOVAL_POLICY, allow_service_to_use_key, customer_managed_key
from ._prop_types import check_prop_types
from ._resource_policies import check_key_region
from ._validation import PropErrors, duration_seconds, is_token, require_type
from .alert_topic import AlertTopic
from ._alarms import threshold_alarm
from .compliance import acknowledge_all
from .tagging import apply_tags, validate_tags
from ._kernel import account_of, path_of, stack_of

_NAME = "SecureQueue"

#: Defaults of the queue itself.
DEFAULT_VISIBILITY_TIMEOUT = Duration.seconds(60)
DEFAULT_RETENTION = Duration.days(4)
DEFAULT_DEAD_LETTER_RETENTION = Duration.days(14)
DEFAULT_MAX_RECEIVE_COUNT = 3
DEFAULT_RECEIVE_WAIT = Duration.seconds(20)
DEFAULT_OLDEST_MESSAGE_AGE = Duration.hours(1)

_MAX_RETENTION_SECONDS = 14 * 86400
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_DLQ_SUFFIX = "-dlq"
_FIFO_SUFFIX = ".fifo"
_MAX_QUEUE_NAME = 80
#: EventBridge retries a target for at most 185 attempts and 24 hours.
_MAX_RULE_RETRIES = 185
_MAX_RULE_EVENT_AGE_SECONDS = 86400

_EVENTS_SERVICE = "events.amazonaws.com"
#: Id of the alarm on a rule's FailedInvocations, created under the rule by :meth:`SecureQueue.rule_target`.
FAILED_INVOCATIONS_ALARM_ID = "FailedInvocationsAlarm"

TARGET_DEAD_LETTER_QUEUE_REASON = (
    "This standard queue is the dead-letter queue of an EventBridge target (EventBridge refuses FIFO "
    "dead-letter queues); a dead-letter queue has no dead-letter queue of its own. Its depth is alarmed."
)

DEAD_LETTER_QUEUE_REASON = (
    "This queue is the dead-letter queue of a SecureQueue; a dead-letter queue has no dead-letter "
    "queue of its own. Its depth is alarmed."
)


@jsii.implements(sqs.IQueue)
class SecureQueue(QueueInterface, Construct):
    """An SQS queue encrypted with a customer-managed key, TLS-only, with an alarmed dead-letter queue.

    The construct is an ``sqs.IQueue``: pass it wherever CDK takes a queue (event sources, rule
    targets, subscriptions, grants); the ``sqs.Queue`` it owns is :attr:`queue`.

    Messages that fail ``max_receive_count`` times move to a dead-letter queue (same key, kept
    longer) instead of being retried until they expire; an alarm fires as soon as one arrives, and
    another when the oldest message in the queue waits too long (the consumer is down or falling
    behind). AWS services (EventBridge, S3, SNS) are let in with :meth:`allow_send_from` or, for an
    EventBridge rule, :meth:`rule_target`; both scope the permission to the sending resource.

    Parameters
    ----------
    scope, id
        The construct's parent and id.
    encryption_key
        A KMS key for both queues. The key policy of a ``kms.Key`` of this app is extended for the
        services that send to them (:meth:`allow_send_from`); an imported key (``kms.Key.from_key_arn``)
        is granted to consumers and producers through their roles, and each service that needs the key
        policy gets a warning (``serverless-patterns:keyPolicyNotWritable``) naming the statement.
        Default: a new customer-managed key with yearly rotation.
    visibility_timeout
        How long a received message stays hidden, 0 seconds to 12 hours. A Lambda consumer needs at
        least its timeout, AWS recommends six times. Default: 60 seconds (six times a 10-second
        function).
    retention_period
        How long an unconsumed message is kept, 60 seconds to 14 days. Default: 4 days.
    dead_letter_retention_period
        How long the dead-letter queue keeps messages, 60 seconds to 14 days, longer than
        ``retention_period`` for standard queues (a moved message keeps its original enqueue time).
        Default: 14 days.
    max_receive_count
        Receives before a message moves to the dead-letter queue, 1-1000. Default: 3.
    receive_message_wait_time
        Long polling, 0-20 seconds. Default: 20 seconds (fewer empty receives).
    delivery_delay
        Delay every message by 0-15 minutes. Default: none.
    fifo
        A FIFO queue (and FIFO dead-letter queue). Default: False. EventBridge accepts only standard
        queues as a target's dead-letter queue, so :meth:`rule_target` of a FIFO queue creates a
        standard one for failed deliveries (:attr:`target_dead_letter_queue`); SNS delivers to a FIFO
        queue only from a FIFO topic, and S3 event notifications not at all
        (:meth:`allow_send_from` refuses both).
    content_based_deduplication
        FIFO only: deduplicate by a SHA-256 of the body. Default: False.
    queue_name
        A physical name (``.fifo`` at the end for FIFO queues); the dead-letter queue is named
        ``<name>-dlq`` (a FIFO queue's name that is wholly a token, such as a parameter, leaves the
        dead-letter queue's name to CloudFormation). Both queues outlive the stack: make the name unique per stack instance
        (``resource_name(..., unique_per_stack=True)``) or a redeploy after a delete fails.
        Default: generated.
    alarm_topic
        An :class:`AlertTopic` or any ``sns.ITopic`` the alarms notify on ALARM and OK.
        Default: none (alarms change state only; acknowledged, see the docs).
    dead_letter_messages_alarm_threshold
        Alarm when the dead-letter queue holds this many messages; ``None`` turns it off. Default: 1.
    oldest_message_age_alarm_threshold
        Alarm when the oldest message in the queue is this old (at least 60 seconds and less than
        ``retention_period``); ``None`` turns it off. Default: 1 hour.
    alarm_period
        Whole minutes. Default: 5 minutes.
    alarm_evaluation_periods
        Consecutive breaching periods before an alarm fires. Default: 1.
    tags
        Tags for every resource the construct creates. Default: none.

    Examples
    --------
    >>> jobs = SecureQueue(stack, "Jobs", visibility_timeout=Duration.minutes(3))  # doctest: +SKIP
    >>> worker.add_sqs_source(jobs.queue)  # doctest: +SKIP
    >>> rule.add_target(jobs.rule_target())  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey | None = None,
        visibility_timeout: Duration | None = None,
        retention_period: Duration | None = None,
        dead_letter_retention_period: Duration | None = None,
        max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT,
        receive_message_wait_time: Duration | None = None,
        delivery_delay: Duration | None = None,
        fifo: bool = False,
        content_based_deduplication: bool = False,
        queue_name: str | None = None,
        alarm_topic: AlertTopic | sns.ITopic | None = None,
        dead_letter_messages_alarm_threshold: float | None = 1,
        oldest_message_age_alarm_threshold: Duration | None = DEFAULT_OLDEST_MESSAGE_AGE,
        alarm_period: Duration | None = None,
        alarm_evaluation_periods: int = 1,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        check_prop_types("SecureQueue", SecureQueue.__init__, locals())
        visibility_timeout = visibility_timeout or DEFAULT_VISIBILITY_TIMEOUT
        retention_period = retention_period or DEFAULT_RETENTION
        dead_letter_retention_period = dead_letter_retention_period or DEFAULT_DEAD_LETTER_RETENTION
        receive_message_wait_time = receive_message_wait_time or DEFAULT_RECEIVE_WAIT
        alarm_period = alarm_period or Duration.minutes(5)
        _validate(**{k: v for k, v in locals().items() if k not in ("self", "scope", "id", "__class__")})
        region_errors = PropErrors(_NAME)
        check_key_region(region_errors, "encryption_key", encryption_key, scope)
        region_errors.raise_if_any()
        super().__init__(scope, id)
        self._allowed_services: set[str] = set()
        self._alarm_topic = alarm_topic
        self._dead_letter_retention_period = dead_letter_retention_period
        self._dead_letter_alarm = (dead_letter_messages_alarm_threshold, alarm_period, alarm_evaluation_periods)
        #: FIFO queues only: the standard queue EventBridge sends events to that it could not deliver
        #: (created by the first :meth:`rule_target`).
        self.target_dead_letter_queue: sqs.Queue | None = None
        self.target_dead_letter_messages_alarm: cloudwatch.Alarm | None = None

        self.encryption_key: kms.IKey = encryption_key or customer_managed_key(
            self, "Key", description=f"Encrypts the messages of {path_of(self)}"
        )
        self.dead_letter_queue: sqs.Queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.encryption_key,
            enforce_ssl=True,
            fifo=fifo or None,
            queue_name=_dead_letter_queue_name(queue_name, fifo),
            retention_period=dead_letter_retention_period,
            removal_policy=STATEFUL_REMOVAL_POLICY,
        )
        acknowledge_all(
            self.dead_letter_queue, ["AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"], DEAD_LETTER_QUEUE_REASON
        )
        self.queue: sqs.Queue = sqs.Queue(
            self,
            "Resource",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.encryption_key,
            enforce_ssl=True,
            fifo=fifo or None,
            content_based_deduplication=content_based_deduplication or None,
            queue_name=queue_name,
            visibility_timeout=visibility_timeout,
            retention_period=retention_period,
            receive_message_wait_time=receive_message_wait_time,
            delivery_delay=delivery_delay,
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=max_receive_count, queue=self.dead_letter_queue),
            removal_policy=STATEFUL_REMOVAL_POLICY,
        )

        topic = alarm_topic.topic if isinstance(alarm_topic, AlertTopic) else alarm_topic
        self.dead_letter_messages_alarm: cloudwatch.Alarm | None = None
        self.oldest_message_age_alarm: cloudwatch.Alarm | None = None
        if dead_letter_messages_alarm_threshold is not None:
            self.dead_letter_messages_alarm = threshold_alarm(
                self,
                "DeadLetterMessagesAlarm",
                metric=self.metric_dead_letter_messages(period=alarm_period),
                threshold=dead_letter_messages_alarm_threshold,
                evaluation_periods=alarm_evaluation_periods,
                topic=topic,
                description=f"{path_of(self)}: {dead_letter_messages_alarm_threshold:g} or more messages failed "
                "processing and wait in the dead-letter queue.",
            )
        if oldest_message_age_alarm_threshold is not None:
            self.oldest_message_age_alarm = threshold_alarm(
                self,
                "OldestMessageAgeAlarm",
                metric=self.metric_approximate_age_of_oldest_message(period=alarm_period),
                threshold=oldest_message_age_alarm_threshold.to_seconds(),
                evaluation_periods=alarm_evaluation_periods,
                topic=topic,
                description=f"{path_of(self)}: the oldest message waited {_describe(oldest_message_age_alarm_threshold)} "
                "or longer (the consumer is down or falling behind).",
            )
        apply_tags(self, _NAME, tags)

    # ---- senders ----------------------------------------------------------------------------

    def allow_send_from(
        self, service: str, *, source_arn: str, dead_letter_queue: bool = False
    ) -> None:
        """Let an AWS service send to the queue on behalf of one resource of this account.

        The queue policy allows ``sqs:SendMessage`` to the service principal only with
        ``aws:SourceArn`` equal to ``source_arn`` (the rule, bucket or topic that sends) and
        ``aws:SourceAccount`` equal to the stack's account; the key policy lets the service call
        ``kms:GenerateDataKey`` and ``kms:Decrypt`` for this account only (naming the sender there
        would make the key depend on it, and the sender already depends on the queue).

        EventBridge is the exception on the key: AWS documents ``aws:SourceArn`` (not
        ``aws:SourceAccount``) as the condition EventBridge supports on the key of an encrypted SQS
        target, so the key lets ``events.amazonaws.com`` in for rules of this account and Region
        (``arn:...:events:<region>:<account>:rule/*``); the queue policy names the exact rule.

        Parameters
        ----------
        service
            The service principal, e.g. ``"events.amazonaws.com"``, ``"s3.amazonaws.com"``,
            ``"sns.amazonaws.com"``.
        source_arn
            The ARN of the sending resource. A FIFO queue accepts SNS only from a FIFO topic (ARN
            ending in ``.fifo``) and refuses S3, which cannot deliver to FIFO queues.
        dead_letter_queue
            Also allow sending to the dead-letter queue (an EventBridge target's dead-letter queue).
            Standard queues only: EventBridge refuses FIFO dead-letter queues (use :meth:`rule_target`).
            Default: False.
        """
        errors = PropErrors(f"{_NAME}.allow_send_from")
        errors.check(
            isinstance(service, str) and bool(re.match(r"^[a-z0-9.-]+\.amazonaws\.com$", service)),
            "service",
            service,
            "must be a service principal such as 'events.amazonaws.com'",
        )
        errors.check(
            isinstance(source_arn, str) and (is_token(source_arn) or source_arn.startswith("arn:")),
            "source_arn",
            source_arn,
            "must be the ARN of the resource that sends (it scopes the permission)",
        )
        if self.queue.fifo:
            errors.check(
                not dead_letter_queue,
                "dead_letter_queue",
                dead_letter_queue,
                "EventBridge accepts only standard queues as a target's dead-letter queue; this queue is FIFO "
                "(rule_target() sends failed events to a standard queue)",
            )
            errors.check(
                service != "s3.amazonaws.com",
                "service",
                service,
                "S3 event notifications cannot deliver to a FIFO queue (use a standard queue, or EventBridge)",
            )
            errors.check(
                service != "sns.amazonaws.com" or not isinstance(source_arn, str) or is_token(source_arn)
                or source_arn.endswith(_FIFO_SUFFIX),
                "source_arn",
                source_arn,
                "a FIFO queue receives only from a FIFO topic (ARN ending in '.fifo'); SNS does not deliver a "
                "standard topic's messages to it",
            )
        errors.raise_if_any()
        targets = [self.queue, self.dead_letter_queue] if dead_letter_queue else [self.queue]
        self._allow_send(service, source_arn, targets)

    def _allow_send(self, service: str, source_arn: str, targets: list[sqs.Queue]) -> None:
        account = account_of(self)
        for queue in targets:
            queue.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal(service)],
                    actions=["sqs:SendMessage"],
                    resources=[queue.queue_arn],
                    conditions={
                        "ArnEquals": {"aws:SourceArn": source_arn},
                        "StringEquals": {"aws:SourceAccount": account},
                    },
                )
            )
        if service not in self._allowed_services:
            self._allowed_services.add(service)
            if service == _EVENTS_SERVICE:
                # Naming the rule itself here would make the key depend on the rule, which depends on
                # the queue, which depends on the key: the rules of this account and Region instead.
                allow_service_to_use_key(
                    self.encryption_key,
                    service,
                    actions=_actions.KMS_FOR_SERVICE_PUBLISHERS,
                    source_arn=stack_of(self).format_arn(
                        service="events", resource="rule", resource_name="*", arn_format=ArnFormat.SLASH_RESOURCE_NAME
                    ),
                    scope=self,
                    purpose=f"EventBridge rules to deliver to the encrypted queues of {path_of(self)}",
                )
            else:
                allow_service_to_use_key(
                    self.encryption_key,
                    service,
                    actions=_actions.KMS_FOR_SERVICE_PUBLISHERS,
                    source_account=account,
                    scope=self,
                    purpose=f"{service} to send to the encrypted queues of {path_of(self)}",
                )

    def rule_target(
        self,
        *,
        retry_attempts: int | None = None,
        max_event_age: Duration | None = None,
        message_group_id: str | None = None,
    ) -> events.IRuleTarget:
        """An EventBridge rule target that delivers to this queue, for ``rule.add_target(...)``.

        Events EventBridge cannot deliver (after its retries) go to the dead-letter queue, whose
        alarm then fires; for a FIFO queue, to :attr:`target_dead_letter_queue`, a standard queue
        with the same key, retention and alarm (EventBridge refuses FIFO dead-letter queues). An
        alarm on the rule's ``FailedInvocations`` (``FailedInvocationsAlarm`` under the rule) notifies
        ``alarm_topic`` of every delivery that failed, including those refused by the queue or its key.
        Sending is allowed for that rule only (see :meth:`allow_send_from`).
        Unlike ``aws_events_targets.SqsQueue``, no wildcard KMS actions are granted and the queue
        policy names the rule also for an encrypted queue.

        Parameters
        ----------
        retry_attempts
            0-185 delivery retries. Default: EventBridge's (185).
        max_event_age
            60 seconds to 24 hours. Default: EventBridge's (24 hours).
        message_group_id
            FIFO queues only, and required there. Default: none.
        """
        errors = PropErrors(f"{_NAME}.rule_target")
        errors.check_range("retry_attempts", retry_attempts, minimum=0, maximum=_MAX_RULE_RETRIES)
        _check_seconds(errors, "max_event_age", max_event_age, 60, _MAX_RULE_EVENT_AGE_SECONDS)
        fifo = bool(self.queue.fifo)
        errors.check(
            fifo == (message_group_id is not None),
            "message_group_id",
            message_group_id,
            "is required for a FIFO queue" if fifo else "is only for FIFO queues",
        )
        errors.raise_if_any()
        return _QueueRuleTarget(self, retry_attempts, max_event_age, message_group_id)

    def _rule_dead_letter_queue(self) -> sqs.Queue:
        """Where EventBridge puts events it could not deliver: a standard queue, also for FIFO queues."""
        if not self.queue.fifo:
            return self.dead_letter_queue
        if self.target_dead_letter_queue is None:
            self.target_dead_letter_queue = sqs.Queue(
                self,
                "TargetDeadLetterQueue",
                encryption=sqs.QueueEncryption.KMS,
                encryption_master_key=self.encryption_key,
                enforce_ssl=True,
                retention_period=self._dead_letter_retention_period,
                removal_policy=STATEFUL_REMOVAL_POLICY,
            )
            acknowledge_all(
                self.target_dead_letter_queue,
                ["AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"],
                TARGET_DEAD_LETTER_QUEUE_REASON,
            )
            threshold, period, evaluation_periods = self._dead_letter_alarm
            if threshold is not None:
                self.target_dead_letter_messages_alarm = threshold_alarm(
                    self,
                    "TargetDeadLetterMessagesAlarm",
                    metric=self.target_dead_letter_queue.metric_approximate_number_of_messages_visible(
                        statistic="Maximum", period=period
                    ),
                    threshold=threshold,
                    evaluation_periods=evaluation_periods,
                    topic=self._alarm_topic,
                    description=f"{path_of(self)}: {threshold:g} or more events EventBridge could not deliver "
                    "wait in the target dead-letter queue.",
                )
        return self.target_dead_letter_queue

    def _alarm_on_failed_invocations(self, rule: events.IRule) -> None:
        if rule.node.try_find_child(FAILED_INVOCATIONS_ALARM_ID) is not None:
            return
        _, period, evaluation_periods = self._dead_letter_alarm
        threshold_alarm(
            rule,
            FAILED_INVOCATIONS_ALARM_ID,
            metric=cloudwatch.Metric(
                namespace="AWS/Events",
                metric_name="FailedInvocations",
                dimensions_map={"RuleName": rule.rule_name},
                statistic="Sum",
                period=period,
            ),
            threshold=1,
            evaluation_periods=evaluation_periods,
            topic=self._alarm_topic,
            description=f"{path_of(rule)}: EventBridge failed to deliver events to a target "
            "(refused by the queue or its key, or retries exhausted).",
        )

    # ---- grants -----------------------------------------------------------------------------

    def grant_send_messages(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to send: ``sqs:SendMessage`` and ``kms:GenerateDataKey``/``kms:Decrypt``.

        Unlike ``sqs.Queue.grant_send_messages``, the key actions are named exactly (no ``*``).
        """
        grant = iam.Grant.add_to_principal(grantee=grantee, actions=_actions.SQS_SEND, resource_arns=[self.queue_arn])
        self.encryption_key.grant(grantee, *_actions.KMS_FOR_SERVICE_PUBLISHERS)
        return grant

    def grant_consume_messages(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to receive, change visibility and delete messages, decrypting with the key."""
        grant = iam.Grant.add_to_principal(grantee=grantee, actions=_actions.SQS_CONSUME, resource_arns=[self.queue_arn])
        self.encryption_key.grant(grantee, *_actions.KMS_DECRYPT)
        return grant

    # ---- metrics ----------------------------------------------------------------------------

    def metric_visible_messages(self, **options: object) -> cloudwatch.Metric:
        """``ApproximateNumberOfMessagesVisible`` of the queue, maximum over 5 minutes."""
        return self.queue.metric_approximate_number_of_messages_visible(**{"statistic": "Maximum", **options})

    def metric_dead_letter_messages(self, **options: object) -> cloudwatch.Metric:
        """``ApproximateNumberOfMessagesVisible`` of the dead-letter queue, maximum over 5 minutes."""
        return self.dead_letter_queue.metric_approximate_number_of_messages_visible(
            **{"statistic": "Maximum", **options}
        )


@jsii.implements(events.IRuleTarget)
class _QueueRuleTarget:
    """Delivers a rule's events to a SecureQueue, failed deliveries to its dead-letter queue."""

    def __init__(
        self, queue: SecureQueue, retry_attempts: int | None, max_event_age: Duration | None, message_group_id: str | None
    ) -> None:
        self._queue = queue
        self._retry_attempts = retry_attempts
        self._max_event_age = max_event_age
        self._message_group_id = message_group_id

    def bind(self, rule: events.IRule, id: str | None = None) -> events.RuleTargetConfig:
        dead_letter_queue = self._queue._rule_dead_letter_queue()
        self._queue._allow_send(_EVENTS_SERVICE, rule.rule_ref.rule_arn, [self._queue.queue, dead_letter_queue])
        self._queue._alarm_on_failed_invocations(rule)
        retry_policy = None
        if self._retry_attempts is not None or self._max_event_age is not None:
            retry_policy = events.CfnRule.RetryPolicyProperty(
                maximum_retry_attempts=self._retry_attempts,
                maximum_event_age_in_seconds=self._max_event_age.to_seconds() if self._max_event_age else None,
            )
        return events.RuleTargetConfig(
            arn=self._queue.queue_arn,
            dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=dead_letter_queue.queue_arn),
            retry_policy=retry_policy,
            sqs_parameters=(
                events.CfnRule.SqsParametersProperty(message_group_id=self._message_group_id)
                if self._message_group_id is not None
                else None
            ),
            target_resource=self._queue.queue,
        )


# ---- helpers ----------------------------------------------------------------------------------


def _dead_letter_queue_name(queue_name: str | None, fifo: bool) -> str | None:
    if queue_name is None or (fifo and not queue_name.endswith(_FIFO_SUFFIX)):
        # A FIFO name that is wholly a token (a parameter) has no ".fifo" to cut off at synth
        # time: CloudFormation names the dead-letter queue.
        return None
    base = queue_name[: -len(_FIFO_SUFFIX)] if fifo else queue_name
    return f"{base}{_DLQ_SUFFIX}{_FIFO_SUFFIX if fifo else ''}"


def _describe(value: Duration) -> str:
    if is_token(value):
        return "the threshold"
    seconds = value.to_seconds()
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count:g} {unit}{'s' if count != 1 else ''}"
    return f"{seconds:g} seconds"


def _number(value: float) -> str:
    """``1209600`` rather than ``1.2096e+06`` in messages."""
    return str(int(value)) if value == int(value) else f"{value:g}"


def _seconds(value: Duration | None) -> float | None:
    if value is None or is_token(value):
        return None
    return duration_seconds(value)


def _check_seconds(errors: PropErrors, prop: str, value: Duration | None, minimum: float, maximum: float) -> None:
    require_type(errors.construct_name, prop, value, Duration)
    seconds = _seconds(value)
    if seconds is None:
        return
    errors.check(
        minimum <= seconds <= maximum and seconds == int(seconds),
        prop,
        f"{_number(seconds)} seconds",
        f"must be whole seconds from {_number(minimum)} to {_number(maximum)}",
    )


def _validate(
    *,
    encryption_key: kms.IKey | None,
    visibility_timeout: Duration,
    retention_period: Duration,
    dead_letter_retention_period: Duration,
    max_receive_count: int,
    receive_message_wait_time: Duration,
    delivery_delay: Duration | None,
    fifo: bool,
    content_based_deduplication: bool,
    queue_name: str | None,
    alarm_topic: AlertTopic | sns.ITopic | None,
    dead_letter_messages_alarm_threshold: float | None,
    oldest_message_age_alarm_threshold: Duration | None,
    alarm_period: Duration,
    alarm_evaluation_periods: int,
    tags: Mapping[str, str] | None,
) -> None:
    require_type(_NAME, "encryption_key", encryption_key, kms.IKey)
    require_type(_NAME, "alarm_topic", alarm_topic, (AlertTopic, sns.ITopic))
    require_type(_NAME, "queue_name", queue_name, str)
    for prop, value in (("fifo", fifo), ("content_based_deduplication", content_based_deduplication)):
        require_type(_NAME, prop, value, bool)
    validate_tags(_NAME, tags)

    errors = PropErrors(_NAME)
    _check_seconds(errors, "visibility_timeout", visibility_timeout, 0, 12 * 3600)
    _check_seconds(errors, "retention_period", retention_period, 60, _MAX_RETENTION_SECONDS)
    _check_seconds(errors, "dead_letter_retention_period", dead_letter_retention_period, 60, _MAX_RETENTION_SECONDS)
    _check_seconds(errors, "receive_message_wait_time", receive_message_wait_time, 0, 20)
    _check_seconds(errors, "delivery_delay", delivery_delay, 0, 900)
    retention, dead_letter_retention = _seconds(retention_period), _seconds(dead_letter_retention_period)
    if not fifo and retention is not None and dead_letter_retention is not None:
        errors.check(
            dead_letter_retention > retention,
            "dead_letter_retention_period",
            f"{_number(dead_letter_retention)} seconds",
            f"must be longer than retention_period ({_number(retention)} seconds): a message keeps its original "
            "enqueue time when it moves to the dead-letter queue of a standard queue, so it would expire there early",
        )
    errors.check(
        is_token(max_receive_count) or (isinstance(max_receive_count, int) and 1 <= max_receive_count <= 1000),
        "max_receive_count",
        max_receive_count,
        "must be a whole number from 1 to 1000",
    )
    errors.check(
        not content_based_deduplication or fifo,
        "content_based_deduplication",
        content_based_deduplication,
        "is only for FIFO queues (fifo=True)",
    )
    if queue_name is not None and not is_token(queue_name):
        base = queue_name.removesuffix(_FIFO_SUFFIX)
        longest = len(base) + len(_DLQ_SUFFIX) + (len(_FIFO_SUFFIX) if fifo else 0)
        errors.check(
            bool(_QUEUE_NAME.match(base)) and longest <= _MAX_QUEUE_NAME,
            "queue_name",
            queue_name,
            f"must be letters, digits, hyphens or underscores, short enough that '<name>{_DLQ_SUFFIX}' "
            f"fits in {_MAX_QUEUE_NAME} characters",
        )
        errors.check(
            queue_name.endswith(_FIFO_SUFFIX) == fifo,
            "queue_name",
            queue_name,
            "a FIFO queue's name must end in '.fifo'" if fifo else "only FIFO queues end in '.fifo'",
        )
    errors.check_range("dead_letter_messages_alarm_threshold", dead_letter_messages_alarm_threshold, minimum=1)
    require_type(_NAME, "oldest_message_age_alarm_threshold", oldest_message_age_alarm_threshold, Duration)
    age = _seconds(oldest_message_age_alarm_threshold)
    if age is not None:
        errors.check(
            age >= 60 and age == int(age) and (retention is None or age < retention),
            "oldest_message_age_alarm_threshold",
            f"{_number(age)} seconds",
            "must be whole seconds, at least 60 and less than retention_period "
            f"({_number(retention)} seconds)" if retention is not None else "must be whole seconds, at least 60",
        )
    require_type(_NAME, "alarm_period", alarm_period, Duration)
    period = _seconds(alarm_period)
    errors.check(
        period is None or (period >= 60 and period % 60 == 0),
        "alarm_period",
        f"{_number(period)} seconds" if period is not None else alarm_period,
        "must be a whole number of minutes",
    )
    errors.check(
        isinstance(alarm_evaluation_periods, int) and alarm_evaluation_periods >= 1,
        "alarm_evaluation_periods",
        alarm_evaluation_periods,
        "must be a whole number, at least 1",
    )
    errors.raise_if_any()
