"""AuditTrail: a multi-Region CloudTrail trail, encrypted, validated, in its own SecureBucket and in CloudWatch Logs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aws_cdk import Annotations, Duration, Names, Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from . import _actions
from ._alarms import IMPORTED_ALARM_TOPIC_WARNING, allow_cloudwatch_alarms
from ._defaults import customer_managed_key, unique_physical_name
from ._log_groups import encrypted_log_group, log_group_arn
from ._resource_policies import check_key_region, require_key_statement
from ._roles import ManagedPolicyRole, service_policy
from ._validation import (
    PropErrors,
    _is_instance,
    describe,
    duration_in_days,
    is_token,
    require_type,
    type_name,
)
from .compliance import acknowledge
from .secure_bucket import SecureBucket
from .secure_bucket import validate_props as validate_bucket_props
from .tagging import apply_tags, validate_tags
from ._kernel import account_of, path_of, stack_of

_NAME = "AuditTrail"
_TRAIL_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|[._-](?=[A-Za-z0-9])){2,127}$")
_IP_ADDRESS = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_S3_KEY_PREFIX = re.compile(r"^[^/](?:.*[^/])?$")
_EVENTS = {
    cloudtrail.ReadWriteType.ALL: "reads and writes",
    cloudtrail.ReadWriteType.READ_ONLY: "reads",
    cloudtrail.ReadWriteType.WRITE_ONLY: "writes",
}
#: CloudTrail allows at most 500 values across all conditions of a trail's advanced event selectors.
MAX_SELECTOR_VALUES = 500

#: CIS AWS Foundations Benchmark (CloudWatch.1-3, 4, 5, 7) metric filters: (id, description, pattern).
SECURITY_ALARMS: tuple[tuple[str, str, str], ...] = (
    (
        "RootUsage",
        "The root user was used",
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
    ),
    (
        "UnauthorizedApiCalls",
        "API calls were denied",
        '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
    ),
    (
        "ConsoleSignInWithoutMfa",
        "An IAM user signed in to the console without MFA",
        (
            '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") '
            '&& ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }'
        ),
    ),
    (
        "IamPolicyChanges",
        "IAM policies were changed",
        "{ ($.eventSource = iam.amazonaws.com) && ("
        + " || ".join(
            f"($.eventName = {name})"
            for name in (
                "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy",
                "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion",
                "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy",
                "AttachGroupPolicy", "DetachGroupPolicy",
            )
        )
        + ") }",
    ),
    (
        "CloudTrailChanges",
        "A trail was created, changed, stopped or deleted",
        (
            "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || "
            "($.eventName = StartLogging) || ($.eventName = StopLogging) }"
        ),
    ),
    (
        "KmsKeyDisabledOrScheduledForDeletion",
        "A customer-managed KMS key was disabled or scheduled for deletion",
        "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }",
    ),
)

LOG_STREAM_PATTERN_REASON = (
    "CloudTrail names its log streams <account>_CloudTrail_<region>, one per Region of a multi-Region "
    "trail, so the role's permission names them by that pattern, inside this trail's log group only."
)


class AuditTrail(Construct):
    """A multi-Region CloudTrail trail with log file validation, KMS encryption and CloudWatch Logs.

    Management events are recorded (the first copy of management events in each Region is free);
    data events for chosen S3 buckets and DynamoDB tables are added with
    :meth:`add_s3_data_events` and :meth:`add_dynamodb_data_events` (charged per event). All event
    selectors are advanced event selectors.

    Parameters
    ----------
    scope, id
        The construct's parent and id.
    trail_name
        The trail's name. Default: generated from the construct path. The name is always set, so that
        the bucket and key policies can name the trail (``aws:SourceArn``) without a circular reference.
    management_events
        Which management events to record. Default: ``ReadWriteType.ALL``; ``READ_ONLY`` and
        ``WRITE_ONLY`` are accepted, ``NONE`` is refused.
    exclude_management_event_sources
        Event sources to leave out of management events, e.g. ``["kms.amazonaws.com"]`` (high volume).
        Default: none.
    insight_types
        CloudTrail Insights, e.g. ``[cloudtrail.InsightType.API_CALL_RATE]`` (charged per event
        analysed). Default: none.
    include_global_service_events
        Record events of global services such as IAM. Default: True.
    encryption_key
        A customer-managed KMS key for the log files, the bucket and the log group. The key policy of
        a ``kms.Key`` of this app gets the statements CloudTrail and CloudWatch Logs need; for an
        imported key (``kms.Key.from_key_arn``) a warning (``serverless-patterns:keyPolicyNotWritable``)
        names each statement its owner must add. Default: a new key with yearly rotation.
    log_retention
        Retention of the CloudWatch Logs copy. Default: one year.
    log_file_retention
        Delete log files from the bucket this long after delivery. Default: none (kept).
    object_lock_retention
        Enable S3 Object Lock with a governance-mode default retention of this length, so log files
        cannot be overwritten or deleted before then. Default: none.
    s3_key_prefix
        Prefix of log file keys. Default: none.
    server_access_logs_bucket
        Where the trail bucket's server access logs go. Default: a log bucket made by the trail's
        ``SecureBucket``.
    is_multi_region_trail, enable_file_validation
        Accepted only as True, so that code written for ``cloudtrail.Trail`` fails loudly instead of
        silently weakening the trail.
    tags
        Tags for every resource the construct creates. Default: none.

    Examples
    --------
    >>> audit = AuditTrail(stack, "Audit")  # doctest: +SKIP
    >>> audit.add_s3_data_events([documents])  # doctest: +SKIP
    >>> audit.add_dynamodb_data_events([orders_table])  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        trail_name: str | None = None,
        management_events: cloudtrail.ReadWriteType = cloudtrail.ReadWriteType.ALL,
        exclude_management_event_sources: Sequence[str] = (),
        insight_types: Sequence[cloudtrail.InsightType] = (),
        include_global_service_events: bool = True,
        encryption_key: kms.IKey | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        log_file_retention: Duration | None = None,
        object_lock_retention: Duration | None = None,
        s3_key_prefix: str | None = None,
        server_access_logs_bucket: s3.IBucket | None = None,
        is_multi_region_trail: bool = True,
        enable_file_validation: bool = True,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        _validate(**{k: v for k, v in locals().items() if k not in ("self", "scope", "id", "__class__")})
        region_errors = PropErrors(_NAME)
        check_key_region(region_errors, "encryption_key", encryption_key, scope)
        region_errors.raise_if_any()
        super().__init__(scope, id)
        self._warned_sns_action = False
        stack = stack_of(self)
        self.trail_name: str = trail_name or Names.unique_resource_name(self, max_length=128, separator="-")
        self.trail_arn: str = stack.format_arn(service="cloudtrail", resource="trail", resource_name=self.trail_name)
        self._management_events = management_events
        self._excluded_sources = list(exclude_management_event_sources)
        self._data_selectors: dict[tuple[str, str, cloudtrail.ReadWriteType], list[str]] = {}

        self.encryption_key: kms.IKey = encryption_key or customer_managed_key(
            self, "Key", description=f"Encrypts the CloudTrail logs of {path_of(self)}"
        )
        self._allow_cloudtrail_to_use_key()

        self.bucket: SecureBucket = SecureBucket(
            self,
            "Bucket",
            encryption_key=self.encryption_key,
            server_access_logs_bucket=server_access_logs_bucket,
            object_lock_enabled=object_lock_retention is not None,
            object_lock_default_retention=(
                s3.ObjectLockRetention.governance(object_lock_retention) if object_lock_retention else None
            ),
            lifecycle_rules=(
                [s3.LifecycleRule(id="expire-log-files", expiration=log_file_retention)] if log_file_retention else []
            ),
        )
        log_prefix = f"{s3_key_prefix}/" if s3_key_prefix else ""
        self._allow_cloudtrail_to_write(log_prefix)

        log_group_name = unique_physical_name(self, f"/aws/cloudtrail/{self.trail_name}", max_length=512)
        self.log_group: logs.LogGroup = encrypted_log_group(
            self, "LogGroup", name=log_group_name, key=self.encryption_key, retention=log_retention
        )
        self.logs_role: ManagedPolicyRole = self._create_logs_role(log_group_name)

        # The bucket is handed over as an import: the L2 would otherwise add bucket policy statements
        # without the aws:SourceArn condition. The scoped statements are added above.
        self.trail: cloudtrail.Trail = cloudtrail.Trail(
            self,
            "Resource",
            trail_name=self.trail_name,
            bucket=s3.Bucket.from_bucket_attributes(
                self, "TrailBucket", bucket_name=self.bucket.bucket_name, bucket_arn=self.bucket.bucket_arn
            ),
            s3_key_prefix=s3_key_prefix,
            encryption_key=self.encryption_key,
            enable_file_validation=True,
            is_multi_region_trail=True,
            include_global_service_events=include_global_service_events,
            insight_types=list(insight_types) or None,
            send_to_cloud_watch_logs=False,
        )
        self._cfn_trail: cloudtrail.CfnTrail = self.trail.node.default_child
        self._cfn_trail.cloud_watch_logs_log_group_arn = self.log_group.log_group_arn
        self._cfn_trail.cloud_watch_logs_role_arn = self.logs_role.role_arn
        self._cfn_trail.add_property_deletion_override("EventSelectors")
        self._cfn_trail.add_property_override("AdvancedEventSelectors", self._selectors({}))
        for dependency in (self.bucket.bucket.policy, self.logs_policy):
            self._cfn_trail.node.add_dependency(dependency)
        apply_tags(self, _NAME, tags)

    # ---- data events ----------------------------------------------------------------------

    def add_s3_data_events(
        self,
        buckets: Iterable[Any],
        *,
        key_prefix: str = "",
        read_write_type: cloudtrail.ReadWriteType = cloudtrail.ReadWriteType.ALL,
    ) -> None:
        """Record object-level S3 events (``GetObject``, ``PutObject``, ...) for ``buckets``.

        ``buckets`` holds ``s3.IBucket`` objects or objects with a ``.bucket`` attribute (such as
        ``SecureBucket``). ``key_prefix`` limits the events to keys under it. Default: all keys, reads
        and writes. The trail's own bucket is refused: logging it would log its own log deliveries.
        """
        _validate_read_write(read_write_type)
        if not isinstance(key_prefix, str) or key_prefix.startswith("/") or "*" in key_prefix:
            raise ValueError(f"{_NAME}: key_prefix={key_prefix!r}: must be a str without a leading '/' or '*'")
        arns = []
        for bucket in _unwrap(buckets, "bucket", s3.IBucket, "buckets"):
            if bucket is self.bucket.bucket or bucket.bucket_arn == self.bucket.bucket_arn:
                raise ValueError(
                    f"{_NAME}: buckets: the trail's own bucket cannot be given; its data events would "
                    "record CloudTrail's own log deliveries"
                )
            arns.append(f"{bucket.bucket_arn}/{key_prefix}")
        self._add_data_selector("AWS::S3::Object", "StartsWith", read_write_type, arns)

    def add_dynamodb_data_events(
        self, tables: Iterable[Any], *, read_write_type: cloudtrail.ReadWriteType = cloudtrail.ReadWriteType.ALL
    ) -> None:
        """Record item-level DynamoDB events (``GetItem``, ``PutItem``, ``Query``, ...) for ``tables``.

        ``tables`` holds ``dynamodb.ITable`` objects or objects with a ``.table`` attribute. Default:
        reads and writes.
        """
        _validate_read_write(read_write_type)
        arns = [table.table_arn for table in _unwrap(tables, "table", dynamodb.ITable, "tables")]
        self._add_data_selector("AWS::DynamoDB::Table", "Equals", read_write_type, arns)

    def _add_data_selector(
        self, resource_type: str, operator: str, read_write_type: cloudtrail.ReadWriteType, arns: list[str]
    ) -> None:
        key = (resource_type, operator, read_write_type)
        data = dict(self._data_selectors)
        data[key] = list(dict.fromkeys([*data.get(key, []), *arns]))
        selectors = self._selectors(data)
        values = sum(len(v) for s in selectors for f in s["FieldSelectors"] for k, v in f.items() if k != "Field")
        if values > MAX_SELECTOR_VALUES:
            raise ValueError(
                f"{_NAME}: the event selectors would hold {values} values; CloudTrail allows at most "
                f"{MAX_SELECTOR_VALUES} per trail (log fewer resources)"
            )
        self._data_selectors = data
        self._cfn_trail.add_property_override("AdvancedEventSelectors", selectors)

    def _selectors(
        self, data: Mapping[tuple[str, str, cloudtrail.ReadWriteType], list[str]]
    ) -> list[dict[str, Any]]:
        management = [{"Field": "eventCategory", "Equals": ["Management"]}]
        management += _read_only_field(self._management_events)
        if self._excluded_sources:
            management.append({"Field": "eventSource", "NotEquals": self._excluded_sources})
        selectors = [{"Name": "Management events", "FieldSelectors": management}]
        for (resource_type, operator, read_write_type), arns in data.items():
            fields = [
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": [resource_type]},
                {"Field": "resources.ARN", operator: arns},
                *_read_only_field(read_write_type),
            ]
            selectors.append({"Name": f"{resource_type} data events ({_EVENTS[read_write_type]})", "FieldSelectors": fields})
        return selectors

    # ---- alarms ---------------------------------------------------------------------------

    def add_security_alarms(self, action: Any) -> dict[str, cloudwatch.Alarm]:
        """Metric filters and alarms for the CIS AWS Foundations Benchmark CloudWatch controls.

        One alarm per entry of :data:`SECURITY_ALARMS` (root user use, denied API calls, console
        sign-in without MFA, IAM policy changes, trail changes, KMS key disabling or deletion), each
        firing ``action`` when its pattern matches at least once in 5 minutes. Returns the alarms by id.

        ``action`` is best an :class:`AlertTopic` or an ``sns.ITopic``: the topic policy and key policy
        of a topic of this app are then extended so that CloudWatch can publish (see
        :func:`~serverless_patterns._alarms.allow_cloudwatch_alarms`). Any other
        ``cloudwatch.IAlarmAction`` is used as given; for an ``SnsAction`` the construct cannot see the
        topic and warns that its owner must let CloudWatch in.
        """
        return {
            alarm_id: self.alarm_on_pattern(alarm_id, pattern=pattern, description=description, action=action)
            for alarm_id, description, pattern in SECURITY_ALARMS
        }

    def alarm_on_pattern(self, id: str, *, pattern: str, description: str, action: Any) -> cloudwatch.Alarm:
        """An alarm that fires ``action`` when ``pattern`` (CloudWatch Logs filter syntax) matches.

        The metric ``<id>`` in namespace ``AuditTrail/<trail name>`` counts matching events (Sum over
        5 minutes); the alarm fires at 1 and treats missing data as not breaching. ``action``: an
        :class:`AlertTopic`, an ``sns.ITopic`` or a ``cloudwatch.IAlarmAction`` (see
        :meth:`add_security_alarms`).
        """
        action = self._alarm_action(action)
        for prop, value in (("id", id), ("pattern", pattern), ("description", description)):
            require_type(_NAME, prop, value, str)
            if not value.strip():
                raise ValueError(f"{_NAME}: {prop}={value!r}: must not be empty")
        metric_filter = logs.MetricFilter(
            self,
            f"{id}Filter",
            log_group=self.log_group,
            filter_pattern=logs.FilterPattern.literal(pattern),
            metric_namespace=f"AuditTrail/{self.trail_name}",
            metric_name=id,
            metric_value="1",
        )
        alarm = metric_filter.metric(statistic="Sum", period=Duration.minutes(5)).create_alarm(
            self,
            f"{id}Alarm",
            alarm_description=f"{description} (trail {self.trail_name})",
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(action)
        return alarm

    def _alarm_action(self, action: Any) -> cloudwatch.IAlarmAction:
        if action is None:
            raise TypeError(f"{_NAME}: action must be AlertTopic, ITopic or IAlarmAction, got None")
        if hasattr(action, "alarm_action") and hasattr(action, "topic"):  # AlertTopic
            return action.alarm_action
        if _is_instance(action, sns.ITopic):
            allow_cloudwatch_alarms(self, action)
            return cw_actions.SnsAction(action)
        require_type(_NAME, "action", action, cloudwatch.IAlarmAction)
        if isinstance(action, cw_actions.SnsAction) and not self._warned_sns_action:
            self._warned_sns_action = True
            Annotations.of(self).add_warning_v2(
                IMPORTED_ALARM_TOPIC_WARNING,
                f"{path_of(self)}: the alarms publish through an SnsAction, whose topic this construct cannot "
                "see. Pass the topic itself (AlertTopic or sns.ITopic) so that CloudWatch is let in, or make sure "
                "its topic policy allows sns:Publish to cloudwatch.amazonaws.com and its KMS key allows "
                "kms:Decrypt and kms:GenerateDataKey to cloudwatch.amazonaws.com.",
            )
        return action

    # ---- permissions ----------------------------------------------------------------------

    def _allow_cloudtrail_to_use_key(self) -> None:
        stack = stack_of(self)
        principal = iam.ServicePrincipal("cloudtrail.amazonaws.com")
        require_key_statement(
            self,
            self.encryption_key,
            iam.PolicyStatement(
                sid="AllowCloudTrailToEncryptLogs",
                principals=[principal],
                actions=_actions.KMS_GENERATE_DATA_KEY,
                resources=["*"],  # in a key policy, "*" means this key
                conditions={
                    "StringEquals": {"aws:SourceArn": self.trail_arn},
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:{stack.partition}:cloudtrail:*:{stack.account}:trail/*"
                    },
                },
            ),
            purpose=f"CloudTrail to encrypt the log files of {path_of(self)}",
        )
        require_key_statement(
            self,
            self.encryption_key,
            iam.PolicyStatement(
                sid="AllowCloudTrailToDescribeKey",
                principals=[principal],
                actions=_actions.KMS_DESCRIBE,
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceArn": self.trail_arn}},
            ),
            purpose=f"CloudTrail to check the key of {path_of(self)}",
        )

    def _allow_cloudtrail_to_write(self, log_prefix: str) -> None:
        bucket = self.bucket.bucket
        principal = iam.ServicePrincipal("cloudtrail.amazonaws.com")
        only_this_trail = {"aws:SourceArn": self.trail_arn}
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[principal],
                actions=["s3:GetBucketAcl"],
                resources=[bucket.bucket_arn],
                conditions={"StringEquals": only_this_trail},
            )
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[principal],
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{log_prefix}AWSLogs/{account_of(self)}/*")],
                conditions={"StringEquals": {**only_this_trail, "s3:x-amz-acl": "bucket-owner-full-control"}},
            )
        )

    def _create_logs_role(self, log_group_name: str) -> ManagedPolicyRole:
        stack = stack_of(self)
        role = ManagedPolicyRole(
            self,
            "LogsRole",
            assumed_by=iam.ServicePrincipal(
                "cloudtrail.amazonaws.com", conditions={"StringEquals": {"aws:SourceArn": self.trail_arn}}
            ),
            description=f"Lets CloudTrail deliver {path_of(self)} to CloudWatch Logs",
        )
        streams = f"{log_group_arn(self, log_group_name)}:log-stream:{stack.account}_CloudTrail_*"
        #: The role's only permissions, in a policy of their own that alone carries the acknowledgement.
        self.logs_policy: iam.ManagedPolicy = service_policy(
            role,
            "DeliveryPolicy",
            role=role,
            statements=[iam.PolicyStatement(actions=_actions.CLOUDWATCH_LOGS_WRITE, resources=[streams])],
            description=f"Lets CloudTrail write {path_of(self)}'s log streams",
            findings=[f"AwsSolutions-IAM5[Resource::{_nag_string(stack, streams)}]"],
            reason=LOG_STREAM_PATTERN_REASON,
        )
        return role


def _nag_string(stack: Stack, value: str) -> str:
    """``value`` as cdk-nag writes it in finding ids (its ``flattenCfnReference``): ``<Ref>``,
    ``<Logical.Attr>``, joins flattened, any other intrinsic as compact JSON."""

    def visit(node: Any) -> str:
        if isinstance(node, str):
            return node.replace("${", "<").replace("}", ">")
        if isinstance(node, dict) and "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return delimiter.join(visit(item) for item in items)
        if isinstance(node, dict) and "Fn::GetAtt" in node:
            return f"<{'.'.join(node['Fn::GetAtt'])}>"
        if isinstance(node, dict) and "Ref" in node:
            return f"<{node['Ref']}>"
        return json.dumps(node, separators=(",", ":"))

    return visit(stack.resolve(value))


def _read_only_field(read_write_type: cloudtrail.ReadWriteType) -> list[dict[str, Any]]:
    if read_write_type is cloudtrail.ReadWriteType.READ_ONLY:
        return [{"Field": "readOnly", "Equals": ["true"]}]
    if read_write_type is cloudtrail.ReadWriteType.WRITE_ONLY:
        return [{"Field": "readOnly", "Equals": ["false"]}]
    return []


def _validate_read_write(read_write_type: cloudtrail.ReadWriteType) -> None:
    require_type(_NAME, "read_write_type", read_write_type, cloudtrail.ReadWriteType)
    if read_write_type is cloudtrail.ReadWriteType.NONE:
        raise ValueError(f"{_NAME}: read_write_type={read_write_type!r}: NONE records nothing; leave the resources out")


def _unwrap(items: Iterable[Any], attribute: str, expected: type, prop: str) -> list[Any]:
    """Accept ``expected`` objects or wrappers exposing one as ``attribute`` (``SecureBucket.bucket``)."""
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise TypeError(f"{_NAME}: {prop} must be an iterable, got {items!r}")
    result = []
    for item in items:
        candidate = getattr(item, attribute, item) if not _implements(item, expected) else item
        if not _implements(candidate, expected):
            raise TypeError(
                f"{_NAME}: {prop} must hold {expected.__name__} objects or objects with a .{attribute} "
                f"attribute, got {type_name(item)} ({describe(item)})"
            )
        result.append(candidate)
    if not result:
        raise ValueError(f"{_NAME}: {prop} is empty; pass at least one")
    return result


def _implements(value: Any, expected: type) -> bool:
    try:
        require_type(_NAME, "-", value, expected)
    except TypeError:
        return False
    return value is not None


def _validate(
    *,
    trail_name: str | None,
    management_events: cloudtrail.ReadWriteType,
    exclude_management_event_sources: Sequence[str],
    insight_types: Sequence[cloudtrail.InsightType],
    include_global_service_events: bool,
    encryption_key: kms.IKey | None,
    log_retention: logs.RetentionDays,
    log_file_retention: Duration | None,
    object_lock_retention: Duration | None,
    s3_key_prefix: str | None,
    server_access_logs_bucket: s3.IBucket | None,
    is_multi_region_trail: bool,
    enable_file_validation: bool,
    tags: Mapping[str, str] | None,
) -> None:
    require_type(_NAME, "trail_name", trail_name, str)
    require_type(_NAME, "management_events", management_events, cloudtrail.ReadWriteType)
    require_type(_NAME, "encryption_key", encryption_key, kms.IKey)
    require_type(_NAME, "log_retention", log_retention, logs.RetentionDays)
    require_type(_NAME, "s3_key_prefix", s3_key_prefix, str)
    require_type(_NAME, "server_access_logs_bucket", server_access_logs_bucket, s3.IBucket)
    for prop, value in (("log_file_retention", log_file_retention), ("object_lock_retention", object_lock_retention)):
        require_type(_NAME, prop, value, Duration)
    for prop, value in (
        ("include_global_service_events", include_global_service_events),
        ("is_multi_region_trail", is_multi_region_trail),
        ("enable_file_validation", enable_file_validation),
    ):
        require_type(_NAME, prop, value, bool)
    for insight in insight_types:
        require_type(_NAME, "insight_types", insight, cloudtrail.InsightType)
    if isinstance(exclude_management_event_sources, str) or not all(
        isinstance(source, str) for source in exclude_management_event_sources
    ):
        raise TypeError(
            f"{_NAME}: exclude_management_event_sources must be a sequence of str, got {exclude_management_event_sources!r}"
        )
    validate_tags(_NAME, tags)

    errors = PropErrors(_NAME)
    errors.check(
        trail_name is None
        or is_token(trail_name)
        or (bool(_TRAIL_NAME.match(trail_name)) and not _IP_ADDRESS.match(trail_name)),
        "trail_name",
        trail_name,
        "must be 3-128 letters, digits, '.', '_' or '-', start and end with a letter or digit, have no two "
        "symbols in a row and not look like an IP address",
    )
    errors.check(
        management_events is not cloudtrail.ReadWriteType.NONE,
        "management_events",
        management_events,
        "management events are the audit record of who changed what; record ALL, READ_ONLY or WRITE_ONLY",
    )
    errors.check(
        is_multi_region_trail is True,
        "is_multi_region_trail",
        is_multi_region_trail,
        "activity in other Regions must be recorded too; it cannot be turned off",
    )
    errors.check(
        enable_file_validation is True,
        "enable_file_validation",
        enable_file_validation,
        "digest files prove that log files were not changed or deleted; it cannot be turned off",
    )
    for source in exclude_management_event_sources:
        errors.check(
            is_token(source) or source.endswith(".amazonaws.com"),
            "exclude_management_event_sources",
            source,
            "must be an event source such as 'kms.amazonaws.com' or 'rdsdata.amazonaws.com'",
        )
    errors.check(
        s3_key_prefix is None or is_token(s3_key_prefix) or bool(_S3_KEY_PREFIX.match(s3_key_prefix)),
        "s3_key_prefix",
        s3_key_prefix,
        "must not be empty or start or end with '/'",
    )
    for prop, value in (("log_file_retention", log_file_retention), ("object_lock_retention", object_lock_retention)):
        days = duration_in_days(value)
        errors.check(
            days is None or (days >= 1 and days == int(days)),
            prop,
            f"{days} days" if days is not None else value,
            "must be a whole number of days, at least 1",
        )
    lock_days, expiry_days = duration_in_days(object_lock_retention), duration_in_days(log_file_retention)
    errors.check(
        lock_days is None or expiry_days is None or expiry_days >= lock_days,
        "log_file_retention",
        f"{expiry_days} days" if expiry_days is not None else log_file_retention,
        f"must not be shorter than object_lock_retention ({lock_days} days)",
    )
    # The props handed on to the trail's bucket: its problems are reported here, under these names.
    with errors.nested(
        {
            "encryption_key": "encryption_key",
            "server_access_logs_bucket": "server_access_logs_bucket",
            "object_lock_default_retention": "object_lock_retention",
            "lifecycle_rules": "log_file_retention",
        }
    ):
        validate_bucket_props(
            encryption_key=encryption_key,
            server_access_logs_bucket=server_access_logs_bucket,
            object_lock_enabled=object_lock_retention is not None,
            object_lock_default_retention=(
                s3.ObjectLockRetention.governance(object_lock_retention)
                if object_lock_retention is not None and not errors.has("object_lock_retention")
                else None
            ),
        )
    errors.raise_if_any()
