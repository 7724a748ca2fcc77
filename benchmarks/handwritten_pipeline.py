"""The flagship's dev configuration written by hand in plain aws-cdk-lib L2 code.

Only for the synth benchmark: the same kinds and about the same numbers of resources as
``examples/document_pipeline`` (env=dev: one key per data domain, no web ACL or dashboard, no
dead-letter queue on functions that event sources or API Gateway invoke), without the library's
validation, acknowledgements, alarms helpers or least-privilege grants. Not hardened and not for
deploying.
"""

from __future__ import annotations

import sys
from pathlib import Path

from aws_cdk import App, Duration, Environment, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

HANDLERS = Path(__file__).resolve().parent.parent / "src" / "serverless_patterns" / "handlers"


def _key(stack: Stack, id: str) -> kms.Key:
    return kms.Key(stack, id, enable_key_rotation=True, removal_policy=RemovalPolicy.RETAIN)


def _function(stack: Stack, id: str, handler: str, alarms_topic: sns.Topic, key: kms.Key,
              env: dict[str, str]) -> lambda_.Function:
    log_group = logs.LogGroup(stack, f"{id}Logs", encryption_key=key, retention=logs.RetentionDays.ONE_MONTH)
    layer = lambda_.LayerVersion.from_layer_version_arn(
        stack, f"{id}Powertools", f"arn:aws:lambda:{stack.region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:38"
    )
    function = lambda_.Function(
        stack, id, runtime=lambda_.Runtime.PYTHON_3_14, architecture=lambda_.Architecture.ARM_64,
        handler=f"{handler}.index.handler", code=lambda_.Code.from_asset(str(HANDLERS), exclude=["*", f"!{handler}", f"!{handler}/**"]),
        memory_size=256, timeout=Duration.seconds(15), environment=env, environment_encryption=key,
        tracing=lambda_.Tracing.ACTIVE, log_group=log_group, layers=[layer],
    )
    for name, metric, threshold in (
        ("Errors", function.metric_errors(), 1),
        ("Throttles", function.metric_throttles(), 1),
        ("Duration", function.metric_duration(statistic="p99"), 12000),
    ):
        alarm = metric.create_alarm(stack, f"{id}{name}Alarm", threshold=threshold, evaluation_periods=1)
        alarm.add_alarm_action(actions.SnsAction(alarms_topic))
    return function


def _table(stack: Stack, id: str, key: str, topic: sns.Topic, encryption_key: kms.Key, **kwargs) -> dynamodb.Table:
    table = dynamodb.Table(
        stack, id, partition_key=dynamodb.Attribute(name=key, type=dynamodb.AttributeType.STRING),
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED, encryption_key=encryption_key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True),
        deletion_protection=True, billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST, **kwargs,
    )
    for name, metric in (("Throttles", table.metric_user_errors()), ("SystemErrors", table.metric("SystemErrors"))):
        metric.create_alarm(stack, f"{id}{name}Alarm", threshold=1, evaluation_periods=1).add_alarm_action(actions.SnsAction(topic))
    return table


