"""SecureBucket: an S3 bucket that cannot be configured into an insecure state."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from . import _actions
from ._kernel import account_of, path_of, principal_of, referenced_from
from ._interop import BucketInterface
from ._defaults import (
    SERVER_ACCESS_LOGS_SSE_S3_REASON,
    STATEFUL_REMOVAL_POLICY,
    apply_removal_policy,
    customer_managed_key,
    log_bucket_encryption,
)
from ._prop_types import check_prop_types, constructor_defaults
from ._resource_policies import warn_bucket_statement
from ._validation import PropErrors, duration_in_days, is_token, require_type
from .compliance import acknowledge, acknowledge_all, in_every_pack, nag_resource
from .tagging import apply_tags, validate_tags

_ALLOWED_ENCRYPTION = (s3.BucketEncryption.KMS, s3.BucketEncryption.S3_MANAGED, s3.BucketEncryption.DSSE)
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_LOG_PREFIX_FOR_ACCESS_LOGS = "access-logs/"

NO_REPLICATION_REASON = (
    "Replication needs a destination bucket, normally in another Region and account, that only the "
    "caller can own; the construct cannot create one. Versioning, RETAIN and optional Object Lock "
    "protect the data against deletion and overwrite."
)
LOG_SINK_REASON = (
    "This bucket is the server access log sink; logging it into itself or another bucket would only "
    "move the problem (an infinite chain of log buckets)."
)


@jsii.implements(s3.IBucket)
class SecureBucket(BucketInterface, Construct):
    """An S3 bucket that is encrypted, private, TLS-only, versioned, logged and retained.

    The construct is an ``s3.IBucket``: pass it wherever CDK takes a bucket (notifications,
    origins, grants); the ``s3.Bucket`` it owns is :attr:`bucket`.

    Parameters
    ----------
    scope, id
        The construct's parent and id.
    encryption
        ``s3.BucketEncryption.KMS`` (default) uses a customer-managed key with rotation and an
        S3 bucket key; ``S3_MANAGED`` (SSE-S3) or ``DSSE`` only when asked for. ``UNENCRYPTED``
        and ``KMS_MANAGED`` (the AWS-managed ``aws/s3`` key) are refused.
    encryption_key
        A key of your own for ``KMS``. Default: a new customer-managed key.
    versioned
        Default: True. Object Lock requires it.
    object_lock_enabled
        Enable Object Lock at creation (cannot be enabled later). Default: False.
    object_lock_default_retention
        Default retention, e.g. ``s3.ObjectLockRetention.governance(Duration.days(30))``.
        Default: none (objects are lockable, nothing is locked by default).
    server_access_logs_bucket
        Where server access logs go; its default encryption must be SSE-S3 (S3 delivers no server
        access logs into SSE-KMS buckets). Default: a hardened SSE-S3 log bucket created by this
        construct.
    server_access_logs_prefix
        Key prefix for the logs. Default: ``"access-logs/"``.
    access_logs_opt_out_reason
        Turn server access logging off; the reason becomes the acknowledgement's reason in the
        compliance report. Default: None (logging on).
    log_retention
        How long the created log bucket keeps logs. Default: 365 days.
    noncurrent_version_expiration
        Delete versions this long after they stop being current. Default: 90 days.
    abort_incomplete_multipart_upload_after
        Default: 7 days.
    transitions
        Storage-class transitions for current objects. Default: none.
    lifecycle_rules
        Further lifecycle rules, added after the defaults. Default: none.
    removal_policy
        Default: ``RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE``: kept when the stack is deleted,
        removed when a failed create rolls back. ``DESTROY`` is for throwaway stacks only and
        applies to the bucket's key and access-log bucket too; CloudFormation refuses to delete a
        bucket that still holds objects (empty both, every version, before deleting the stack).
    event_bridge_enabled
        Send object events to Amazon EventBridge, set on the bucket resource itself (no helper
        Lambda). Default: False.
    cors
        CORS rules, e.g. for browser uploads through presigned URLs. Default: none.
    bucket_name
        A physical name. Default: generated (fixed names collide globally and block replacement).
    enforce_ssl, minimum_tls_version, block_public_access, object_ownership
        Accepted only at their secure values (True, 1.2 or higher, ``BLOCK_ALL``,
        ``BUCKET_OWNER_ENFORCED``), so that code written for ``s3.Bucket`` fails loudly instead
        of silently weakening the bucket.
    tags
        Tags for every resource the construct creates. Default: none (the construct's own
        ``serverless-patterns:construct`` tag is always added).

    Examples
    --------
    >>> docs = SecureBucket(stack, "Docs")  # doctest: +SKIP
    >>> docs.grant_read(function, "incoming/*")  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption: s3.BucketEncryption = s3.BucketEncryption.KMS,
        encryption_key: kms.IKey | None = None,
        versioned: bool = True,
        object_lock_enabled: bool = False,
        object_lock_default_retention: s3.ObjectLockRetention | None = None,
        server_access_logs_bucket: s3.IBucket | None = None,
        server_access_logs_prefix: str | None = None,
        access_logs_opt_out_reason: str | None = None,
        log_retention: Duration | None = None,
        noncurrent_version_expiration: Duration | None = None,
        abort_incomplete_multipart_upload_after: Duration | None = None,
        transitions: Sequence[s3.Transition] = (),
        lifecycle_rules: Sequence[s3.LifecycleRule] = (),
        removal_policy: RemovalPolicy = STATEFUL_REMOVAL_POLICY,
        event_bridge_enabled: bool = False,
        cors: Sequence[s3.CorsRule] = (),
        bucket_name: str | None = None,
        enforce_ssl: bool = True,
        minimum_tls_version: float = 1.2,
        block_public_access: s3.BlockPublicAccess | None = None,
        object_ownership: s3.ObjectOwnership = s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        check_prop_types("SecureBucket", SecureBucket.__init__, locals())
        _validate(**{k: v for k, v in locals().items() if k not in ("self", "scope", "id", "__class__")})
        super().__init__(scope, id)
        noncurrent_version_expiration = noncurrent_version_expiration or Duration.days(90)
        abort_after = abort_incomplete_multipart_upload_after or Duration.days(7)
        logs_prefix = server_access_logs_prefix or _LOG_PREFIX_FOR_ACCESS_LOGS

        self._encryption_key: kms.IKey | None = None
        if encryption in (s3.BucketEncryption.KMS, s3.BucketEncryption.DSSE):
            self._encryption_key = encryption_key or customer_managed_key(
                self, "Key", description=f"Encrypts objects in {path_of(self)}"
            )

        self.log_bucket: s3.IBucket | None = None
        if access_logs_opt_out_reason is None:
            self.log_bucket = server_access_logs_bucket or self._create_log_bucket(log_retention)

        self.bucket: s3.Bucket = s3.Bucket(
            self,
            "Resource",
            bucket_name=bucket_name,
            encryption=encryption,
            encryption_key=self._encryption_key,
            bucket_key_enabled=encryption is s3.BucketEncryption.KMS,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=max(minimum_tls_version, 1.2),
            versioned=versioned,
            object_lock_enabled=object_lock_enabled or None,
            object_lock_default_retention=object_lock_default_retention,
            # Server access logging is set on the resource below, not with the L2 props: given the
            # log bucket, the L2 would add its own delivery policy (or, for an import, warn
            # accessLogsPolicyNotAdded on every synth); the library adds one scoped to this bucket.
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="secure-defaults",
                    abort_incomplete_multipart_upload_after=abort_after,
                    noncurrent_version_expiration=noncurrent_version_expiration if versioned else None,
                    transitions=list(transitions) or None,
                ),
                *lifecycle_rules,
            ],
            cors=list(cors) or None,
            removal_policy=removal_policy,
        )
        if event_bridge_enabled:
            # Set on the resource itself: the L2 prop deploys a notifications Lambda for this.
            self.bucket.node.default_child.add_property_override(
                "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
            )
        if self.log_bucket is not None:
            self.bucket.node.default_child.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
                destination_bucket_name=self.log_bucket.bucket_name, log_file_prefix=logs_prefix
            )
            _allow_log_delivery(self, self.log_bucket, source=self.bucket, prefix=logs_prefix)
        else:
            acknowledge_all(
                self.bucket,
                ["AwsSolutions-S1", *in_every_pack("S3BucketLoggingEnabled")],
                access_logs_opt_out_reason or "",
            )
            acknowledge(self.bucket, "CKV_AWS_18", access_logs_opt_out_reason or "")
        acknowledge_all(self.bucket, in_every_pack("S3BucketReplicationEnabled"), NO_REPLICATION_REASON)
        # The key and the access-log bucket follow the bucket: one removal policy for the construct.
        apply_removal_policy(self, removal_policy)
        apply_tags(self, "SecureBucket", tags)

    # ---- the log bucket -------------------------------------------------------------------

    def _create_log_bucket(self, retention: Duration | None) -> s3.Bucket:
        log_bucket = s3.Bucket(
            self,
            "AccessLogs",
            # S3 delivers server access logs only into SSE-S3 buckets (see _defaults).
            encryption=log_bucket_encryption(server_access_logs=True),
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-logs",
                    expiration=retention or Duration.days(365),
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=STATEFUL_REMOVAL_POLICY,
        )
        acknowledge(log_bucket, "CKV_AWS_18", LOG_SINK_REASON)
        acknowledge_all(log_bucket, in_every_pack("S3BucketReplicationEnabled"), NO_REPLICATION_REASON)
        acknowledge_all(log_bucket, in_every_pack("S3DefaultEncryptionKMS"), SERVER_ACCESS_LOGS_SSE_S3_REASON)
        return log_bucket

    # ---- grants (the interface's signatures, least-privilege actions) ----------------------

    @property
    def encryption_key(self) -> kms.IKey | None:
        """The bucket's KMS key (``KMS``/``DSSE``), else None."""
        return self._encryption_key

    def grant_read(self, identity: iam.IGrantable, objects_key_pattern: Any = None) -> iam.Grant:
        """Allow ``identity`` to read objects matching ``objects_key_pattern`` (default ``"*"``)
        and to list the bucket (limited to that pattern as ``s3:prefix``).

        Unlike ``s3.Bucket.grant_read``, the actions are named exactly (no ``s3:GetObject*``).
        A key prefix is ``objects_key_pattern="incoming/*"``.
        """
        pattern = _object_pattern(objects_key_pattern)
        self._grant_list(identity, pattern)
        return self._grant_objects(identity, _actions.S3_READ_OBJECTS, _actions.KMS_DECRYPT, pattern)

    def grant_write(
        self,
        identity: iam.IGrantable,
        objects_key_pattern: Any = None,
        allowed_action_patterns: Sequence[str] | None = None,
    ) -> iam.Grant:
        """Allow ``identity`` to put and delete objects matching ``objects_key_pattern``
        (default ``"*"``); ``allowed_action_patterns`` replaces the S3 actions when given."""
        pattern = _object_pattern(objects_key_pattern)
        actions = list(allowed_action_patterns) if allowed_action_patterns is not None else _actions.S3_WRITE_OBJECTS
        return self._grant_objects(identity, actions, _actions.KMS_ENCRYPT, pattern)

    def grant_read_write(self, identity: iam.IGrantable, objects_key_pattern: Any = None) -> iam.Grant:
        """Both :meth:`grant_read` and :meth:`grant_write`."""
        self.grant_read(identity, objects_key_pattern)
        return self.grant_write(identity, objects_key_pattern)

    def grant_object_actions(
        self, grantee: iam.IGrantable, s3_actions: list[str], kms_actions: list[str], *, key_prefix: str = ""
    ) -> iam.Grant:
        """Allow exactly ``s3_actions`` on objects (under ``key_prefix``) and ``kms_actions`` on the key.

        For callers that need less than :meth:`grant_read`/:meth:`grant_write`, e.g. only
        ``s3:PutObject`` to sign upload forms.
        """
        _validate_key_prefix(key_prefix)
        return self._grant_objects(grantee, s3_actions, kms_actions, f"{key_prefix}*")

    def grant_list(self, grantee: iam.IGrantable, *, key_prefix: str = "") -> None:
        """Allow ``s3:ListBucket``, limited to keys under ``key_prefix`` when one is given."""
        _validate_key_prefix(key_prefix)
        self._grant_list(grantee, f"{key_prefix}*")

    def _grant_objects(
        self, grantee: iam.IGrantable, s3_actions: list[str], kms_actions: list[str], pattern: str
    ) -> iam.Grant:
        principal = principal_of(grantee)
        objects = object_arn(grantee, self.bucket, pattern)
        grant = iam.Grant.add_to_principal(grantee=principal, actions=s3_actions, resource_arns=[objects])
        if self._encryption_key is not None:
            self._encryption_key.grant(principal, *kms_actions)
        _acknowledge_object_arn(grantee, objects, pattern)
        return grant

    def _grant_list(self, grantee: iam.IGrantable, pattern: str) -> None:
        conditions = {"StringLike": {"s3:prefix": [pattern]}} if pattern != "*" else None
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=_actions.S3_LIST, resources=[self.bucket.bucket_arn], conditions=conditions)
        )


