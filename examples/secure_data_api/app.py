"""Reference system 001, the secure serverless data API, built from serverless-patterns.

An HTTP API in front of one Python function that writes, reads and lists objects under ``data/``
in a versioned, encrypted bucket, signs its listing cursors with a generated, rotated secret that it
reads at run time, traces with X-Ray, and alarms (and keeps failed asynchronous events) when it
fails. ``cdk synth`` builds it; ``-c cors_origins=https://app.example.com,https://admin.example.com``
names the browser origins, ``-c alert_email=...`` subscribes an address to the alarms. See
README.md beside this file for how each requirement is met.
"""

from __future__ import annotations

from aws_cdk import Aws, App, ArnFormat, CfnCondition, CfnOutput, CfnParameter, Duration, Fn, Stack, Token
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from serverless_patterns import (
    AlertingFunction,
    AlertTopic,
    SecureBucket,
    SecureHttpApi,
    SecureQueue,
)
from serverless_patterns.compliance import acknowledge, add_nag_packs
from serverless_patterns.conventions import apply_required_tags
from serverless_patterns.handlers import handler_code, handler_entry
from serverless_patterns.secure_secret import SecureSecret

SYSTEM = "secure-data-api"
HANDLER = "data_api"
#: Objects live under this prefix; the function's grants stop at it.
KEY_PREFIX = "data/"
#: The largest object written or read through the API (see the handler's config for the limit).
MAX_OBJECT_BYTES = 1024 * 1024
#: Concurrency to reserve for (and cap) the function where the account has room: the
#: ``ReservedConcurrency`` parameter. A reservation fails to deploy in an account whose unreserved
#: concurrency would drop below its minimum (100; 10 in new accounts, whose total may be 10), so the
#: parameter's default is 0, no reservation: see README.md.
RESERVED_CONCURRENCY = 10
#: Requests per second the API's stage admits, and bursts; in line with the reserved concurrency
#: (10 concurrent invocations of about 50 ms serve some 200 requests per second).
RATE_LIMIT = 50
BURST_LIMIT = 100
DEFAULT_CORS_ORIGINS = ("https://app.example.com",)
#: Headers a browser sends with a SigV4-signed request (IAM authorization).
CORS_HEADERS = (
    "Content-Type",
    "Authorization",
    "X-Amz-Date",
    "X-Amz-Security-Token",
    "X-Amz-Content-Sha256",
)
HEALTH_REASON = (
    'Liveness check for uptime monitors, which hold no AWS credentials: it answers {"status": "ok"} '
    "without touching the bucket or the secret, and returns no data."
)
ROUTE_PATTERN_REASON = (
    "Object keys are chosen by the callers, so the routes /api/data/{key} are named by pattern; the "
    "pattern is limited to this API, its $default stage and the method."
)


#: Why the data function keeps its asynchronous failure path (a preflight acknowledgement).
ASYNC_FAILURE_PATH_REASON = (
    "Reference system 001 requires the failure path: asynchronous failures go to an on-failure "
    "destination (FailedInvocations) and a dead-letter queue, for callers that invoke the function "
    "with InvocationType=Event from outside this stack; API Gateway, its only invoker here, is synchronous."
)


