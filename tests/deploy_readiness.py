"""Deploy-time constraints that cdk-nag, cfn-lint and checkov do not check, read off a template.

Each function returns a list of problems (empty when the template is fine):

- :func:`fixed_names_of_kept_resources`: a resource CloudFormation keeps (``DeletionPolicy``
  ``Retain`` or ``RetainExceptOnCreate``) whose physical name is fixed makes the next deployment
  of the stack fail with AlreadyExists. A name is unique per stack instance when it refers to
  ``AWS::StackId`` or to a resource of the same template (a new resource gets a new id).
- :func:`plain_retain_on_stateful_resources`: ``DeletionPolicy: Retain`` also keeps what a failed
  create made; the stateful resources the library's constructs create (tagged
  ``serverless-patterns:construct``) use ``RetainExceptOnCreate`` unless the user asked otherwise.
- :func:`server_access_log_targets_not_sse_s3`: S3 delivers server access logs only into buckets
  whose default encryption is SSE-S3 (``AES256``).
- :func:`rest_stages_logging_without_account`: a REST API stage with access or execution logging
  fails to create until API Gateway's account setting names a CloudWatch role.
"""

from __future__ import annotations

from typing import Any

#: The property that holds each stateful type's physical name.
NAME_PROPERTIES = {
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::Backup::BackupVault": "BackupVaultName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::KMS::Alias": "AliasName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::SNS::Topic": "TopicName",
}
#: Types that hold data or cost money while they exist.
STATEFUL_TYPES = {
    "AWS::Logs::LogGroup",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::SQS::Queue",
    "AWS::S3::Bucket",
    "AWS::Backup::BackupVault",
    "AWS::SecretsManager::Secret",
    "AWS::KMS::Key",
}
KEPT = ("Retain", "RetainExceptOnCreate")
CONSTRUCT_TAG_KEY = "serverless-patterns:construct"


