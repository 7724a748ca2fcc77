"""Log groups encrypted with a customer-managed key, shared by the constructs that need one."""

from __future__ import annotations

from aws_cdk import ArnFormat
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from . import _actions
from ._defaults import STATEFUL_REMOVAL_POLICY
from ._resource_policies import require_key_statement
from ._kernel import path_of, region_of, stack_of


def log_group_arn(scope: Construct, name: str) -> str:
    """The ARN of log group ``name`` in ``scope``'s stack, without the ``:*`` that ``GetAtt Arn`` adds."""
    return stack_of(scope).format_arn(
        service="logs", resource="log-group", resource_name=name, arn_format=ArnFormat.COLON_RESOURCE_NAME
    )


def encrypted_log_group(
    scope: Construct, id: str, *, name: str, key: kms.IKey, retention: logs.RetentionDays
) -> logs.LogGroup:
    """A log group named ``name``, encrypted with ``key``, kept on stack delete (not on a failed create).

    The name is known before the log group exists so that the key policy can name exactly this
    log group in its encryption context condition without a circular reference (the log group
    refers to the key). For an imported key, a warning on ``scope`` names that statement (only the key
    policy can let ``logs.<region>.amazonaws.com`` in). Because the group outlives its stack, ``name`` must be unique per stack
    instance: :func:`serverless_patterns._defaults.unique_physical_name`, or a name AWS derives
    from a resource of this stack (API Gateway's execution log group holds the API's id).
    """
    group = logs.LogGroup(
        scope, id, log_group_name=name, encryption_key=key, retention=retention, removal_policy=STATEFUL_REMOVAL_POLICY
    )
    require_key_statement(
        scope,
        key,
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{region_of(scope)}.amazonaws.com")],
            actions=_actions.KMS_FOR_CLOUDWATCH_LOGS,
            resources=["*"],  # in a key policy, "*" means this key
            conditions={"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn(scope, name)}},
        ),
        purpose=f"CloudWatch Logs to encrypt the log group {path_of(group)}",
    )
    return group
