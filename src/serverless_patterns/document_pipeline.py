"""DocumentPipeline: upload API -> S3 -> processing -> metadata -> status notifications."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from aws_cdk import Annotations, Duration, RemovalPolicy, aws_cloudwatch as cloudwatch, aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2, aws_events as events, aws_iam as iam, aws_kms as kms, aws_lambda as lambda_
from aws_cdk import aws_s3 as s3, aws_sns as sns
from constructs import Construct

from . import _actions
from ._alarms import as_topic, notify
from ._apis import warn_loopback_origins
from ._defaults import STATEFUL_REMOVAL_POLICY, apply_removal_policy, check_deletion_protection, customer_managed_key
from ._prop_types import check_prop_types
from ._validation import PropErrors, is_token, require_type
from .alert_topic import AlertTopic, check_email
from .alerting_function import AlertingFunction, Invocation, _grant_send
from .audit_trail import AuditTrail
from .audited_table import AuditedTable
from .compliance import acknowledge, nag_resource
from .handlers import handler_code, handler_entry
from .handlers.document_notifier.transitions import EVENT_DETAIL_TYPE, EVENT_SOURCE, STATUSES
from .handlers.documents_api.config import DEFAULT_ALLOWED_CONTENT_TYPES, DEFAULT_MAX_DOCUMENT_BYTES
from .isolated_network import IsolatedNetwork
from .keyed_api import DEFAULT_TIERS, ApiWithKeyedUsagePlan, UsagePlanTier
from .keyed_api import validate_props as validate_api_props
from .processing_step import ProcessingStep, check_step, existing_invoke_config, wrong_invocation
from .secure_bucket import SecureBucket, object_arn
from .secure_queue import SecureQueue
from .tagging import apply_tags, validate_tags
from ._kernel import path_of, stack_of

if TYPE_CHECKING:  # Step Functions is imported only by apps with a state-machine step
    from aws_cdk import aws_stepfunctions as sfn

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
#: What the step coordinator calls from inside the VPC: Lambda (Invoke) and SQS (failure queues);
#: Step Functions (StartExecution) too once a step is a state machine.
STEP_INTERFACE_ENDPOINTS = ("lambda", "sqs")
STATE_MACHINE_STEP_INTERFACE_ENDPOINTS = (*STEP_INTERFACE_ENDPOINTS, "states")

#: Id of the warning that an imported documents bucket needs EventBridge notifications turned on.
BUCKET_EVENTS_WARNING = "serverless-patterns:documentsBucketEventBridge"
#: Id of the warning that an imported documents bucket cannot get the CORS rule of ``cors_origins``.
BUCKET_CORS_WARNING = "serverless-patterns:documentsBucketCors"
#: Id of the warning that the KMS key of an imported documents bucket is unknown.
BUCKET_KEY_WARNING = "serverless-patterns:documentsBucketKey"
#: Id of the warning that an imported ``key``'s policy must let the pipeline's services in.
KEY_POLICY_WARNING = "serverless-patterns:pipelineKeyPolicy"
VPC_INTERFACE_ENDPOINTS = ("sns", "events")

#: The statuses the pipeline itself writes; the notifier announces these and the announced ones.
BUILT_IN_STATUSES = STATUSES
#: What a user status must look like (see :meth:`DocumentPipeline.announce_statuses`).
STATUS_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,39}$")
#: EventBridge ``source`` and ``detail-type`` of the status events (see docs/status_events.md).
STATUS_EVENT_SOURCE = EVENT_SOURCE
STATUS_EVENT_DETAIL_TYPE = EVENT_DETAIL_TYPE

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
    publishes one status event per transition to the status topic and to an EventBridge bus
    (schema: ``serverless_patterns/schemas/document-status-event.v1.json``). ``GET /documents``,
    ``GET /documents/{id}`` (read-only) and ``DELETE /documents/{id}`` (admin) complete the API.

    Every resource can be the user's own instead (``bucket``, ``key``, ``alert_topic``,
    ``network``/``vpc_subnets``, ``api``); the pipeline then creates none of that kind. Where it
    cannot change an imported resource (a bucket's notifications, a key's or topic's policy), it
    emits a CDK warning that names exactly what the owner must allow or turn on; acknowledge it
    with ``Annotations.of(pipeline).acknowledge_warning(<id>, <reason>)`` once done (the ids are
    :data:`BUCKET_EVENTS_WARNING`, :data:`BUCKET_CORS_WARNING`, :data:`BUCKET_KEY_WARNING`,
    :data:`KEY_POLICY_WARNING` and ``_alarms.IMPORTED_ALARM_TOPIC_WARNING``).

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
        Lifetime of presigned URLs. Default: 15 minutes and 5 minutes. Not with ``api=False``.
    tiers
        Usage-plan tiers of the API. Default: read-only, read-write and admin plans
        (see :class:`~serverless_patterns.keyed_api.UsagePlanTier`). Only when the pipeline makes
        its API (``api=True``), as are ``authorizer_cache_ttl``, ``private_api`` and ``web_acl``.
    authorizer_cache_ttl
        How long an authorization decision is cached per key. Default: 300 seconds.
    cors_origins
        Browser origins allowed to call the API and to post uploads to the bucket: ``https://``
        origins; ``http://localhost[:port]`` and ``http://127.0.0.1[:port]`` are accepted for
        development stages, with the warning ``serverless-patterns:devCorsOrigin``; any other
        ``http://`` origin is refused. Default: none. With a user ``api`` they apply to the bucket
        only (the API's CORS is the API's own); not with ``api=False``.
    network
        The functions' network. An :class:`IsolatedNetwork` (the library's, or one wrapping your
        VPC with ``IsolatedNetwork(..., vpc=...)``): its subnets, and HTTPS to its interface
        endpoints. Or any ``ec2.IVpc`` (a landing-zone VPC, ``ec2.Vpc.from_lookup``,
        ``ec2.Vpc.from_vpc_attributes``): its subnets must reach S3, DynamoDB and SNS (endpoints or
        NAT), which the pipeline cannot check. Default: None (functions outside a VPC; the
        acknowledgement's reason says why).
    vpc_subnets
        The subnets of an ``ec2.IVpc`` ``network`` for the functions. Default: CDK's default
        selection (the VPC's private subnets, else its isolated ones). Not with an
        :class:`IsolatedNetwork` (give them to it) or without ``network``.
    private_api
        Make the API private, reachable only through ``network``'s execute-api endpoint (an
        :class:`IsolatedNetwork` with ``execute-api`` among its interface endpoints).
        Default: False.
    cloud_watch_role
        Set API Gateway's account-wide CloudWatch role, which the API's logging needs (see
        :class:`~serverless_patterns.ApiGatewayAccount`); ``False`` when the account and Region
        already have one. Default: True.
    audit_trail
        Record S3 and DynamoDB data events of the pipeline in this trail (billed per event).
        Default: None.
    alert_emails
        Addresses subscribed to the shared alert topic. Default: none. Not with ``alert_topic``.
    alert_topic
        Where every alarm of the pipeline notifies: any ``sns.ITopic`` (``sns.Topic.from_topic_arn``
        included) or an :class:`AlertTopic`. Default: None (the pipeline's own encrypted
        ``AlertTopic``). An imported topic keeps its policies: a warning names the CloudWatch
        statements its topic and key policies must hold.
        Addresses subscribed to the shared alert topic. Default: none.
    status_event_bus
        The EventBridge bus the notifier puts status events on (``events:PutEvents`` on exactly
        this bus). Default: the account's default event bus.
    processor_memory_size
        Memory of the processor in MB. Default: 512.
    key
        One customer-managed key for all the pipeline's data (bucket, tables, queues, topics,
        functions, API logs; the API's permissions table keeps its own): a ``kms.Key`` of this app
        (the statements each service needs are added to its policy) or an imported ``kms.IKey``
        (a :data:`KEY_POLICY_WARNING` names the statements its policy must hold: the delegation to
        IAM, CloudWatch Logs, EventBridge and CloudWatch alarms). Default: one key per data
        domain: documents (bucket, metadata table, upload queue), notifications (status topic,
        ledger, failed notifications), operations (alerts, functions' environments and logs, API
        logs), and API permissions.
    bucket
        The documents bucket: any ``s3.IBucket``. A bucket of this app (``s3.Bucket`` or
        :class:`SecureBucket`) gets EventBridge notifications (on its ``AWS::S3::Bucket``, no
        custom resource) and the upload CORS rule; an imported one gets a warning saying what to
        turn on. Its KMS key (``encryption_key``, or ``key``) is granted to the functions. The
        pipeline uses keys under ``documents/`` only, and applies no ``removal_policy`` or tags to
        it. Default: None (the pipeline's own :class:`SecureBucket`).
    api
        ``True``: the pipeline makes its keyed API. An :class:`ApiWithKeyedUsagePlan` of yours: the
        four routes are added to it, at its read-write, read-only and admin levels (its alarms,
        dashboard widgets and permissions-table audit stay yours). ``False``: no API; objects put
        straight into the bucket under ``documents/`` (see :meth:`grant_upload`) are the
        documents: the processor registers each key once from its first event (id: the first 32
        hex digits of the key's SHA-256; declared type and size: the object's Content-Type and
        size, checked against ``allowed_content_types`` and ``max_document_bytes``), then checks
        it as usual. A later upload to a processed key is the same document and is not checked
        again. Default: True.
    web_acl
        Filter the API through an AWS WAF web ACL ($5 a month plus $1 per rule, idle).
        Default: False (acknowledged with :data:`NO_WEB_ACL_REASON`); production sets True.
    dashboard
        A CloudWatch dashboard of the pipeline ($3 a month). Default: False.
    validators
        Content type -> a Lambda function that validates documents of that type (see
        :meth:`add_processing_step` for how it is invoked); it answers ``{"status": "VALIDATED"}``
        or ``{"status": "REJECTED", "reason": "..."}``. Every ``allowed_content_types`` entry that
        is not built in (:data:`DEFAULT_ALLOWED_CONTENT_TYPES`) needs one. Default: none.
    removal_policy
        For every bucket, table, key, queue and log group of the pipeline. Default:
        ``RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE``. ``DESTROY`` (dev stacks) deletes them with the
        stack and turns the tables' deletion protection off; CloudFormation deletes the buckets only
        when they are empty.
    deletion_protection
        Of the metadata and notification tables (the API's permissions table follows
        ``removal_policy``). Default: follows ``removal_policy`` (on, except with ``DESTROY``);
        ``True`` with ``DESTROY`` is refused.
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
        network: IsolatedNetwork | ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        private_api: bool = False,
        cloud_watch_role: bool = True,
        audit_trail: AuditTrail | None = None,
        alert_emails: Sequence[str] = (),
        alert_topic: AlertTopic | sns.ITopic | None = None,
        status_event_bus: events.IEventBus | None = None,
        processor_memory_size: int = 512,
        key: kms.IKey | None = None,
        bucket: SecureBucket | s3.IBucket | None = None,
        api: ApiWithKeyedUsagePlan | bool = True,
        web_acl: bool = False,
        dashboard: bool = False,
        removal_policy: RemovalPolicy = STATEFUL_REMOVAL_POLICY,
        deletion_protection: bool | None = None,
        tags: Mapping[str, str] | None = None,
        validators: Mapping[str, lambda_.IFunction] | None = None,
    ) -> None:
        check_prop_types("DocumentPipeline", DocumentPipeline.__init__, locals())
        _validate(
            max_document_bytes=max_document_bytes,
            allowed_content_types=allowed_content_types,
            upload_url_expiry=upload_url_expiry,
            download_url_expiry=download_url_expiry,
            tiers=tiers,
            authorizer_cache_ttl=authorizer_cache_ttl,
            cors_origins=cors_origins,
            network=network,
            vpc_subnets=vpc_subnets,
            private_api=private_api,
            cloud_watch_role=cloud_watch_role,
            audit_trail=audit_trail,
            alert_emails=alert_emails,
            alert_topic=alert_topic,
            processor_memory_size=processor_memory_size,
            key=key,
            bucket=bucket,
            api=api,
            web_acl=web_acl,
            dashboard=dashboard,
            removal_policy=removal_policy,
            deletion_protection=deletion_protection,
            tags=tags,
            validators=validators,
        )
        upload_url_expiry = upload_url_expiry or Duration.minutes(15)
        download_url_expiry = download_url_expiry or Duration.minutes(5)
        super().__init__(scope, id)
        warn_loopback_origins(self, cors_origins, what="The CORS configuration of the documents bucket (browser uploads)")
        #: What was passed as ``network``: an :class:`IsolatedNetwork`, any ``ec2.IVpc``, or None.
        self.network = network
        isolated = network if isinstance(network, IsolatedNetwork) else None
        #: The VPC and subnets of the functions (None without ``network``).
        self.vpc: ec2.IVpc | None = isolated.vpc if isolated else network
        self.vpc_subnets: ec2.SubnetSelection | None = isolated.subnets if isolated else vpc_subnets
        #: User statuses the notifier announces besides :data:`BUILT_IN_STATUSES`.
        self._announced_statuses: list[str] = []
        # One key per data domain; each grant names its principal and, for services, the source.
        #: Where the pipeline's alarms notify: its own AlertTopic, or the ``alert_topic`` passed.
        self.alert_topic: AlertTopic | sns.ITopic = (
            alert_topic if alert_topic is not None else AlertTopic(self, "Alerts", emails=alert_emails, encryption_key=key)
        )
        #: Operations: alerts, the functions' environments, dead-letter queues and logs, API logs.
        self.operations_key: kms.IKey = (
            key
            or (self.alert_topic.encryption_key if alert_topic is None else None)
            or customer_managed_key(self, "OperationsKey", description=f"Encrypts operational data of {path_of(self)}")
        )
        self.status_topic: AlertTopic = AlertTopic(self, "StatusTopic", encryption_key=key)
        #: Notifications: status topic, notification ledger, failed notifications.
        self.notifications_key: kms.IKey = self.status_topic.encryption_key

        #: The documents bucket: the pipeline's SecureBucket, or the ``bucket`` passed.
        self.documents: SecureBucket | s3.IBucket = bucket if bucket is not None else SecureBucket(
            self,
            "Documents",
            event_bridge_enabled=True,
            cors=_upload_cors(cors_origins),
            encryption_key=key,
            removal_policy=removal_policy,
        )
        if bucket is not None:
            self._adopt_bucket(bucket, cors_origins, key)
        #: The key of the bucket's objects, when known (the handlers are granted its use).
        self.bucket_key: kms.IKey | None = _bucket_key(self.documents) or key
        #: Documents: the bucket, the metadata table, the upload events.
        self.documents_key: kms.IKey = (
            key
            or self.bucket_key
            or customer_managed_key(self, "DocumentsKey", description=f"Encrypts document metadata of {path_of(self)}")
        )
        alarm_topic = as_topic(self.alert_topic)
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
            alarm_topic=alarm_topic,
            alarm_operations=METADATA_OPERATIONS,
            removal_policy=removal_policy,
            deletion_protection=deletion_protection,
        )
        self.notification_ledger: AuditedTable = AuditedTable(
            self,
            "NotificationLedger",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute="expiration",
            encryption_key=self.notifications_key,
            alarm_topic=alarm_topic,
            alarm_operations=NOTIFICATION_LEDGER_OPERATIONS,
            removal_policy=removal_policy,
            deletion_protection=deletion_protection,
        )

        common = {"network": network, "alert_topic": self.alert_topic}
        #: The documents API's function; None with ``api=False``.
        self.api_handler: AlertingFunction | None = None
        if api is not False:
            self.api_handler = self._function(
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
        # Without an API nobody registers a document before its upload: the processor does.
        registration = {} if api is not False else {
            "REGISTER_UPLOADS": "true",
            "MAX_DOCUMENT_BYTES": str(max_document_bytes),
            "ALLOWED_CONTENT_TYPES": ",".join(allowed_content_types),
        }
        self.processor: AlertingFunction = self._function(
            "Processor",
            "document_processor",
            description="Checks uploaded documents and records their status",
            environment={
                "DOCUMENTS_BUCKET": self.documents.bucket_name, "DOCUMENTS_TABLE": self.metadata.table_name, **registration,
            },
            memory_size=processor_memory_size,
            timeout=Duration.seconds(60),
            invocation=Invocation.EVENT_SOURCE,
            invoked_by="the event source mapping of the upload-events queue (redrive to its dead-letter queue)",
            **common,
        )
        #: Where status events go besides the status topic.
        self.status_event_bus: events.IEventBus = status_event_bus or events.EventBus.from_event_bus_name(
            self, "DefaultEventBus", "default"
        )
        self.notifier: AlertingFunction = self._function(
            "Notifier",
            "document_notifier",
            description="Publishes one status event per document status transition (SNS and EventBridge)",
            environment={
                "STATUS_TOPIC_ARN": self.status_topic.topic_arn,
                "STATUS_EVENT_BUS": self.status_event_bus.event_bus_arn,
                # Rewritten by announce_statuses: statuses announced after construction count too.
                "ANNOUNCED_STATUSES": "",
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

        #: The keyed API serving the routes: the pipeline's own, the ``api`` passed, or None.
        self.api: ApiWithKeyedUsagePlan | None = None
        if isinstance(api, ApiWithKeyedUsagePlan):
            self.api = api
        elif api:
            self.api = ApiWithKeyedUsagePlan(
                self,
                "Api",
                tiers=tiers,
                authorizer_cache_ttl=authorizer_cache_ttl,
                cors_origins=cors_origins,
                private=private_api,
                vpc_endpoint=isolated.interface_endpoints["execute-api"] if (isolated and private_api) else None,
                authorizer_vpc=self.vpc,
                authorizer_vpc_subnets=self.vpc_subnets,
                cloud_watch_role=cloud_watch_role,
                alert_topic=self.alert_topic,
                encryption_key=self.operations_key,
                web_acl_opt_out_reason=None if web_acl else NO_WEB_ACL_REASON,
                removal_policy=removal_policy,
            )
            if isolated is not None and self.api.authorizer_function.security_group is not None:
                isolated.allow_https_from(self.api.authorizer_function.security_group)
        if self.api is not None and self.api_handler is not None:
            self.api.add_route("POST", "/documents", self.api_handler, level="read-write", request_schema=UPLOAD_REQUEST_SCHEMA)
            self.api.add_route("GET", "/documents", self.api_handler, level="read-only")
            self.api.add_route("GET", "/documents/{id}", self.api_handler, level="read-only")
            self.api.add_route("DELETE", "/documents/{id}", self.api_handler, level="admin")
        #: Whether the pipeline made the API (its alarms, dashboard widgets and audit are then the pipeline's).
        self.owns_api: bool = self.api is not None and api is True

        if audit_trail is not None:
            audit_trail.add_s3_data_events([self.documents])
            audit_trail.add_dynamodb_data_events(
                [self.metadata, *([self.api.permissions_table] if self.owns_api and self.api else [])]
            )
        if key is not None and not isinstance(key, kms.Key):
            self._warn_imported_key(key)

        self.alarms: dict[str, cloudwatch.Alarm] = self._create_alarms()
        self.dashboard: cloudwatch.Dashboard | None = self._create_dashboard() if dashboard else None
        self._init_steps(validators or {})
        apply_removal_policy(self, removal_policy)  # keys, queues and log groups follow the data
        apply_tags(self, "DocumentPipeline", tags)

    # ---- processing steps and validators ----------------------------------------------------

    def add_processing_step(
        self,
        id: str,
        *,
        function: lambda_.IFunction | None = None,
        state_machine: sfn.IStateMachine | None = None,
        statuses: Sequence[str],
        retries: int = 2,
        timeout: Duration | None = None,
    ) -> ProcessingStep:
        """Run ``function`` (or ``state_machine``) on every validated document, after the steps added before it.

        With steps, a document that passes the processor's checks becomes ``VALIDATED`` (not
        ``PROCESSED``); the step coordinator then invokes each step asynchronously, in the order
        added, with the step input (JSON)::

            {"schema_version": "1", "document_id": "...", "bucket": "...", "key": "documents/<id>/<name>",
             "version_id": "...", "content_type": "...", "size": 123, "status": "VALIDATED",
             "status_version": 2, "step": "<id>"}

        (``status`` is the document's current status: ``VALIDATED`` or the previous step's). The
        function returns ``{"status": "<one of statuses>", "detail": {...}}`` (``detail`` optional,
        at most 16 KiB of JSON, kept as ``step_detail_<id>``). The coordinator records the status,
        then invokes the next step; after the last one the document becomes ``PROCESSED``. A
        status the step did not declare, or a failure after ``retries`` (or once ``timeout`` has
        passed), makes the document ``FAILED`` with a reason naming the step, and the invocation
        record goes to the step's failure queue, which alarms. A step may run more than once for
        the same document (asynchronous invocations are at least once): make it idempotent; only
        the first result for a ``status_version`` is recorded.

        Parameters
        ----------
        id
            The step's construct id and name (letters and digits).
        function
            Any ``lambda_.IFunction`` without an ``EventInvokeConfig`` of its own (the step makes
            it; an :class:`AlertingFunction` takes ``invocation=Invocation.CALLER_CONFIGURED_ASYNC``). Its
            role is granted ``sqs:SendMessage`` on the step-results queue (Lambda sends the
            invocation records with it) and ``s3:GetObject``/``s3:GetObjectVersion`` on
            ``documents/`` with ``kms:Decrypt`` (to read the document it is given).
        state_machine
            Instead of ``function``: a Standard ``sfn.IStateMachine``. Its execution gets the step
            input and its output is the answer (``{"status": ..., "detail": ...}``); a failed or
            timed-out execution is retried. The step's runner state machine starts it and records
            the result (see :class:`~serverless_patterns._step_runner.StepRunner`). A state machine
            of this app is granted the document read above; for an imported one, its role needs it.
        statuses
            The statuses the step may return (announced by the notifier): upper-case names, not
            built-in ones.
        retries
            Lambda's retries of a failed invocation (or the runner's of a failed execution), 0-2.
            Default: 2.
        timeout
            Maximum age of the invocation event (Lambda's ``MaximumEventAgeInSeconds``), or the
            limit of each execution of ``state_machine``; 1 minute to 6 hours. Default: 6 hours.
        """
        errors = PropErrors("DocumentPipeline.add_processing_step")
        check_step(
            errors, id=id, function=function, state_machine=state_machine, statuses=statuses, retries=retries,
            timeout=timeout, existing=[step.node.id for step in self.processing_steps],
        )
        if function is not None:
            self._check_step_function(errors, function)
        self._check_step_endpoints(errors, STATE_MACHINE_STEP_INTERFACE_ENDPOINTS if state_machine is not None else STEP_INTERFACE_ENDPOINTS)
        errors.raise_if_any()
        coordinator = self._step_coordinator()
        step = ProcessingStep(
            self._steps_scope,
            id,
            function=function,
            state_machine=state_machine,
            statuses=statuses,
            results_queue=self.step_results.queue,
            encryption_key=self.documents_key,
            log_key=self.operations_key,
            alert_topic=self.alert_topic,
            retries=retries,
            timeout=timeout,
            description=f"Processing step {id} of {path_of(self)}",
        )
        self._grant_stage(coordinator, step)
        self.processing_steps.append(step)
        self.processor.function.add_environment("ACCEPTED_STATUS", "VALIDATED")
        self._configure_coordinator()
        self.announce_statuses(step.statuses)
        return step

    def _init_steps(self, validators: Mapping[str, lambda_.IFunction]) -> None:
        #: The processing steps, in the order they run.
        self.processing_steps: list[ProcessingStep] = []
        #: Content type -> the step that validates it.
        self.validators: dict[str, ProcessingStep] = {}
        #: The step coordinator and its queues, made with the first step or validator.
        self.step_coordinator: AlertingFunction | None = None
        self.step_results: SecureQueue | None = None
        self.step_start_failures: SecureQueue | None = None
        if not validators:
            return
        errors = PropErrors("DocumentPipeline")
        for function in validators.values():
            self._check_step_function(errors, function, prop="validators")
        self._check_step_endpoints(errors, STEP_INTERFACE_ENDPOINTS)
        errors.raise_if_any()
        coordinator = self._step_coordinator()
        scope = Construct(self, "Validators")
        for content_type, function in validators.items():
            validator = ProcessingStep(
                scope,
                "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", content_type) if part),
                function=function,
                statuses=(),
                results_queue=self.step_results.queue,
                encryption_key=self.documents_key,
                alert_topic=self.alert_topic,
                description=f"The validator of {content_type} documents of {path_of(self)}",
            )
            self._grant_stage(coordinator, validator)
            self.validators[content_type.lower()] = validator
        self.processor.function.add_environment("VALIDATOR_TYPES", ",".join(self.validators))
        self._configure_coordinator()

    def _check_step_function(self, errors: PropErrors, function: object, prop: str = "function") -> None:
        wrong = wrong_invocation(function)
        if wrong is not None:
            errors.add(prop, getattr(getattr(function, "node", None), "path", function), wrong)
        elif existing_invoke_config(function):
            errors.add(
                prop,
                getattr(getattr(function, "node", None), "path", function),
                "already has an EventInvokeConfig (asynchronous retries or destinations); the pipeline "
                "configures its own: pass a function without one (AlertingFunction: invocation=Invocation.CALLER_CONFIGURED_ASYNC)",
            )

    def _check_step_endpoints(self, errors: PropErrors, needed: Sequence[str]) -> None:
        """The coordinator in an IsolatedNetwork reaches the services it calls through its endpoints."""
        endpoints = getattr(self.network, "interface_endpoints", None)
        if self.network is not None and endpoints is not None:
            missing = [e for e in needed if e not in endpoints]
            errors.check(
                not missing,
                "network",
                f"IsolatedNetwork without {', '.join(missing)} endpoints",
                f"the step coordinator calls {', '.join(needed)} from inside the VPC: include them in interface_endpoints",
            )

    def _step_coordinator(self) -> AlertingFunction:
        """The coordinator, its step-results queue and its stream mapping (made once)."""
        if self.step_coordinator is not None:
            return self.step_coordinator
        self._steps_scope = Construct(self, "Steps")
        coordinator = self._function(
            "StepCoordinator",
            "document_steps",
            description="Runs the processing steps and validators of the documents",
            environment={"DOCUMENTS_BUCKET": self.documents.bucket_name, "DOCUMENTS_TABLE": self.metadata.table_name},
            timeout=Duration.seconds(30),
            invocation=Invocation.EVENT_SOURCE,
            invoked_by=(
                "the event source mappings of the step-results queue (redrive to its dead-letter queue) and of "
                "the metadata table's stream (on failure to the step-start-failures queue)"
            ),
            network=self.network,
            alert_topic=self.alert_topic,
        )
        self.step_results = SecureQueue(
            self,
            "StepResults",
            visibility_timeout=Duration.seconds(6 * 30),  # six times the coordinator's timeout
            max_receive_count=5,
            encryption_key=self.documents_key,
            alarm_topic=self.alert_topic,
            oldest_message_age_alarm_threshold=Duration.minutes(15),
        )
        self.step_start_failures = SecureQueue(
            self, "StepStartFailures", encryption_key=self.documents_key, alarm_topic=self.alert_topic
        )
        coordinator.add_sqs_source(self.step_results.queue, batch_size=10, report_batch_item_failures=True)
        coordinator.add_dynamodb_stream_source(
            self.metadata.table, batch_size=100, retry_attempts=5, on_failure=self.step_start_failures.queue
        )
        self.metadata.grant_actions(
            coordinator,
            _actions.KMS_DYNAMODB_WRITE,
            (_actions.DYNAMODB_GET_ITEM + _actions.DYNAMODB_UPDATE_ITEM, [self.metadata.table_arn]),
        )
        self.step_coordinator = coordinator
        return coordinator

    def _grant_stage(self, coordinator: AlertingFunction, stage: ProcessingStep) -> None:
        """Invoke exactly this function (no other version or alias), or start exactly this runner, and
        send to its failure queue; the function or state machine may read the documents (any
        version) it is given (an imported state machine's role is the owner's to change)."""
        if stage.function is not None:
            self._grant_objects(stage.function, _actions.S3_GET_OBJECT_ANY_VERSION, _actions.KMS_DECRYPT)
            iam.Grant.add_to_principal(grantee=coordinator, actions=["lambda:InvokeFunction"], resource_arns=[stage.target_arn])
        else:
            from aws_cdk import aws_stepfunctions as sfn

            if isinstance(stage.state_machine, sfn.StateMachine):
                self._grant_objects(stage.state_machine, _actions.S3_GET_OBJECT_ANY_VERSION, _actions.KMS_DECRYPT)
            iam.Grant.add_to_principal(grantee=coordinator, actions=["states:StartExecution"], resource_arns=[stage.target_arn])
        _grant_send(stage.failure_queue.queue, coordinator)

    def _configure_coordinator(self) -> None:
        """The coordinator's view of the steps and validators (its environment, rewritten)."""
        assert self.step_coordinator is not None
        stack = stack_of(self)
        steps = [
            {
                "name": s.node.id,
                ("function" if s.function is not None else "state_machine"): s.target_arn,
                "statuses": list(s.statuses),
                "failure_queue": s.failure_queue.queue_url,
            }
            for s in self.processing_steps
        ]
        validators = {
            content_type: {"name": content_type, "function": v.target_arn, "failure_queue": v.failure_queue.queue_url}
            for content_type, v in self.validators.items()
        }
        self.step_coordinator.function.add_environment("PIPELINE_STEPS", stack.to_json_string(steps))
        self.step_coordinator.function.add_environment("PIPELINE_VALIDATORS", stack.to_json_string(validators))


    # ---- bring your own -------------------------------------------------------------------

    def _adopt_bucket(self, bucket: s3.IBucket, cors_origins: Sequence[str], key: kms.IKey | None) -> None:
        """Turn on what the pipeline needs on the user's bucket, or say exactly what to turn on.

        A bucket of this app (an ``s3.Bucket`` or :class:`SecureBucket`) gets EventBridge
        notifications on its ``AWS::S3::Bucket`` resource (not through CDK's notifications
        custom resource) and the upload CORS rule; an imported bucket keeps its configuration,
        and a warning names what its owner must turn on.
        """
        l2 = _owned_bucket(bucket)
        name = _describe(bucket)
        if l2 is not None:
            l2.node.default_child.add_property_override(
                "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
            )
            for rule in _upload_cors(cors_origins):
                l2.add_cors_rule(
                    allowed_methods=rule.allowed_methods, allowed_origins=rule.allowed_origins,
                    allowed_headers=rule.allowed_headers, max_age=rule.max_age,
                )
            return
        warn = Annotations.of(self).add_warning_v2
        warn(
            BUCKET_EVENTS_WARNING,
            f"The documents bucket {name} is imported: turn on its Amazon EventBridge notifications "
            "(EventBridgeConfiguration in the bucket's NotificationConfiguration: the console's Properties > "
            "Amazon EventBridge > On, or put-bucket-notification-configuration keeping its other "
            f"notifications). Without them no object-created event under {DOCUMENTS_PREFIX} reaches the "
            "processor and every document stays AWAITING_UPLOAD.",
        )
        if cors_origins:
            warn(
                BUCKET_CORS_WARNING,
                f"The documents bucket {name} is imported: for browsers of {', '.join(cors_origins)} to post "
                "upload forms, its CORS configuration needs a rule allowing POST from those origins with "
                "AllowedHeaders *.",
            )
        if _bucket_key(bucket) is None and key is None:
            warn(
                BUCKET_KEY_WARNING,
                f"The documents bucket {name} is imported without encryption_key: the functions get no KMS "
                "permissions for its objects. If its default encryption is SSE-KMS, import it with "
                "s3.Bucket.from_bucket_attributes(..., encryption_key=<its key>) or pass key=<that key>.",
            )

    def _warn_imported_key(self, key: kms.IKey) -> None:
        """One warning naming every statement an imported pipeline key's policy must hold.

        They are the statements the pipeline's constructs add to a key of this app: the services
        that use the key on the pipeline's behalf, each scoped to this account, and the delegation
        to IAM that makes the grants on the functions' roles effective.
        """
        stack = stack_of(self)
        account = "<account>" if is_token(stack.account) else stack.account
        region = "<region>" if is_token(stack.region) else stack.region
        publishers = " ".join(_actions.KMS_FOR_SERVICE_PUBLISHERS)
        statements = [
            (
                f"the default statement delegating to IAM (Principal AWS arn:<partition>:iam::{account}:root, "
                "Action kms:*): the pipeline grants its functions' roles exactly the KMS actions they use on S3 "
                "objects, DynamoDB tables and streams, SQS messages, SNS publishing and their encrypted environment"
            ),
            (
                f"Service logs.{region}.amazonaws.com: {' '.join(_actions.KMS_FOR_CLOUDWATCH_LOGS)} with ArnLike "
                f"kms:EncryptionContext:aws:logs:arn = arn:<partition>:logs:{region}:{account}:log-group:* "
                "(the functions' and the API's encrypted log groups)"
            ),
            (
                f"Service events.amazonaws.com: {publishers} with aws:SourceAccount = {account} "
                "(EventBridge sends the object-created events to the encrypted upload queue)"
            ),
            (
                f"Service cloudwatch.amazonaws.com: {publishers} with aws:SourceAccount = {account} "
                "(alarms publish to the encrypted topics)"
            ),
        ]
        if isinstance(self.alert_topic, AlertTopic) and self.alert_topic.delivery_failures is not None:
            statements.append(
                f"Service sns.amazonaws.com: {publishers} with aws:SourceAccount = {account} "
                "(the alert topic keeps undeliverable alerts in an encrypted queue)"
            )
        Annotations.of(self).add_warning_v2(
            KEY_POLICY_WARNING,
            f"The pipeline's key {_describe(key)} is imported, so this app cannot change its policy. For the "
            "pipeline to work, the key policy must allow " + "; ".join(statements) + ".",
        )

    # ---- status events --------------------------------------------------------------------

    @property
    def announced_statuses(self) -> tuple[str, ...]:
        """The user statuses the notifier announces, in the order first announced."""
        return tuple(self._announced_statuses)

    def announce_statuses(self, statuses: Iterable[str]) -> None:
        """Have the notifier announce these user statuses too (it drops statuses it does not know).

        Each must match ``^[A-Z][A-Z0-9_]{0,39}$`` and not be one of :data:`BUILT_IN_STATUSES`;
        announcing one again is a no-op. Processing steps announce their statuses themselves.

        Raises
        ------
        ValueError
            Naming every refused value; nothing is announced then.
        TypeError
            When ``statuses`` is not an iterable.
        """
        if not isinstance(statuses, Iterable):
            raise TypeError(f"DocumentPipeline.announce_statuses: statuses must be an iterable of str, got {type(statuses).__name__}")
        values = [statuses] if isinstance(statuses, str) else list(statuses)
        errors = PropErrors("DocumentPipeline.announce_statuses")
        for value in values:
            errors.check(
                isinstance(value, str) and bool(STATUS_NAME.fullmatch(value)),
                "statuses",
                value,
                "a status is 1 to 40 upper-case letters, digits and underscores, starting with a letter",
            )
            errors.check(
                value not in BUILT_IN_STATUSES,
                "statuses",
                value,
                f"is a built-in status ({', '.join(BUILT_IN_STATUSES)}), announced already",
            )
        errors.raise_if_any()
        for value in values:
            if value not in self._announced_statuses:
                self._announced_statuses.append(value)
        self.notifier.function.add_environment("ANNOUNCED_STATUSES", ",".join(self._announced_statuses))

    def status_events_rule(
        self,
        id: str,
        *,
        statuses: Iterable[str] | None = None,
        targets: Sequence[events.IRuleTarget] = (),
        description: str | None = None,
    ) -> events.Rule:
        """A rule on :attr:`status_event_bus` matching this pipeline's status events (their
        ``resources`` name its metadata table).

        ``statuses`` limits it to those statuses (built-in or announced). Default: every status.
        The rule is made in the pipeline's scope with ``id``; add targets here or later.

        Raises
        ------
        ValueError
            For a status that is neither built in nor announced (yet).
        """
        wanted = None if statuses is None else ([statuses] if isinstance(statuses, str) else list(statuses))
        errors = PropErrors("DocumentPipeline.status_events_rule")
        for value in wanted or ():
            errors.check(
                value in BUILT_IN_STATUSES or value in self._announced_statuses,
                "statuses",
                value,
                "is neither a built-in status nor announced (announce_statuses or a processing step first)",
            )
        errors.check(wanted is None or bool(wanted), "statuses", wanted, "must name at least one status, or be None")
        errors.raise_if_any()
        return events.Rule(
            self,
            id,
            event_bus=self.status_event_bus,
            description=description or f"Status events of {path_of(self)}",
            event_pattern=events.EventPattern(
                source=[STATUS_EVENT_SOURCE],
                detail_type=[STATUS_EVENT_DETAIL_TYPE],
                resources=[self.metadata.table_arn],  # this pipeline's events, not another's
                detail={"status": list(wanted)} if wanted else None,
            ),
            targets=list(targets),
        )

    # ---- building blocks ------------------------------------------------------------------

    def _function(
        self,
        id: str,
        handler: str,
        *,
        description: str,
        environment: Mapping[str, str],
        network: IsolatedNetwork | ec2.IVpc | None,
        alert_topic: AlertTopic | sns.ITopic,
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
            vpc=self.vpc,
            vpc_subnets=self.vpc_subnets,
            alert_topic=alert_topic,
            invocation=invocation,
            invoked_by=invoked_by,
            encryption_key=self.operations_key,
        )
        if isinstance(network, IsolatedNetwork) and function.security_group is not None:
            network.allow_https_from(function.security_group)
        return function

    def _grant_least_privilege(self) -> None:
        """Each function gets exactly what its handler calls, on exactly these resources.

        The bucket's and tables' ``grant_read``/``grant_write`` give whole kinds of access (listing,
        batch and scan operations, multipart uploads) that no handler uses; these grants go through
        the constructs' narrow grant methods with the handlers' own calls. ``tests/test_least_privilege.py`` checks the
        result against every call of an end-to-end run.
        """
        metadata = self.metadata
        # The API presigns uploads (PutObject, encrypted under the bucket's key) and downloads of the
        # validated version (GetObjectVersion, decrypted): S3 authorizes both against its role.
        if self.api_handler is not None:
            self._grant_objects(
                self.api_handler,
                _actions.S3_PUT_OBJECT + _actions.S3_GET_OBJECT_VERSION + _actions.S3_DELETE_OBJECT,
                _actions.KMS_GENERATE_DATA_KEY + _actions.KMS_DECRYPT,
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
        self._grant_objects(self.processor, _actions.S3_GET_OBJECT_ANY_VERSION, _actions.KMS_DECRYPT)
        self._grant_list(self.processor)
        # Without an API the processor registers each new document (a conditional PutItem).
        registers = _actions.DYNAMODB_PUT_ITEM if self.api_handler is None else []
        metadata.grant_actions(
            self.processor,
            _actions.KMS_DYNAMODB_WRITE,
            (_actions.DYNAMODB_GET_ITEM + registers + _actions.DYNAMODB_UPDATE_ITEM, [metadata.table_arn]),
        )
        self.status_topic.grant_publish(self.notifier)
        self.status_event_bus.grant_put_events_to(self.notifier)
        self.notification_ledger.grant_actions(
            self.notifier,
            _actions.KMS_DYNAMODB_WRITE,
            (_actions.DYNAMODB_IDEMPOTENCY_RECORDS, [self.notification_ledger.table_arn]),
        )

    def grant_upload(self, grantee: iam.IGrantable) -> None:
        """Let ``grantee`` put documents under ``documents/`` of the bucket (uploads without the API).

        ``s3:PutObject`` on ``documents/*`` and, for the bucket's key, ``kms:GenerateDataKey`` and
        ``kms:Decrypt`` (multipart uploads). With ``api=False`` each object put there becomes a document.
        """
        self._grant_objects(grantee, _actions.S3_PUT_OBJECT, _actions.KMS_GENERATE_DATA_KEY + _actions.KMS_DECRYPT)

    def _grant_objects(self, grantee: iam.IGrantable, s3_actions: list[str], kms_actions: list[str]) -> None:
        """Exactly ``s3_actions`` on objects under ``documents/``, and ``kms_actions`` on the bucket's key."""
        if isinstance(self.documents, SecureBucket):
            self.documents.grant_object_actions(grantee, s3_actions, kms_actions, key_prefix=DOCUMENTS_PREFIX)
            return
        objects = object_arn(grantee, self.documents, f"{DOCUMENTS_PREFIX}*")
        iam.Grant.add_to_principal(grantee=grantee, actions=s3_actions, resource_arns=[objects])
        if self.bucket_key is not None:
            self.bucket_key.grant(grantee, *kms_actions)
        if not isinstance(grantee.grant_principal, Construct):
            return
        acknowledge(
            grantee.grant_principal,
            f"AwsSolutions-IAM5[Resource::{nag_resource(grantee.grant_principal, objects)}]",
            "Object-level S3 permissions name objects by key pattern; the pattern is limited to the "
            f"documents bucket and the prefix {DOCUMENTS_PREFIX!r}.",
        )

    def _grant_list(self, grantee: iam.IGrantable) -> None:
        """``s3:ListBucket`` on the documents bucket, for keys under ``documents/`` only."""
        if isinstance(self.documents, SecureBucket):
            self.documents.grant_list(grantee, key_prefix=DOCUMENTS_PREFIX)
            return
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=_actions.S3_LIST,
                resources=[self.documents.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{DOCUMENTS_PREFIX}*"]}},
            )
        )

    def _notify(self, alarm: cloudwatch.Alarm) -> None:
        """Alarm and recovery notifications of ``alarm`` to the alert topic (an AlertTopic or any topic)."""
        notify(self, alarm, self.alert_topic)

    def _create_alarms(self) -> dict[str, cloudwatch.Alarm]:
        # Functions, tables, queues and the authorizer alarm on their own; this adds the API's
        # (when the pipeline made it: a user's API carries the user's routes too, and their alarms).
        if not self.owns_api or self.api is None:
            return {}
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
            self._notify(alarm)
        return alarms

    def _create_dashboard(self) -> cloudwatch.Dashboard:
        functions = {"API": self.api_handler, "Processor": self.processor, "Notifier": self.notifier}
        functions = {name: f for name, f in functions.items() if f is not None}
        dashboard = cloudwatch.Dashboard(self, "Dashboard")
        if self.api is not None:
            self._api_widgets(dashboard, self.api)
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

    @staticmethod
    def _api_widgets(dashboard: cloudwatch.Dashboard, keyed: ApiWithKeyedUsagePlan) -> None:
        api = keyed.api
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
                left=[keyed.metric_allowed(), keyed.metric_denied()],
                width=8,
            ),
        )


