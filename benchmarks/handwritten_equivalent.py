"""The flagship's dev template written by hand in plain aws-cdk-lib: the fair synth baseline.

``examples/document_pipeline`` with ``-c env=dev`` synthesizes one stack; this module writes the
same stack without serverless-patterns, the way a careful CDK user would who wanted exactly that
template: the same resources (count per type), key policies, managed policies (least-privilege
statements written out), alarms, tags, removal policies and outputs, with L2 constructs and an L1
escape hatch only where the L2 cannot say it (the bucket's EventBridge switch and access-log
target, API Gateway's account settings). Construct ids follow the flagship's tree, so the two
templates can be compared resource by resource (``tests/test_benchmark_baseline.py``).

Left out, because they are the library's own work and not part of the template: prop validation,
compliance acknowledgements (cloud-assembly metadata), warnings and deploy checks. The Lambda code
is the flagship's: the same handler directories, staged as the same assets. Only for the synth
benchmark, not for deploying.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import NamedTuple

import jsii
from aws_cdk import (
    App,
    ArnFormat,
    CfnOutput,
    Duration,
    Environment,
    Fn,
    IgnoreMode,
    RemovalPolicy,
    Stack,
    Tags,
)
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

HANDLERS = Path(__file__).resolve().parent.parent / "src" / "serverless_patterns" / "handlers"
REGION = "us-east-1"
ENVIRONMENT = "dev"
POWERTOOLS_LAYER = (
    f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:38"
)
METRICS_NAMESPACE = "ServerlessPatterns/Documents"
COMPONENT_TAG = "serverless-patterns:construct"  # the flagship's tag key, so the templates compare
RETAIN = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
FIVE_MINUTES = Duration.minutes(5)
GTE = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD

MAX_DOCUMENT_BYTES = 25 * 1024**2
ALLOWED_CONTENT_TYPES = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/tiff",
    "text/plain",
    "text/csv",
    "application/json",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
)
#: method, path, the API-key level the authorizer requires.
ROUTES = (
    ("POST", "/documents", "read-write"),
    ("GET", "/documents", "read-only"),
    ("GET", "/documents/{id}", "read-only"),
    ("DELETE", "/documents/{id}", "admin"),
)
#: usage-plan id, tier name, requests per second, burst.
TIERS = (
    ("ReadOnly", "read-only", 10, 20),
    ("ReadWrite", "read-write", 20, 40),
    ("Admin", "admin", 5, 10),
)
QUOTA_PER_DAY = 1_000
STAGE = "prod"
ACCESS_LOG_FIELDS = {
    "requestId": "requestId",
    "extendedRequestId": "extendedRequestId",
    "requestTime": "requestTime",
    "requestTimeEpoch": "requestTimeEpoch",
    "sourceIp": "identity.sourceIp",
    "userAgent": "identity.userAgent",
    "httpMethod": "httpMethod",
    "resourcePath": "resourcePath",
    "path": "path",
    "protocol": "protocol",
    "status": "status",
    "responseLength": "responseLength",
    "responseLatency": "responseLatency",
    "integrationStatus": "integration.status",
    "integrationLatency": "integration.latency",
    "integrationError": "integration.error",
    "principalId": "authorizer.principalId",
    "clientId": "authorizer.client_id",
    "permissionLevel": "authorizer.level",
    "authorizerStatus": "authorizer.status",
    "authorizerLatency": "authorizer.latency",
    "authorizerError": "authorizer.error",
    "apiKeyId": "identity.apiKeyId",
    "errorMessage": "error.message",
    "errorType": "error.responseType",
    "wafResponseCode": "wafResponseCode",
    "xrayTraceId": "xrayTraceId",
}
NO_VPC = (
    "The function calls only AWS service APIs (TLS, IAM-signed requests) and no private network "
    "resources; a VPC would add network interfaces, endpoint cost and cold-start latency and reduce "
    "no exposure."
)
NO_RESERVED_CONCURRENCY = (
    "No reserved concurrency: a reservation is taken from the account's regional pool and "
    "fails to deploy when it would leave less than the minimum unreserved concurrency "
    "(10 in new accounts, 100 otherwise). Throttles have an alarm instead."
)
NO_FUNCTION_DLQ = (
    "Invoked only {by}; failed records follow the mapping or reach the caller. A dead-letter queue "
    "or on-failure destination receives failed asynchronous invocations only, and there are none."
)


def _tag(scope: Construct, component: str) -> None:
    Tags.of(scope).add(COMPONENT_TAG, component)


def _statement(
    actions_: list[str], resources: list[str], conditions: dict | None = None
) -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=actions_, resources=resources, conditions=conditions)


def _key(scope: Construct, id: str, description: str) -> kms.Key:
    return kms.Key(
        scope,
        id,
        description=description,
        enable_key_rotation=True,
        pending_window=Duration.days(30),
        removal_policy=RETAIN,
    )


def _alarm(
    scope: Construct,
    id: str,
    metric: cloudwatch.IMetric,
    threshold: float,
    description: str,
    action: cloudwatch.IAlarmAction,
    comparison: cloudwatch.ComparisonOperator = GTE,
) -> cloudwatch.Alarm:
    alarm = cloudwatch.Alarm(
        scope,
        id,
        metric=metric,
        threshold=threshold,
        evaluation_periods=1,
        comparison_operator=comparison,
        alarm_description=description,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    alarm.add_alarm_action(action)
    alarm.add_ok_action(action)
    return alarm


def _topic(scope: Construct, id: str) -> tuple[kms.Key, sns.Topic]:
    """An SNS topic under its own key that CloudWatch alarms of this account may publish to."""
    group = Construct(scope, id)
    _tag(group, "AlertTopic")
    stack = Stack.of(scope)
    key = _key(group, "Key", f"Encrypts the alerts of {group.node.path}")
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudwatch",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
        )
    )
    topic = sns.Topic(group, "Resource", master_key=key, enforce_ssl=True, signature_version="2")
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchAlarms",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={
                "ArnLike": {
                    "aws:SourceArn": stack.format_arn(
                        service="cloudwatch",
                        resource="alarm",
                        resource_name="*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                },
                "StringEquals": {"aws:SourceAccount": stack.account},
            },
        )
    )
    return key, topic


def _table(
    scope: Construct,
    id: str,
    *,
    partition_key: str,
    key: kms.IKey | None,
    operations: list[str],
    action: cloudwatch.IAlarmAction,
    **props,
) -> tuple[kms.IKey, dynamodb.Table]:
    """A customer-key table (its own key unless given one) with recovery and deletion protection,
    alarmed on throttles and 500s of the operations the handlers call."""
    group = Construct(scope, id)
    _tag(group, "AuditedTable")
    key = key or _key(group, "Key", f"Encrypts the DynamoDB table {group.node.path}")
    table = dynamodb.Table(
        group,
        "Resource",
        partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
        deletion_protection=True,
        removal_policy=RETAIN,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True, recovery_period_in_days=35
        ),
        **props,
    )
    for metric_name, label, description in (
        (
            "ThrottledRequests",
            "Throttled requests",
            f"Requests to {group.node.path} were throttled (capacity, hot keys or limits).",
        ),
        (
            "SystemErrors",
            "System errors",
            f"DynamoDB returned HTTP 500 errors for {group.node.path}.",
        ),
    ):
        # DynamoDB publishes these per operation: one alarm sums them.
        metrics = {
            re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower(): table.metric(
                metric_name,
                statistic="Sum",
                period=FIVE_MINUTES,
                dimensions_map={"Operation": operation, "TableName": table.table_name},
            )
            for operation in operations
        }
        expression = cloudwatch.MathExpression(
            expression=" + ".join(f"FILL({i}, 0)" for i in metrics),
            using_metrics=metrics,
            label=label,
            period=FIVE_MINUTES,
        )
        _alarm(group, f"{metric_name}Alarm", expression, 1, description, action)
    return key, table


def _queue(
    scope: Construct,
    id: str,
    *,
    key: kms.IKey,
    action: cloudwatch.IAlarmAction,
    oldest_age: Duration,
    oldest_age_text: str,
    max_receive_count: int,
    **props,
) -> tuple[sqs.Queue, sqs.Queue]:
    """An encrypted queue with a dead-letter queue, alarmed on its age and on dead letters."""
    group = Construct(scope, id)
    _tag(group, "SecureQueue")
    common = {
        "encryption": sqs.QueueEncryption.KMS,
        "encryption_master_key": key,
        "enforce_ssl": True,
        "removal_policy": RETAIN,
    }
    dead_letters = sqs.Queue(group, "DeadLetterQueue", retention_period=Duration.days(14), **common)
    queue = sqs.Queue(
        group,
        "Resource",
        retention_period=Duration.days(4),
        receive_message_wait_time=Duration.seconds(20),
        dead_letter_queue=sqs.DeadLetterQueue(
            queue=dead_letters, max_receive_count=max_receive_count
        ),
        **common,
        **props,
    )
    path = group.node.path
    _alarm(
        group,
        "DeadLetterMessagesAlarm",
        dead_letters.metric_approximate_number_of_messages_visible(
            statistic="Maximum", period=FIVE_MINUTES
        ),
        1,
        f"{path}: 1 or more messages failed processing and wait in the dead-letter queue.",
        action,
    )
    _alarm(
        group,
        "OldestMessageAgeAlarm",
        queue.metric_approximate_age_of_oldest_message(statistic="Maximum", period=FIVE_MINUTES),
        oldest_age.to_seconds(),
        f"{path}: the oldest message waited {oldest_age_text} or longer (the consumer is down or falling behind).",
        action,
    )
    return queue, dead_letters


@jsii.implements(events.IRuleTarget)
class _QueueTarget:
    """Delivers a rule's events to ``queue``, undeliverable ones to ``dead_letters``.

    ``aws_events_targets.SqsQueue`` would add its own key and queue policies: wildcard KMS actions
    (``kms:ReEncrypt*``, ``kms:GenerateDataKey*``) for EventBridge without a condition and, for an
    encrypted queue, a queue statement that names no rule. The stack writes both policies instead.
    """

    def __init__(self, queue: sqs.IQueue, dead_letters: sqs.IQueue) -> None:
        self.queue = queue
        self.dead_letters = dead_letters

    def bind(self, rule: events.IRule, id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(
            arn=self.queue.queue_arn,
            dead_letter_config=events.CfnRule.DeadLetterConfigProperty(
                arn=self.dead_letters.queue_arn
            ),
        )


def _code(handler: str, *, shared: bool) -> lambda_.Code:
    """The handler's directory (and ``_shared/`` when it imports from it), nothing else."""
    return lambda_.Code.from_asset(
        str(HANDLERS),
        ignore_mode=IgnoreMode.GIT,
        exclude=[
            "/*",
            f"!/{handler}/",
            *(["!/_shared/"] if shared else []),
            "__pycache__/",
            "*.pyc",
        ],
    )


