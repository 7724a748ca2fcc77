"""Reference system 002, audited ingest, built from serverless-patterns.

Objects uploaded to the ingest bucket are recorded in DynamoDB (one item per object version and a
``LATEST`` item per object) by a Lambda function fed by EventBridge through an encrypted queue;
a multi-Region CloudTrail trail records who did what. ``cdk synth`` builds the ``dev``
environment, ``cdk synth -c env=staging`` (or ``prod``) the others; ``-c alert_email=...``
subscribes an address to the alarms. See README.md beside this file for how each requirement is
met.
"""

from __future__ import annotations

from aws_cdk import App, CfnOutput, Duration, Environment, Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from constructs import Construct

from serverless_patterns import AlertingFunction, AlertTopic, AuditedTable, AuditTrail, Invocation, SecureBucket
from serverless_patterns.compliance import acknowledge, add_nag_packs
from serverless_patterns.conventions import alert_email_parameter, apply_required_tags, environment_suffix, resource_name
from serverless_patterns.handlers import handler_code, handler_entry
from serverless_patterns.secure_queue import SecureQueue

REGION = "us-west-2"
SYSTEM = "audited-ingest"
HANDLER = "object_metadata_writer"
#: The function's timeout; the queue hides a message six times as long, as AWS recommends.
WRITER_TIMEOUT = Duration.seconds(30)


class AuditedIngestStack(Stack):
    """Ingest bucket, object-created events, metadata writer, metadata table and audit trail."""

    def __init__(
        self, scope: Construct, id: str, *, environment: str, alert_emails: list[str] | None = None, **kwargs
    ) -> None:
        super().__init__(scope, id, description=f"Audited ingest ({environment})", **kwargs)

        def name(base: str, kind: str, *, unique_per_stack: bool = False) -> str:
            return resource_name(
                self, f"{SYSTEM}-{base}", suffix=environment, kind=kind, unique_per_stack=unique_per_stack
            )

        if environment == "prod":
            # Production alarms must notify someone: a required AlertEmail parameter (the context
            # address, if given, becomes its default).
            self.alert_email = alert_email_parameter(self, default=(alert_emails or [None])[0])
            alert_emails = [self.alert_email.value_as_string]
        self.alerts = AlertTopic(self, "Alerts", emails=alert_emails or [])
        if not alert_emails:
            # dev/staging without -c alert_email=...: nobody is subscribed, and that is a choice.
            acknowledge(
                self.alerts,
                "DeployPreflight::AlarmTopicWithoutSubscription",
                f"{environment} stack: alarms are for the dashboard; prod requires AlertEmail "
                "(or pass -c alert_email=... to subscribe an address here).",
            )

        # Versioned, SSE-KMS, all public access blocked, TLS only, server access logs to a log
        # bucket of its own; object events go to EventBridge (no notification helper Lambda).
        self.bucket = SecureBucket(self, "IngestBucket", event_bridge_enabled=True)

        self.table = AuditedTable(
            self,
            "ObjectsTable",
            # Table and queue are kept when the stack is deleted: their names carry the stack
            # instance's id, so that a redeployment after a delete does not collide with them.
            table_name=name("objects", "dynamodb_table", unique_per_stack=True),
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            contributor_insights=True,
            alarm_topic=self.alerts.topic,
        )

        self.queue = SecureQueue(
            self,
            "ObjectEvents",
            queue_name=name("object-events", "sqs_queue", unique_per_stack=True),
            visibility_timeout=Duration.seconds(6 * WRITER_TIMEOUT.to_seconds()),
            alarm_topic=self.alerts,
        )
        self.rule = events.Rule(
            self,
            "ObjectCreated",
            rule_name=name("object-created", "events_rule"),
            description="Object-created events of the ingest bucket, to the metadata writer's queue",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={"bucket": {"name": [self.bucket.bucket_name]}},
            ),
            targets=[self.queue.rule_target()],
        )

        self.writer = AlertingFunction(
            self,
            "MetadataWriter",
            code=handler_code(HANDLER),
            handler=handler_entry(HANDLER),
            function_name=name("metadata-writer", "lambda_function"),
            description="Records the metadata of every object created in the ingest bucket",
            timeout=WRITER_TIMEOUT,
            powertools=True,
            environment={
                "TABLE_NAME": self.table.table_name,
                "BUCKET_NAME": self.bucket.bucket_name,
                "POWERTOOLS_METRICS_NAMESPACE": "AuditedIngest",
            },
            # Fed only by the queue's event source mapping: failed batches follow the queue's
            # redrive policy to its dead-letter queue, not a function dead-letter queue.
            invocation=Invocation.EVENT_SOURCE,
            invoked_by="the ObjectEvents queue's event source mapping",
            alert_topic=self.alerts,
        )
        self.writer.add_sqs_source(self.queue.queue, batch_size=10, report_batch_item_failures=True)
        # The whole of the role's data access: read the ingest bucket, write the table.
        self.bucket.grant_read(self.writer)
        self.table.grant_write_data(self.writer)

        self.trail = AuditTrail(self, "AuditTrail", trail_name=name("trail", "cloudtrail_trail"))
        # Who uploaded which object (charged per event): writes to the ingest bucket only.
        self.trail.add_s3_data_events([self.bucket], read_write_type=cloudtrail.ReadWriteType.WRITE_ONLY)

        outputs = {
            "BucketName": (self.bucket.bucket_name, "Ingest bucket"),
            "BucketArn": (self.bucket.bucket_arn, "Ingest bucket ARN"),
            "TableName": (self.table.table_name, "Object metadata table"),
            "TableArn": (self.table.table_arn, "Object metadata table ARN"),
            "FunctionName": (self.writer.function_name, "Metadata writer function"),
            "FunctionArn": (self.writer.function_arn, "Metadata writer function ARN"),
            "FunctionRoleName": (self.writer.role.role_name, "Metadata writer execution role"),
            "FunctionRoleArn": (self.writer.role.role_arn, "Metadata writer execution role ARN"),
            "EventQueueUrl": (self.queue.queue_url, "Queue of object-created events"),
            "DeadLetterQueueUrl": (self.queue.dead_letter_queue.queue_url, "Events that failed processing"),
            "TrailArn": (self.trail.trail_arn, "CloudTrail trail"),
        }
        for output_id, (value, description) in outputs.items():
            CfnOutput(self, output_id, value=value, description=description)


def build(app: App) -> list[Stack]:
    """Add the environment named by context ``env`` (``dev`` by default) to ``app``."""
    environment = environment_suffix(app)
    alert_email = app.node.try_get_context("alert_email")
    stack = AuditedIngestStack(
        app,
        f"AuditedIngest-{environment}",
        environment=environment,
        alert_emails=[alert_email] if alert_email else None,
        env=Environment(region=REGION),
    )
    apply_required_tags(stack, {"Environment": environment, "System": SYSTEM})
    return [stack]


if __name__ == "__main__":
    app = App()
    build(app)
    add_nag_packs(app)
    app.synth()