def _owned_bucket(bucket: s3.IBucket) -> s3.Bucket | None:
    """The ``s3.Bucket`` of this app behind ``bucket`` (a SecureBucket's ``bucket``), or None if imported."""
    l2 = getattr(bucket, "bucket", bucket) if isinstance(bucket, SecureBucket) else bucket
    if isinstance(l2, s3.Bucket) and isinstance(l2.node.default_child, s3.CfnBucket):
        return l2
    return None


def _bucket_key(bucket: s3.IBucket) -> kms.IKey | None:
    """The KMS key of ``bucket``'s objects, when the app knows it."""
    return getattr(bucket, "encryption_key", None)


def _describe(resource: object) -> str:
    """A resource as a user recognises it: its construct path, and its ARN when it is not a token."""
    node = getattr(resource, "node", None)
    path = node.path if node is not None else repr(resource)
    for attribute in ("bucket_arn", "bucket_name", "key_arn", "topic_arn", "vpc_id"):
        value = getattr(resource, attribute, None)
        if isinstance(value, str) and not is_token(value):
            return f"{path} ({value})"
    return path


def _upload_cors(origins: Sequence[str]) -> list[s3.CorsRule]:
    if not origins:
        return []
    return [s3.CorsRule(allowed_methods=[s3.HttpMethods.POST], allowed_origins=list(origins), allowed_headers=["*"], max_age=3000)]