class _Function(NamedTuple):
    """What :func:`_function` made."""

    group: Construct
    function: lambda_.Function
    role: iam.Role
    policy: iam.ManagedPolicy


def _function(
    scope: Construct,
    id: str,
    *,
    handler: str,
    shared: bool,
    description: str,
    invoked_by: str,
    environment: dict[str, str],
    statements: list[iam.PolicyStatement],
    memory_size: int = 256,
    timeout: Duration,
    layer: lambda_.ILayerVersion,
    operations_key: kms.IKey,
    action: cloudwatch.IAlarmAction,
) -> _Function:
    """A traced arm64 function with its log group, a role holding exactly ``statements``, and alarms."""
    group = Construct(scope, id)
    _tag(group, "AlertingFunction")
    path = group.node.path
    log_group = logs.LogGroup(
        group,
        "LogGroup",
        encryption_key=operations_key,
        retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=RETAIN,
    )
    role = iam.Role(
        group,
        "Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"Execution role of {path}",
    )
    policy = iam.ManagedPolicy(
        role,
        "Policy",
        description=f"Permissions of {path}/Role",
        statements=[
            _statement(["logs:CreateLogStream", "logs:PutLogEvents"], [log_group.log_group_arn]),
            _statement(["kms:Decrypt"], [operations_key.key_arn]),  # the environment
            *statements,
        ],
    )
    role.add_managed_policy(policy)
    role.add_managed_policy(
        iam.ManagedPolicy(
            group,
            "XRayPolicy",
            description=f"X-Ray tracing of {path}",
            statements=[_statement(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"])],
        )
    )
    function = lambda_.Function(
        group,
        "Resource",
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=lambda_.Architecture.ARM_64,
        code=_code(handler, shared=shared),
        handler=f"{handler}.index.handler",
        description=description,
        environment=environment,
        environment_encryption=operations_key,
        memory_size=memory_size,
        timeout=timeout,
        tracing=lambda_.Tracing.ACTIVE,
        log_group=log_group,
        layers=[layer],
        # Every permission is in the managed policies above: CDK's own grants (X-Ray, event sources,
        # failure destinations) would add a wider default policy beside them.
        role=role.without_policy_updates(),
    )
    resource = function.node.default_child
    resource.add_metadata(
        "checkov",
        {
            "skip": [
                {"id": "CKV_AWS_117", "comment": NO_VPC},
                {"id": "CKV_AWS_115", "comment": NO_RESERVED_CONCURRENCY},
                {"id": "CKV_AWS_116", "comment": NO_FUNCTION_DLQ.format(by=invoked_by)},
            ]
        },
    )
    resource.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
    seconds = int(timeout.to_seconds())
    _alarm(
        group,
        "ErrorsAlarm",
        function.metric_errors(period=FIVE_MINUTES),
        1,
        f"{path}: 1 or more errors in 5 minutes.",
        action,
    )
    _alarm(
        group,
        "ThrottlesAlarm",
        function.metric_throttles(period=FIVE_MINUTES),
        1,
        f"{path}: 1 or more throttled invocations in 5 minutes.",
        action,
    )
    _alarm(
        group,
        "DurationAlarm",
        function.metric_duration(statistic="p99", period=FIVE_MINUTES),
        seconds * 800,
        f"{path}: p99 duration above 80 % of the timeout.",
        action,
        cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    )
    return _Function(group, function, role, policy)


def _api_gateway_account(stack: Stack) -> apigw.CfnAccount:
    """API Gateway's CloudWatch role for this account and Region (REST API logging needs it)."""
    group = Construct(stack, "ApiGatewayAccount")
    _tag(group, "ApiGatewayAccount")
    description = "Lets API Gateway write the logs of the REST APIs of this account and Region"
    role = iam.Role(
        group,
        "CloudWatchRole",
        assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
        description=description,
    )
    role.apply_removal_policy(RETAIN)
    log_groups = stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name="*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    policy = iam.ManagedPolicy(
        role,
        "LogsPolicy",
        description=description,
        statements=[
            _statement(
                [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogGroups",
                    "logs:DescribeLogStreams",
                    "logs:PutLogEvents",
                    "logs:GetLogEvents",
                    "logs:FilterLogEvents",
                ],
                [log_groups, f"{log_groups}:log-stream:*"],
            )
        ],
    )
    policy.apply_removal_policy(RETAIN)
    role.add_managed_policy(policy)
    # L1: aws_apigateway has no L2 for the account settings (RestApi's cloud_watch_role makes a
    # role with the AWS managed policy instead of this one).
    account = apigw.CfnAccount(group, "Resource", cloud_watch_role_arn=role.role_arn)
    account.apply_removal_policy(RETAIN)
    account.node.add_dependency(policy)
    return account


class DocumentProcessingStack(Stack):
    """Upload API, documents bucket, processor, metadata table and status notifications (dev)."""

    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(
            scope, id, description=f"Document processing system ({ENVIRONMENT})", **kwargs
        )
        account = _api_gateway_account(self)
        layer = lambda_.LayerVersion.from_layer_version_arn(
            self, "PowertoolsLayer", POWERTOOLS_LAYER
        )
        pipeline = Construct(self, "Documents")
        Tags.of(pipeline).add("Environment", ENVIRONMENT)
        Tags.of(pipeline).add("System", "document-processing")
        _tag(pipeline, "DocumentPipeline")
        log_groups = self.format_arn(
            service="logs",
            resource="log-group",
            resource_name="*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

        # Keys per data domain: operations (alerts, function environments and logs, API logs),
        # notifications (status topic, ledger, failed notifications), documents.
        operations_key, alerts = _topic(pipeline, "Alerts")
        logs_principal = iam.ServicePrincipal(f"logs.{self.region}.amazonaws.com")
        encrypt_logs = [
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
            "kms:GenerateDataKey",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:DescribeKey",
        ]
        operations_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogs",
                principals=[logs_principal],
                actions=encrypt_logs,
                resources=["*"],
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
            )
        )
        notifications_key, status_topic = _topic(pipeline, "StatusTopic")
        alarm_action = actions.SnsAction(alerts)

        # The documents bucket and its access-log bucket.
        storage = Construct(pipeline, "Documents")
        _tag(storage, "SecureBucket")
        documents_key = _key(storage, "Key", f"Encrypts objects in {storage.node.path}")
        access_logs = s3.Bucket(
            storage,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # S3 logs only into SSE-S3 buckets
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            removal_policy=RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-logs",
                    expiration=Duration.days(365),
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
        )
        access_logs.node.default_child.add_metadata(
            "checkov",
            {
                "skip": [
                    {
                        "id": "CKV_AWS_18",
                        "comment": (
                            "This bucket is the server access log sink; logging it into itself or another bucket would only "
                            "move the problem (an infinite chain of log buckets)."
                        ),
                    }
                ]
            },
        )
        documents = s3.Bucket(
            storage,
            "Resource",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=documents_key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            removal_policy=RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="secure-defaults",
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                    noncurrent_version_expiration=Duration.days(90),
                )
            ],
        )
        # L1: the L2 props would turn on EventBridge through a notifications Lambda, and give the
        # log bucket an ACL that BucketOwnerEnforced refuses.
        bucket_resource = documents.node.default_child
        bucket_resource.add_property_override(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
        )
        bucket_resource.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
            destination_bucket_name=access_logs.bucket_name, log_file_prefix="access-logs/"
        )
        access_logs.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[access_logs.arn_for_objects("access-logs/*")],
                conditions={
                    "ArnLike": {"aws:SourceArn": documents.bucket_arn},
                    "StringEquals": {"aws:SourceAccount": self.account},
                },
            )
        )

        metadata_operations = ["GetItem", "PutItem", "UpdateItem", "Query"]
        _, metadata = _table(
            pipeline,
            "Metadata",
            partition_key="document_id",
            key=documents_key,
            operations=metadata_operations,
            action=alarm_action,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        )
        metadata.add_global_secondary_index(
            index_name="by-status",
            partition_key=dynamodb.Attribute(name="status", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="created_at", type=dynamodb.AttributeType.STRING),
        )
        _, ledger = _table(
            pipeline,
            "NotificationLedger",
            partition_key="id",
            key=notifications_key,
            operations=["GetItem", "PutItem", "UpdateItem", "DeleteItem"],
            action=alarm_action,
            time_to_live_attribute="expiration",
        )

        documents_objects = documents.arn_for_objects("documents/*")
        table_data = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
        common = {"layer": layer, "operations_key": operations_key, "action": alarm_action}
        metrics = {"POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE}
        api_handler = _function(
            pipeline,
            "ApiHandler",
            handler="documents_api",
            shared=True,
            description="Documents API: register, get, list and delete documents",
            invoked_by="synchronously by API Gateway (the documents API's Lambda proxy integration)",
            timeout=Duration.seconds(15),
            **common,
            environment={
                "DOCUMENTS_BUCKET": documents.bucket_name,
                "DOCUMENTS_TABLE": metadata.table_name,
                "STATUS_INDEX": "by-status",
                "MAX_DOCUMENT_BYTES": str(MAX_DOCUMENT_BYTES),
                "ALLOWED_CONTENT_TYPES": ",".join(ALLOWED_CONTENT_TYPES),
                "UPLOAD_URL_EXPIRY_SECONDS": "900",
                "DOWNLOAD_URL_EXPIRY_SECONDS": "300",
                "POWERTOOLS_SERVICE_NAME": "documents-api",
                **metrics,
            },
            statements=[
                _statement(
                    ["s3:PutObject", "s3:GetObjectVersion", "s3:DeleteObject"], [documents_objects]
                ),
                _statement(["kms:GenerateDataKey", "kms:Decrypt"], [documents_key.key_arn]),
                _statement(
                    ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                    [metadata.table_arn],
                ),
                _statement(["dynamodb:Query"], [f"{metadata.table_arn}/index/by-status"]),
                _statement(table_data, [documents_key.key_arn]),
            ],
        )
        upload_events, upload_dead_letters = _queue(
            pipeline,
            "UploadEvents",
            key=documents_key,
            action=alarm_action,
            oldest_age=Duration.minutes(15),
            oldest_age_text="15 minutes",
            max_receive_count=5,
            visibility_timeout=Duration.seconds(6 * 60),
        )  # six times the processor's timeout
        processor = _function(
            pipeline,
            "Processor",
            handler="document_processor",
            shared=True,
            description="Checks uploaded documents and records their status",
            invoked_by="by the event source mapping of the upload-events queue (redrive to its dead-letter queue)",
            memory_size=512,
            timeout=Duration.seconds(60),
            **common,
            environment={
                "DOCUMENTS_BUCKET": documents.bucket_name,
                "DOCUMENTS_TABLE": metadata.table_name,
                "POWERTOOLS_SERVICE_NAME": "document-processor",
                **metrics,
            },
            statements=[
                _statement(
                    ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                    [upload_events.queue_arn],
                ),
                _statement(["kms:Decrypt"], [documents_key.key_arn]),
                _statement(["s3:GetObject", "s3:GetObjectVersion"], [documents_objects]),
                _statement(
                    ["s3:ListBucket"],
                    [documents.bucket_arn],
                    {"StringLike": {"s3:prefix": ["documents/*"]}},
                ),
                _statement(["dynamodb:GetItem", "dynamodb:UpdateItem"], [metadata.table_arn]),
                _statement(table_data, [documents_key.key_arn]),
            ],
        )
        lambda_.EventSourceMapping(
            processor.group,
            "SqsSourceResource",
            target=processor.function,
            event_source_arn=upload_events.queue_arn,
            batch_size=10,
            report_batch_item_failures=True,
        ).node.add_dependency(processor.policy)

        failures, _ = _queue(
            pipeline,
            "NotificationFailures",
            key=notifications_key,
            action=alarm_action,
            oldest_age=Duration.hours(1),
            oldest_age_text="1 hour",
            max_receive_count=3,
            visibility_timeout=Duration.seconds(60),
        )
        event_bus = self.format_arn(service="events", resource="event-bus", resource_name="default")
        notifier = _function(
            pipeline,
            "Notifier",
            handler="document_notifier",
            shared=True,
            description="Publishes one status event per document status transition (SNS and EventBridge)",
            invoked_by="by the metadata table's stream mapping (on failure to the notification-failures queue)",
            timeout=Duration.seconds(15),
            **common,
            environment={
                "STATUS_TOPIC_ARN": status_topic.topic_arn,
                "STATUS_EVENT_BUS": event_bus,
                "ANNOUNCED_STATUSES": "",
                "IDEMPOTENCY_TABLE": ledger.table_name,
                "POWERTOOLS_SERVICE_NAME": "document-notifier",
                **metrics,
            },
            statements=[
                _statement(["sqs:SendMessage"], [failures.queue_arn]),
                _statement(["kms:Decrypt", "kms:GenerateDataKey"], [notifications_key.key_arn]),
                _statement(
                    ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                    [metadata.table_stream_arn],
                ),
                _statement(["kms:Decrypt", "kms:DescribeKey"], [documents_key.key_arn]),
                _statement(["sns:Publish"], [status_topic.topic_arn]),
                _statement(["events:PutEvents"], [event_bus]),
                _statement(
                    [
                        "dynamodb:GetItem",
                        "dynamodb:PutItem",
                        "dynamodb:UpdateItem",
                        "dynamodb:DeleteItem",
                    ],
                    [ledger.table_arn],
                ),
                _statement(table_data, [notifications_key.key_arn]),
            ],
        )
        list_streams = iam.ManagedPolicy(
            notifier.role,
            "ListStreamsPolicy",
            description=f"Lets {notifier.role.node.path} list DynamoDB streams (stream event sources)",
            statements=[_statement(["dynamodb:ListStreams"], ["*"])],
        )
        notifier.role.add_managed_policy(list_streams)
        stream_source = lambda_.EventSourceMapping(
            notifier.group,
            "StreamSourceResource",
            target=notifier.function,
            event_source_arn=metadata.table_stream_arn,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=100,
            parallelization_factor=1,
            bisect_batch_on_error=True,
            retry_attempts=5,
            report_batch_item_failures=True,
            on_failure=sources.SqsDlq(failures),
        )
        stream_source.node.add_dependency(list_streams, notifier.policy)
        _alarm(
            notifier.group,
            "IteratorAgeAlarm",
            notifier.function.metric("IteratorAge", statistic="Maximum", period=FIVE_MINUTES),
            300_000,
            f"{notifier.group.node.path}: stream records waited 5 minutes or longer.",
            alarm_action,
        )

        # S3 object-created events -> EventBridge rule -> the processor's queue.
        rule = events.Rule(
            pipeline,
            "ObjectCreated",
            description="Object-created events of the documents bucket, to the processor's queue",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [documents.bucket_name]},
                    "object": {"key": [{"prefix": "documents/"}]},
                },
            ),
            targets=[_QueueTarget(upload_events, upload_dead_letters)],
        )
        for queue in (upload_dead_letters, upload_events):
            queue.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("events.amazonaws.com")],
                    actions=["sqs:SendMessage"],
                    resources=[queue.queue_arn],
                    conditions={
                        "ArnEquals": {"aws:SourceArn": rule.rule_arn},
                        "StringEquals": {"aws:SourceAccount": self.account},
                    },
                )
            )
        documents_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowEvents",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": self.format_arn(
                            service="events", resource="rule", resource_name="*"
                        )
                    }
                },
            )
        )
        _alarm(
            rule,
            "FailedInvocationsAlarm",
            cloudwatch.Metric(
                namespace="AWS/Events",
                metric_name="FailedInvocations",
                dimensions_map={"RuleName": rule.rule_name},
                statistic="Sum",
                period=FIVE_MINUTES,
            ),
            1,
            f"{rule.node.path}: EventBridge failed to deliver events to a target (refused by the queue or its key, "
            "or retries exhausted).",
            alarm_action,
        )

        api = self._api(
            pipeline,
            account,
            layer,
            operations_key,
            encrypt_logs,
            alarm_action,
            api_handler.function,
        )
        _alarm(
            pipeline,
            "Api5xxAlarm",
            api.metric_server_error(period=FIVE_MINUTES, statistic="Sum"),
            5,
            "The documents API answered with 5xx errors",
            alarm_action,
        )

        CfnOutput(self, "DocumentsBucketName", value=documents.bucket_name)
        CfnOutput(self, "MetadataTableName", value=metadata.table_name)
        CfnOutput(self, "StatusTopicArn", value=status_topic.topic_arn)

    def _api(
        self,
        pipeline: Construct,
        account: apigw.CfnAccount,
        layer: lambda_.ILayerVersion,
        operations_key: kms.Key,
        encrypt_logs: list[str],
        alarm_action: cloudwatch.IAlarmAction,
        api_handler: lambda_.IFunction,
    ) -> apigw.RestApi:
        """The REST API: API-key authorizer over a permissions table, usage plans per tier, logs."""
        group = Construct(pipeline, "Api")
        _tag(group, "ApiWithKeyedUsagePlan")
        path = group.node.path
        name = f"{self.stack_name}-documents-api"
        permissions_key, permissions = _table(
            group,
            "Permissions",
            partition_key="key_digest",
            key=None,
            operations=["GetItem", "PutItem", "UpdateItem", "Scan"],
            action=alarm_action,
        )
        authorizer_function = _function(
            group,
            "AuthorizerFunction",
            handler="api_key_authorizer",
            shared=False,
            description=f"API key authorizer of {path}",
            invoked_by="synchronously by API Gateway (REQUEST authorizer of this API)",
            timeout=Duration.seconds(10),
            layer=layer,
            operations_key=operations_key,
            action=alarm_action,
            environment={
                "PERMISSIONS_TABLE": permissions.table_name,
                "POWERTOOLS_SERVICE_NAME": name,
                "POWERTOOLS_METRICS_NAMESPACE": "ServerlessPatterns",
                "ROUTE_PERMISSIONS": json.dumps(
                    [{"method": m, "path": p, "level": level} for m, p, level in ROUTES],
                    separators=(",", ":"),
                ),
            },
            statements=[
                _statement(["dynamodb:GetItem"], [permissions.table_arn]),
                _statement(["kms:Decrypt", "kms:DescribeKey"], [permissions_key.key_arn]),
            ],
        )

        access_log_name = Fn.join(
            "",
            [
                f"/aws/apigateway/{name}/access-",
                Fn.select(4, Fn.split("-", Fn.select(2, Fn.split("/", self.stack_id)))),
            ],
        )
        access_logs = logs.LogGroup(
            group,
            "AccessLogs",
            log_group_name=access_log_name,
            encryption_key=operations_key,
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RETAIN,
        )
        api = apigw.RestApi(
            group,
            "Resource",
            rest_api_name=name,
            cloud_watch_role=False,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            api_key_source_type=apigw.ApiKeySourceType.HEADER,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                tracing_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=False,
                throttling_rate_limit=100,
                throttling_burst_limit=200,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.custom(
                    json.dumps(
                        {
                            field: f"$context.{variable}"
                            for field, variable in ACCESS_LOG_FIELDS.items()
                        },
                        separators=(",", ":"),
                    )
                ),
            ),
        )
        execution_log_name = f"API-Gateway-Execution-Logs_{api.rest_api_id}/{STAGE}"
        execution_logs = logs.LogGroup(
            group,
            "ExecutionLogs",
            log_group_name=execution_log_name,
            encryption_key=operations_key,
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RETAIN,
        )
        # The logs service encrypts with the key only for these log groups (the names, not the
        # log groups' ARNs: the log groups depend on the key).
        for log_group_name in (access_log_name, execution_log_name):
            operations_key.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal(f"logs.{self.region}.amazonaws.com")],
                    actions=encrypt_logs,
                    resources=["*"],
                    conditions={
                        "ArnEquals": {
                            "kms:EncryptionContext:aws:logs:arn": self.format_arn(
                                service="logs",
                                resource="log-group",
                                resource_name=log_group_name,
                                arn_format=ArnFormat.COLON_RESOURCE_NAME,
                            )
                        }
                    },
                )
            )
        stage = api.deployment_stage
        stage.node.add_dependency(account, execution_logs)
        stage.node.default_child.add_metadata(
            "checkov",
            {
                "skip": [
                    {
                        "id": "CKV_AWS_120",
                        "comment": (
                            "Response caching is off: a cache cluster is billed by the hour whether used or not, and cached "
                            "responses are shared between callers, so one client's response could be served to another. "
                            "Authorization answers are cached per API key by the authorizer (5 minutes)."
                        ),
                    }
                ]
            },
        )

        validator = apigw.RequestValidator(
            group,
            "RequestValidator",
            rest_api=api,
            validate_request_body=True,
            validate_request_parameters=True,
        )
        upload = api.add_model(
            "ModelPostDocuments",
            content_type="application/json",
            description="Request body of POST /documents",
            schema=apigw.JsonSchema(
                schema=apigw.JsonSchemaVersion.DRAFT4,
                type=apigw.JsonSchemaType.OBJECT,
                required=["file_name", "content_type", "size"],
                additional_properties=False,
                properties={
                    "file_name": apigw.JsonSchema(
                        type=apigw.JsonSchemaType.STRING, min_length=1, max_length=255
                    ),
                    "content_type": apigw.JsonSchema(
                        type=apigw.JsonSchemaType.STRING, min_length=3, max_length=255
                    ),
                    "size": apigw.JsonSchema(type=apigw.JsonSchemaType.INTEGER, minimum=1),
                    "sha256": apigw.JsonSchema(
                        type=apigw.JsonSchemaType.STRING, pattern="^[0-9a-fA-F]{64}$"
                    ),
                },
            ),
        )
        authorizer = apigw.RequestAuthorizer(
            group,
            "Authorizer",
            handler=authorizer_function.function,
            identity_sources=[apigw.IdentitySource.header("x-api-key")],
            results_cache_ttl=Duration.minutes(5),
        )
        integration = apigw.LambdaIntegration(api_handler, allow_test_invoke=False)
        method = {
            "authorizer": authorizer,
            "api_key_required": True,
            "request_validator": validator,
        }
        by_id = {"request_parameters": {"method.request.path.id": True}}
        collection = api.root.add_resource("documents")
        collection.add_method(
            "POST", integration, request_models={"application/json": upload}, **method
        )
        collection.add_method("GET", integration, **method)
        document = collection.add_resource("{id}")
        document.add_method("GET", integration, **method, **by_id)
        document.add_method("DELETE", integration, **method, **by_id)

        for id, tier, rate, burst in TIERS:
            plan = api.add_usage_plan(
                f"UsagePlan{id}",
                name=f"{name}-{tier}",
                description=f"Tier {tier} of {path}, for {tier} clients",
                quota=apigw.QuotaSettings(limit=QUOTA_PER_DAY, period=apigw.Period.DAY),
                throttle=apigw.ThrottleSettings(rate_limit=rate, burst_limit=burst),
                api_stages=[apigw.UsagePlanPerApiStage(api=api, stage=stage)],
            )
            Tags.of(plan).add("serverless-patterns:tier", tier)
            CfnOutput(
                group,
                f"UsagePlanId{id}",
                value=plan.usage_plan_id,
                description=f"Tier {tier}: serverless-patterns clients create --usage-plan-id",
            )
        CfnOutput(
            group,
            "ApiId",
            value=api.rest_api_id,
            description="REST API id: serverless-patterns clients create --api-id",
        )
        CfnOutput(
            group,
            "StageName",
            value=stage.stage_name,
            description="The stage the usage plans cover",
        )
        CfnOutput(
            group,
            "PermissionsTableName",
            value=permissions.table_name,
            description="serverless-patterns clients --table",
        )
        _alarm(
            group,
            "DeniedAlarm",
            cloudwatch.Metric(
                namespace="ServerlessPatterns",
                metric_name="AuthorizationDenied",
                dimensions_map={"service": name},
                statistic="Sum",
                period=FIVE_MINUTES,
            ),
            10,
            f"{path}: the authorizer denied 10 or more requests in 5 minutes (unknown, revoked or malformed API "
            "keys, or keys below the route's level).",
            alarm_action,
        )
        return api


def build(app: App) -> list[Stack]:
    """The dev configuration (context ``env``, default ``dev``; the other two are not written by hand)."""
    name = app.node.try_get_context("env") or ENVIRONMENT
    if name != ENVIRONMENT:
        raise ValueError(
            f"context env={name!r}: only the {ENVIRONMENT} configuration is written by hand"
        )
    return [
        DocumentProcessingStack(app, f"{name}-document-processing", env=Environment(region=REGION))
    ]


if __name__ == "__main__":
    app = App(outdir=sys.argv[1] if len(sys.argv) > 1 else "cdk.out", context={"env": ENVIRONMENT})
    build(app)
    app.synth()
