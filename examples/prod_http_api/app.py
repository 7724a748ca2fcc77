"""Reference system 004, a production HTTP API, built from serverless-patterns.

``GET /`` on an API Gateway HTTP API runs a 128 MB, 15-second Python function that answers with
the environment name and version and records each request in a KMS-encrypted log bucket whose
objects expire. Errors, throttles and slow invocations alarm to an SNS topic. ``cdk synth``
builds it; ``-c alert_email=ops@example.com`` subscribes an address to the alarms and
``-c app_version=1.2.3`` sets the version reported. See README.md beside this file for how each
requirement is met.
"""

from __future__ import annotations

import re

from aws_cdk import App, CfnOutput, Duration, Environment, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from serverless_patterns import AlertingFunction, AlertTopic, Invocation, SecureBucket, SecureHttpApi
from serverless_patterns.compliance import add_nag_packs
from serverless_patterns.conventions import alert_email_parameter, resource_name
from serverless_patterns.handlers import handler_code, handler_entry

REGION = "us-east-1"
#: Every name this app sets starts with it, and so does the stack's name, which CloudFormation
#: puts at the start of every name it generates.
PREFIX = "Prod"
STACK_NAME = "ProdHttpApi"
HANDLER = "prod_info"
ENVIRONMENT_NAME = "Production"
DEFAULT_VERSION = "1.0.0"
MEMORY_MB = 128
TIMEOUT = Duration.seconds(15)
#: How long request records stay in the log bucket, and how long an expired or deleted one can
#: still be restored (as a noncurrent version).
LOG_EXPIRY = Duration.days(90)
DELETED_LOG_RETENTION = Duration.days(7)
LOG_PREFIX = "requests/"
#: The route is public, so the stage is throttled well below the account's limits: each request
#: costs an invocation and an S3 PUT.
THROTTLE_RATE = 10
THROTTLE_BURST = 20
PUBLIC_REASON = (
    "GET / answers only the deployment's environment name and version, which are not secret, "
    "to any caller, as the system's request asks; HTTP APIs accept no API keys or AWS WAF, so the "
    "stage is throttled to 10 requests per second (bursts of 20) and every request is recorded."
)
_VERSION = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?")


class ProdHttpApiStack(Stack):
    """HTTP API, info function, request log bucket, alarms and their topic."""

    def __init__(
        self, scope: Construct, id: str, *, version: str, alert_emails: list[str] | None = None, **kwargs
    ) -> None:
        super().__init__(scope, id, description="Production HTTP API (reference system 004)", **kwargs)

        def name(base: str, kind: str) -> str:
            return resource_name(self, base, prefix=PREFIX, kind=kind)

        # Production alarms must notify someone: a required AlertEmail parameter (the context
        # address, if given, becomes its default).
        self.alert_email = alert_email_parameter(self, default=(alert_emails or [None])[0])
        self.alerts = AlertTopic(
            self,
            "Alerts",
            emails=[self.alert_email.value_as_string],
            topic_name=name("alerts", "sns_topic"),
            display_name="Prod HTTP API alerts",
        )
        # KMS (a customer-managed key) is SecureBucket's default; the bucket name is generated.
        self.log_bucket = SecureBucket(
            self,
            "LogBucket",
            lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=LOG_EXPIRY)],
            noncurrent_version_expiration=DELETED_LOG_RETENTION,
            log_retention=LOG_EXPIRY,
        )
        self.function = AlertingFunction(
            self,
            "Info",
            code=handler_code(HANDLER),
            handler=handler_entry(HANDLER),
            function_name=name("info", "lambda_function"),
            description="Answers GET / with the environment and version; records each request",
            memory_size=MEMORY_MB,
            timeout=TIMEOUT,
            powertools=True,
            environment={
                "ENVIRONMENT_NAME": ENVIRONMENT_NAME,
                "APP_VERSION": version,
                "LOG_BUCKET": self.log_bucket.bucket_name,
                "LOG_PREFIX": LOG_PREFIX,
                "POWERTOOLS_METRICS_NAMESPACE": "ProdHttpApi",
            },
            alert_topic=self.alerts,
            # Only the HTTP API calls it, synchronously: no dead-letter queue that could never fill.
            invocation=Invocation.SYNCHRONOUS,
            invoked_by="the HTTP API's GET / route (Lambda proxy integration)",
        )
        self.log_bucket.grant_write(self.function, f"{LOG_PREFIX}*")

        self.api = SecureHttpApi(
            self,
            "Api",
            api_name=name("http-api", "rest_api"),
            description="Prod HTTP API: GET / answers the environment and version",
            throttling_rate_limit=THROTTLE_RATE,
            throttling_burst_limit=THROTTLE_BURST,
        )
        self.api.add_route("GET", "/", self.function, public_reason=PUBLIC_REASON)

        outputs = {
            "LogBucketName": (self.log_bucket.bucket_name, "Request records (expire after 90 days)"),
            "FunctionName": (self.function.function_name, "Info function"),
            "AlertTopicArn": (self.alerts.topic_arn, "Alarms on errors, throttles and duration"),
        }
        for output_id, (value, description) in outputs.items():
            CfnOutput(self, output_id, value=value, description=description)


def build(app: App) -> list[Stack]:
    """Add the stack to ``app``; context ``app_version`` and ``alert_email`` are optional."""
    version = app.node.try_get_context("app_version") or DEFAULT_VERSION
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise ValueError(f"context app_version={version!r}: must be a semantic version such as 1.2.3")
    alert_email = app.node.try_get_context("alert_email")
    stack = ProdHttpApiStack(
        app,
        STACK_NAME,
        version=version,
        alert_emails=[alert_email] if alert_email else None,
        env=Environment(region=REGION),
    )
    return [stack]


if __name__ == "__main__":
    app = App()
    build(app)
    add_nag_packs(app)
    app.synth()