class SecureDataApiStack(Stack):
    """HTTP API, data function, data bucket, signing secret, failure path, alarms and dashboard."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cors_origins: list[str],
        alert_emails: list[str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(
            scope, id, description="Secure serverless data API (reference system 001)", **kwargs
        )

        # Reserved concurrency is a deploy-time choice: 0 (the default) reserves none, which deploys
        # in any account; RESERVED_CONCURRENCY is what the stage's throttling is sized for.
        self.reserved_concurrency = CfnParameter(
            self,
            "ReservedConcurrency",
            type="Number",
            default=0,
            min_value=0,
            max_value=1000,
            description=(
                f"Concurrency reserved for the data function; 0 reserves none. {RESERVED_CONCURRENCY} matches the "
                "API's throttling; it deploys only where the account keeps its minimum unreserved concurrency."
            ),
        )
        has_reservation = CfnCondition(
            self,
            "HasReservedConcurrency",
            expression=Fn.condition_not(Fn.condition_equals(self.reserved_concurrency.value_as_number, 0)),
        )
        reserved = Token.as_number(
            Fn.condition_if(has_reservation.logical_id, self.reserved_concurrency.value_as_number, Aws.NO_VALUE)
        )

        # One topic for every alarm of the system; email subscribers confirm by mail.
        self.alerts = AlertTopic(self, "Alerts", emails=alert_emails or [])
        if not alert_emails:
            # Without -c alert_email=... nobody is subscribed (a development deployment).
            acknowledge(
                self.alerts,
                "DeployPreflight::AlarmTopicWithoutSubscription",
                "dev stack: alarms are for the dashboard; a deployment that must notify passes "
                "-c alert_email=... (subscribed to this topic).",
            )

        # Versioned, SSE-KMS with a customer-managed key, TLS only, no public access, server access
        # logs; versions that stop being current expire after 30 days. Current objects never expire.
        self.bucket = SecureBucket(
            self, "DataBucket", noncurrent_version_expiration=Duration.days(30)
        )

        # A generated value (never in code or templates), KMS-encrypted, rotated every 30 days.
        self.cursor_key = SecureSecret(
            self,
            "CursorKey",
            description="Signs the continuation tokens of GET /api/data",
            rotation_schedule=Duration.days(30),
            alert_topic=self.alerts,
        )

        # Asynchronous invocations that fail after retries: the event to the function's dead-letter
        # queue (for redrive), the invocation record with the error to this queue (for diagnosis).
        self.failed_invocations = SecureQueue(
            self,
            "FailedInvocations",
            retention_period=Duration.days(7),
            oldest_message_age_alarm_threshold=Duration.minutes(1),
            alarm_topic=self.alerts,
        )

        self.function = AlertingFunction(
            self,
            "DataFunction",
            code=handler_code(HANDLER),
            handler=handler_entry(HANDLER),
            description="Secure data API: health, write/read/list objects",
            powertools=True,
            environment={
                "BUCKET_NAME": self.bucket.bucket_name,
                "KEY_PREFIX": KEY_PREFIX,
                "MAX_OBJECT_BYTES": str(MAX_OBJECT_BYTES),
                "POWERTOOLS_SERVICE_NAME": SYSTEM,
            },
            secrets={"CURSOR_KEY": self.cursor_key.secret},  # the function sees CURSOR_KEY_ARN only
            log_retention=logs.RetentionDays.ONE_MONTH,
            reserved_concurrent_executions=reserved,
            on_failure=self.failed_invocations.queue,
            alert_topic=self.alerts,
            dashboard=True,
        )
        # Reference system 001 asks for an on-failure destination and a dead-letter queue for
        # asynchronous failures, although API Gateway is the only invoker this stack wires.
        acknowledge(self.function, "DeployPreflight::AsyncDestinationNeverInvoked", ASYNC_FAILURE_PATH_REASON)
        self.bucket.grant_read(self.function, f"{KEY_PREFIX}*")
        self.bucket.grant_write(self.function, f"{KEY_PREFIX}*")

        # Data routes are signed with SigV4 (IAM); the health route is public on purpose.
        self.api = SecureHttpApi(
            self,
            "Api",
            description="Secure data API",
            authorizer=authorizers.HttpIamAuthorizer(),
            throttling_rate_limit=RATE_LIMIT,
            throttling_burst_limit=BURST_LIMIT,
            cors_origins=cors_origins,
            cors_allow_headers=list(CORS_HEADERS),
        )
        self.api.add_route("GET", "/api/health", self.function, public_reason=HEALTH_REASON)
        self.api.add_route("GET", "/api/data", self.function)
        self.api.add_route(["GET", "PUT"], "/api/data/{key}", self.function)

        # What callers attach to their roles: read only, or read and write.
        self.reader_policy = self._client_policy(
            "ReaderPolicy", "Read and list objects of the data API", ["GET"]
        )
        self.writer_policy = self._client_policy(
            "WriterPolicy", "Read, list and write objects of the data API", ["GET", "PUT"]
        )

        outputs = {
            "BucketName": (self.bucket.bucket_name, "Data bucket"),
            "SecretArn": (
                self.cursor_key.secret_arn,
                "Secret that signs listing cursors (its ARN, not its value)",
            ),
            "FunctionName": (self.function.function_name, "Data API function"),
            "AlertTopicArn": (self.alerts.topic_arn, "Alarm notifications"),
            "FailedInvocationsQueueUrl": (
                self.failed_invocations.queue_url,
                "Records of failed asynchronous invocations",
            ),
            "DeadLetterQueueUrl": (
                self.function.dead_letter_queue.queue_url,
                "Failed asynchronous events, for redrive",
            ),
            "DashboardName": (
                self.function.dashboard.dashboard_name,
                "CloudWatch dashboard of the function",
            ),
            "ReaderPolicyArn": (
                self.reader_policy.managed_policy_arn,
                "Attach to callers that read",
            ),
            "WriterPolicyArn": (
                self.writer_policy.managed_policy_arn,
                "Attach to callers that read and write",
            ),
        }
        for output_id, (value, description) in outputs.items():
            CfnOutput(self, output_id, value=value, description=description)

    def _client_policy(self, id: str, description: str, methods: list[str]) -> iam.ManagedPolicy:
        def route_arn(method: str, path: str) -> str:
            return self.format_arn(
                service="execute-api",
                resource=self.api.api_id,
                resource_name=f"$default/{method}{path}",
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            )

        resources = [
            route_arn("GET", "/api/data"),
            *(route_arn(method, "/api/data/*") for method in methods),
        ]
        policy = iam.ManagedPolicy(
            self,
            id,
            description=description,
            statements=[iam.PolicyStatement(actions=["execute-api:Invoke"], resources=resources)],
        )
        for method in methods:
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:"
                f"<{self.get_logical_id(self.api.api.node.default_child)}>/$default/{method}/api/data/*]",
                ROUTE_PATTERN_REASON,
            )
        return policy


def build(app: App) -> list[Stack]:
    """Add the stack to ``app``; context ``cors_origins`` (comma-separated) and ``alert_email``."""
    origins = app.node.try_get_context("cors_origins")
    cors_origins = (
        [o.strip() for o in origins.split(",") if o.strip()]
        if origins
        else list(DEFAULT_CORS_ORIGINS)
    )
    alert_email = app.node.try_get_context("alert_email")
    stack = SecureDataApiStack(
        app,
        "SecureDataApi",
        cors_origins=cors_origins,
        alert_emails=[alert_email] if alert_email else None,
    )
    apply_required_tags(stack, {"System": SYSTEM})
    return [stack]


if __name__ == "__main__":
    app = App()
    build(app)
    add_nag_packs(app)
    app.synth()
