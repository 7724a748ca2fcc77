"""DocumentPipeline: upload API -> S3 -> processing -> metadata -> status notifications."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy, aws_cloudwatch as cloudwatch, aws_dynamodb as dynamodb
from aws_cdk import aws_events as events, aws_kms as kms, aws_s3 as s3
from constructs import Construct

from . import _actions
from ._defaults import STATEFUL_REMOVAL_POLICY
from ._prop_types import check_prop_types
from ._validation import PropErrors, is_token, require_type
from .alert_topic import AlertTopic, check_email
from .alerting_function import AlertingFunction, Invocation
from .audit_trail import AuditTrail
from .audited_table import AuditedTable
from .handlers import handler_code, handler_entry
from .handlers.documents_api.config import DEFAULT_ALLOWED_CONTENT_TYPES, DEFAULT_MAX_DOCUMENT_BYTES
from .isolated_network import IsolatedNetwork
from .keyed_api import DEFAULT_TIERS, ApiWithKeyedUsagePlan, UsagePlanTier
from .secure_bucket import SecureBucket
from .secure_queue import SecureQueue
from .tagging import apply_tags, validate_tags

#: Key prefix of stored documents; the processor ignores anything else.
DOCUMENTS_PREFIX = "documents/"
#: The metadata table's index for listing documents by status.
STATUS_INDEX = "by-status"
#: Largest object S3 stores (5 TiB): documents never pass through API Gateway or Lambda payloads.
S3_MAX_OBJECT_BYTES = 5 * 1024**4
METRICS_NAMESPACE = "ServerlessPatterns/Documents"

#: Interface endpoints the handlers need in an :class:`IsolatedNetwork`: the services their code
#: calls that have no gateway endpoint (S3 and DynamoDB have). Only the notifier's SNS Publish.
#: Lambda itself, outside the functions' network interfaces, ships logs, decrypts the environment,
#: polls the queue and stream and sends to failure destinations; the X-Ray SDK sends segments over
#: UDP to the daemon Lambda runs beside the function. ``tests/test_least_privilege.py`` derives
#: this set from the recorded calls of the document flow.
VPC_INTERFACE_ENDPOINTS = ("sns",)

#: Operations the handlers call on each table, and so the operations its alarms sum.
METADATA_OPERATIONS = (
    dynamodb.Operation.GET_ITEM, dynamodb.Operation.PUT_ITEM, dynamodb.Operation.UPDATE_ITEM, dynamodb.Operation.QUERY,
)
#: Powertools Idempotency: conditional PutItem, GetItem after a conflict, UpdateItem, DeleteItem.
NOTIFICATION_LEDGER_OPERATIONS = (
    dynamodb.Operation.GET_ITEM, dynamodb.Operation.PUT_ITEM, dynamodb.Operation.UPDATE_ITEM, dynamodb.Operation.DELETE_ITEM,
)

#: The acknowledgement reason when ``web_acl=False``.
NO_WEB_ACL_REASON = (
    "web_acl=False (the default of DocumentPipeline, for development and low-traffic stages): a web "
    "ACL costs $9 a month idle (ACL and 4 rules). Every method still requires an API key checked by "
    "the authorizer against the permissions table, usage-plan quotas and throttling per key, "
    "stage-wide throttling and request validation. Production sets web_acl=True (see docs/cost.md)."
)

#: JSON schema (draft 4, as API Gateway models use) of ``POST /documents``.
UPLOAD_REQUEST_SCHEMA: Mapping[str, object] = {
    "type": "object",
    "required": ["file_name", "content_type", "size"],
    "additionalProperties": False,
    "properties": {
        "file_name": {"type": "string", "minLength": 1, "maxLength": 255},
        "content_type": {"type": "string", "minLength": 3, "maxLength": 255},
        "size": {"type": "integer", "minimum": 1},
        "sha256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
    },
}


class DocumentPipeline(Construct):
    """Documents uploaded through a keyed API, checked, recorded and announced.

    ``POST /documents`` (read-write) registers a document and returns a presigned upload form
    for exactly that key, size and type; the object lands in the documents bucket, whose
    object-created events reach the processor through EventBridge and an encrypted SQS queue
    with a dead-letter queue. The processor reads at most 64 KiB, detects the format, and
    records PROCESSED or REJECTED in the metadata table; its stream drives the notifier, which
    publishes one message per status transition to the status topic. ``GET /documents``,
    ``GET /documents/{id}`` (read-only) and ``DELETE /documents/{id}`` (admin) complete the API.

    Parameters
    ----------
    scope, id
        The construct's parent and id.
    max_document_bytes
        Largest document accepted. Default: 100 MiB. At most 5 TiB (S3's limit): uploads go
        straight to S3, so API Gateway's 10 MB and Lambda's 6 MB limits do not apply.
    allowed_content_types
        Declared content types accepted. Default: PDF, PNG, JPEG, GIF, TIFF, plain text, CSV,
        JSON and the three Office Open XML formats.
    upload_url_expiry, download_url_expiry
        Lifetime of presigned URLs. Default: 15 minutes and 5 minutes.
    tiers
        Usage-plan tiers of the API. Default: read-only, read-write and admin plans
        (see :class:`~serverless_patterns.keyed_api.UsagePlanTier`).
    authorizer_cache_ttl
        How long an authorization decision is cached per key. Default: 300 seconds.
    cors_origins
        Browser origins allowed to call the API and to post uploads to the bucket. Default: none.
    network
        Put every function in the isolated subnets of this network (see :class:`IsolatedNetwork`).
        Default: None (functions outside a VPC; the acknowledgement's reason says why).
    private_api
        Make the API private, reachable only through ``network``'s execute-api endpoint.
        Default: False.
    cloud_watch_role
        Set API Gateway's account-wide CloudWatch role, which the API's logging needs (see
        :class:`~serverless_patterns.ApiGatewayAccount`); ``False`` when the account and Region
        already have one. Default: True.
    audit_trail
        Record S3 and DynamoDB data events of the pipeline in this trail (billed per event).
        Default: None.
    alert_emails
        Addresses subscribed to the shared alert topic. Default: none.
    processor_memory_size
        Memory of the processor in MB. Default: 512.
    key
        One customer-managed key for all the pipeline's data (bucket, tables, queues, topics,
        functions, API logs; the API's permissions table keeps its own). Default: one key per data
        domain: documents (bucket, metadata table, upload queue), notifications (status topic,
        ledger, failed notifications), operations (alerts, functions' environments and logs, API
        logs), and API permissions.
    web_acl
        Filter the API through an AWS WAF web ACL ($5 a month plus $1 per rule, idle).
        Default: False (acknowledged with :data:`NO_WEB_ACL_REASON`); production sets True.
    dashboard
        A CloudWatch dashboard of the pipeline ($3 a month). Default: False.
    removal_policy
        For the bucket and tables. Default: ``RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE``.
    tags
        Tags for every resource. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
        allowed_content_types: Sequence[str] = DEFAULT_ALLOWED_CONTENT_TYPES,
        upload_url_expiry: Duration | None = None,
        download_url_expiry: Duration | None = None,
        tiers: Sequence[UsagePlanTier] = DEFAULT_TIERS,
        authorizer_cache_ttl: Duration | None = None,
        cors_origins: Sequence[str] = (),
        network: IsolatedNetwork | None = None,
        private_api: bool = False,
        cloud_watch_role: bool = True,
        audit_trail: AuditTrail | None = None,
        alert_emails: Sequence[str] = (),
        processor_memory_size: int = 512,
        key: kms.Key | None = None,
        web_acl: bool = False,
        dashboard: bool = False,
        removal_policy: RemovalPolicy = STATEFUL_REMOVAL_POLICY,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        check_prop_types("DocumentPipeline", DocumentPipeline.__init__, locals())
        upload_url_expiry = upload_url_expiry or Duration.minutes(15)
        download_url_expiry = download_url_expiry or Duration.minutes(5)
        _validate(
            max_document_bytes=max_document_bytes,
            allowed_content_types=allowed_content_types,
            upload_url_expiry=upload_url_expiry,
            download_url_expiry=download_url_expiry,
            network=network,
            private_api=private_api,
            audit_trail=audit_trail,
            alert_emails=alert_emails,
            processor_memory_size=processor_memory_size,
            key=key,
            web_acl=web_acl,
            dashboard=dashboard,
            removal_policy=removal_policy,
            tags=tags,
        )
        super().__init__(scope, id)
        self.network = network
        # One key per data domain; each grant names its principal and, for services, the source.
        self.alert_topic: AlertTopic = AlertTopic(self, "Alerts", emails=alert_emails, encryption_key=key)
        #: Operations: alerts, the functions' environments, dead-letter queues and logs, API logs.
        self.operations_key: kms.Key = self.alert_topic.encryption_key
        self.status_topic: AlertTopic = AlertTopic(self, "StatusTopic", encryption_key=key)
        #: Notifications: status topic, notification ledger, failed notifications.
        self.notifications_key: kms.Key = self.status_topic.encryption_key

        self.documents: SecureBucket = SecureBucket(
            self,
            "Documents",
            event_bridge_enabled=True,
            cors=_upload_cors(cors_origins),
            encryption_key=key,
            removal_policy=removal_policy,
        )
        #: Documents: the bucket, the metadata table, the upload events.
        self.documents_key: kms.Key = self.documents.encryption_key
        self.metadata: AuditedTable = AuditedTable(
            self,
            "Metadata",
            partition_key=dynamodb.Attribute(name="document_id", type=dynamodb.AttributeType.STRING),
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexProps(
                    index_name=STATUS_INDEX,
                    partition_key=dynamodb.Attribute(name="status", type=dynamodb.AttributeType.STRING),
                    sort_key=dynamodb.Attribute(name="created_at", type=dynamodb.AttributeType.STRING),
                    projection_type=dynamodb.ProjectionType.ALL,
                )
            ],
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            encryption_key=self.documents_key,
            alarm_topic=self.alert_topic.topic,
            alarm_operations=METADATA_OPERATIONS,
            removal_policy=removal_policy,
        )
        self.notification_ledger: AuditedTable = AuditedTable(
            self,
            "NotificationLedger",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute="expiration",
            encryption_key=self.notifications_key,
            alarm_topic=self.alert_topic.topic,
            alarm_operations=NOTIFICATION_LEDGER_OPERATIONS,
            removal_policy=removal_policy,
        )

        common = {"network": network, "alert_topic": self.alert_topic}
        self.api_handler: AlertingFunction = self._function(
            "ApiHandler",
            "documents_api",
            description="Documents API: register, get, list and delete documents",
            environment={
                "DOCUMENTS_BUCKET": self.documents.bucket_name,
                "DOCUMENTS_TABLE": self.metadata.table_name,
                "STATUS_INDEX": STATUS_INDEX,
                "MAX_DOCUMENT_BYTES": str(max_document_bytes),
                "ALLOWED_CONTENT_TYPES": ",".join(allowed_content_types),
                "UPLOAD_URL_EXPIRY_SECONDS": str(int(upload_url_expiry.to_seconds())),
                "DOWNLOAD_URL_EXPIRY_SECONDS": str(int(download_url_expiry.to_seconds())),
            },
            invocation=Invocation.SYNCHRONOUS,
            invoked_by="API Gateway (the documents API's Lambda proxy integration)",
            **common,
        )
        self.processor: AlertingFunction = self._function(
            "Processor",
            "document_processor",
            description="Checks uploaded documents and records their status",
            environment={"DOCUMENTS_BUCKET": self.documents.bucket_name, "DOCUMENTS_TABLE": self.metadata.table_name},
            memory_size=processor_memory_size,
            timeout=Duration.seconds(60),
            invocation=Invocation.EVENT_SOURCE,
            invoked_by="the event source mapping of the upload-events queue (redrive to its dead-letter queue)",
            **common,
        )
        self.notifier: AlertingFunction = self._function(
            "Notifier",
            "document_notifier",
            description="Publishes one message per document status transition",
            environment={
                "STATUS_TOPIC_ARN": self.status_topic.topic_arn,
                "IDEMPOTENCY_TABLE": self.notification_ledger.table_name,
            },
            invocation=Invocation.EVENT_SOURCE,
            invoked_by="the metadata table's stream mapping (on failure to the notification-failures queue)",
            **common,
        )

        self.upload_events: SecureQueue = SecureQueue(
            self,
            "UploadEvents",
            visibility_timeout=Duration.seconds(6 * 60),  # six times the processor's timeout
            max_receive_count=5,
            encryption_key=self.documents_key,
            alarm_topic=self.alert_topic,
            oldest_message_age_alarm_threshold=Duration.minutes(15),
        )
        self.notification_failures: SecureQueue = SecureQueue(
            self, "NotificationFailures", encryption_key=self.notifications_key, alarm_topic=self.alert_topic
        )
        self.object_created_rule: events.Rule = events.Rule(
            self,
            "ObjectCreated",
            description="Object-created events of the documents bucket, to the processor's queue",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [self.documents.bucket_name]},
                    "object": {"key": [{"prefix": DOCUMENTS_PREFIX}]},
                },
            ),
            targets=[self.upload_events.rule_target()],
        )

        self.processor.add_sqs_source(self.upload_events.queue, batch_size=10, report_batch_item_failures=True)
        self.notifier.add_dynamodb_stream_source(
            self.metadata.table,
            batch_size=100,
            retry_attempts=5,
            on_failure=self.notification_failures.queue,
        )
        self._grant_least_privilege()

        self.api: ApiWithKeyedUsagePlan = ApiWithKeyedUsagePlan(
            self,
            "Api",
            tiers=tiers,
            authorizer_cache_ttl=authorizer_cache_ttl,
            cors_origins=cors_origins,
            private=private_api,
            vpc_endpoint=network.interface_endpoints["execute-api"] if (network and private_api) else None,
            authorizer_vpc=network.vpc if network else None,
            authorizer_vpc_subnets=network.subnets if network else None,
            cloud_watch_role=cloud_watch_role,
            alert_topic=self.alert_topic,
            encryption_key=self.operations_key,
            web_acl_opt_out_reason=None if web_acl else NO_WEB_ACL_REASON,
        )
        if network is not None and self.api.authorizer_function.security_group is not None:
            network.allow_https_from(self.api.authorizer_function.security_group)
        self.api.add_route("POST", "/documents", self.api_handler, level="read-write", request_schema=UPLOAD_REQUEST_SCHEMA)
        self.api.add_route("GET", "/documents", self.api_handler, level="read-only")
        self.api.add_route("GET", "/documents/{id}", self.api_handler, level="read-only")
        self.api.add_route("DELETE", "/documents/{id}", self.api_handler, level="admin")

        if audit_trail is not None:
            audit_trail.add_s3_data_events([self.documents])
            audit_trail.add_dynamodb_data_events([self.metadata, self.api.permissions_table])

        self.alarms: dict[str, cloudwatch.Alarm] = self._create_alarms()
        self.dashboard: cloudwatch.Dashboard | None = self._create_dashboard() if dashboard else None
        apply_tags(self, "DocumentPipeline", tags)

    # ---- building blocks ------------------------------------------------------------------

    def _function(
        self,
        id: str,
        handler: str,
        *,
        description: str,
        environment: Mapping[str, str],
        network: IsolatedNetwork | None,
        alert_topic: AlertTopic,
        memory_size: int = 256,
        timeout: Duration | None = None,
        invocation: Invocation = Invocation.ASYNCHRONOUS,
        invoked_by: str | None = None,
    ) -> AlertingFunction:
        function = AlertingFunction(
            self,
            id,
            code=handler_code(handler),
            handler=handler_entry(handler),
            description=description,
            powertools=True,
            memory_size=memory_size,
            timeout=timeout or Duration.seconds(15),
            environment={
                **environment,
                "POWERTOOLS_SERVICE_NAME": handler.replace("_", "-"),
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            },
            vpc=network.vpc if network else None,
            vpc_subnets=network.subnets if network else None,
            alert_topic=alert_topic,
            invocation=invocation,
            invoked_by=invoked_by,
            encryption_key=self.operations_key,
        )
        if network is not None and function.security_group is not None:
            network.allow_https_from(function.security_group)
        return function

    def _grant_least_privilege(self) -> None:
        """Each function gets exactly what its handler calls, on exactly these resources.

        The bucket's and tables' ``grant_read``/``grant_write`` give whole kinds of access (listing,
        batch and scan operations, multipart uploads) that no handler uses; these grants go through
        the constructs' narrow grant methods with the handlers' own calls. ``tests/test_least_privilege.py`` checks the
        result against every call of an end-to-end run.
        """
        documents, metadata, prefix = self.documents, self.metadata, DOCUMENTS_PREFIX
        # The API presigns uploads (PutObject, encrypted under the bucket's key) and downloads of the
        # validated version (GetObjectVersion, decrypted): S3 authorizes both against its role.
        documents.grant_object_actions(
            self.api_handler,
            _actions.S3_PUT_OBJECT + _actions.S3_GET_OBJECT_VERSION + _actions.S3_DELETE_OBJECT,
            _actions.KMS_GENERATE_DATA_KEY + _actions.KMS_DECRYPT,
            key_prefix=prefix,
        )
        metadata.grant_actions(
            self.api_handler,
            _actions.KMS_DYNAMODB_WRITE,
            (_actions.DYNAMODB_GET_ITEM + _actions.DYNAMODB_PUT_ITEM + _actions.DYNAMODB_UPDATE_ITEM, [metadata.table_arn]),
            (_actions.DYNAMODB_QUERY, [f"{metadata.table_arn}/index/{STATUS_INDEX}"]),
        )
        # The processor reads the head of the version named by the event (or the current one).
        # ListBucket makes S3 answer a missing key with 404 NoSuchKey, not 403, so a document whose
        # object is gone is rejected instead of retried into the dead-letter queue.
        documents.grant_object_actions(self.processor, _actions.S3_GET_OBJECT_ANY_VERSION, _actions.KMS_DECRYPT, key_prefix=prefix)
        documents.grant_list(self.processor, key_prefix=prefix)
        metadata.grant_actions(
            self.processor,
            _actions.KMS_DYNAMODB_WRITE,
            (_actions.DYNAMODB_GET_ITEM + _actions.DYNAMODB_UPDATE_ITEM, [metadata.table_arn]),
        )
        self.status_topic.grant_publish(self.notifier)
        self.notification_ledger.grant_actions(
            self.notifier,
            _actions.KMS_DYNAMODB_WRITE,
            (_actions.DYNAMODB_IDEMPOTENCY_RECORDS, [self.notification_ledger.table_arn]),
        )

    def _create_alarms(self) -> dict[str, cloudwatch.Alarm]:
        # Functions, tables, queues and the authorizer alarm on their own; this adds the API's.
        alarms = {
            "Api5xx": self.api.api.metric_server_error(period=Duration.minutes(5), statistic="Sum").create_alarm(
                self,
                "Api5xxAlarm",
                alarm_description="The documents API answered with 5xx errors",
                threshold=5,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        }
        for alarm in alarms.values():
            self.alert_topic.add_alarm(alarm)
        return alarms

    def _create_dashboard(self) -> cloudwatch.Dashboard:
        api = self.api.api
        functions = {"API": self.api_handler, "Processor": self.processor, "Notifier": self.notifier}
        dashboard = cloudwatch.Dashboard(self, "Dashboard")
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API requests and errors",
                left=[api.metric_count(), api.metric_client_error(), api.metric_server_error()],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="API latency (p50, p99)",
                left=[api.metric_latency(statistic="p50"), api.metric_latency(statistic="p99")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Authorization decisions",
                left=[self.api.metric_allowed(), self.api.metric_denied()],
                width=8,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Function errors",
                left=[f.metric_errors(label=name) for name, f in functions.items()],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Upload queue: age of oldest message (s) and DLQ depth",
                left=[self.upload_events.metric_approximate_age_of_oldest_message()],
                right=[self.upload_events.metric_dead_letter_messages()],
                width=8,
            ),
            # One widget per table: their metric expressions use the same ids.
            cloudwatch.GraphWidget(title="Metadata table throttled requests", left=[self.metadata.metric_throttled_requests_for_operations()], width=4),
            cloudwatch.GraphWidget(
                title="Notification ledger throttled requests",
                left=[self.notification_ledger.metric_throttled_requests_for_operations()],
                width=4,
            ),
        )
        return dashboard