def object_arn(grantee: iam.IGrantable, bucket: s3.IBucket, pattern: str) -> str:
    """``bucket.arn_for_objects(pattern)`` as the grantee's stack references it (another stack's
    bucket through its export, see :func:`~serverless_patterns._kernel.referenced_from`)."""
    principal = grantee.grant_principal
    if not isinstance(principal, Construct) or not isinstance(bucket, Construct):
        return bucket.arn_for_objects(pattern)
    return f"{referenced_from(principal, bucket, bucket.bucket_arn)}/{pattern}"


def _acknowledge_object_arn(grantee: iam.IGrantable, objects: str, pattern: str) -> None:
    """Object ARNs end in ``*`` by nature; acknowledge exactly that pattern (``objects``) on the grantee."""
    principal = grantee.grant_principal
    if not isinstance(principal, Construct):
        return
    acknowledge(
        principal,
        # As the grantee's stack names the bucket: <LogicalId.Arn>, or another stack's export.
        f"AwsSolutions-IAM5[Resource::{nag_resource(principal, objects)}]",
        "Object-level S3 permissions name objects by key pattern; the pattern is limited to this "
        f"bucket{' and the prefix ' + repr(pattern[:-1]) if pattern != '*' else ''}.",
    )


def _allow_log_delivery(scope: Construct, log_bucket: s3.IBucket, *, source: s3.Bucket, prefix: str) -> None:
    """Let S3 server access logging of ``source`` write into ``log_bucket``; for an imported log
    bucket, a warning on ``scope`` names the statement its owner must add."""
    statement = iam.PolicyStatement(
        sid=None,
        principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
        actions=["s3:PutObject"],
        resources=[log_bucket.arn_for_objects(f"{prefix}*")],
        conditions={
            "ArnLike": {"aws:SourceArn": source.bucket_arn},
            "StringEquals": {"aws:SourceAccount": account_of(source)},
        },
    )
    if not log_bucket.add_to_resource_policy(statement).statement_added:
        warn_bucket_statement(scope, log_bucket, statement, purpose=f"S3 server access logs of {path_of(scope)} to arrive")