class HandwrittenPipelineStack(Stack):
    def __init__(self, scope: App, id: str) -> None:
        super().__init__(scope, id, env=Environment(region="us-east-1"))
        operations_key = _key(self, "AlertsKey")
        notifications_key = _key(self, "StatusKey")
        alerts = sns.Topic(self, "Alerts", master_key=operations_key, enforce_ssl=True)
        status = sns.Topic(self, "Status", master_key=notifications_key, enforce_ssl=True)
        data_key = _key(self, "DocumentsKey")
        access_logs = s3.Bucket(self, "AccessLogs", encryption=s3.BucketEncryption.KMS, encryption_key=data_key,
                                block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True, versioned=True)
        documents = s3.Bucket(
            self, "Documents", encryption=s3.BucketEncryption.KMS, encryption_key=data_key, bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True, minimum_tls_version=1.2, versioned=True,
            server_access_logs_bucket=access_logs, removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(7),
                                              noncurrent_version_expiration=Duration.days(90))],
        )
        documents.node.default_child.add_property_override(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True)
        metadata = _table(
            self, "Metadata", "document_id", alerts, data_key, stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES)
        metadata.add_global_secondary_index(
            index_name="by-status", partition_key=dynamodb.Attribute(name="status", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="created_at", type=dynamodb.AttributeType.STRING))
        ledger = _table(self, "Ledger", "id", alerts, notifications_key, time_to_live_attribute="expiration")
        permissions = _table(self, "Permissions", "key_digest", alerts, _key(self, "PermissionsKey"))

        dlq = sqs.Queue(self, "UploadEventsDlq", encryption=sqs.QueueEncryption.KMS, encryption_master_key=data_key, enforce_ssl=True)
        queue = sqs.Queue(self, "UploadEvents", encryption=sqs.QueueEncryption.KMS, encryption_master_key=data_key,
                          enforce_ssl=True, visibility_timeout=Duration.minutes(6),
                          dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=5))
        failures_dlq = sqs.Queue(self, "FailuresDlq", encryption=sqs.QueueEncryption.KMS,
                                 encryption_master_key=notifications_key, enforce_ssl=True)
        failures = sqs.Queue(self, "NotificationFailures", encryption=sqs.QueueEncryption.KMS, encryption_master_key=notifications_key,
                             enforce_ssl=True, dead_letter_queue=sqs.DeadLetterQueue(queue=failures_dlq, max_receive_count=3))
        events.Rule(self, "ObjectCreated", event_pattern=events.EventPattern(
            source=["aws.s3"], detail_type=["Object Created"],
            detail={"bucket": {"name": [documents.bucket_name]}, "object": {"key": [{"prefix": "documents/"}]}}),
            targets=[targets.SqsQueue(queue, dead_letter_queue=dlq)])

        api_handler = _function(self, "ApiHandler", "documents_api", alerts, operations_key, {
            "DOCUMENTS_BUCKET": documents.bucket_name, "DOCUMENTS_TABLE": metadata.table_name, "STATUS_INDEX": "by-status"})
        processor = _function(self, "Processor", "document_processor", alerts, operations_key, {
            "DOCUMENTS_BUCKET": documents.bucket_name, "DOCUMENTS_TABLE": metadata.table_name})
        notifier = _function(self, "Notifier", "document_notifier", alerts, operations_key, {
            "STATUS_TOPIC_ARN": status.topic_arn, "IDEMPOTENCY_TABLE": ledger.table_name})
        authorizer_fn = _function(self, "Authorizer", "api_key_authorizer", alerts, operations_key,
                                  {"PERMISSIONS_TABLE": permissions.table_name})
        documents.grant_read_write(api_handler)
        metadata.grant_read_write_data(api_handler)
        documents.grant_read(processor)
        metadata.grant_read_write_data(processor)
        status.grant_publish(notifier)
        ledger.grant_read_write_data(notifier)
        permissions.grant_read_data(authorizer_fn)
        processor.add_event_source(sources.SqsEventSource(queue, batch_size=10, report_batch_item_failures=True))
        notifier.add_event_source(sources.DynamoEventSource(
            metadata, starting_position=lambda_.StartingPosition.TRIM_HORIZON, bisect_batch_on_error=True,
            retry_attempts=5, on_failure=sources.SqsDlq(failures), report_batch_item_failures=True))

        access_log_group = logs.LogGroup(self, "ApiAccessLogs", encryption_key=operations_key,
                                         retention=logs.RetentionDays.ONE_MONTH)
        api = apigw.RestApi(self, "Api", cloud_watch_role=True, deploy_options=apigw.StageOptions(
            stage_name="prod", tracing_enabled=True, logging_level=apigw.MethodLoggingLevel.ERROR,
            access_log_destination=apigw.LogGroupLogDestination(access_log_group),
            access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                caller=True, http_method=True, ip=True, protocol=True, request_time=True, resource_path=True,
                response_length=True, status=True, user=True)))
        authorizer = apigw.RequestAuthorizer(self, "KeyAuthorizer", handler=authorizer_fn,
                                             identity_sources=[apigw.IdentitySource.header("x-api-key")],
                                             results_cache_ttl=Duration.minutes(5))
        model = api.add_model("Upload", schema=apigw.JsonSchema(type=apigw.JsonSchemaType.OBJECT, required=["file_name"]))
        validator = api.add_request_validator("Body", validate_request_body=True)
        integration = apigw.LambdaIntegration(api_handler, allow_test_invoke=False)
        documents_resource = api.root.add_resource("documents")
        document = documents_resource.add_resource("{id}")
        options = {"authorizer": authorizer, "api_key_required": True}
        documents_resource.add_method("POST", integration, request_models={"application/json": model},
                                      request_validator=validator, **options)
        documents_resource.add_method("GET", integration, **options)
        document.add_method("GET", integration, **options)
        document.add_method("DELETE", integration, **options)
        for tier in ("read-only", "read-write", "admin"):
            api.add_usage_plan(f"{tier}Plan", name=tier, quota=apigw.QuotaSettings(limit=1000, period=apigw.Period.DAY),
                               throttle=apigw.ThrottleSettings(rate_limit=10, burst_limit=20),
                               api_stages=[apigw.UsagePlanPerApiStage(api=api, stage=api.deployment_stage)])
        for name, metric in (
            ("Api5xx", api.metric_server_error()), ("Api4xx", api.metric_client_error()),
            ("ApiLatency", api.metric_latency(statistic="p99")),
            ("UploadAge", queue.metric_approximate_age_of_oldest_message()),
            ("UploadDlqDepth", dlq.metric_approximate_number_of_messages_visible()),
            ("FailuresDepth", failures.metric_approximate_number_of_messages_visible()),
            ("FailuresDlqDepth", failures_dlq.metric_approximate_number_of_messages_visible()),
            ("StatusFailed", status.metric_number_of_notifications_failed()),
        ):
            metric.create_alarm(self, f"{name}Alarm", threshold=1, evaluation_periods=1).add_alarm_action(
                actions.SnsAction(alerts))


def build(app: App) -> list[Stack]:
    return [HandwrittenPipelineStack(app, "handwritten-document-processing")]


if __name__ == "__main__":
    app = App(outdir=sys.argv[1] if len(sys.argv) > 1 else "cdk.out")
    build(app)
    app.synth()
