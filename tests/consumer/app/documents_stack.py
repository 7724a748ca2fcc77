"""The documents service: the library's pipeline on the platform's resources, extended with our code.

- the pipeline uses the platform's bucket, key, alert topic and VPC (passed in as CDK objects);
- two processing steps of ours run after validation, each with its own statuses;
- status events are consumed without touching the pipeline: EventBridge -> queue -> audit function,
  and an SNS subscription of the status topic for rejections;
- a daily digest of the catalog goes to the ops topic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Annotations, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk.aws_lambda_event_sources import SqsEventSource
from constructs import Construct
from platform_stack import PlatformStack

from serverless_patterns import (
    AlertingFunction,
    AuditedTable,
    DocumentPipeline,
    Invocation,
    IsolatedNetwork,
    SecureQueue,
)
from serverless_patterns.compliance import acknowledge
from serverless_patterns.document_pipeline import STEP_INTERFACE_ENDPOINTS, VPC_INTERFACE_ENDPOINTS

HANDLERS = Path(__file__).resolve().parent / "handlers"

#: What the status events on EventBridge carry (docs: "Status events").
STATUS_EVENT_SOURCE = "serverless-patterns.document-pipeline"
STATUS_EVENT_DETAIL_TYPE = "Document Status Changed"

#: Statuses our steps record; the pipeline announces them like its own.
CLASSIFY_STATUSES = ["CLASSIFIED", "NEEDS_REVIEW"]
CATALOG_STATUSES = ["CATALOGUED"]


class DocumentsStack(Stack):
    """DocumentPipeline on the platform's resources, plus our steps and status-event consumers."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        platform: PlatformStack,
        stage: str,
        removal_policy: RemovalPolicy,
        web_acl: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, description=f"Documents service ({stage})", **kwargs)
        self.platform = platform
        # The platform's VPC, with the endpoints and security groups the service needs.
        # --8<-- [start:bring_your_own]
        self.network = IsolatedNetwork(
            self,
            "Network",
            vpc=platform.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            # The pipeline's notifier calls SNS and EventBridge; with processing steps its step
            # coordinator also invokes Lambda and sends to SQS from inside the VPC.
            interface_endpoints=[*VPC_INTERFACE_ENDPOINTS, *STEP_INTERFACE_ENDPOINTS],
        )
        self.pipeline = DocumentPipeline(
            self,
            "Pipeline",
            # The platform's bucket, imported by its published ARN (EventBridge is on, see platform_stack.py).
            bucket=s3.Bucket.from_bucket_attributes(
                self, "DocumentsBucket", bucket_arn=platform.documents_bucket_export, encryption_key=platform.data_key
            ),
            key=platform.data_key,
            alert_topic=platform.ops_alerts,
            network=self.network,
            web_acl=web_acl,
            removal_policy=removal_policy,
            tags={"Environment": stage, "Service": "documents"},
        )
        # The data key belongs to the platform stack, so the library adds nothing to its policy
        # from here and names each statement it needs in a warning instead. The platform's key
        # policy already allows them account-wide (platform_stack.py).
        Annotations.of(self).acknowledge_warning(
            "serverless-patterns:documentsBucketEventBridge",
            "The platform stack turns on the bucket's EventBridge notifications (event_bridge_enabled=True).",
        )
        Annotations.of(self).acknowledge_warning(
            "serverless-patterns:keyPolicyNotWritable",
            "The platform stack's data key lets CloudWatch Logs use it for every log group of the account "
            "and EventBridge for rules of the account.",
        )
        # --8<-- [end:bring_your_own]
        # Our catalog of processed documents, and every status a document went through.
        self.catalog = AuditedTable(
            self,
            "Catalog",
            partition_key=dynamodb.Attribute(name="document_id", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="entry", type=dynamodb.AttributeType.STRING),
            encryption_key=platform.data_key,
            alarm_topic=platform.ops_alerts,
            removal_policy=removal_policy,
        )
        self._add_processing_steps()
        self._consume_status_events()
        self._add_daily_digest()

    # ---- our two processing steps ------------------------------------------------------------

    def _add_processing_steps(self) -> None:
        # --8<-- [start:steps]
        # A step invokes its function asynchronously and owns its retries and destinations.
        step = {"invocation": Invocation.CALLER_CONFIGURED_ASYNC}
        classify = self._function(
            "Classify",
            "classify_step",
            "Classifies a validated document from its first 64 KiB",
            invoked_by="the pipeline's Classify step",
            **step,
        )
        # No grant of ours: the pipeline lets each step read the document it hands it (documents/).
        catalog = self._function(
            "Catalogue",
            "catalog_step",
            "Records a classified document in the catalog",
            environment={"CATALOG_TABLE": self.catalog.table_name},
            invoked_by="the pipeline's Catalogue step",
            **step,
        )
        self.catalog.grant_write_data(catalog)
        self.classify_step = self.pipeline.add_processing_step(
            "Classify", function=classify, statuses=CLASSIFY_STATUSES, retries=2, timeout=Duration.minutes(15)
        )
        self.catalog_step = self.pipeline.add_processing_step(
            "Catalogue", function=catalog, statuses=CATALOG_STATUSES, retries=1
        )
        # --8<-- [end:steps]

    # ---- status events -----------------------------------------------------------------------

    def _consume_status_events(self) -> None:
        # What EventBridge or SNS could not deliver to our consumers, after their retries.
        self.undelivered = SecureQueue(self, "UndeliveredEvents", alarm_topic=self.platform.ops_alerts)

        # --8<-- [start:status_events]
        # EventBridge: every status change into a queue of ours, drained by the audit function.
        status_events = SecureQueue(self, "StatusEvents", alarm_topic=self.platform.ops_alerts)
        status_changed = events.Rule(
            self,
            "StatusChanged",
            description="Every document status change, to the audit queue",
            event_pattern=events.EventPattern(source=[STATUS_EVENT_SOURCE], detail_type=[STATUS_EVENT_DETAIL_TYPE]),
            targets=[targets.SqsQueue(status_events, dead_letter_queue=self.undelivered, retry_attempts=10)],
        )
        # The queues' keys let EventBridge in for this rule's deliveries (CDK adds the queue policies).
        status_events.allow_send_from("events.amazonaws.com", source_arn=status_changed.rule_arn)
        self.undelivered.allow_send_from("events.amazonaws.com", source_arn=status_changed.rule_arn)
        audit = self._function(
            "StatusAudit",
            "status_audit",
            "Records every status change of a document in the catalog",
            environment={"CATALOG_TABLE": self.catalog.table_name},
            invocation=Invocation.EVENT_SOURCE,
            invoked_by="the status-events queue's event source mapping",
        )
        mapping = SqsEventSource(status_events, batch_size=10, report_batch_item_failures=True)
        audit.add_event_source(mapping)
        (cfn_mapping,) = [c for c in audit.node.find_all() if isinstance(c, lambda_.CfnEventSourceMapping)]
        acknowledge(
            cfn_mapping,
            "Serverless-LambdaEventSourceMappingDestination",
            "An SQS event source has no on-failure destination: messages that keep failing follow the "
            "status-events queue's redrive policy to its dead-letter queue, whose alarm notifies ops.",
        )
        self.catalog.grant_write_data(audit)
        # --8<-- [end:status_events]

        # --8<-- [start:subscription]
        # SNS: rejections only (a filter on the message attribute `status`), to the ops topic.
        rejections = self._function(
            "RejectionNotice",
            "rejection_notice",
            "Tells the ops topic which document was rejected and why",
            environment={"OPS_TOPIC_ARN": self.platform.ops_alerts.topic_arn},
        )
        self.pipeline.status_topic.add_subscription(
            subscriptions.LambdaSubscription(
                rejections,
                filter_policy={"status": sns.SubscriptionFilter.string_filter(allowlist=["REJECTED"])},
                dead_letter_queue=self.undelivered,
            )
        )
        self.undelivered.allow_send_from("sns.amazonaws.com", source_arn=self.pipeline.status_topic.topic_arn)
        self.platform.ops_alerts.grant_publish(rejections)
        # --8<-- [end:subscription]

    # ---- a scheduled report ------------------------------------------------------------------

    def _add_daily_digest(self) -> None:
        digest = self._function(
            "DailyDigest",
            "daily_digest",
            "Counts the catalog's documents by classification and sends the digest to ops",
            environment={"CATALOG_TABLE": self.catalog.table_name, "OPS_TOPIC_ARN": self.platform.ops_alerts.topic_arn},
        )
        # --8<-- [start:schedule]
        schedule = events.Rule(
            self,
            "DailyDigestSchedule",
            description="The catalog digest, every morning",
            schedule=events.Schedule.cron(minute="0", hour="6"),
            targets=[targets.LambdaFunction(digest, dead_letter_queue=self.undelivered, retry_attempts=2)],
        )
        self.undelivered.allow_send_from("events.amazonaws.com", source_arn=schedule.rule_arn)
        # --8<-- [end:schedule]
        self.catalog.grant_read_data(digest)
        self.platform.ops_alerts.grant_publish(digest)

    # ---- building blocks ---------------------------------------------------------------------

    # --8<-- [start:function]
    def _function(
        self,
        id: str,
        handler: str,
        description: str,
        *,
        environment: dict[str, str] | None = None,
        invocation: Invocation = Invocation.ASYNCHRONOUS,
        invoked_by: str | None = None,
    ) -> AlertingFunction:
        """One of our functions: in the platform's VPC, alarms to the ops topic, logs under the data key."""
        function = AlertingFunction(
            self,
            id,
            code=lambda_.Code.from_asset(str(HANDLERS)),
            handler=f"{handler}.index.handler",
            description=description,
            environment=environment,
            timeout=Duration.seconds(30),
            vpc=self.network,
            vpc_subnets=self.network.subnets,
            alert_topic=self.platform.ops_alerts,
            encryption_key=self.platform.data_key,
            invocation=invocation,
            invoked_by=invoked_by,
        )
        self.network.allow_https_from(function.security_group)
        return function
    # --8<-- [end:function]
