"""Secure defaults shared by the constructs, in one place.

Each function returns a configured resource or props; constructs apply them and
never restate the values.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, aws_iam as iam, aws_kms as kms, aws_logs as logs
from constructs import Construct

#: Log retention used when a construct's ``log_retention`` prop is not given.
DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH

#: Days a KMS key waits before it is deleted after its stack removes it.
KEY_PENDING_WINDOW = Duration.days(30)


def customer_managed_key(scope: Construct, id: str, *, description: str, alias: str | None = None) -> kms.Key:
    """A symmetric customer-managed key with yearly rotation that outlives its stack."""
    return kms.Key(
        scope,
        id,
        description=description,
        alias=alias,
        enable_key_rotation=True,
        pending_window=KEY_PENDING_WINDOW,
        removal_policy=RemovalPolicy.RETAIN,
    )


def allow_service_to_use_key(
    key: kms.IKey, service: str, *, actions: list[str], source_arn: str | None = None, source_account: str | None = None
) -> None:
    """Let an AWS service principal use ``key``, scoped to the calling resource where it can be.

    Imported keys keep their own policy; CDK reports that nothing was added.
    """
    conditions: dict[str, dict[str, str]] = {}
    if source_account:
        conditions["StringEquals"] = {"aws:SourceAccount": source_account}
    if source_arn:
        conditions["ArnLike"] = {"aws:SourceArn": source_arn}
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=f"Allow{service.split('.')[0].title()}",
            principals=[iam.ServicePrincipal(service)],
            actions=actions,
            resources=["*"],  # in a key policy, "*" means this key
            conditions=conditions or None,
        )
    )
