"""Retained resources with fixed physical names: the next attempt fails with AlreadyExists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._registry import ERROR, WARNING, rule
from ._template import Template, is_unique_per_stack_instance, render

#: The property that holds the physical name of each resource type whose name must be unique
#: in an account and Region (or globally, for buckets and IAM).
NAME_PROPERTIES: dict[str, str] = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Backup::BackupVault": "BackupVaultName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::Kinesis::Stream": "Name",
    "AWS::KinesisFirehose::DeliveryStream": "DeliveryStreamName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::CloudTrail::Trail": "TrailName",
    "AWS::SSM::Parameter": "Name",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::WAFv2::WebACL": "Name",
    "AWS::Cognito::UserPoolDomain": "Domain",
}


def name_is_unique(t: Template, name: Any, seen: frozenset[str] = frozenset()) -> bool:
    """Whether a physical name differs in every attempt to create the stack.

    True when it is built from ``AWS::StackId`` or from a resource of the template whose own
    physical id is generated (a ``Ref`` to a REST API gives its generated id, so
    ``API-Gateway-Execution-Logs_${Api}/prod`` is new in each attempt). A literal, a parameter,
    ``AWS::StackName`` or a reference to a fixed-named resource is the same every time.
    """
    if is_unique_per_stack_instance(name):
        return True
    for referenced in t.referenced(name) - seen:
        prop = NAME_PROPERTIES.get(t.type_of(referenced) or "")
        own_name = t.props(referenced).get(prop) if prop else None
        if own_name is None or name_is_unique(t, own_name, seen | {referenced}):
            return True
    return False


def _fixed_names(t: Template, deletion_policy: str) -> Iterator[tuple[str, str, str]]:
    for logical_id, resource in t.resources.items():
        prop = NAME_PROPERTIES.get(resource.get("Type", ""))
        if not prop or resource.get("DeletionPolicy") != deletion_policy:
            continue
        name = (resource.get("Properties") or {}).get(prop)
        if name is None or name_is_unique(t, name):
            continue
        yield logical_id, prop, render(name)


@rule(
    id="RetainWithFixedName",
    severity=ERROR,
    summary="DeletionPolicy Retain on a resource whose physical name is not unique per stack instance.",
    fix="Let CloudFormation generate the name, build it from AWS::StackId, or use DeletionPolicy "
        "RetainExceptOnCreate (CDK: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE).",
    source="AWS CloudFormation User Guide: DeletionPolicy attribute",
)
def retain_with_fixed_name(t: Template) -> Iterator[tuple[str, str, str]]:
    """CloudFormation keeps a ``Retain`` resource also when a failed create rolls the stack
    back ("DeletionPolicy attribute": only ``RetainExceptOnCreate`` deletes resources created
    by the failed operation). With a name that the next attempt reuses (a literal, a
    parameter, ``AWS::StackName``; ``AWS::StackId`` and generated ids change), every retry fails with
    AlreadyExists. ``UpdateReplacePolicy`` is not involved: a rollback applies only the
    deletion policy."""
    for logical_id, prop, name in _fixed_names(t, "Retain"):
        yield (logical_id, (f"is retained on a failed create and named {name!r} ({prop}), which the next attempt "
                           "reuses: the retry fails with AlreadyExists"), f"Properties.{prop}")


@rule(
    id="RetainedNameBlocksRedeploy",
    severity=WARNING,
    summary="DeletionPolicy RetainExceptOnCreate on a resource whose physical name is not unique per stack instance.",
    fix="Let CloudFormation generate the name or build it from AWS::StackId; acknowledge only when the name "
        "must stay stable and the retained resource is removed by hand before the stack is created again.",
    source="AWS CloudFormation User Guide: DeletionPolicy attribute",
)
def retained_name_blocks_redeploy(t: Template) -> Iterator[tuple[str, str, str]]:
    """``RetainExceptOnCreate`` cleans up after a failed create, but a stack delete keeps the
    resource ("DeletionPolicy attribute"). Creating the stack again under the same name then
    fails with AlreadyExists on a fixed physical name."""
    for logical_id, prop, name in _fixed_names(t, "RetainExceptOnCreate"):
        yield (logical_id, (f"survives a stack delete and is named {name!r} ({prop}): creating the stack again "
                           "fails with AlreadyExists"), f"Properties.{prop}")