def _kms_default_encryption(bucket: s3.IBucket | None) -> list[str]:
    """The KMS algorithms of ``bucket``'s default encryption, when it is a bucket of this app."""
    if not isinstance(bucket, s3.Bucket) or not isinstance(bucket.node.default_child, s3.CfnBucket):
        return []  # an imported bucket: its encryption is not known at synth time
    encryption = bucket.node.default_child.bucket_encryption
    rules = getattr(encryption, "server_side_encryption_configuration", None) or []
    algorithms = [getattr(getattr(r, "server_side_encryption_by_default", None), "sse_algorithm", None) for r in rules]
    return [a for a in algorithms if isinstance(a, str) and a.startswith("aws:kms")]


def _object_pattern(objects_key_pattern: object) -> str:
    """The interface's ``objects_key_pattern`` (None: every object), checked."""
    if objects_key_pattern is None:
        return "*"
    if not isinstance(objects_key_pattern, str):
        raise TypeError(f"SecureBucket: objects_key_pattern must be str, got {objects_key_pattern!r}")
    if objects_key_pattern.startswith("/") or not objects_key_pattern:
        raise ValueError(
            f"SecureBucket: objects_key_pattern={objects_key_pattern!r}: must be a key pattern such as "
            "'incoming/*' (not empty, no leading '/')"
        )
    return objects_key_pattern


