"""Roles whose permissions live in customer-managed policies, never inline.

HIPAA, NIST 800-53 and PCI DSS rules reject inline policies (CDK puts grants in
an inline ``DefaultPolicy``); AWS-managed policies are broader than least
privilege. A :class:`ManagedPolicyRole` sends every grant to one
customer-managed policy of its own, so ``bucket.grant_read(role)`` and friends
keep working unchanged.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct


class ManagedPolicyRole(iam.Role):
    """An ``iam.Role`` whose grants land in its own customer-managed policy ``Policy``.

    Takes the same props as ``iam.Role``. ``managed_policies`` (AWS-managed) are refused.
    """

    def __init__(self, scope: Construct, id: str, *, assumed_by: iam.IPrincipal, description: str | None = None) -> None:
        super().__init__(scope, id, assumed_by=assumed_by, description=description)
        self.policy: iam.ManagedPolicy = iam.ManagedPolicy(self, "Policy", description=f"Permissions of {self.node.path}")
        self.add_managed_policy(self.policy)

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        self.policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self.policy)

    def add_to_policy(self, statement: iam.PolicyStatement) -> bool:
        self.policy.add_statements(statement)
        return True