def _validate(
    *,
    max_document_bytes: int,
    allowed_content_types: Sequence[str],
    upload_url_expiry: Duration | None,
    download_url_expiry: Duration | None,
    tiers: Sequence[UsagePlanTier],
    authorizer_cache_ttl: Duration | None,
    cors_origins: Sequence[str],
    network: IsolatedNetwork | ec2.IVpc | None,
    vpc_subnets: ec2.SubnetSelection | None,
    private_api: bool,
    cloud_watch_role: bool,
    audit_trail: AuditTrail | None,
    alert_emails: Sequence[str],
    alert_topic: AlertTopic | sns.ITopic | None,
    processor_memory_size: int,
    key: kms.IKey | None,
    bucket: s3.IBucket | None,
    api: ApiWithKeyedUsagePlan | bool,
    web_acl: bool,
    dashboard: bool,
    removal_policy: RemovalPolicy,
    deletion_protection: bool | None,
    tags: Mapping[str, str] | None,
    validators: Mapping[str, lambda_.IFunction] | None = None,
) -> None:
    name = "DocumentPipeline"
    require_type(name, "max_document_bytes", max_document_bytes, int)
    require_type(name, "upload_url_expiry", upload_url_expiry, Duration)
    require_type(name, "download_url_expiry", download_url_expiry, Duration)
    require_type(name, "network", network, (IsolatedNetwork, ec2.IVpc))
    require_type(name, "vpc_subnets", vpc_subnets, ec2.SubnetSelection)
    require_type(name, "private_api", private_api, bool)
    require_type(name, "audit_trail", audit_trail, AuditTrail)
    require_type(name, "alert_topic", alert_topic, (AlertTopic, sns.ITopic))
    require_type(name, "processor_memory_size", processor_memory_size, int)
    require_type(name, "key", key, kms.IKey)
    require_type(name, "bucket", bucket, (SecureBucket, s3.IBucket))
    require_type(name, "api", api, (ApiWithKeyedUsagePlan, bool))
    require_type(name, "web_acl", web_acl, bool)
    require_type(name, "dashboard", dashboard, bool)
    require_type(name, "removal_policy", removal_policy, RemovalPolicy)
    require_type(name, "deletion_protection", deletion_protection, bool)
    validate_tags(name, tags)
    upload_url_expiry_given, download_url_expiry_given = upload_url_expiry, download_url_expiry
    upload_url_expiry = upload_url_expiry or Duration.minutes(15)
    download_url_expiry = download_url_expiry or Duration.minutes(5)
    errors = PropErrors(name)
    check_deletion_protection(errors, removal_policy, deletion_protection)
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
        alert_topic is None or not alert_emails,
        "alert_emails",
        list(alert_emails) if not isinstance(alert_emails, str) else alert_emails,
        "subscribe addresses to the alert_topic you pass, not here",
    )
    # Props that configure the API the pipeline makes: refused when it makes none.
    if api is not True:
        made_by = "your ApiWithKeyedUsagePlan sets it" if api is not False else "api=False makes no API"
        for prop, value, default in (
            ("tiers", tuple(tiers), tuple(DEFAULT_TIERS)),
            ("authorizer_cache_ttl", authorizer_cache_ttl, None),
            ("private_api", private_api, False),
            ("web_acl", web_acl, False),
        ):
            errors.check(value == default, prop, value, f"configures the pipeline's own API: {made_by}")
    if api is False:
        for prop, value in (("upload_url_expiry", upload_url_expiry_given), ("download_url_expiry", download_url_expiry_given)):
            errors.check(value is None, prop, value, "api=False presigns no URLs: uploads go straight to the bucket")
        errors.check(
            not cors_origins,
            "cors_origins",
            list(cors_origins) if not isinstance(cors_origins, str) else cors_origins,
            "api=False serves no API or upload form to browsers; configure CORS on your own bucket",
        )
    errors.check(
        vpc_subnets is None or network is not None,
        "vpc_subnets",
        vpc_subnets,
        "needs network= (the VPC the subnets belong to)",
    )
    errors.check(
        vpc_subnets is None or not isinstance(network, IsolatedNetwork),
        "vpc_subnets",
        vpc_subnets,
        "an IsolatedNetwork chooses its subnets: pass them as IsolatedNetwork(..., vpc_subnets=...)",
    )
    errors.check(
        not private_api or network is None or isinstance(network, IsolatedNetwork),
        "network",
        _describe(network),
        "a private API needs an IsolatedNetwork with an 'execute-api' endpoint; wrap your VPC: "
        "IsolatedNetwork(scope, id, vpc=<your VPC>, interface_endpoints=[..., 'execute-api'])",
    )
    vpc_given = network is not None
    network = network if isinstance(network, IsolatedNetwork) else None
    errors.check(
        not private_api or vpc_given,
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
    _check_validators(errors, types if isinstance(types, list) else [], validators)
    for address in alert_emails:
        check_email(errors, "alert_emails", address)
    # The props handed on to the API: its problems are reported here, under the pipeline's names.
    with errors.nested({prop: prop for prop in ("tiers", "authorizer_cache_ttl", "cors_origins", "cloud_watch_role")}):
        validate_api_props(
            tiers=tiers,
            authorizer_cache_ttl=authorizer_cache_ttl,
            cors_origins=cors_origins,
            cloud_watch_role=cloud_watch_role,
        )
    errors.raise_if_any()


def _check_validators(errors: PropErrors, allowed: Sequence[object], validators: Mapping[str, lambda_.IFunction] | None) -> None:
    """A content type beyond the built-ins needs a validator; a validator needs its type allowed."""
    if validators is not None and not isinstance(validators, Mapping):
        errors.add("validators", validators, "must be a mapping of content type to lambda_.IFunction")
        return
    validators = validators or {}
    built_in = {t.lower() for t in DEFAULT_ALLOWED_CONTENT_TYPES}
    allowed_lower = {t.lower() for t in allowed if isinstance(t, str)}
    checked = {t.lower() for t in validators if isinstance(t, str)}
    for content_type in allowed:
        if isinstance(content_type, str) and content_type.lower() not in built_in | checked:
            errors.add(
                "allowed_content_types",
                content_type,
                "is not a built-in content type, so the processor cannot check it: pass a validator for it "
                f"(validators={{{content_type!r}: <lambda_.IFunction>}}) or remove it",
            )
    for content_type, function in validators.items():
        if not isinstance(content_type, str) or "/" not in content_type or "," in content_type:
            errors.add("validators", content_type, "keys must be MIME types such as 'application/x-foo'")
            continue
        errors.check(
            content_type.lower() not in built_in,
            "validators",
            content_type,
            "is a built-in content type, which the processor checks itself",
        )
        errors.check(
            content_type.lower() in allowed_lower,
            "validators",
            content_type,
            "is not in allowed_content_types: add it there, or the API refuses such documents",
        )
        errors.check(hasattr(function, "function_arn"), "validators", f"{content_type}: {function!r}", "must be a lambda_.IFunction")