def _refs(node: Any) -> set[str]:
    """Every name ``node`` refers to with ``Ref`` or ``Fn::GetAtt``."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".")[0]
                found.add(target)
            else:
                found |= _refs(value)
    elif isinstance(node, list):
        for item in node:
            found |= _refs(item)
    return found


def unique_per_stack_instance(name: Any, template: dict[str, Any]) -> bool:
    """Whether ``name`` differs between two instances of the stack (deleted and deployed again)."""
    refs = _refs(name)
    return "AWS::StackId" in refs or bool(refs & set(template.get("Resources", {})))


def fixed_names_of_kept_resources(template: dict[str, Any]) -> list[str]:
    problems = []
    for logical_id, resource in template.get("Resources", {}).items():
        prop = NAME_PROPERTIES.get(resource["Type"])
        name = (resource.get("Properties") or {}).get(prop) if prop else None
        if name is None or resource.get("DeletionPolicy") not in KEPT:
            continue
        if not unique_per_stack_instance(name, template):
            problems.append(f"{logical_id} ({resource['Type']}): kept on delete with the fixed name {name!r}")
    return problems


def _library_made(resource: dict[str, Any]) -> bool:
    tags = (resource.get("Properties") or {}).get("Tags") or []
    keys = tags.keys() if isinstance(tags, dict) else [t.get("Key") for t in tags if isinstance(t, dict)]
    return CONSTRUCT_TAG_KEY in keys


def plain_retain_on_stateful_resources(template: dict[str, Any]) -> list[str]:
    return [
        f"{logical_id} ({resource['Type']}): DeletionPolicy Retain also keeps it after a failed create"
        for logical_id, resource in template.get("Resources", {}).items()
        if resource["Type"] in STATEFUL_TYPES and resource.get("DeletionPolicy") == "Retain" and _library_made(resource)
    ]


def _bucket_of(target: Any, template: dict[str, Any]) -> str | None:
    refs = _refs(target) & set(template.get("Resources", {}))
    return next(iter(refs), None)


def server_access_log_targets(template: dict[str, Any]) -> set[str]:
    """Logical ids of the buckets of this template that receive S3 server access logs."""
    resources = template.get("Resources", {})
    targets = set()
    for resource in resources.values():
        if resource["Type"] != "AWS::S3::Bucket":
            continue
        logging = (resource.get("Properties") or {}).get("LoggingConfiguration") or {}
        target = _bucket_of(logging.get("DestinationBucketName"), template)
        if target is not None:
            targets.add(target)
    return targets


def server_access_log_targets_not_sse_s3(template: dict[str, Any]) -> list[str]:
    problems = []
    resources = template.get("Resources", {})
    for logical_id in sorted(server_access_log_targets(template)):
        encryption = (resources[logical_id].get("Properties") or {}).get("BucketEncryption") or {}
        algorithms = {
            rule.get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
            for rule in encryption.get("ServerSideEncryptionConfiguration", [])
        }
        if algorithms != {"AES256"}:
            problems.append(f"{logical_id}: receives server access logs but is encrypted with {sorted(map(str, algorithms))}")
    return problems


def stage_logs(stage: dict[str, Any]) -> bool:
    properties = stage.get("Properties") or {}
    execution = any(
        setting.get("LoggingLevel", "OFF") != "OFF" for setting in properties.get("MethodSettings", []) or []
    )
    return bool(properties.get("AccessLogSetting")) or execution


def rest_stages_logging_without_account(template: dict[str, Any]) -> list[str]:
    resources = template.get("Resources", {})
    accounts = {logical_id for logical_id, r in resources.items() if r["Type"] == "AWS::ApiGateway::Account"}
    problems = []
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::ApiGateway::Stage" or not stage_logs(resource):
            continue
        depends_on = resource.get("DependsOn") or []
        depends_on = [depends_on] if isinstance(depends_on, str) else depends_on
        if not accounts & set(depends_on):
            problems.append(f"{logical_id}: logs, but does not depend on an AWS::ApiGateway::Account of this template")
    return problems


def all_problems(template: dict[str, Any], *, account_role: bool = True) -> list[str]:
    """Every problem above; ``account_role=False`` for stacks that opt out of the account setting."""
    problems = [
        *fixed_names_of_kept_resources(template),
        *plain_retain_on_stateful_resources(template),
        *server_access_log_targets_not_sse_s3(template),
    ]
    if account_role:
        problems += rest_stages_logging_without_account(template)
    return problems


#: How a template gets the stack instance's id (``serverless_patterns.conventions.stack_instance_id``).
STACK_INSTANCE_ID = {
    "Fn::Select": [4, {"Fn::Split": ["-", {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}]}]
}


def literal_start(name: Any) -> str:
    """The literal text a (possibly joined) name starts with."""
    if isinstance(name, str):
        return name
    parts = name["Fn::Join"][1] if isinstance(name, dict) and "Fn::Join" in name else []
    start = ""
    for part in parts:
        if not isinstance(part, str):
            break
        start += part
    return start


def ends_with_stack_instance_id(name: Any) -> bool:
    """Whether ``name`` is ``<literal>-<stack instance id>`` as ``unique_physical_name`` builds it."""
    if not (isinstance(name, dict) and "Fn::Join" in name):
        return False
    delimiter, parts = name["Fn::Join"]
    return delimiter == "" and parts[-1] == STACK_INSTANCE_ID and isinstance(parts[-2], str) and parts[-2].endswith("-")


def render_name(name: Any) -> str:
    """A name as text: ``<stack-instance-id>`` for the stack instance's id, ``<X>`` for ``Ref X``."""
    if isinstance(name, str):
        return name
    if name == STACK_INSTANCE_ID:
        return "<stack-instance-id>"
    if isinstance(name, dict) and "Fn::Join" in name:
        delimiter, parts = name["Fn::Join"]
        return delimiter.join(render_name(part) for part in parts)
    if isinstance(name, dict) and "Ref" in name:
        return f"<{name['Ref']}>"
    raise ValueError(f"cannot render {name!r}")
