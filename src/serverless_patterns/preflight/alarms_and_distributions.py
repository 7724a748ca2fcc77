"""Resources that deploy but never do their job: alarms that notify nobody, error pages that never show."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._registry import ERROR, WARNING, rule
from ._template import Template, as_list, missing_actions, render, service_principal
from .key_policies import alarm_topics
from .messaging import sns_subscriptions


@rule(
    id="AlarmTopicWithoutSubscription",
    severity=WARNING,
    summary="Alarms notify a topic of the template that has no subscription.",
    fix="Subscribe someone (an AlertEmail parameter, a chat integration) or acknowledge with the stack that subscribes.",
    source="Amazon CloudWatch User Guide: Using Amazon CloudWatch alarms (alarm actions, Amazon SNS notifications)",
)
def alarm_topic_without_subscription(t: Template) -> Iterator[tuple[str, str, str]]:
    """An alarm's SNS action only publishes; someone must subscribe to the topic to be told
    (CloudWatch User Guide, "Using Amazon CloudWatch alarms"). A topic with no subscription in
    the template notifies nobody unless another stack or person subscribes it."""
    subscribed = {t.target(topic) for _, topic, _, _ in sns_subscriptions(t)}
    for topic, alarms in alarm_topics(t).items():
        if topic not in subscribed:
            yield topic, f"is notified by {len(alarms)} alarm(s) and has no subscription in the template", "Properties"


def _s3_origin_buckets(t: Template, config: dict[str, Any]) -> list[str]:
    buckets = []
    for origin in as_list(config.get("Origins")):
        if not isinstance(origin, dict) or not origin.get("OriginAccessControlId"):
            continue
        bucket = t.target(origin.get("DomainName"))
        if t.type_of(bucket) == "AWS::S3::Bucket":
            buckets.append(bucket)
    return buckets


@rule(
    id="CloudFront404ResponseNeverSent",
    severity=ERROR,
    summary="A distribution maps S3 404 errors, but its OAC origin bucket does not grant CloudFront s3:ListBucket.",
    fix="Map ErrorCode 403 as well (or instead), or let cloudfront.amazonaws.com s3:ListBucket in the bucket policy.",
    source="Amazon S3 API Reference: GetObject (Permissions: without s3:ListBucket a missing key returns 403 Access Denied)",
)
def cloudfront_404_never_sent(t: Template) -> Iterator[tuple[str, str, str]]:
    """"If you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP status code
    403 Access Denied error" for a key that does not exist (S3 API Reference, GetObject). Behind
    origin access control the requester is CloudFront, so a ``CustomErrorResponses`` entry
    for 404 never fires unless the bucket policy also grants ``s3:ListBucket``."""
    cloudfront = service_principal("cloudfront")
    for logical_id, _ in t.of_type("AWS::CloudFront::Distribution"):
        config = t.props(logical_id).get("DistributionConfig") or {}
        codes = {render(r.get("ErrorCode")) for r in as_list(config.get("CustomErrorResponses")) if isinstance(r, dict)}
        if "404" not in codes or "403" in codes:
            continue
        for bucket in _s3_origin_buckets(t, config):
            documents = [doc for _, doc in t.bucket_policies(bucket)]
            if missing_actions(documents, cloudfront, ["s3:ListBucket"]):
                yield (logical_id, (f"maps 404 to a custom response, but its origin {bucket} answers 403 for a missing "
                                   "object: the bucket policy grants CloudFront no s3:ListBucket"),
                       "Properties.DistributionConfig.CustomErrorResponses")
