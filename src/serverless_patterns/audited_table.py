"""AuditedTable: a DynamoDB table whose data cannot be silently lost and whose use is answerable."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import (
    CfnParameter,
    Duration,
    RemovalPolicy,
    Stack,
    aws_backup as backup,
    aws_cloudtrail as cloudtrail,
    aws_cloudwatch as cloudwatch,
    aws_dynamodb as dynamodb,
    aws_iam as iam,
    aws_kms as kms,
    aws_sns as sns,
)
from constructs import Construct

from . import _actions
from ._kernel import path_of, principal_of
from ._interop import TableInterface
from ._defaults import (
    STATEFUL_REMOVAL_POLICY,
    apply_removal_policy,
    check_deletion_protection,
    customer_managed_key,
    protected_unless_destroyed,
)
from ._prop_types import check_prop_types
from ._roles import allow_list_streams
from ._validation import PropErrors, is_token, require_type
from ._alarms import threshold_alarm
from .alert_topic import AlertTopic
from .compliance import acknowledge, acknowledge_all, in_every_pack
from .tagging import apply_tags, validate_tags

_NAME = "AuditedTable"

#: The least provisioned read or write capacity the construct accepts, for tables and indexes.
MIN_PROVISIONED_CAPACITY = 5

#: Operations summed by :meth:`AuditedTable.metric_throttled_requests_for_operations` and
#: :meth:`AuditedTable.metric_system_errors_for_operations` by default: the item operations of the SDKs. A
#: CloudWatch alarm on a math expression may read at most 10 metrics, one per operation.
DEFAULT_METRIC_OPERATIONS: tuple[dynamodb.Operation, ...] = (
    dynamodb.Operation.GET_ITEM,
    dynamodb.Operation.BATCH_GET_ITEM,
    dynamodb.Operation.QUERY,
    dynamodb.Operation.SCAN,
    dynamodb.Operation.PUT_ITEM,
    dynamodb.Operation.UPDATE_ITEM,
    dynamodb.Operation.DELETE_ITEM,
    dynamodb.Operation.BATCH_WRITE_ITEM,
    dynamodb.Operation.TRANSACT_GET_ITEMS,
    dynamodb.Operation.TRANSACT_WRITE_ITEMS,
)
_MAX_ALARM_METRICS = 10
_INDEX_PROPS = (
    "index_name",
    "partition_key",
    "sort_key",
    "partition_keys",
    "sort_keys",
    "projection_type",
    "non_key_attributes",
    "read_capacity",
    "write_capacity",
    "max_read_request_units",
    "max_write_request_units",
    "warm_throughput",
    "contributor_insights_enabled",
    "contributor_insights_specification",
)
_MAX_GSIS = 20
_AUTO_SCALING_HEADROOM = 4  # default maximum capacity = 4 x the provisioned capacity

_TABLE_OR_INDEX_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_PARAMETER_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,200}$")

NO_BACKUP_PLAN_REASON = (
    "Point-in-time recovery is always on (continuous backups, restorable to any second of the "
    "recovery period), deletion protection is on and the table is retained. An AWS Backup plan "
    "(longer retention, vault lock, cross-account copies) is organisation policy the construct "
    "cannot choose; pass backup_plan to add the table to one."
)
BACKUP_SERVICE_ROLE_REASON = (
    "AWS Backup needs a service role; AWSBackupServiceRolePolicyForBackup is the policy AWS "
    "documents for it and keeps current as services add backup actions. A hand-written copy would "
    "break backups silently when that changes. The role can be assumed only by "
    "backup.amazonaws.com."
)


@jsii.implements(dynamodb.ITable)
class AuditedTable(TableInterface, Construct):
    """A DynamoDB table that is encrypted with your key, recoverable, protected and observable.

    The construct is a ``dynamodb.ITable``: pass it wherever CDK takes a table (event sources,
    grants, integrations); the ``dynamodb.Table`` it owns is :attr:`table`.

    Parameters
    ----------
    scope, id
        The construct's parent and id.
    partition_key
        The partition key, e.g. ``dynamodb.Attribute(name="pk", type=AttributeType.STRING)``.
    sort_key
        The sort key. Default: none.
    global_secondary_indexes
        Indexes as ``dynamodb.GlobalSecondaryIndexProps`` (at most 20, unique names). In provisioned
        mode an index without capacity gets the table's, and it is auto scaled like the table.
        Default: none.
    time_to_live_attribute
        Name of a Number attribute holding the expiry time in epoch seconds. Default: TTL off.
    stream
        Turn DynamoDB Streams on with this view, e.g. ``StreamViewType.NEW_AND_OLD_IMAGES`` for a
        change log of every write (kept 24 hours). Default: no stream.
    billing_mode
        Default: ``BillingMode.PAY_PER_REQUEST`` (on-demand). ``PROVISIONED`` adds target-tracking
        auto scaling of reads and writes of the table and every index.
    read_capacity, write_capacity
        Provisioned capacity units, at least 5 each; CloudFormation parameters are accepted (see
        :func:`capacity_parameters`). Only with ``PROVISIONED``. Default: 5.
    max_read_capacity, max_write_capacity
        Upper bound of auto scaling. Only with ``PROVISIONED``. Default: 4 x the capacity;
        required when the capacity is a CloudFormation parameter.
    target_utilization_percent
        Auto scaling keeps consumed/provisioned capacity near this value (20-90). Default: 70.
    encryption_key
        A key of your own. Default: a new customer-managed key with rotation, retained.
    point_in_time_recovery_period_days
        Days of continuous backups to restore from (1-35). Point-in-time recovery is always on.
        Default: 35.
    deletion_protection
        Default: follows ``removal_policy``: on, except with ``RemovalPolicy.DESTROY``. ``False``
        only together with ``DESTROY``; ``True`` together with ``DESTROY`` is refused (CloudFormation
        cannot delete a protected table).
    removal_policy
        Default: ``RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE`` (kept on stack delete and
        replacement, removed when a failed create rolls back). ``DESTROY`` (throwaway stacks only)
        deletes the table with the stack and turns deletion protection off.
        ``SNAPSHOT`` is not supported by DynamoDB.
    table_name
        A physical name. Default: generated (a fixed name blocks replacement).
    table_class
        Default: ``TableClass.STANDARD``.
    contributor_insights
        CloudWatch Contributor Insights for the table (most accessed and throttled keys). Costs per
        rule and **per matched event, that is per request**. Default: False.
    contributor_insights_mode
        ``ACCESSED_AND_THROTTLED_KEYS`` or ``THROTTLED_KEYS``. Requires ``contributor_insights``.
        Default: ``ACCESSED_AND_THROTTLED_KEYS``.
    backup_plan
        An AWS Backup plan to add the table to. Costs per GB of backup storage. Default: none
        (point-in-time recovery only; acknowledged, see the docs).
    alarm_topic
        The topic the alarms notify on ALARM and OK: an :class:`AlertTopic` or any ``sns.ITopic``
        (imported ones included; see ``serverless-patterns:alarmTopicNotWritable``). Default: none
        (alarms change state only).
    throttled_requests_alarm_threshold
        Alarm when this many requests are throttled in one ``alarm_period``; ``None`` turns the
        alarm off. Default: 1.
    system_errors_alarm_threshold
        Alarm when DynamoDB returns this many HTTP 500 errors in one ``alarm_period``; ``None``
        turns the alarm off. Default: 1.
    alarm_period
        Whole minutes. Default: 5 minutes.
    alarm_evaluation_periods
        Consecutive periods over the threshold before the alarm fires. Default: 1.
    alarm_operations
        The operations both alarms sum, 1-10 ``dynamodb.Operation`` values. Each is one alarm
        metric ($0.10 a month): give the operations the table's callers make, since an operation
        nobody calls has no data and can never raise the alarm. Default:
        :data:`DEFAULT_METRIC_OPERATIONS` (the 10 item operations).
    tags
        Tags for every resource the construct creates. Default: none (the construct's own
        ``serverless-patterns:construct`` tag is always added).

    Examples
    --------
    >>> orders = AuditedTable(stack, "Orders", partition_key=dynamodb.Attribute(  # doctest: +SKIP
    ...     name="pk", type=dynamodb.AttributeType.STRING))
    >>> orders.grant_read_write_data(function)  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        partition_key: dynamodb.Attribute,
        sort_key: dynamodb.Attribute | None = None,
        global_secondary_indexes: Sequence[dynamodb.GlobalSecondaryIndexProps] = (),
        time_to_live_attribute: str | None = None,
        stream: dynamodb.StreamViewType | None = None,
        billing_mode: dynamodb.BillingMode = dynamodb.BillingMode.PAY_PER_REQUEST,
        read_capacity: float | None = None,
        write_capacity: float | None = None,
        max_read_capacity: float | None = None,
        max_write_capacity: float | None = None,
        target_utilization_percent: float | None = None,
        encryption_key: kms.IKey | None = None,
        point_in_time_recovery_period_days: int = 35,
        deletion_protection: bool | None = None,
        removal_policy: RemovalPolicy = STATEFUL_REMOVAL_POLICY,
        table_name: str | None = None,
        table_class: dynamodb.TableClass | None = None,
        contributor_insights: bool = False,
        contributor_insights_mode: dynamodb.ContributorInsightsMode | None = None,
        backup_plan: backup.IBackupPlan | None = None,
        alarm_topic: AlertTopic | sns.ITopic | None = None,
        throttled_requests_alarm_threshold: float | None = 1,
        system_errors_alarm_threshold: float | None = 1,
        alarm_period: Duration | None = None,
        alarm_evaluation_periods: int = 1,
        alarm_operations: Sequence[dynamodb.Operation] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        check_prop_types("AuditedTable", AuditedTable.__init__, locals())
        _validate(
            **{k: v for k, v in locals().items() if k not in ("self", "scope", "id", "__class__")}
        )
        super().__init__(scope, id)
        deletion_protection = protected_unless_destroyed(removal_policy, deletion_protection)
        provisioned = billing_mode is dynamodb.BillingMode.PROVISIONED
        if provisioned:
            read_capacity = MIN_PROVISIONED_CAPACITY if read_capacity is None else read_capacity
            write_capacity = MIN_PROVISIONED_CAPACITY if write_capacity is None else write_capacity

        self._table_name: str | None = None
        self._table_arn: str | None = None
        self._encryption_key: kms.IKey = encryption_key or customer_managed_key(
            self, "Key", description=f"Encrypts the DynamoDB table {path_of(self)}"
        )
        self.table: dynamodb.Table = dynamodb.Table(
            self,
            "Resource",
            table_name=table_name,
            partition_key=partition_key,
            sort_key=sort_key,
            billing_mode=billing_mode,
            read_capacity=read_capacity,
            write_capacity=write_capacity,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self._encryption_key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True,
                # The L2 range-checks this value even when it is a parameter; set tokens below.
                recovery_period_in_days=None
                if is_token(point_in_time_recovery_period_days)
                else point_in_time_recovery_period_days,
            ),
            deletion_protection=deletion_protection,
            removal_policy=removal_policy,
            time_to_live_attribute=time_to_live_attribute,
            stream=stream,
            table_class=table_class,
            contributor_insights_specification=(
                dynamodb.ContributorInsightsSpecification(
                    enabled=True,
                    mode=contributor_insights_mode
                    or dynamodb.ContributorInsightsMode.ACCESSED_AND_THROTTLED_KEYS,
                )
                if contributor_insights
                else None
            ),
        )
        if is_token(point_in_time_recovery_period_days):
            self.table.node.default_child.add_property_override(
                "PointInTimeRecoverySpecification.RecoveryPeriodInDays",
                point_in_time_recovery_period_days,
            )
        self._index_names: list[str] = []
        for index in global_secondary_indexes:
            self.table.add_global_secondary_index(
                **_index_props(index, provisioned, read_capacity, write_capacity)
            )
            self._index_names.append(index.index_name)

        if provisioned:
            self._enable_auto_scaling(
                global_secondary_indexes,
                read=(read_capacity, max_read_capacity),
                write=(write_capacity, max_write_capacity),
                target=70 if target_utilization_percent is None else target_utilization_percent,
            )

        if backup_plan is not None:
            self._add_to_backup_plan(backup_plan)
        else:
            acknowledge_all(
                self.table,
                in_every_pack("DynamoDBInBackupPlan", ("HIPAA.Security", "NIST.800.53.R5")),
                NO_BACKUP_PLAN_REASON,
            )

        period = alarm_period or Duration.minutes(5)
        self.throttled_requests_alarm: cloudwatch.Alarm | None = None
        self.system_errors_alarm: cloudwatch.Alarm | None = None
        if throttled_requests_alarm_threshold is not None:
            self.throttled_requests_alarm = threshold_alarm(
                self,
                "ThrottledRequestsAlarm",
                metric=self.metric_throttled_requests_for_operations(operations=alarm_operations, period=period),
                threshold=throttled_requests_alarm_threshold,
                evaluation_periods=alarm_evaluation_periods,
                topic=alarm_topic,
                description=f"Requests to {path_of(self)} were throttled (capacity, hot keys or limits).",
            )
        if system_errors_alarm_threshold is not None:
            self.system_errors_alarm = threshold_alarm(
                self,
                "SystemErrorsAlarm",
                metric=self.metric_system_errors_for_operations(operations=alarm_operations, period=period),
                threshold=system_errors_alarm_threshold,
                evaluation_periods=alarm_evaluation_periods,
                topic=alarm_topic,
                description=f"DynamoDB returned HTTP 500 errors for {path_of(self)}.",
            )
        apply_removal_policy(self, removal_policy)  # the table and its key
        apply_tags(self, _NAME, tags)

    # ---- construction helpers ---------------------------------------------------------------

    def _enable_auto_scaling(
        self,
        indexes: Sequence[dynamodb.GlobalSecondaryIndexProps],
        *,
        read: tuple[float | None, float | None],
        write: tuple[float | None, float | None],
        target: float,
    ) -> None:
        (read_min, read_max), (write_min, write_max) = read, write
        read_max = _default_max(read_min, read_max)
        write_max = _default_max(write_min, write_max)
        self.table.auto_scale_read_capacity(
            min_capacity=read_min, max_capacity=read_max
        ).scale_on_utilization(target_utilization_percent=target)
        self.table.auto_scale_write_capacity(
            min_capacity=write_min, max_capacity=write_max
        ).scale_on_utilization(target_utilization_percent=target)
        for index in indexes:
            index_read = read_min if index.read_capacity is None else index.read_capacity
            index_write = write_min if index.write_capacity is None else index.write_capacity
            self.table.auto_scale_global_secondary_index_read_capacity(
                index.index_name, min_capacity=index_read, max_capacity=read_max
            ).scale_on_utilization(target_utilization_percent=target)
            self.table.auto_scale_global_secondary_index_write_capacity(
                index.index_name, min_capacity=index_write, max_capacity=write_max
            ).scale_on_utilization(target_utilization_percent=target)

    def _add_to_backup_plan(self, plan: backup.IBackupPlan) -> None:
        selection = backup.BackupSelection(
            self,
            "BackupSelection",
            backup_plan=plan,
            resources=[backup.BackupResource.from_dynamo_db_table(self.table)],
        )
        role = selection.node.try_find_child("Role")
        if role is not None:
            acknowledge(
                role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSBackupServiceRolePolicyForBackup]",
                BACKUP_SERVICE_ROLE_REASON,
            )

    # ---- grants -----------------------------------------------------------------------------

    def grant_read_data(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to get, query and scan items and indexes, decrypting with the key."""
        return self.grant_actions(
            grantee,
            _actions.KMS_DYNAMODB_READ,
            (_actions.DYNAMODB_READ_DATA, [self.table_arn]),
            (_actions.DYNAMODB_READ_INDEX, self.index_arns),
        )

    def grant_write_data(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to put, update and delete items, encrypting with the key."""
        return self.grant_actions(
            grantee, _actions.KMS_DYNAMODB_WRITE, (_actions.DYNAMODB_WRITE_DATA, [self.table_arn])
        )

    def grant_read_write_data(self, grantee: iam.IGrantable) -> iam.Grant:
        """Both :meth:`grant_read_data` and :meth:`grant_write_data`."""
        return self.grant_read_data(grantee).combine(self.grant_write_data(grantee))

    def grant_stream_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` (e.g. a Lambda function's role) to read the table's stream.

        Raises ``ValueError`` when the table has no stream.
        """
        if self.table_stream_arn is None:
            raise ValueError(
                f"{_NAME}: grant_stream_read needs a stream: construct the table with "
                "stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES (or another view)"
            )
        grant = self.grant_actions(
            grantee, _actions.KMS_DYNAMODB_READ, (_actions.DYNAMODB_READ_STREAM, [self.table_stream_arn])
        )
        allow_list_streams(grantee)
        return grant

    def grant_actions(
        self,
        grantee: iam.IGrantable,
        key_actions: list[str],
        *statements: tuple[list[str], list[str]],
    ) -> iam.Grant:
        """Allow each ``(actions, resources)`` pair (resources: the table's or its indexes' ARNs),
        then ``key_actions`` on the table's key: for callers that need less than the ``grant_*_data``
        methods, e.g. only ``dynamodb:GetItem`` and ``dynamodb:UpdateItem``."""
        grantee = principal_of(grantee)
        grants = [
            iam.Grant.add_to_principal(grantee=grantee, actions=actions, resource_arns=resources)
            for actions, resources in statements
            if resources
        ]
        grants.append(self._encryption_key.grant(grantee, *key_actions))
        return functools.reduce(iam.Grant.combine, grants)

    # ---- audit ------------------------------------------------------------------------------

    def data_event_selector(
        self, *, read_only: bool | None = None
    ) -> cloudtrail.CfnTrail.AdvancedEventSelectorProperty:
        """A CloudTrail advanced event selector that logs this table's data events.

        See :func:`dynamodb_data_event_selector`.
        """
        return dynamodb_data_event_selector([self], read_only=read_only)

    # ---- metrics ----------------------------------------------------------------------------

    def metric_throttled_requests_for_operations(
        self,
        *,
        operations: Sequence[dynamodb.Operation] | None = None,
        account: str | None = None,
        color: str | None = None,
        dimensions_map: Mapping[str, str] | None = None,
        id: str | None = None,
        label: str | None = None,
        period: Duration | None = None,
        region: str | None = None,
        stack_account: str | None = None,
        stack_region: str | None = None,
        statistic: str | None = None,
        unit: cloudwatch.Unit | None = None,
        visible: bool | None = None,
    ) -> cloudwatch.IMetric:
        """Sum of ``ThrottledRequests`` over ``operations`` (default: the 10 item operations).

        A request counts once however many of its items or indexes were throttled. Statistic: Sum;
        period: 5 minutes unless given. At most 10 operations, the limit of an alarm. The other
        options are those of ``cloudwatch.MetricOptions``, applied to each summed metric.
        """
        return self._sum_over_operations(
            "ThrottledRequests", operations, cloudwatch.MetricOptions(
                account=account, color=color, dimensions_map=dimensions_map, id=id,
                label=label or "Throttled requests", period=period, region=region,
                stack_account=stack_account, stack_region=stack_region, statistic=statistic,
                unit=unit, visible=visible,
            )
        )

    def metric_system_errors_for_operations(
        self,
        *,
        operations: Sequence[dynamodb.Operation] | None = None,
        account: str | None = None,
        color: str | None = None,
        dimensions_map: Mapping[str, str] | None = None,
        id: str | None = None,
        label: str | None = None,
        period: Duration | None = None,
        region: str | None = None,
        stack_account: str | None = None,
        stack_region: str | None = None,
        statistic: str | None = None,
        unit: cloudwatch.Unit | None = None,
        visible: bool | None = None,
    ) -> cloudwatch.IMetric:
        """Sum of ``SystemErrors`` (HTTP 500 from DynamoDB) over ``operations``.

        Statistic: Sum; period: 5 minutes unless given. At most 10 operations.
        """
        return self._sum_over_operations(
            "SystemErrors", operations, cloudwatch.MetricOptions(
                account=account, color=color, dimensions_map=dimensions_map, id=id,
                label=label or "System errors", period=period, region=region,
                stack_account=stack_account, stack_region=stack_region, statistic=statistic,
                unit=unit, visible=visible,
            )
        )

    def metric_read_throttle_events(self, **options: Any) -> cloudwatch.Metric:
        """``ReadThrottleEvents`` of the table (Sum, 5 minutes unless given)."""
        return self.table.metric("ReadThrottleEvents", **{"statistic": "Sum", **options})

    def metric_write_throttle_events(self, **options: Any) -> cloudwatch.Metric:
        """``WriteThrottleEvents`` of the table (Sum, 5 minutes unless given)."""
        return self.table.metric("WriteThrottleEvents", **{"statistic": "Sum", **options})

    def metric_consumed_read_capacity_units(self, **options: Any) -> cloudwatch.Metric:
        """``ConsumedReadCapacityUnits`` (Sum, 5 minutes unless given)."""
        return self.table.metric_consumed_read_capacity_units(**options)

    def metric_consumed_write_capacity_units(self, **options: Any) -> cloudwatch.Metric:
        """``ConsumedWriteCapacityUnits`` (Sum, 5 minutes unless given)."""
        return self.table.metric_consumed_write_capacity_units(**options)

    def _sum_over_operations(
        self,
        metric_name: str,
        operations: Sequence[dynamodb.Operation] | None,
        options: cloudwatch.MetricOptions,
    ) -> cloudwatch.MathExpression:
        operations = list(DEFAULT_METRIC_OPERATIONS if operations is None else operations)
        _validate_operations(operations)
        period = options.period or Duration.minutes(5)
        metrics = {
            operation.name.lower(): self.table.metric(
                metric_name,
                statistic=options.statistic or "Sum",
                period=period,
                account=options.account,
                region=options.region,
                stack_account=options.stack_account,
                stack_region=options.stack_region,
                unit=options.unit,
                dimensions_map={
                    **(options.dimensions_map or {}),
                    "TableName": self.table_name,
                    "Operation": _operation_value(operation),
                },
            )
            for operation in operations
        }
        # FILL: an operation nobody calls has no data points, which would blank the whole sum.
        return cloudwatch.MathExpression(
            expression=" + ".join(f"FILL({metric_id}, 0)" for metric_id in metrics),
            using_metrics=metrics,
            label=options.label,
            color=options.color,
            period=period,
        )

    # ---- convenience ------------------------------------------------------------------------

    # The table's name and ARN are fixed tokens of the L2 table; read once (each read of an
    # ``aws_cdk`` property is a round trip to the jsii kernel).
    @property
    def table_name(self) -> str:
        """The table's name."""
        if self._table_name is None:
            self._table_name = self.table.table_name
        return self._table_name

    @property
    def table_arn(self) -> str:
        """The table's ARN."""
        if self._table_arn is None:
            self._table_arn = self.table.table_arn
        return self._table_arn

    @property
    def table_stream_arn(self) -> str | None:
        """The stream's ARN, or ``None`` without a stream."""
        return self.table.table_stream_arn

    @property
    def index_arns(self) -> list[str]:
        """The ARN of every global secondary index, one per index (no ``index/*`` wildcard)."""
        return [f"{self.table_arn}/index/{name}" for name in self._index_names]

    @property
    def encryption_key(self) -> kms.IKey:
        """The table's customer-managed KMS key."""
        return self._encryption_key


# ---- module-level helpers -------------------------------------------------------------------


def capacity_parameters(
    stack: Stack,
    *,
    prefix: str = "DynamoDb",
    default: int = MIN_PROVISIONED_CAPACITY,
    maximum: int | None = None,
) -> tuple[CfnParameter, CfnParameter]:
    """CloudFormation parameters ``<prefix>ReadCapacity`` and ``<prefix>WriteCapacity``.

    Both are ``Number`` parameters with ``MinValue`` 5 (the least :class:`AuditedTable` accepts),
    ``Default`` ``default`` and, when given, ``MaxValue`` ``maximum``. They are created on the stack
    itself, so their logical ids are exactly those names; a second call returns the same pair.

    Examples
    --------
    >>> read, write = capacity_parameters(stack)  # doctest: +SKIP
    >>> AuditedTable(stack, "Table", partition_key=key,  # doctest: +SKIP
    ...     billing_mode=dynamodb.BillingMode.PROVISIONED,
    ...     read_capacity=read.value_as_number, write_capacity=write.value_as_number,
    ...     max_read_capacity=100, max_write_capacity=100)
    """
    require_type("capacity_parameters", "stack", stack, Stack)
    errors = PropErrors("capacity_parameters")
    errors.check(
        isinstance(prefix, str) and bool(_PARAMETER_PREFIX.match(prefix)),
        "prefix",
        prefix,
        "must start with a letter and hold only letters and digits (it becomes a logical id)",
    )
    errors.check_range("default", default, minimum=MIN_PROVISIONED_CAPACITY)
    errors.check(
        maximum is None
        or (isinstance(maximum, int) and maximum >= max(default, MIN_PROVISIONED_CAPACITY)),
        "maximum",
        maximum,
        f"must be a whole number, at least default ({default})",
    )
    errors.raise_if_any()
    parameters = []
    for kind in ("Read", "Write"):
        logical_id = f"{prefix}{kind}Capacity"
        existing = stack.node.try_find_child(logical_id)
        if isinstance(existing, CfnParameter):
            parameters.append(existing)
            continue
        parameters.append(
            CfnParameter(
                stack,
                logical_id,
                type="Number",
                default=default,
                min_value=MIN_PROVISIONED_CAPACITY,
                max_value=maximum,
                description=f"Provisioned {kind.lower()} capacity units of the DynamoDB table "
                f"(at least {MIN_PROVISIONED_CAPACITY}; auto scaling starts here).",
            )
        )
    return parameters[0], parameters[1]


def dynamodb_data_event_selector(
    tables: Sequence[AuditedTable | dynamodb.ITable],
    *,
    read_only: bool | None = None,
    name: str | None = None,
) -> cloudtrail.CfnTrail.AdvancedEventSelectorProperty:
    """One CloudTrail advanced event selector for the data events of ``tables``.

    Data events record who (IAM identity, source IP) called which item operation on which table,
    with the request's parameters. CloudTrail charges per data event delivered, that is per request:
    add the selector to a trail only for tables whose reads and writes must be answerable.

    ``read_only`` ``True`` logs reads only, ``False`` writes only, ``None`` (default) both. A trail
    takes either basic ``EventSelectors`` or ``AdvancedEventSelectors``, not both; a trail with
    advanced selectors logs management events only when a selector asks for them.
    """
    if not tables:
        raise ValueError("dynamodb_data_event_selector: tables must name at least one table")
    require_type("dynamodb_data_event_selector", "read_only", read_only, bool)
    arns = [table.table_arn for table in tables]
    field_selectors = [
        cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(field="eventCategory", equal_to=["Data"]),
        cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(
            field="resources.type", equal_to=["AWS::DynamoDB::Table"]
        ),
        cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(field="resources.ARN", equal_to=arns),
    ]
    if read_only is not None:
        field_selectors.append(
            cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(
                field="readOnly", equal_to=[str(read_only).lower()]
            )
        )
    return cloudtrail.CfnTrail.AdvancedEventSelectorProperty(
        name=name or "DynamoDB data events", field_selectors=field_selectors
    )


# ---- private helpers ------------------------------------------------------------------------


def _operation_value(operation: dynamodb.Operation) -> str:
    # The API name of the operation: GET_ITEM -> GetItem.
    return "".join(part.title() for part in operation.name.split("_"))


def _validate_operations(operations: list[dynamodb.Operation]) -> None:
    errors = PropErrors(_NAME)
    errors.check(
        0 < len(operations) <= _MAX_ALARM_METRICS
        and all(isinstance(o, dynamodb.Operation) for o in operations),
        "operations",
        operations,
        f"give 1-{_MAX_ALARM_METRICS} dynamodb.Operation values (a CloudWatch alarm reads at most "
        f"{_MAX_ALARM_METRICS} metrics)",
    )
    errors.raise_if_any()


def _default_max(minimum: float | None, maximum: float | None) -> float:
    if maximum is not None:
        return maximum
    assert minimum is not None and not is_token(minimum)  # _validate requires a maximum otherwise
    return minimum * _AUTO_SCALING_HEADROOM


def _index_props(
    index: dynamodb.GlobalSecondaryIndexProps,
    provisioned: bool,
    read: float | None,
    write: float | None,
) -> dict[str, Any]:
    """The index's props as keyword arguments; provisioned indexes get the table's capacity."""
    props = {name: getattr(index, name) for name in _INDEX_PROPS}
    if provisioned:
        props["read_capacity"] = read if props["read_capacity"] is None else props["read_capacity"]
        props["write_capacity"] = (
            write if props["write_capacity"] is None else props["write_capacity"]
        )
    return {name: value for name, value in props.items() if value is not None}


def _index_key_attributes(index: dynamodb.GlobalSecondaryIndexProps) -> list[dynamodb.Attribute]:
    keys = [
        index.partition_key,
        *(index.partition_keys or []),
        index.sort_key,
        *(index.sort_keys or []),
    ]
    return [key for key in keys if key is not None]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_attribute_name(errors: PropErrors, prop: str, name: Any) -> None:
    errors.check(
        isinstance(name, str) and 1 <= len(name.encode("utf-8")) <= 255,
        prop,
        name,
        "an attribute name must be 1-255 bytes of UTF-8",
    )


def _validate(
    *,
    partition_key: dynamodb.Attribute,
    sort_key: dynamodb.Attribute | None,
    global_secondary_indexes: Sequence[dynamodb.GlobalSecondaryIndexProps],
    time_to_live_attribute: str | None,
    stream: dynamodb.StreamViewType | None,
    billing_mode: dynamodb.BillingMode,
    read_capacity: float | None,
    write_capacity: float | None,
    max_read_capacity: float | None,
    max_write_capacity: float | None,
    target_utilization_percent: float | None,
    encryption_key: kms.IKey | None,
    point_in_time_recovery_period_days: int,
    deletion_protection: bool | None,
    removal_policy: RemovalPolicy,
    table_name: str | None,
    table_class: dynamodb.TableClass | None,
    contributor_insights: bool,
    contributor_insights_mode: dynamodb.ContributorInsightsMode | None,
    backup_plan: backup.IBackupPlan | None,
    alarm_topic: AlertTopic | sns.ITopic | None,
    throttled_requests_alarm_threshold: float | None,
    system_errors_alarm_threshold: float | None,
    alarm_period: Duration | None,
    alarm_evaluation_periods: int,
    alarm_operations: Sequence[dynamodb.Operation] | None,
    tags: Mapping[str, str] | None,
) -> None:
    if partition_key is None:
        raise TypeError(
            f"{_NAME}: partition_key is required, "
            "e.g. dynamodb.Attribute(name='pk', type=AttributeType.STRING)"
        )
    for prop, value, expected in (
        ("partition_key", partition_key, dynamodb.Attribute),
        ("sort_key", sort_key, dynamodb.Attribute),
        ("stream", stream, dynamodb.StreamViewType),
        ("billing_mode", billing_mode, dynamodb.BillingMode),
        ("encryption_key", encryption_key, kms.IKey),
        ("removal_policy", removal_policy, RemovalPolicy),
        ("table_class", table_class, dynamodb.TableClass),
        ("contributor_insights_mode", contributor_insights_mode, dynamodb.ContributorInsightsMode),
        ("backup_plan", backup_plan, backup.IBackupPlan),
        ("alarm_topic", alarm_topic, (AlertTopic, sns.ITopic)),
        ("alarm_period", alarm_period, Duration),
        ("time_to_live_attribute", time_to_live_attribute, str),
        ("table_name", table_name, str),
        ("deletion_protection", deletion_protection, bool),
        ("contributor_insights", contributor_insights, bool),
    ):
        require_type(_NAME, prop, value, expected)
    if isinstance(global_secondary_indexes, (str, bytes)) or not isinstance(
        global_secondary_indexes, Sequence
    ):
        raise TypeError(
            f"{_NAME}: global_secondary_indexes must be a sequence of GlobalSecondaryIndexProps"
        )
    for index in global_secondary_indexes:
        require_type(_NAME, "global_secondary_indexes[]", index, dynamodb.GlobalSecondaryIndexProps)
    validate_tags(_NAME, tags)

    errors = PropErrors(_NAME)
    provisioned = billing_mode is dynamodb.BillingMode.PROVISIONED
    _validate_keys(
        errors, partition_key, sort_key, global_secondary_indexes, time_to_live_attribute
    )
    _validate_capacity(
        errors,
        provisioned,
        global_secondary_indexes,
        read=(read_capacity, max_read_capacity),
        write=(write_capacity, max_write_capacity),
        target_utilization_percent=target_utilization_percent,
    )
    errors.check(
        is_token(point_in_time_recovery_period_days)
        or (
            isinstance(point_in_time_recovery_period_days, int)
            and _is_number(point_in_time_recovery_period_days)
            and 1 <= point_in_time_recovery_period_days <= 35
        ),
        "point_in_time_recovery_period_days",
        point_in_time_recovery_period_days,
        "must be a whole number of days from 1 to 35",
    )
    errors.check(
        removal_policy is not RemovalPolicy.SNAPSHOT,
        "removal_policy",
        removal_policy,
        "DynamoDB tables have no CloudFormation snapshot; point-in-time recovery and backup_plan "
        "keep copies",
    )
    check_deletion_protection(errors, removal_policy, deletion_protection)
    errors.check(
        table_name is None or is_token(table_name) or bool(_TABLE_OR_INDEX_NAME.match(table_name)),
        "table_name",
        table_name,
        "must be 3-255 letters, digits, '_', '-' or '.'",
    )
    errors.check(
        contributor_insights_mode is None or contributor_insights,
        "contributor_insights_mode",
        contributor_insights_mode,
        "needs contributor_insights=True",
    )
    if alarm_operations is not None:
        operations = list(alarm_operations) if not isinstance(alarm_operations, str) else alarm_operations
        errors.check(
            isinstance(operations, list)
            and 0 < len(operations) <= _MAX_ALARM_METRICS
            and all(isinstance(o, dynamodb.Operation) for o in operations),
            "alarm_operations",
            operations,
            f"must be 1-{_MAX_ALARM_METRICS} dynamodb.Operation values (a CloudWatch alarm reads at most "
            f"{_MAX_ALARM_METRICS} metrics)",
        )
    for prop, threshold in (
        ("throttled_requests_alarm_threshold", throttled_requests_alarm_threshold),
        ("system_errors_alarm_threshold", system_errors_alarm_threshold),
    ):
        errors.check(
            threshold is None or (_is_number(threshold) and threshold > 0),
            prop,
            threshold,
            "must be a number greater than 0, or None to turn the alarm off",
        )
    errors.check(
        alarm_topic is None
        or throttled_requests_alarm_threshold is not None
        or system_errors_alarm_threshold is not None,
        "alarm_topic",
        alarm_topic,
        "both alarms are off (thresholds None), so the topic would receive nothing",
    )
    errors.check(
        _is_number(alarm_evaluation_periods)
        and alarm_evaluation_periods == int(alarm_evaluation_periods) >= 1,
        "alarm_evaluation_periods",
        alarm_evaluation_periods,
        "must be a whole number, at least 1",
    )
    if alarm_period is not None and not is_token(alarm_period):
        seconds = alarm_period.to_seconds(integral=False)
        errors.check(
            seconds >= 60 and seconds % 60 == 0,
            "alarm_period",
            f"{seconds:g} seconds",
            "must be whole minutes (DynamoDB publishes metrics every minute)",
        )
        if _is_number(alarm_evaluation_periods) and alarm_evaluation_periods >= 1:
            errors.check(
                seconds * alarm_evaluation_periods <= 86400,
                "alarm_evaluation_periods",
                alarm_evaluation_periods,
                f"alarm_period x alarm_evaluation_periods "
                f"({seconds * alarm_evaluation_periods:g} s) "
                "must not exceed one day",
            )
    errors.raise_if_any()


def _validate_keys(
    errors: PropErrors,
    partition_key: dynamodb.Attribute,
    sort_key: dynamodb.Attribute | None,
    indexes: Sequence[dynamodb.GlobalSecondaryIndexProps],
    ttl_attribute: str | None,
) -> None:
    _check_attribute_name(errors, "partition_key.name", partition_key.name)
    if sort_key is not None:
        _check_attribute_name(errors, "sort_key.name", sort_key.name)
        errors.check(
            sort_key.name != partition_key.name,
            "sort_key.name",
            sort_key.name,
            "must differ from the partition key's name",
        )
    # Every attribute used in a key (table or index) has one type in AttributeDefinitions.
    types: dict[str, tuple[dynamodb.AttributeType, str]] = {}

    def record(attribute: dynamodb.Attribute, where: str) -> None:
        seen = types.get(attribute.name)
        if seen is None:
            types[attribute.name] = (attribute.type, where)
            return
        errors.check(
            seen[0] == attribute.type,
            f"{where}.type",
            attribute.type,
            f"attribute {attribute.name!r} is already a {seen[0].name} key in {seen[1]}; "
            "one attribute has one type",
        )

    record(partition_key, "partition_key")
    if sort_key is not None:
        record(sort_key, "sort_key")

    errors.check(
        len(indexes) <= _MAX_GSIS,
        "global_secondary_indexes",
        f"{len(indexes)} indexes",
        f"a table has at most {_MAX_GSIS} global secondary indexes",
    )
    names: set[str] = set()
    for index in indexes:
        name = index.index_name
        where = f"global_secondary_indexes[{name!r}]"
        errors.check(
            is_token(name) or bool(_TABLE_OR_INDEX_NAME.match(str(name))),
            "global_secondary_indexes.index_name",
            name,
            "must be 3-255 letters, digits, '_', '-' or '.'",
        )
        errors.check(
            name not in names,
            "global_secondary_indexes.index_name",
            name,
            "is used by more than one index",
        )
        names.add(name)
        keys = _index_key_attributes(index)
        errors.check(
            index.partition_key is not None or bool(index.partition_keys),
            f"{where}.partition_key",
            None,
            "every index needs a partition key",
        )
        for key in keys:
            _check_attribute_name(errors, f"{where} key name", key.name)
            record(key, where)
        projection = index.projection_type or dynamodb.ProjectionType.ALL
        if projection is dynamodb.ProjectionType.INCLUDE:
            errors.check(
                bool(index.non_key_attributes),
                f"{where}.non_key_attributes",
                index.non_key_attributes,
                "ProjectionType.INCLUDE needs the attributes to include",
            )
        else:
            errors.check(
                not index.non_key_attributes,
                f"{where}.non_key_attributes",
                index.non_key_attributes,
                f"only used with ProjectionType.INCLUDE, not {projection.name}",
            )

    if ttl_attribute is not None:
        _check_attribute_name(errors, "time_to_live_attribute", ttl_attribute)
        key_type = types.get(ttl_attribute)
        errors.check(
            key_type is None or key_type[0] is dynamodb.AttributeType.NUMBER,
            "time_to_live_attribute",
            ttl_attribute,
            f"is a {key_type[0].name if key_type else ''} key attribute; TTL reads only Number "
            "attributes (epoch seconds), so no item would ever expire",
        )


def _check_capacity(errors: PropErrors, prop: str, value: float | None) -> None:
    if value is None or is_token(value):
        return
    if not (_is_number(value) and value == int(value)):
        errors.add(prop, value, "capacity units are whole numbers")
        return
    errors.check_range(prop, value, minimum=MIN_PROVISIONED_CAPACITY, unit="capacity units")


def _validate_capacity(
    errors: PropErrors,
    provisioned: bool,
    indexes: Sequence[dynamodb.GlobalSecondaryIndexProps],
    *,
    read: tuple[float | None, float | None],
    write: tuple[float | None, float | None],
    target_utilization_percent: float | None,
) -> None:
    for kind, (capacity, maximum) in (("read", read), ("write", write)):
        prop, max_prop = f"{kind}_capacity", f"max_{kind}_capacity"
        if not provisioned:
            named = [(prop, capacity), (max_prop, maximum)]
            named += [
                (f"global_secondary_indexes[{i.index_name!r}].{prop}", getattr(i, prop))
                for i in indexes
            ]
            for name, value in named:
                errors.check(
                    value is None,
                    name,
                    value,
                    "only used with billing_mode=BillingMode.PROVISIONED",
                )
            continue
        _check_capacity(errors, prop, capacity)
        _check_capacity(errors, max_prop, maximum)
        errors.check(
            maximum is not None or not is_token(capacity),
            max_prop,
            maximum,
            f"is required when {prop} is a CloudFormation parameter: auto scaling needs an upper "
            "bound, and CloudFormation cannot compute one from a parameter",
        )
        floor = MIN_PROVISIONED_CAPACITY if capacity is None else capacity
        if not all(v is None or is_token(v) or _is_number(v) for v in (capacity, maximum)):
            continue  # reported by _check_capacity
        if maximum is not None and not is_token(maximum) and not is_token(floor):
            errors.check(maximum >= floor, max_prop, maximum, f"must be at least {prop} ({floor})")
        # Indexes scale up to the table's maximum (default: 4 x the table's capacity).
        ceiling = (
            maximum
            if maximum is not None
            else (None if is_token(floor) else floor * _AUTO_SCALING_HEADROOM)
        )
        for index in indexes:
            value = getattr(index, prop)
            index_prop = f"global_secondary_indexes[{index.index_name!r}].{prop}"
            _check_capacity(errors, index_prop, value)
            if all(_is_number(v) and not is_token(v) for v in (value, ceiling)):
                errors.check(
                    value <= ceiling,
                    index_prop,
                    value,
                    f"exceeds the auto scaling maximum {max_prop} ({ceiling:g}) that indexes "
                    "share with the table",
                )
    if not provisioned:
        errors.check(
            target_utilization_percent is None,
            "target_utilization_percent",
            target_utilization_percent,
            "only used with billing_mode=BillingMode.PROVISIONED",
        )
    elif target_utilization_percent is not None:
        errors.check(
            is_token(target_utilization_percent)
            or (_is_number(target_utilization_percent) and 20 <= target_utilization_percent <= 90),
            "target_utilization_percent",
            target_utilization_percent,
            "DynamoDB auto scaling accepts targets from 20 to 90 percent",
        )

