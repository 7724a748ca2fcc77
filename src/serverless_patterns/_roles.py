"""Roles whose permissions live in customer-managed policies, never inline.

HIPAA, NIST 800-53 and PCI DSS rules reject inline policies (CDK puts grants in
an inline ``DefaultPolicy``); AWS-managed policies are broader than least
privilege. A :class:`ManagedPolicyRole` sends every grant to one
customer-managed policy of its own, so ``bucket.grant_read(role)`` and friends
keep working unchanged.

Statements that a service requires on a resource pattern cdk-nag reports (X-Ray's
``Resource: *``, a log-stream pattern) go to a policy of their own made by
:func:`service_policy`, and only that policy carries the acknowledgement: the role and
its general policy carry none, so a statement a user adds to the role is reported.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_iam as iam
from constructs import Construct

from .compliance import acknowledge_all
from ._kernel import path_of

#: The id of the policy that :func:`allow_list_streams` makes under the grantee's role.
LIST_STREAMS_POLICY_ID = "ListStreamsPolicy"
LIST_STREAMS_REASON = (
    "dynamodb:ListStreams has no resource-level permissions, so its resource is '*'; it lists "
    "stream ARNs only. Reading records is limited to the table's stream ARN. It sits in a policy "
    "of its own so that no other statement shares this acknowledgement."
)


class ManagedPolicyRole(iam.Role):
    """An ``iam.Role`` whose grants land in its own customer-managed policy ``Policy``.

    The policy is created on the first grant (a role whose permissions are all in
    :func:`service_policy` policies has none). ``managed_policies`` (AWS-managed) are refused.
    """

    def __init__(self, scope: Construct, id: str, *, assumed_by: iam.IPrincipal, description: str | None = None) -> None:
        self._grants_policy: iam.ManagedPolicy | None = None
        super().__init__(scope, id, assumed_by=assumed_by, description=description)

    @property
    def policy(self) -> iam.ManagedPolicy:
        """The customer-managed policy that takes every grant (id ``Policy``), created on first use."""
        if getattr(self, "_grants_policy", None) is None:
            self._grants_policy = iam.ManagedPolicy(self, "Policy", description=f"Permissions of {path_of(self)}")
            self.add_managed_policy(self._grants_policy)
        return self._grants_policy

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        self.policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self.policy)

    def add_to_policy(self, statement: iam.PolicyStatement) -> bool:
        self.policy.add_statements(statement)
        return True


def service_policy(
    scope: Construct,
    id: str,
    *,
    role: iam.IRole,
    statements: Sequence[iam.PolicyStatement],
    description: str,
    findings: Sequence[str],
    reason: str,
) -> iam.ManagedPolicy:
    """A customer-managed policy of ``statements`` attached to ``role``, ``findings`` acknowledged on it alone.

    For statements a service requires on a pattern the packs report (``Resource: *`` for X-Ray and
    network interfaces, ``dynamodb:ListStreams``, a log-stream pattern). Nothing else is ever added to
    the policy, so the acknowledgement covers exactly these statements; ``findings`` name each
    resource pattern (``AwsSolutions-IAM5[Resource::*]``), never a bare rule.
    """
    policy = iam.ManagedPolicy(scope, id, description=description, statements=list(statements))
    if isinstance(role, iam.Role):
        role.add_managed_policy(policy)  # on the role: whatever depends on the role waits for the policy
    else:
        policy.attach_to_role(role)  # an imported role ignores add_managed_policy
    acknowledge_all(policy, findings, reason)
    return policy


def allow_list_streams(grantee: iam.IGrantable) -> None:
    """``dynamodb:ListStreams`` on ``*``, in a policy of its own on the grantee's role (one per role).

    Stream readers need it (Lambda's stream event sources call it). The acknowledgement sits on that
    policy alone, so ``Resource: *`` statements the owner adds to the role are still reported. A
    principal that is no role of this app gets an ordinary grant.
    """
    principal = grantee.grant_principal
    if not (isinstance(principal, Construct) and hasattr(principal, "role_name") and hasattr(principal, "role_arn")):
        iam.Grant.add_to_principal(grantee=grantee, actions=["dynamodb:ListStreams"], resource_arns=["*"])
        return
    if principal.node.try_find_child(LIST_STREAMS_POLICY_ID) is None:
        service_policy(
            principal,
            LIST_STREAMS_POLICY_ID,
            role=principal,  # type: ignore[arg-type]  # checked above: a role construct
            statements=[iam.PolicyStatement(actions=["dynamodb:ListStreams"], resources=["*"])],
            description=f"Lets {path_of(principal)} list DynamoDB streams (stream event sources)",
            findings=["AwsSolutions-IAM5[Resource::*]"],
            reason=LIST_STREAMS_REASON,
        )
