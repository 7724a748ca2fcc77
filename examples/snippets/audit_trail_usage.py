"""Usage of AuditTrail, included in the docs and synthesized by the tests."""

from aws_cdk import Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns

from serverless_patterns.audit_trail import AuditTrail
from serverless_patterns.secure_bucket import SecureBucket


def build(stack: Stack) -> AuditTrail:
    # Defaults: multi-Region, log file validation, management events, SSE-KMS with a rotating
    # customer-managed key, its own SecureBucket (with server access logs) and CloudWatch Logs.
    audit = AuditTrail(stack, "Audit")

    # Data events are charged per event: choose the buckets and tables that hold sensitive data.
    documents = SecureBucket(stack, "Documents")
    audit.add_s3_data_events([documents], key_prefix="contracts/")
    orders = dynamodb.Table.from_table_name(stack, "Orders", "orders")
    audit.add_dynamodb_data_events([orders], read_write_type=cloudtrail.ReadWriteType.WRITE_ONLY)

    # CIS benchmark alarms (root use, denied calls, IAM and trail changes, ...) to an encrypted topic.
    # Pass the topic itself: its policy and key are opened to CloudWatch alarms of this account.
    alerts = sns.Topic(stack, "SecurityAlerts", master_key=kms.Key(stack, "AlertsKey", enable_key_rotation=True), enforce_ssl=True)
    audit.add_security_alarms(alerts)
    return audit
