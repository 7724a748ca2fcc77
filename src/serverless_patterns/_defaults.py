"""Secure defaults shared by the constructs, in one place.

Each function returns a configured resource or props; constructs apply them and
never restate the values.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, Duration, Fn, RemovalPolicies, RemovalPolicy, aws_iam as iam, aws_kms as kms, aws_logs as logs, aws_s3 as s3
from constructs import Construct

#: Log retention used when a construct's ``log_retention`` prop is not given.
DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH

#: Days a KMS key waits before it is deleted after its stack removes it.
KEY_PENDING_WINDOW = Duration.days(30)


# ---- what survives a stack: removal policy of stateful resources --------------------------

#: Removal policy of every stateful resource (bucket, table, queue, log group, key, vault) a
#: construct creates. CloudFormation keeps it when the stack is deleted or the resource replaced,
#: and deletes it when a failed *create* rolls back (``DeletionPolicy: RetainExceptOnCreate``), so
#: a failed first deployment leaves nothing behind (no billed keys, no names taken) and can be
#: retried. Plain ``RETAIN`` keeps resources also after a failed create.
STATEFUL_REMOVAL_POLICY = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE

#: The CloudFormation types a construct's ``removal_policy`` applies to: what holds data or keys.
STATEFUL_RESOURCE_TYPES = (
    "AWS::S3::Bucket",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::KMS::Key",
    "AWS::SQS::Queue",
    "AWS::Logs::LogGroup",
    "AWS::SecretsManager::Secret",
)


def apply_removal_policy(scope: Construct, policy: RemovalPolicy) -> None:
    """Give every stateful resource under ``scope`` (:data:`STATEFUL_RESOURCE_TYPES`) ``policy``.

    Nothing happens for the default :data:`STATEFUL_REMOVAL_POLICY`. Applied when the app
    synthesizes, so resources added later (routes, sources, steps) follow it too. With
    ``RemovalPolicy.DESTROY`` (dev stacks), CloudFormation deletes keys (after their pending
    window), queues, log groups, tables and secrets with the stack; it deletes a bucket only when
    it is empty (every object version), otherwise the delete stops there (``DELETE_FAILED``).
    """
    if policy is not STATEFUL_REMOVAL_POLICY:
        RemovalPolicies.of(scope).apply(policy, apply_to_resource_types=list(STATEFUL_RESOURCE_TYPES))


def protected_unless_destroyed(removal_policy: RemovalPolicy, deletion_protection: bool | None) -> bool:
    """Deletion protection as given, or, when not given, on unless ``removal_policy`` is DESTROY."""
    if deletion_protection is None:
        return removal_policy is not RemovalPolicy.DESTROY
    return deletion_protection


def check_deletion_protection(errors: Any, removal_policy: RemovalPolicy, deletion_protection: bool | None) -> None:
    """Record in ``errors`` (a ``PropErrors``) the combinations of the two props that cannot work."""
    if deletion_protection is True and removal_policy is RemovalPolicy.DESTROY:
        errors.add(
            "deletion_protection",
            deletion_protection,
            "together with removal_policy=RemovalPolicy.DESTROY: CloudFormation cannot delete a resource "
            "with deletion protection; leave deletion_protection unset (it follows removal_policy) or pass False",
        )
    if deletion_protection is False and removal_policy is not RemovalPolicy.DESTROY:
        errors.add(
            "deletion_protection",
            deletion_protection,
            f"may be turned off only with removal_policy=RemovalPolicy.DESTROY (throwaway stacks), "
            f"not removal_policy={removal_policy}",
        )


# ---- physical names: generated, or unique per stack instance ------------------------------

#: Length of :func:`stack_instance_id`: the last group of the stack id's UUID, 12 hex digits.
STACK_INSTANCE_ID_LENGTH = 12


def stack_instance_id(scope: Construct) -> str:
    """12 hex digits unique to this *instance* of the stack (a token, resolved at deploy time).

    The last group of the UUID in ``AWS::StackId`` (``arn:...:stack/<name>/<uuid>``): a new stack
    of the same name, after a delete, gets a new UUID. Names built with it never collide with what
    an earlier instance of the stack retained.
    """
    uuid = Fn.select(2, Fn.split("/", Aws.STACK_ID))
    return Fn.select(4, Fn.split("-", uuid))


def unique_physical_name(scope: Construct, base: str, *, max_length: int, suffix: str = "") -> str:
    """``<base>-<stack instance id><suffix>``, at most ``max_length`` characters (``base`` is cut).

    For the resources whose name AWS prescribes in part (WAF log groups start with
    ``aws-waf-logs-``, FIFO queues end in ``.fifo``) or that a policy must name before the resource
    exists (log groups in key-policy conditions). Every other name is left to CloudFormation.
    """
    room = max_length - len(suffix) - STACK_INSTANCE_ID_LENGTH - 1
    if room < 1:
        raise ValueError(f"unique_physical_name: max_length={max_length!r}: leaves no room for the base")
    # A literal suffix stays literal at the end of the string (CDK checks FIFO names end in ".fifo").
    return f"{base[:room].rstrip('-_/.')}-{stack_instance_id(scope)}{suffix}"


def customer_managed_key(scope: Construct, id: str, *, description: str) -> kms.Key:
    """A symmetric customer-managed key with yearly rotation that outlives its stack.

    Kept on stack delete and replacement, deleted (after :data:`KEY_PENDING_WINDOW`) when a failed
    create rolls back: see :data:`STATEFUL_REMOVAL_POLICY`. No alias: an alias is a fixed name.
    """
    return kms.Key(
        scope,
        id,
        description=description,
        enable_key_rotation=True,
        pending_window=KEY_PENDING_WINDOW,
        removal_policy=STATEFUL_REMOVAL_POLICY,
    )


# ---- log buckets: encryption the delivering service supports -------------------------------

#: Default encryption of every bucket that receives S3 server access logs. The S3 User Guide
#: (Enabling Amazon S3 server access logging) allows only SSE-S3 as the destination bucket's
#: default encryption; with SSE-KMS, logs are not delivered, and no error is reported anywhere.
SERVER_ACCESS_LOG_BUCKET_ENCRYPTION = s3.BucketEncryption.S3_MANAGED

#: The acknowledgement reason of the KMS-encryption rules on a server-access-log bucket.
SERVER_ACCESS_LOGS_SSE_S3_REASON = (
    "This bucket receives S3 server access logs. The S3 User Guide (Enabling Amazon S3 server access "
    "logging) allows only SSE-S3 as the default encryption of a log destination bucket; with SSE-KMS "
    "the logs are never delivered. The bucket is SSE-S3 (AES-256) encrypted, private, TLS-only and "
    "versioned; the logs hold request metadata, not object data."
)


def log_bucket_encryption(*, server_access_logs: bool) -> s3.BucketEncryption:
    """The default encryption of a log bucket: SSE-S3 for server access logs, else KMS.

    S3 server access logs support only SSE-S3. CloudFront standard logging (legacy and v2) and the
    other vended logs delivered by ``delivery.logs.amazonaws.com`` support SSE-KMS with a
    customer-managed key whose policy lets the delivery service in, so those log buckets keep KMS.
    """
    return SERVER_ACCESS_LOG_BUCKET_ENCRYPTION if server_access_logs else s3.BucketEncryption.KMS


def allow_service_to_use_key(
    key: kms.IKey,
    service: str,
    *,
    actions: list[str],
    source_arn: str | None = None,
    source_account: str | None = None,
    scope: Construct | None = None,
    purpose: str | None = None,
) -> bool:
    """Let an AWS service principal use ``key``, scoped to the calling resource where it can be.

    Only the key policy can let a service principal in. An imported key keeps its own policy: with
    ``scope``, a warning on it names the statement its owner must add (``purpose`` says what for).
    Returns whether the statement is in the key policy.
    """
    from ._resource_policies import require_key_statement

    conditions: dict[str, dict[str, str]] = {}
    if source_account:
        conditions["StringEquals"] = {"aws:SourceAccount": source_account}
    if source_arn:
        conditions["ArnLike"] = {"aws:SourceArn": source_arn}
    statement = iam.PolicyStatement(
        sid=f"Allow{service.split('.')[0].title()}",
        principals=[iam.ServicePrincipal(service)],
        actions=actions,
        resources=["*"],  # in a key policy, "*" means this key
        conditions=conditions or None,
    )
    if scope is None:
        return key.add_to_resource_policy(statement).statement_added
    return require_key_statement(scope, key, statement, purpose=purpose or f"{service} to use it")
