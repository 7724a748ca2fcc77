"""Reference system 003, the document processing system, built from serverless-patterns.

``cdk synth`` builds the ``prod`` configuration; ``cdk synth -c env=dev`` (or ``staging``) the
others. Its alarms notify the address of the required ``AlertEmail`` parameter in prod
(``cdk deploy --parameters AlertEmail=ops@example.com``, or ``-c alert_email=...`` as its default)
and the ``-c alert_email=...`` address, if any, elsewhere. ``-c availability_zones=us-east-1b,us-east-1c``
places the isolated subnets in AZs chosen for the account (Lambda does not run VPC functions in
``use1-az3``). See README.md beside this file for how each requirement is met.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import App, CfnOutput, Duration, Environment, Stack
from constructs import Construct

from serverless_patterns import AuditTrail, IsolatedNetwork
from serverless_patterns.compliance import acknowledge, add_nag_packs
from serverless_patterns.conventions import alert_email_parameter
from serverless_patterns.document_pipeline import VPC_INTERFACE_ENDPOINTS, DocumentPipeline
from serverless_patterns.keyed_api import UsagePlanTier

REGION = "us-east-1"


@dataclass(frozen=True)
class Configuration:
    """What differs between the dev, staging and prod deployments."""

    name: str
    isolated_network: bool
    audit_trail: bool
    max_document_bytes: int
    quota_per_day: int
    #: An AWS WAF web ACL in front of the API ($9 a month idle: ACL and 4 rules).
    web_acl: bool
    #: Alarms must notify someone: a required ``AlertEmail`` parameter.
    alert_email_required: bool = False


CONFIGURATIONS = {
    "dev": Configuration("dev", isolated_network=False, audit_trail=False, max_document_bytes=25 * 1024**2, quota_per_day=1_000, web_acl=False),
    "staging": Configuration("staging", isolated_network=True, audit_trail=False, max_document_bytes=100 * 1024**2, quota_per_day=10_000, web_acl=True),
    "prod": Configuration(
        "prod", isolated_network=True, audit_trail=True, max_document_bytes=100 * 1024**2, quota_per_day=100_000,
        web_acl=True, alert_email_required=True,
    ),
}


class DocumentProcessingStack(Stack):
    """Upload API, documents bucket, processor, metadata table and status notifications."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        configuration: Configuration,
        alert_email: str | None = None,
        availability_zones: list[str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, id, description=f"Document processing system ({configuration.name})", **kwargs)
        if configuration.alert_email_required:
            self.alert_email = alert_email_parameter(self, default=alert_email)
            alert_emails = [self.alert_email.value_as_string]
        else:
            self.alert_email = None
            alert_emails = [alert_email] if alert_email else []
        # Interface endpoints only for what the handlers' code calls (S3 and DynamoDB: gateways).
        network = (
            IsolatedNetwork(
                self,
                "Network",
                interface_endpoints=VPC_INTERFACE_ENDPOINTS,
                availability_zones=availability_zones,
                # Only the notifier calls them (SNS, EventBridge): one AZ halves their idle cost, and
                # an outage of that AZ delays notifications (stream retries, failure queue), never documents.
                interface_endpoint_azs=1,
            )
            if configuration.isolated_network
            else None
        )
        trail = AuditTrail(self, "AuditTrail") if configuration.audit_trail else None
        quota = configuration.quota_per_day
        self.pipeline = DocumentPipeline(
            self,
            "Documents",
            max_document_bytes=configuration.max_document_bytes,
            tiers=[
                UsagePlanTier("read-only", level="read-only", quota_per_day=quota, rate_limit=10, burst_limit=20),
                UsagePlanTier("read-write", level="read-write", quota_per_day=quota, rate_limit=20, burst_limit=40),
                UsagePlanTier("admin", level="admin", quota_per_day=quota, rate_limit=5, burst_limit=10),
            ],
            authorizer_cache_ttl=Duration.minutes(5),
            network=network,
            audit_trail=trail,
            alert_emails=alert_emails,
            web_acl=configuration.web_acl,
            tags={"Environment": configuration.name, "System": "document-processing"},
        )
        if not alert_emails:
            # dev/staging without -c alert_email=...: nobody is subscribed, and that is a choice.
            acknowledge(
                self.pipeline.alert_topic,
                "DeployPreflight::AlarmTopicWithoutSubscription",
                f"{configuration.name} stack: alarms are for the dashboard; prod requires AlertEmail "
                "(or pass -c alert_email=... to subscribe an address here).",
            )
        CfnOutput(self, "DocumentsBucketName", value=self.pipeline.documents.bucket_name)
        CfnOutput(self, "MetadataTableName", value=self.pipeline.metadata.table_name)
        CfnOutput(self, "StatusTopicArn", value=self.pipeline.status_topic.topic_arn)


def build(app: App) -> list[Stack]:
    """Add the configuration named by context ``env`` (default ``prod``) to ``app``."""
    name = app.node.try_get_context("env") or "prod"
    zones = app.node.try_get_context("availability_zones")
    if name not in CONFIGURATIONS:
        raise ValueError(f"context env={name!r}: must be one of {', '.join(CONFIGURATIONS)}")
    stack = DocumentProcessingStack(
        app,
        f"{name}-document-processing",
        configuration=CONFIGURATIONS[name],
        alert_email=app.node.try_get_context("alert_email"),
        availability_zones=[z.strip() for z in zones.split(",") if z.strip()] if zones else None,
        env=Environment(region=REGION),
    )
    return [stack]


if __name__ == "__main__":
    app = App()
    build(app)
    add_nag_packs(app)
    app.synth()