def _upload_cors(origins: Sequence[str]) -> list[s3.CorsRule]:
    if not origins:
        return []
    return [s3.CorsRule(allowed_methods=[s3.HttpMethods.POST], allowed_origins=list(origins), allowed_headers=["*"], max_age=3000)]


def _validate(
    *,
    max_document_bytes: int,
    allowed_content_types: Sequence[str],
    upload_url_expiry: Duration,
    download_url_expiry: Duration,
    network: IsolatedNetwork | None,
    private_api: bool,
    audit_trail: AuditTrail | None,
    alert_emails: Sequence[str],
    processor_memory_size: int,
    key: kms.Key | None,
    web_acl: bool,
    dashboard: bool,
    removal_policy: RemovalPolicy,
    tags: Mapping[str, str] | None,
) -> None:
    name = "DocumentPipeline"
    require_type(name, "max_document_bytes", max_document_bytes, int)
    require_type(name, "upload_url_expiry", upload_url_expiry, Duration)
    require_type(name, "download_url_expiry", download_url_expiry, Duration)
    require_type(name, "network", network, IsolatedNetwork)
    require_type(name, "private_api", private_api, bool)
    require_type(name, "audit_trail", audit_trail, AuditTrail)
    require_type(name, "processor_memory_size", processor_memory_size, int)
    require_type(name, "key", key, kms.Key)
    require_type(name, "web_acl", web_acl, bool)
    require_type(name, "dashboard", dashboard, bool)
    require_type(name, "removal_policy", removal_policy, RemovalPolicy)
    validate_tags(name, tags)
    errors = PropErrors(name)
    errors.check_range("max_document_bytes", max_document_bytes, minimum=1, maximum=S3_MAX_OBJECT_BYTES, unit="bytes")
    types = list(allowed_content_types) if not isinstance(allowed_content_types, str) else allowed_content_types
    errors.check(
        isinstance(types, list) and bool(types) and all(isinstance(t, str) and "/" in t and "," not in t for t in types),
        "allowed_content_types",
        types,
        "must be a non-empty list of MIME types such as 'application/pdf'",
    )
    for prop, value in (("upload_url_expiry", upload_url_expiry), ("download_url_expiry", download_url_expiry)):
        if is_token(value):
            continue
        seconds = value.to_seconds(integral=False)
        errors.check(
            60 <= seconds <= 7 * 24 * 3600 and seconds == int(seconds),
            prop,
            f"{seconds:g} seconds",
            "must be whole seconds from 1 minute to 7 days (S3's limit for presigned URLs)",
        )
    errors.check(
        not private_api or network is not None,
        "private_api",
        private_api,
        "a private API needs network= (its execute-api interface endpoint)",
    )
    if network is not None and private_api:
        errors.check(
            "execute-api" in network.interface_endpoints,
            "network",
            "IsolatedNetwork without an execute-api endpoint",
            "a private API needs interface_endpoints to include 'execute-api'",
        )
    if network is not None:
        missing = [e for e in VPC_INTERFACE_ENDPOINTS if e not in network.interface_endpoints]
        errors.check(
            not missing,
            "network",
            f"IsolatedNetwork without {', '.join(missing)} endpoints",
            f"the handlers call {', '.join(VPC_INTERFACE_ENDPOINTS)} from inside the VPC: include them in interface_endpoints",
        )
    errors.check_range("processor_memory_size", processor_memory_size, minimum=128, maximum=10240, unit="MB")
    for address in alert_emails:
        check_email(errors, "alert_emails", address)
    errors.raise_if_any()
