"""Usage of SecureBucket, included in the docs and synthesized by the tests."""

from aws_cdk import Duration, Stack, aws_iam as iam, aws_s3 as s3

from serverless_patterns import SecureBucket


def build(stack: Stack) -> SecureBucket:
    # Defaults: SSE-KMS with a rotating customer-managed key, all public access blocked,
    # TLS 1.2+ only, versioned, server access logs to a hardened log bucket, RETAIN.
    documents = SecureBucket(stack, "Documents")

    # Options: Object Lock with a default retention, lifecycle transitions, user tags.
    archive = SecureBucket(
        stack,
        "Archive",
        object_lock_enabled=True,
        object_lock_default_retention=s3.ObjectLockRetention.governance(Duration.days(365)),
        transitions=[s3.Transition(storage_class=s3.StorageClass.GLACIER, transition_after=Duration.days(90))],
        tags={"DataClass": "records"},
    )

    # Grants name explicit actions, include the KMS key, and can be limited to a prefix.
    reader = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    documents.grant_read(reader, "incoming/*")
    archive.grant_write(reader)
    return documents
