"""Log destinations that the delivering service refuses: S3 access logs, WAF logs, CloudTrail."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from ._registry import ERROR, rule
from ._template import Template, as_list, missing_actions, render, service_principal

WAF_PREFIX = "aws-waf-logs-"


def _log_targets(t: Template) -> dict[str, list[str]]:
    """``{target bucket: [source buckets]}`` for every server-access-log target in the template."""
    by_name = {render(t.props(lid).get("BucketName")): lid for lid, _ in t.of_type("AWS::S3::Bucket") if t.props(lid).get("BucketName")}
    targets: dict[str, list[str]] = defaultdict(list)
    for source, _ in t.of_type("AWS::S3::Bucket"):
        destination = (t.props(source).get("LoggingConfiguration") or {}).get("DestinationBucketName")
        if destination is None:
            continue
        target = t.target(destination) or by_name.get(render(destination))
        if t.type_of(target) == "AWS::S3::Bucket":
            targets[target].append(source)
    return targets


@rule(
    id="S3AccessLogTargetNotSseS3",
    severity=ERROR,
    summary="A bucket that receives S3 server access logs uses SSE-KMS default encryption.",
    fix="Give the log target bucket SSE-S3 (AES256) default encryption.",
    source="Amazon S3 User Guide: Enabling Amazon S3 server access logging",
)
def access_log_target_encryption(t: Template) -> Iterator[tuple[str, str, str]]:
    """Server access log delivery writes to the target bucket with SSE-S3 only.

    The S3 User Guide page "Enabling Amazon S3 server access logging" names SSE-S3 as the
    default encryption a destination bucket may use; with SSE-KMS the logs are not delivered
    and nothing fails visibly.
    """
    for target, sources in _log_targets(t).items():
        rules = ((t.props(target).get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration")) or []
        algorithms = {
            render((r.get("ServerSideEncryptionByDefault") or {}).get("SSEAlgorithm")) for r in rules if isinstance(r, dict)
        }
        kms = sorted(a for a in algorithms if a.startswith("aws:kms"))
        if kms:
            yield (
                target,
                (f"receives server access logs of {', '.join(sorted(sources))} but its default encryption is "
                f"{kms[0]}; S3 log delivery supports only SSE-S3 (AES256) targets"),
                "Properties.BucketEncryption",
            )


@rule(
    id="S3AccessLogTargetObjectLock",
    severity=ERROR,
    summary="A bucket that receives S3 server access logs has S3 Object Lock enabled.",
    fix="Send server access logs to a bucket without Object Lock.",
    source="Amazon S3 User Guide: Enabling Amazon S3 server access logging",
)
def access_log_target_object_lock(t: Template) -> Iterator[tuple[str, str, str]]:
    """Buckets with S3 Object Lock enabled cannot be server-access-log destinations
    (S3 User Guide, "Enabling Amazon S3 server access logging")."""
    for target, sources in _log_targets(t).items():
        if render(t.props(target).get("ObjectLockEnabled")) == "true":
            yield (
                target,
                f"receives server access logs of {', '.join(sorted(sources))} but has Object Lock enabled",
                "Properties.ObjectLockEnabled",
            )


def _waf_destination_name(t: Template, destination: Any) -> tuple[str | None, str]:
    """(name or None when generated, kind) of a WAF log destination."""
    target = t.target(destination)
    kind = t.type_of(target)
    if kind == "AWS::Logs::LogGroup":
        name = t.props(target).get("LogGroupName")
        return (render(name) if name is not None else None), "log group"
    if kind == "AWS::S3::Bucket":
        name = t.props(target).get("BucketName")
        return (render(name) if name is not None else None), "bucket"
    if kind == "AWS::KinesisFirehose::DeliveryStream":
        name = t.props(target).get("DeliveryStreamName")
        return (render(name) if name is not None else None), "delivery stream"
    text = render(destination)
    for marker, kind in ((":log-group:", "log group"), (":deliverystream/", "delivery stream"), (":s3:::", "bucket")):
        if marker in text:
            return text.split(marker, 1)[1], kind
    return text, "destination"


@rule(
    id="WafLogDestinationName",
    severity=ERROR,
    summary="A WAF logging destination's name does not start with aws-waf-logs-.",
    fix="Name the log group, bucket or Firehose stream with the aws-waf-logs- prefix.",
    source="AWS WAF Developer Guide: Logging web ACL traffic (log destinations)",
)
def waf_log_destination_name(t: Template) -> Iterator[tuple[str, str, str]]:
    """AWS WAF delivers web ACL logs only to a CloudWatch Logs log group, S3 bucket or
    Firehose stream whose name starts with ``aws-waf-logs-`` (AWS WAF Developer Guide,
    "Logging web ACL traffic"). A generated CloudFormation name never does."""
    for logical_id, _ in t.of_type("AWS::WAFv2::LoggingConfiguration"):
        for index, destination in enumerate(as_list(t.props(logical_id).get("LogDestinationConfigs"))):
            name, kind = _waf_destination_name(t, destination)
            if name is None:
                yield (logical_id, f"logs to a {kind} with a generated name, which cannot start with {WAF_PREFIX}",
                       f"Properties.LogDestinationConfigs[{index}]")
            elif not name.startswith(WAF_PREFIX) and not name.startswith("${"):
                yield (logical_id, f"logs to the {kind} {name!r}, whose name does not start with {WAF_PREFIX}",
                       f"Properties.LogDestinationConfigs[{index}]")


@rule(
    id="CloudTrailDeliveryPermissions",
    severity=ERROR,
    summary="A trail's bucket policy or key policy does not let CloudTrail deliver, or the trail is created first.",
    fix="Allow cloudtrail.amazonaws.com s3:GetBucketAcl and s3:PutObject in the bucket policy (and "
        "kms:GenerateDataKey* in the key policy), and make the trail depend on the bucket policy.",
    source="AWS CloudTrail User Guide: Amazon S3 bucket policy for CloudTrail; Configure AWS KMS key policies for CloudTrail",
)
def cloudtrail_delivery(t: Template) -> Iterator[tuple[str, str, str]]:
    """CreateTrail fails with InsufficientS3BucketPolicyException unless the bucket policy
    already lets ``cloudtrail.amazonaws.com`` call ``s3:GetBucketAcl`` and ``s3:PutObject``
    ("Amazon S3 bucket policy for CloudTrail"); with a KMS key, the key policy must allow
    ``kms:GenerateDataKey*`` ("Configure AWS KMS key policies for CloudTrail"). A CloudWatch
    Logs destination needs the role CloudTrail assumes to write to it."""
    cloudtrail = service_principal("cloudtrail")
    for trail, _ in t.of_type("AWS::CloudTrail::Trail"):
        props = t.props(trail)
        bucket = t.target(props.get("S3BucketName"))
        if t.type_of(bucket) == "AWS::S3::Bucket":
            policies = t.bucket_policies(bucket)
            missing = missing_actions([doc for _, doc in policies], cloudtrail, ["s3:GetBucketAcl", "s3:PutObject"])
            if missing:
                yield trail, f"bucket {bucket} has no bucket policy allowing cloudtrail.amazonaws.com {', '.join(missing)}", "Properties.S3BucketName"
            elif not any(t.depends_on(trail, policy_id) for policy_id, _ in policies):
                yield trail, f"the trail does not depend on the bucket policy of {bucket}: CloudFormation may create it first", "DependsOn"
        key = t.target_key(props.get("KMSKeyId"))
        if key and missing_actions([t.key_policy(key)], cloudtrail, ["kms:GenerateDataKey"]):
            yield trail, f"key {key} does not allow cloudtrail.amazonaws.com kms:GenerateDataKey*", "Properties.KMSKeyId"
        if props.get("CloudWatchLogsLogGroupArn") is not None and props.get("CloudWatchLogsRoleArn") is None:
            yield trail, "CloudWatchLogsLogGroupArn is set without CloudWatchLogsRoleArn", "Properties.CloudWatchLogsRoleArn"
