"""ApiGatewayAccount: the account-level role API Gateway writes REST API logs with.

API Gateway writes the execution and access logs of every REST API of an account and Region with
one IAM role, named in its account settings. Until that role is set, a stage with logging fails
to create ("CloudWatch Logs role ARN must be set in account settings to enable logging").
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import ArnFormat, Stack, Token
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from . import _actions
from ._defaults import STATEFUL_REMOVAL_POLICY
from ._roles import ManagedPolicyRole, service_policy
from .tagging import apply_tags, validate_tags
from ._kernel import stack_of

_NAME = "ApiGatewayAccount"
#: The id :meth:`ApiGatewayAccount.of` gives the stack's one instance.
DEFAULT_ID = "ApiGatewayAccount"

CLOUDWATCH_ROLE_REASON = (
    "API Gateway writes the execution and access logs of every REST API of the account and Region "
    "with the one role in its account settings, into log groups each API names itself; the role is "
    "limited to log groups of this account and Region and to the seven log actions of "
    "AmazonAPIGatewayPushToCloudWatchLogs."
)


class ApiGatewayAccount(Construct):
    """API Gateway's CloudWatch role, set in the account settings (``AWS::ApiGateway::Account``).

    The role's permissions are a customer-managed policy with the seven ``logs:`` actions of the
    AWS managed policy ``AmazonAPIGatewayPushToCloudWatchLogs``, limited to log groups of this
    account and Region (``AwsSolutions-IAM4`` stays clean). The setting is one per account and
    Region: the stack that sets it last wins, and deleting a stack does not unset it. Role, policy
    and setting are therefore kept when the stack is deleted (API Gateway keeps using the role for
    every REST API of the Region) and removed only when the create that made them rolls back.

    :class:`~serverless_patterns.ApiWithKeyedUsagePlan` uses :meth:`of` by default
    (``cloud_watch_role=True``); use the construct directly for REST APIs of your own and make
    their stages wait for it with :meth:`add_dependent`.

    Parameters
    ----------
    scope, id
        The construct's parent and id.
    tags
        Tags for the role. Default: none.

    Examples
    --------
    >>> account = ApiGatewayAccount.of(stack)  # doctest: +SKIP
    >>> account.add_dependent(api.deployment_stage)  # doctest: +SKIP
    """

    def __init__(self, scope: Construct, id: str, *, tags: Mapping[str, str] | None = None) -> None:
        validate_tags(_NAME, tags)
        super().__init__(scope, id)
        stack = stack_of(self)
        self.role: ManagedPolicyRole = ManagedPolicyRole(
            self,
            "CloudWatchRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="Lets API Gateway write the logs of the REST APIs of this account and Region",
        )
        log_groups = stack.format_arn(
            service="logs", resource="log-group", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
        )
        pattern = _rendered_arn_pattern(stack, "logs", "log-group:*")
        #: The role's only permissions, in a policy of their own that alone carries the acknowledgement.
        self.logs_policy: iam.ManagedPolicy = service_policy(
            self.role,
            "LogsPolicy",
            role=self.role,
            statements=[
                iam.PolicyStatement(
                    actions=_actions.CLOUDWATCH_LOGS_FOR_API_GATEWAY,
                    resources=[log_groups, f"{log_groups}:log-stream:*"],
                )
            ],
            description="Lets API Gateway write the logs of the REST APIs of this account and Region",
            findings=[f"AwsSolutions-IAM5[Resource::{resource}]" for resource in (pattern, f"{pattern}:log-stream:*")],
            reason=CLOUDWATCH_ROLE_REASON,
        )
        self.account: apigw.CfnAccount = apigw.CfnAccount(self, "Resource", cloud_watch_role_arn=self.role.role_arn)
        # API Gateway checks the role's permissions when the setting is made.
        self.account.node.add_dependency(self.logs_policy)
        for resource in (self.role, self.logs_policy, self.account):
            resource.apply_removal_policy(STATEFUL_REMOVAL_POLICY)
        apply_tags(self, _NAME, tags)

    @property
    def role_arn(self) -> str:
        return self.role.role_arn

    def add_dependent(self, stage: IConstruct) -> None:
        """Create ``stage`` (a REST API stage with logging) only after the setting is made."""
        stage.node.add_dependency(self.account)

    @classmethod
    def of(cls, scope: IConstruct) -> ApiGatewayAccount:
        """The stack's one ApiGatewayAccount (id ``ApiGatewayAccount``), created on first use."""
        stack = stack_of(scope)
        existing = stack.node.try_find_child(DEFAULT_ID)
        if existing is None:
            return cls(stack, DEFAULT_ID)
        if not isinstance(existing, ApiGatewayAccount):
            raise ValueError(
                f"ApiGatewayAccount.of: the stack {stack.stack_name} has a construct with id {DEFAULT_ID!r} "
                f"that is a {type(existing).__name__}, not an ApiGatewayAccount"
            )
        return existing


def _rendered_arn_pattern(stack: Stack, service: str, resource: str) -> str:
    """An ARN as cdk-nag renders it in ``stack``: literals where the stack pins them, ``<AWS::...>`` otherwise."""

    def part(value: str, pseudo: str) -> str:
        return f"<AWS::{pseudo}>" if Token.is_unresolved(value) else value

    return (
        f"arn:{part(stack.partition, 'Partition')}:{service}:{part(stack.region, 'Region')}:"
        f"{part(stack.account, 'AccountId')}:{resource}"
    )
