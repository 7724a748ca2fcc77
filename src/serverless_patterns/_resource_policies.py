"""Statements that other AWS services need in a resource policy the app may not own.

A key, topic or bucket made in this app gets the statement. An imported one (``from_*_arn``) keeps
its own policy: CDK reports that nothing was added, and :func:`require_statement` then emits a
CDK warning on the construct that needs it, naming the policy and the exact statement its owner
must add. IAM-side grants (a role's own policy) still work on imported resources and are added by
the constructs as usual.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Annotations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ._validation import describe, is_token
from ._kernel import path_of, region_of, stack_of

#: Warning emitted when a KMS key policy the app cannot change must let a service in; acknowledge it
#: with ``Annotations.of(scope).acknowledge_warning`` once the statement is in the key policy.
KEY_POLICY_WARNING = "serverless-patterns:keyPolicyNotWritable"

#: Warning emitted when a bucket policy the app cannot change must let a service in.
BUCKET_POLICY_WARNING = "serverless-patterns:bucketPolicyNotWritable"

_PSEUDO_PARAMETERS = {
    "AWS::AccountId": "<account>",
    "AWS::Region": "<region>",
    "AWS::Partition": "<partition>",
    "AWS::URLSuffix": "<url-suffix>",
}


def check_key_region(errors: Any, prop: str, key: Any, scope: Construct) -> None:
    """Record on ``errors`` that ``key`` (an imported key with a literal ARN) lives in another Region
    than ``scope``'s stack: KMS keys are Regional, and no service can use one across Regions."""
    if key is None or isinstance(key, kms.Key):  # a key of this app: its ARN is a token
        return
    arn = getattr(key, "key_arn", None)
    if not isinstance(arn, str) or is_token(arn):
        return
    region = region_of(scope)
    if is_token(region):
        return
    parts = arn.split(":")
    if len(parts) > 3 and parts[2] == "kms" and parts[3] and parts[3] != region:
        errors.add(prop, key, f"is a key of Region {parts[3]}; KMS keys are Regional and this stack is in {region}")


def require_key_statement(scope: Construct, key: Any, statement: iam.PolicyStatement, *, purpose: str) -> bool:
    """Add ``statement`` to ``key``'s policy, or warn on ``scope`` what its owner must add.

    ``purpose`` completes "For ..., ..." in the warning, e.g. ``"CloudWatch Logs to encrypt the
    log group"``. Returns whether the statement is in the key policy.
    """
    key_stack = stack_of(key) if hasattr(key, "node") else getattr(key, "stack", None)
    if key_stack is not None and key_stack is not stack_of(scope):
        # A key of another stack: the statement names this stack's resources (log groups, the stack
        # id), so putting it in that stack's key policy would make the two stacks depend on each other.
        Annotations.of(scope).add_warning_v2(
            KEY_POLICY_WARNING,
            f"{path_of(scope)} uses the KMS key {describe(key)} of the stack {key_stack.stack_name}; a statement "
            f"added from here would make the stacks depend on each other. For {purpose}, that stack must give the "
            f"key a statement that allows: {render_statement(scope, statement)} (account-wide conditions, such as "
            "every log group of the account, avoid naming this stack's resources).",
        )
        return False
    if key.add_to_resource_policy(statement).statement_added:
        return True
    Annotations.of(scope).add_warning_v2(
        KEY_POLICY_WARNING,
        f"{path_of(scope)} uses the imported KMS key {describe(key)}, whose key policy this app cannot change. "
        f"For {purpose}, the key's owner must add this statement to its key policy: {render_statement(scope, statement)}",
    )
    return False


def warn_bucket_statement(scope: Construct, bucket: Any, statement: iam.PolicyStatement, *, purpose: str) -> None:
    """Warn on ``scope`` that the imported ``bucket``'s owner must add ``statement`` to its bucket policy."""
    Annotations.of(scope).add_warning_v2(
        BUCKET_POLICY_WARNING,
        f"{path_of(scope)} uses the imported bucket {describe(bucket)}, whose bucket policy this app cannot change. "
        f"For {purpose}, the bucket's owner must add this statement to its bucket policy: "
        f"{render_statement(scope, statement)}",
    )


def render_statement(scope: Construct, statement: iam.PolicyStatement) -> str:
    """``statement`` as policy JSON, with ``<account>``, ``<region>``, ``<partition>`` for the stack's
    pseudo parameters (concrete values when the stack has an explicit environment)."""
    resolved = stack_of(scope).resolve(statement.to_statement_json())
    return json.dumps(_plain(resolved), sort_keys=True)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in _PSEUDO_PARAMETERS:
            return _PSEUDO_PARAMETERS[value["Ref"]]
        if set(value) == {"Ref"} and isinstance(value["Ref"], str):
            return f"<{value['Ref']}>"  # a resource of this app: known after deployment
        if set(value) == {"Fn::GetAtt"}:
            return f"<{'.'.join(value['Fn::GetAtt'])}>"
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            plain = [_plain(part) for part in parts]
            if all(isinstance(part, str) for part in plain):
                return separator.join(plain)
            return {"Fn::Join": [separator, plain]}
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
