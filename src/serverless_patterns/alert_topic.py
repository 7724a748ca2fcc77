"""AlertTopic: an encrypted, TLS-only SNS topic that CloudWatch alarms can publish to."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import _actions
from ._kernel import account_of, path_of, principal_of, stack_of
from ._interop import TopicInterface
from ._alarms import cloudwatch_alarms_statement
from ._defaults import allow_service_to_use_key, customer_managed_key
from ._resource_policies import check_key_region
from ._validation import PropErrors, is_token, require_type
from .compliance import acknowledge_all
from .tagging import apply_tags, validate_tags

# Local part and domain as mail systems accept them (no quoted local parts, no IP literals).
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

#: How long an undeliverable alert stays in the delivery-failures queue.
DELIVERY_FAILURES_RETENTION = Duration.days(14)

DELIVERY_FAILURES_REASON = (
    "This queue is the dead-letter queue of the alert topic's subscriptions; a dead-letter queue "
    "has no dead-letter queue of its own."
)


@jsii.implements(sns.ITopic)
class AlertTopic(TopicInterface, Construct):
    """An SNS topic for alarms: KMS-encrypted, TLS-only, with email subscriptions.

    The construct is an ``sns.ITopic``: pass it wherever CDK takes a topic (alarm actions,
    subscriptions, rule targets); the ``sns.Topic`` it owns is :attr:`topic`. Subscriptions are
    bound to the construct (``subs.LambdaSubscription(fn)`` gets the construct's id), also when
    added through :attr:`topic`, so one function can subscribe to several alert topics.

    CloudWatch alarms of the same account and Region may publish to it (topic policy and key
    policy both scoped by ``aws:SourceAccount``); alerts that cannot be delivered to a
    subscriber land in a dead-letter queue instead of being dropped. One topic can serve many
    functions and constructs: pass it as ``alert_topic`` or use :attr:`alarm_action`.

    Parameters
    ----------
    scope, id
        The construct's parent and id.
    emails
        Addresses to subscribe. Each must confirm the subscription from the email SNS sends.
        CloudFormation parameters are accepted (``CfnParameter(...).value_as_string``).
        Default: none (add some later with :meth:`add_email`).
    display_name
        The sender name of the emails, at most 100 characters. Default: none (SNS's default).
    topic_name
        A physical name. Default: generated (fixed names collide between stacks).
    encryption_key
        A key of your own (shared with the data it alerts about, for example); the construct adds
        the CloudWatch statement, scoped to the account, to its policy. An imported key
        (``kms.Key.from_key_arn``) keeps its policy: a warning (``serverless-patterns:keyPolicyNotWritable``)
        names the statements its owner must add for CloudWatch alarms (and SNS, for the
        delivery-failures queue). Default: a new customer-managed key.
    tags
        Tags for every resource the construct creates. Default: none.

    Examples
    --------
    >>> alerts = AlertTopic(stack, "Alerts", emails=["oncall@example.com"])  # doctest: +SKIP
    >>> alarm.add_alarm_action(alerts.alarm_action)  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        emails: Sequence[str] = (),
        display_name: str | None = None,
        topic_name: str | None = None,
        encryption_key: kms.IKey | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        _validate(emails=emails, display_name=display_name, topic_name=topic_name, tags=tags)
        require_type("AlertTopic", "encryption_key", encryption_key, kms.IKey)
        region_errors = PropErrors("AlertTopic")
        check_key_region(region_errors, "encryption_key", encryption_key, scope)
        region_errors.raise_if_any()
        super().__init__(scope, id)
        account = account_of(self)

        self.encryption_key: kms.IKey = encryption_key or customer_managed_key(
            self, "Key", description=f"Encrypts the alerts of {path_of(self)}"
        )
        key_allows_alarms = allow_service_to_use_key(
            self.encryption_key,
            "cloudwatch.amazonaws.com",
            actions=_actions.KMS_FOR_SERVICE_PUBLISHERS,
            source_account=account,
            scope=self,
            purpose="CloudWatch alarms to publish to the encrypted topic",
        )
        self.topic: sns.Topic = _Topic(
            self,
            "Resource",
            owner=self,
            master_key=self.encryption_key,
            enforce_ssl=True,
            signature_version="2",
            display_name=display_name,
            topic_name=topic_name,
        )
        self.topic.add_to_resource_policy(cloudwatch_alarms_statement(self.topic.topic_arn, stack_of(self)))
        #: Both policies let CloudWatch alarms in (read by the constructs that point alarms here);
        #: False with an imported key (its warning names the statement to add).
        self.allows_cloudwatch_alarms = key_allows_alarms
        #: Where alerts go that could not be delivered to a subscriber (created with the first one).
        self.delivery_failures: sqs.Queue | None = None
        self._emails: list[str] = []
        for address in emails:
            self.add_email(address)
        apply_tags(self, "AlertTopic", tags)

    # ---- subscriptions ----------------------------------------------------------------------

    def add_email(self, address: str) -> None:
        """Subscribe ``address`` (validated; parameters accepted) with the delivery-failures queue."""
        errors = PropErrors("AlertTopic")
        check_email(errors, "email", address)
        errors.check(address not in self._emails, "email", address, "is already subscribed")
        errors.raise_if_any()
        self._emails.append(address)
        self.topic.add_subscription(
            subscriptions.EmailSubscription(address, dead_letter_queue=self._delivery_failures_queue())
        )

    def _delivery_failures_queue(self) -> sqs.Queue:
        if self.delivery_failures is None:
            # SNS writes undeliverable messages into the queue with the topic's key.
            allow_service_to_use_key(
                self.encryption_key,
                "sns.amazonaws.com",
                actions=_actions.KMS_FOR_SERVICE_PUBLISHERS,
                source_account=account_of(self),
                scope=self,
                purpose="SNS to write undeliverable alerts into the encrypted delivery-failures queue",
            )
            self.delivery_failures = sqs.Queue(
                self,
                "DeliveryFailures",
                encryption=sqs.QueueEncryption.KMS,
                encryption_master_key=self.encryption_key,
                enforce_ssl=True,
                retention_period=DELIVERY_FAILURES_RETENTION,
            )
            acknowledge_all(
                self.delivery_failures,
                ["AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"],
                DELIVERY_FAILURES_REASON,
            )
        return self.delivery_failures

    # ---- alarms and publishers --------------------------------------------------------------

    @property
    def alarm_action(self) -> cw_actions.SnsAction:
        """A CloudWatch alarm action that publishes to this topic."""
        return cw_actions.SnsAction(self.topic)

    def add_alarm(self, alarm: cloudwatch.Alarm, *, notify_on_recovery: bool = True) -> None:
        """Notify this topic when ``alarm`` fires and, unless turned off, when it recovers."""
        require_type("AlertTopic", "alarm", alarm, cloudwatch.Alarm)
        alarm.add_alarm_action(self.alarm_action)
        if notify_on_recovery:
            alarm.add_ok_action(self.alarm_action)

    def grant_publish(self, identity: iam.IGrantable) -> iam.Grant:
        """Allow ``identity`` to publish: ``sns:Publish`` and ``kms:GenerateDataKey``/``kms:Decrypt``.

        Unlike ``sns.Topic.grant_publish``, the key actions are named exactly (no ``*``).
        """
        principal = principal_of(identity)
        grant = iam.Grant.add_to_principal(grantee=principal, actions=["sns:Publish"], resource_arns=[self.topic_arn])
        self.encryption_key.grant(principal, *_actions.KMS_FOR_SERVICE_PUBLISHERS)
        return grant


class _Topic(sns.Topic):
    """The topic of an :class:`AlertTopic`: subscriptions added here are bound to the AlertTopic.

    A subscription binds to the topic it is added to and takes that topic's id as its own under
    the subscriber (``LambdaSubscription`` puts it under the function); the topic's id here is
    ``Resource``, the same in every AlertTopic, so a second AlertTopic on one function would
    collide. Binding to the AlertTopic gives each subscription the AlertTopic's unique id.
    """

    def __init__(self, scope: Construct, id: str, *, owner: AlertTopic, **props: Any) -> None:
        super().__init__(scope, id, **props)
        self._owner = owner

    def add_subscription(self, subscription: sns.ITopicSubscription) -> sns.Subscription:
        return super().add_subscription(_BoundTo(subscription, self._owner))


@jsii.implements(sns.ITopicSubscription)
class _BoundTo:
    """``subscription``, bound to ``topic`` whichever topic it is added to."""

    def __init__(self, subscription: sns.ITopicSubscription, topic: sns.ITopic) -> None:
        self._subscription = subscription
        self._topic = topic

    def bind(self, topic: sns.ITopic) -> sns.TopicSubscriptionConfig:
        return self._subscription.bind(self._topic)


def check_email(errors: PropErrors, prop: str, address: object) -> None:
    """Record a violation unless ``address`` looks like an email address (parameters pass)."""
    if is_token(address):
        return
    errors.check(
        isinstance(address, str) and len(address) <= 254 and bool(_EMAIL.match(address)),
        prop,
        address,
        "is not an email address (expected name@example.com)",
    )


def _validate(
    *,
    emails: Sequence[str],
    display_name: str | None,
    topic_name: str | None,
    tags: Mapping[str, str] | None,
) -> None:
    name = "AlertTopic"
    if isinstance(emails, str) or not isinstance(emails, Sequence):
        raise TypeError(f"{name}: emails must be a list of addresses, got {type(emails).__name__} ({emails!r})")
    require_type(name, "display_name", display_name, str)
    require_type(name, "topic_name", topic_name, str)
    validate_tags(name, tags)

    errors = PropErrors(name)
    for address in emails:
        check_email(errors, "emails", address)
    duplicates = sorted({a for a in emails if not is_token(a) and list(emails).count(a) > 1})
    errors.check(not duplicates, "emails", duplicates, "each address may be subscribed once")
    errors.check(
        display_name is None or is_token(display_name) or 0 < len(display_name) <= 100,
        "display_name",
        display_name,
        "must be 1-100 characters",
    )
    errors.check(
        topic_name is None or is_token(topic_name) or bool(_TOPIC_NAME.match(topic_name)),
        "topic_name",
        topic_name,
        "must be 1-256 letters, digits, hyphens or underscores",
    )
    errors.raise_if_any()