def _validate_key_prefix(key_prefix: str) -> None:
    if not isinstance(key_prefix, str):
        raise TypeError(f"SecureBucket: key_prefix must be str, got {key_prefix!r}")
    if key_prefix.startswith("/") or "*" in key_prefix:
        raise ValueError(f"SecureBucket: key_prefix={key_prefix!r}: must not start with '/' or contain '*'")


def validate_props(**props: Any) -> None:
    """Run the construction-time checks of :class:`SecureBucket` on ``props`` (the others at their
    defaults) without building anything: composite constructs call it inside
    :meth:`~serverless_patterns._validation.PropErrors.nested` to report problems up front."""
    values = {**constructor_defaults(SecureBucket.__init__), **props}
    check_prop_types("SecureBucket", SecureBucket.__init__, values)
    _validate(**values)


def _validate(
    *,
    encryption: s3.BucketEncryption,
    encryption_key: kms.IKey | None,
    versioned: bool,
    object_lock_enabled: bool,
    object_lock_default_retention: s3.ObjectLockRetention | None,
    server_access_logs_bucket: s3.IBucket | None,
    server_access_logs_prefix: str | None,
    access_logs_opt_out_reason: str | None,
    log_retention: Duration | None,
    noncurrent_version_expiration: Duration | None,
    abort_incomplete_multipart_upload_after: Duration | None,
    transitions: Sequence[s3.Transition],
    lifecycle_rules: Sequence[s3.LifecycleRule],
    removal_policy: RemovalPolicy,
    event_bridge_enabled: bool,
    cors: Sequence[s3.CorsRule],
    bucket_name: str | None,
    enforce_ssl: bool,
    minimum_tls_version: float,
    block_public_access: s3.BlockPublicAccess | None,
    object_ownership: s3.ObjectOwnership,
    tags: Mapping[str, str] | None,
) -> None:
    name = "SecureBucket"
    require_type(name, "encryption", encryption, s3.BucketEncryption)
    require_type(name, "encryption_key", encryption_key, kms.IKey)
    require_type(name, "server_access_logs_bucket", server_access_logs_bucket, s3.IBucket)
    require_type(name, "object_lock_default_retention", object_lock_default_retention, s3.ObjectLockRetention)
    require_type(name, "removal_policy", removal_policy, RemovalPolicy)
    for prop, value in (
        ("log_retention", log_retention),
        ("noncurrent_version_expiration", noncurrent_version_expiration),
        ("abort_incomplete_multipart_upload_after", abort_incomplete_multipart_upload_after),
    ):
        require_type(name, prop, value, Duration)
    for prop, value in (
        ("versioned", versioned),
        ("object_lock_enabled", object_lock_enabled),
        ("event_bridge_enabled", event_bridge_enabled),
        ("enforce_ssl", enforce_ssl),
    ):
        require_type(name, prop, value, bool)
    validate_tags(name, tags)

    errors = PropErrors(name)
    errors.check(
        encryption in _ALLOWED_ENCRYPTION,
        "encryption",
        encryption,
        "objects must be encrypted with a key you control: use KMS (default), or ask for "
        "S3_MANAGED or DSSE explicitly",
    )
    errors.check(
        encryption_key is None or encryption in (s3.BucketEncryption.KMS, s3.BucketEncryption.DSSE),
        "encryption_key",
        encryption_key,
        f"a key is only used with KMS or DSSE encryption, not {encryption}",
    )
    errors.check(
        not object_lock_enabled or versioned,
        "object_lock_enabled",
        object_lock_enabled,
        "Object Lock requires versioned=True",
    )
    errors.check(
        object_lock_default_retention is None or object_lock_enabled,
        "object_lock_default_retention",
        object_lock_default_retention,
        "a default retention requires object_lock_enabled=True",
    )
    errors.check(
        not (access_logs_opt_out_reason is not None and server_access_logs_bucket is not None),
        "access_logs_opt_out_reason",
        access_logs_opt_out_reason,
        "cannot opt out of access logs and pass server_access_logs_bucket at the same time",
    )
    kms_algorithms = _kms_default_encryption(server_access_logs_bucket)
    errors.check(
        not kms_algorithms,
        "server_access_logs_bucket",
        path_of(server_access_logs_bucket) if server_access_logs_bucket is not None and kms_algorithms else None,
        f"is encrypted with {', '.join(kms_algorithms)}; S3 delivers server access logs only into buckets whose "
        "default encryption is SSE-S3 (S3_MANAGED), into any other they never arrive",
    )
    errors.check(
        access_logs_opt_out_reason is None or bool(str(access_logs_opt_out_reason).strip()),
        "access_logs_opt_out_reason",
        access_logs_opt_out_reason,
        "say why access logs are not needed (the reason is recorded in the compliance report)",
    )
    errors.check(
        enforce_ssl is True,
        "enforce_ssl",
        enforce_ssl,
        "requests without TLS expose data and credentials in transit; it cannot be turned off",
    )
    errors.check(
        isinstance(minimum_tls_version, (int, float)) and minimum_tls_version >= 1.2,
        "minimum_tls_version",
        minimum_tls_version,
        "TLS 1.0 and 1.1 are deprecated; use 1.2 or higher",
    )
    errors.check(
        block_public_access is None or _blocks_all(block_public_access),
        "block_public_access",
        block_public_access,
        "every public-access block must stay on; share data through grants or CloudFront with OAC",
    )
    errors.check(
        object_ownership is s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        "object_ownership",
        object_ownership,
        "ACLs stay disabled (BUCKET_OWNER_ENFORCED); grant access with policies",
    )
    errors.check(
        bucket_name is None or is_token(bucket_name) or bool(_BUCKET_NAME.match(bucket_name)),
        "bucket_name",
        bucket_name,
        "must be 3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit",
    )
    errors.check(
        server_access_logs_prefix is None or not str(server_access_logs_prefix).startswith("/"),
        "server_access_logs_prefix",
        server_access_logs_prefix,
        "must not start with '/'",
    )
    for prop, value, minimum in (
        ("log_retention", log_retention, 1),
        ("noncurrent_version_expiration", noncurrent_version_expiration, 1),
        ("abort_incomplete_multipart_upload_after", abort_incomplete_multipart_upload_after, 1),
    ):
        days = duration_in_days(value)
        errors.check(
            days is None or (days >= minimum and days == int(days)),
            prop,
            f"{days} days" if days is not None else value,
            f"must be a whole number of days, at least {minimum}",
        )
    errors.raise_if_any()


def _blocks_all(value: s3.BlockPublicAccess) -> bool:
    return bool(
        value.block_public_acls
        and value.block_public_policy
        and value.ignore_public_acls
        and value.restrict_public_buckets
    )
