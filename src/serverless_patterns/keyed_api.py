"""ApiWithKeyedUsagePlan: a REST API where every call needs an API key and a permission level."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jsii
from aws_cdk import (
    CfnOutput,
    Duration,
    IResolveContext,
    IStringProducer,
    Lazy,
    Names,
    RemovalPolicy,
    Tags,
)
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct, IValidation

from . import _actions
from ._kernel import path_of, principal_of
from ._alarms import threshold_alarm
from ._apis import (
    check_cors_origins,
    check_throttle,
    is_number,
    json_access_log_format,
    pascal,
    path_parameters,
    path_problem,
    warn_loopback_origins,
)
from ._defaults import (
    DEFAULT_LOG_RETENTION,
    STATEFUL_REMOVAL_POLICY,
    apply_removal_policy,
    customer_managed_key,
    unique_physical_name,
)
from ._log_groups import encrypted_log_group
from ._prop_types import constructor_defaults
from ._validation import PropErrors, is_token, require_type
from ._web_acl import managed_web_acl
from .alert_topic import AlertTopic, check_email
from .alerting_function import AlertingFunction, Invocation
from .alerting_function import validate_props as validate_function_props
from .api_gateway_account import ApiGatewayAccount
from .audited_table import AuditedTable
from .compliance import acknowledge, acknowledge_all, in_every_pack
from .handlers import handler_code, handler_entry
from .handlers.api_key_authorizer.keys import API_KEY_HEADER
from .handlers.api_key_authorizer.records import PARTITION_KEY
from .handlers.api_key_authorizer.routes import (
    LEVELS,
    METHODS,
    Route,
    RouteConfigError,
    parse_route_permissions,
    shadowed_routes,
)
from .tagging import apply_tags, validate_tags

if TYPE_CHECKING:  # aws_wafv2 is imported where a web ACL is made: it is a large module to load
    from aws_cdk import aws_wafv2 as wafv2

#: Why a stage created with ``cloud_watch_role=False`` may log to CloudWatch (a preflight acknowledgement).
ACCOUNT_ROLE_EXISTS_REASON = (
    "cloud_watch_role=False: the user states that this account and Region already have API Gateway's "
    "CloudWatch role in its account settings (set by a platform team or another stack), so the stage's "
    "logging deploys without an AWS::ApiGateway::Account in this template."
)

_NAME = "ApiWithKeyedUsagePlan"

#: Usage-plan tag whose value names the tier; ``serverless-patterns clients create --api-id``
#: finds a client's usage plan by it (the same key as ``serverless_patterns.clients.TIER_TAG``).
TIER_TAG = "serverless-patterns:tier"
#: CloudWatch namespace of the authorizer's metrics (``AuthorizationAllowed``/``Denied``).
METRICS_NAMESPACE = "ServerlessPatterns"
DENIED_METRIC = "AuthorizationDenied"
ALLOWED_METRIC = "AuthorizationAllowed"
#: The authorizer's identity source: the header API Gateway reads API keys from.
IDENTITY_SOURCE = f"method.request.header.{API_KEY_HEADER}"
#: Lambda allows 4 KB of environment variables in all; the route table must leave room for the rest.
MAX_ROUTE_PERMISSIONS_BYTES = 3072
DEFAULT_CACHE_TTL = Duration.seconds(300)
DEFAULT_WEB_ACL_RATE_LIMIT = 1000

#: What calls the permissions table: the authorizer (GetItem) and :mod:`serverless_patterns.clients`
#: (PutItem, UpdateItem, Scan). Its alarms sum these operations only: no other has data.
PERMISSIONS_TABLE_OPERATIONS = (
    dynamodb.Operation.GET_ITEM,
    dynamodb.Operation.PUT_ITEM,
    dynamodb.Operation.UPDATE_ITEM,
    dynamodb.Operation.SCAN,
)
#: The only JSON Schema draft API Gateway models accept.
JSON_SCHEMA_DRAFT_4 = "http://json-schema.org/draft-04/schema#"

#: Access log fields: REST API ``$context`` variables, one JSON object per request. The API key
#: itself (``$context.identity.apiKey``) is never logged, only its id.
ACCESS_LOG_FIELDS: Mapping[str, str] = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "requestTimeEpoch": "$context.requestTimeEpoch",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationStatus": "$context.integration.status",
    "integrationLatency": "$context.integration.latency",
    "integrationError": "$context.integration.error",
    "principalId": "$context.authorizer.principalId",
    "clientId": "$context.authorizer.client_id",
    "permissionLevel": "$context.authorizer.level",
    "authorizerStatus": "$context.authorizer.status",
    "authorizerLatency": "$context.authorizer.latency",
    "authorizerError": "$context.authorizer.error",
    "apiKeyId": "$context.identity.apiKeyId",
    "errorMessage": "$context.error.message",
    "errorType": "$context.error.responseType",
    "wafResponseCode": "$context.wafResponseCode",
    "xrayTraceId": "$context.xrayTraceId",
}

_STAGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_TIER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_QUERY_NAME = re.compile(r"^[A-Za-z0-9._~-]{1,128}$")
_REGIONAL_WEB_ACL_ARN = re.compile(r"^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional/webacl/")

COGNITO_REASON = (
    "Callers are machine clients identified by API keys that the operator issues; a Lambda REQUEST "
    "authorizer checks each key's digest and permission level in the permissions table. A Cognito "
    "user pool authorizer would need user accounts the clients do not have."
)
NO_CACHE_REASON = (
    "Response caching is off: a cache cluster is billed by the hour whether used or not, and "
    "cached responses are shared between callers, so one client's response could be served to "
    "another. Authorization answers are cached per API key by the authorizer (authorizer_cache_ttl)."
)
NO_CLIENT_CERTIFICATE_REASON = (
    "Client certificates authenticate API Gateway to HTTP backends. Every integration of this API "
    "is a Lambda proxy integration, invoked through IAM (lambda:InvokeFunction scoped to the API's "
    "method ARN), so a certificate would never be presented."
)
@dataclass(frozen=True)
class UsagePlanTier:
    """A usage plan for clients of one kind: a quota per day and a request rate.

    Parameters
    ----------
    name
        The tier's name: the usage plan's ``serverless-patterns:tier`` tag, which
        ``serverless-patterns clients create --api-id ... --tier NAME`` looks up (``--tier``
        defaults to the client's level). 1-64 letters, digits, ``.``, ``_``, ``-``.
    level
        The permission level of the clients the tier is meant for: ``read-only``, ``read-write``
        or ``admin``. Recorded in the plan's description; the level a key may use is the one
        written in the permissions table.
    quota_per_day
        Requests per client per day (a whole number, at least 1). Default: 1000.
    rate_limit
        Steady-state requests per second per client (more than 0). Default: 10.
    burst_limit
        Requests a client may send at once (a whole number, at least ``rate_limit``). Default: 20.
    """

    name: str
    level: str
    quota_per_day: float = 1000
    rate_limit: float = 10
    burst_limit: float = 20


#: One tier per permission level, named after it.
DEFAULT_TIERS: tuple[UsagePlanTier, ...] = tuple(UsagePlanTier(level, level) for level in LEVELS)


class ApiWithKeyedUsagePlan(Construct):
    """A REST API whose every method needs an API key and a permission level.

    Clients get API keys from the operator (``serverless-patterns clients create``): API Gateway
    generates the key value, the key joins the usage plan of its tier (quota and throttling), and
    the permissions table records the SHA-256 digest of the key with the client's permission level.
    A Lambda REQUEST authorizer reads that table and allows the routes of the key's level
    (``read-only`` < ``read-write`` < ``admin``). The construct creates no API keys.

    Every route (:meth:`add_route`) is a Lambda proxy integration of an :class:`AlertingFunction`
    that requires the key and the authorizer, and validates requests. Access logs (JSON) and
    execution logs go to KMS-encrypted log groups with retention; X-Ray traces requests; an AWS WAF
    web ACL filters them; an alarm fires on a burst of denied authorizations.

    Parameters
    ----------
    scope, id
        The construct's parent and id.
    tiers
        The usage plans, one per tier (unique names). Default: :data:`DEFAULT_TIERS`, a tier per
        level named after it, each 1000 requests a day, 10 per second, bursts of 20.
    stage_name
        Default: ``"prod"``.
    rest_api_name, description
        Default: a name made of the stack's name and the construct's path, and none.
    authorizer_cache_ttl
        How long API Gateway reuses the authorizer's answer for an API key, 0-3600 whole seconds.
        A revoked key keeps working for at most this long. Default: 300 seconds.
    throttling_rate_limit, throttling_burst_limit
        Stage-wide limits for all clients together (the usage plans limit each client).
        Default: 100 requests per second, bursts of 200.
    logging_level
        Execution logging, ``MethodLoggingLevel.ERROR`` or ``INFO`` (``OFF`` is refused). Request
        and response bodies are never logged (no data trace). Default: ``ERROR``.
    detailed_metrics
        Per-method CloudWatch metrics (billed as custom metrics). Default: False.
    log_retention
        Retention of the access, execution and WAF log groups. Default: ``ONE_MONTH``.
    cors_origins
        ``https://`` origins browsers may call the API from (``*`` is refused). Adds CORS
        preflight (OPTIONS) methods. ``http://localhost[:port]`` and ``http://127.0.0.1[:port]`` are accepted for development stages, with the warning ``serverless-patterns:devCorsOrigin``; any other ``http://`` origin is refused. Default: none (no CORS).
    private
        Serve the API only through an ``execute-api`` interface VPC endpoint (``vpc`` or
        ``vpc_endpoint``), with a resource policy that denies every other source. Default: False
        (a regional endpoint).
    vpc, vpc_subnets
        The VPC in which a private API's interface endpoint is created (private DNS on, HTTPS from
        the VPC's CIDR). Default: none; the endpoint's subnets default to the private ones.
    vpc_endpoint
        An existing ``execute-api`` interface endpoint for a private API, instead of ``vpc``
        (a VPC has at most one endpoint with private DNS for a service). Default: none.
    authorizer_vpc, authorizer_vpc_subnets
        Run the authorizer function in this VPC and these subnets (it needs the DynamoDB gateway
        endpoint and, for logs and traces, the ``logs`` and ``xray`` interface endpoints).
        Default: none (outside a VPC, as AlertingFunction documents).
    web_acl_arn
        Associate this REGIONAL web ACL (for example one of AWS Firewall Manager) instead of
        creating one. Default: a web ACL is created.
    web_acl_rate_limit
        The created web ACL blocks an IP that sends more than this many requests in 5 minutes
        (100-2,000,000,000). Default: 1000.
    web_acl_opt_out_reason
        Associate no web ACL; the reason becomes the acknowledgement's reason. Default: None
        (a web ACL filters every request).
    cloud_watch_role
        Set API Gateway's account-wide CloudWatch role (a customer-managed policy), which REST API
        logging needs to deploy, with the stack's one :class:`ApiGatewayAccount`, and create the
        stage after it. ``False`` when the account and Region already have the role (a platform
        team set it up, or another stack does): the setting is one per account and Region and the
        stack that sets it last wins. ``False`` acknowledges the preflight finding
        ``RestApiLoggingWithoutAccountRole`` on the stage with that statement as the reason; if the
        role is missing after all, creating the stage fails. Default: True.
    denied_alarm_threshold
        Alarm when the authorizer denies at least this many requests in ``denied_alarm_period``
        (unknown, revoked or malformed keys, insufficient levels); ``None`` switches it off.
        Default: 10.
    denied_alarm_period
        Whole minutes. Default: 5 minutes.
    alert_topic
        Where the alarms of the construct (denied attempts, the authorizer function, the
        permissions table) notify: an :class:`AlertTopic` or any ``sns.ITopic``. Default: a new
        :class:`AlertTopic`.
    alert_emails
        Addresses subscribed to the topic the construct creates (not with ``alert_topic``).
        Default: none.
    encryption_key
        A key of your own for the access, execution and WAF logs and the authorizer function
        (its environment, dead-letter queue and logs); its policy must let CloudWatch Logs use it
        (:class:`AlertingFunction` adds that). The permissions table keeps a key of its own: who
        may call the API is a separate domain. Default: a new key for the logs and one for the
        authorizer.
    removal_policy
        For the permissions table, the keys and the log groups. Default:
        ``RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE``. ``DESTROY`` (dev stacks) deletes them with the
        stack and turns the table's deletion protection off.
    tags
        Tags for every resource the construct creates. Default: none.

    Examples
    --------
    >>> api = ApiWithKeyedUsagePlan(stack, "Api")  # doctest: +SKIP
    >>> api.add_route("GET", "/documents/{id}", reader, level="read-only")  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        tiers: Sequence[UsagePlanTier] = DEFAULT_TIERS,
        stage_name: str = "prod",
        rest_api_name: str | None = None,
        description: str | None = None,
        authorizer_cache_ttl: Duration | None = None,
        throttling_rate_limit: float = 100,
        throttling_burst_limit: float = 200,
        logging_level: apigw.MethodLoggingLevel = apigw.MethodLoggingLevel.ERROR,
        detailed_metrics: bool = False,
        log_retention: logs.RetentionDays = DEFAULT_LOG_RETENTION,
        cors_origins: Sequence[str] = (),
        private: bool = False,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        vpc_endpoint: ec2.IInterfaceVpcEndpoint | None = None,
        authorizer_vpc: ec2.IVpc | None = None,
        authorizer_vpc_subnets: ec2.SubnetSelection | None = None,
        web_acl_arn: str | None = None,
        web_acl_rate_limit: int = DEFAULT_WEB_ACL_RATE_LIMIT,
        web_acl_opt_out_reason: str | None = None,
        cloud_watch_role: bool = True,
        denied_alarm_threshold: float | None = 10,
        denied_alarm_period: Duration | None = None,
        alert_topic: AlertTopic | sns.ITopic | None = None,
        alert_emails: Sequence[str] = (),
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = STATEFUL_REMOVAL_POLICY,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        authorizer_cache_ttl = DEFAULT_CACHE_TTL if authorizer_cache_ttl is None else authorizer_cache_ttl
        denied_alarm_period = denied_alarm_period or Duration.minutes(5)
        _validate(**{k: v for k, v in locals().items() if k not in ("self", "scope", "id", "__class__")})
        super().__init__(scope, id)
        warn_loopback_origins(self, cors_origins, what="The CORS configuration")
        self._cors = bool(cors_origins)
        self._routes: list[Route] = []
        self._authorizer_cache_ttl = authorizer_cache_ttl
        self._authorizer: apigw.RequestAuthorizer | None = None
        base_name = Names.unique_resource_name(self, max_length=200, separator="-")

        self.alert_topic: AlertTopic | sns.ITopic = alert_topic or AlertTopic(
            self, "AlertTopic", emails=alert_emails
        )
        self.logs_key: kms.IKey = encryption_key or customer_managed_key(
            self, "LogsKey", description=f"Encrypts the logs of {path_of(self)}"
        )
        self.access_log_group: logs.LogGroup = encrypted_log_group(
            self,
            "AccessLogs",
            name=unique_physical_name(self, f"/aws/apigateway/{base_name}/access", max_length=512),
            key=self.logs_key,
            retention=log_retention,
        )

        # ---- the permissions table and the authorizer's function ------------------------------
        self.permissions_table: AuditedTable = AuditedTable(
            self,
            "Permissions",
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            alarm_topic=_topic(self.alert_topic),
            alarm_operations=PERMISSIONS_TABLE_OPERATIONS,
            removal_policy=removal_policy,
        )
        #: The ``service`` dimension of the authorizer's metrics, unique to this API.
        self.metrics_service: str = base_name[-64:]
        self.authorizer_function: AlertingFunction = AlertingFunction(
            self,
            "AuthorizerFunction",
            code=handler_code("api_key_authorizer"),
            handler=handler_entry("api_key_authorizer"),
            description=f"API key authorizer of {path_of(self)}"[:256],
            powertools=True,
            environment={
                "PERMISSIONS_TABLE": self.permissions_table.table_name,
                "POWERTOOLS_SERVICE_NAME": self.metrics_service,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            },
            log_retention=log_retention,
            alert_topic=self.alert_topic,
            vpc=authorizer_vpc,
            vpc_subnets=authorizer_vpc_subnets,
            invocation=Invocation.SYNCHRONOUS,
            invoked_by="API Gateway (REQUEST authorizer of this API)",
            encryption_key=encryption_key,
        )
        # Routes are added after construction: the table is rendered when the stack synthesizes.
        self.authorizer_function.function.add_environment(
            "ROUTE_PERMISSIONS", Lazy.uncached_string(_RoutePermissions(self))
        )
        self._grant_permissions_lookup()

        # ---- the API and its stage ------------------------------------------------------------
        self.vpc_endpoint: ec2.IInterfaceVpcEndpoint | None = None
        if private:
            self.vpc_endpoint = vpc_endpoint or self._create_vpc_endpoint(vpc, vpc_subnets)
        self.api: apigw.RestApi = apigw.RestApi(
            self,
            "Resource",
            rest_api_name=rest_api_name or base_name,
            description=description,
            api_key_source_type=apigw.ApiKeySourceType.HEADER,
            endpoint_configuration=apigw.EndpointConfiguration(
                types=[apigw.EndpointType.PRIVATE if private else apigw.EndpointType.REGIONAL],
                vpc_endpoints=[self.vpc_endpoint] if self.vpc_endpoint else None,
            ),
            policy=_private_api_policy(self.vpc_endpoint) if self.vpc_endpoint else None,
            cloud_watch_role=False,
            deploy=True,
            deploy_options=apigw.StageOptions(
                stage_name=stage_name,
                access_log_destination=apigw.LogGroupLogDestination(self.access_log_group),
                access_log_format=apigw.AccessLogFormat.custom(json_access_log_format(ACCESS_LOG_FIELDS)),
                logging_level=logging_level,
                data_trace_enabled=False,
                metrics_enabled=detailed_metrics,
                tracing_enabled=True,
                throttling_rate_limit=throttling_rate_limit,
                throttling_burst_limit=throttling_burst_limit,
            ),
            default_cors_preflight_options=_cors(cors_origins),
        )
        self.stage: apigw.Stage = self.api.deployment_stage
        self.execution_log_group: logs.LogGroup = encrypted_log_group(
            self,
            "ExecutionLogs",
            name=f"API-Gateway-Execution-Logs_{self.api.rest_api_id}/{stage_name}",
            key=self.logs_key,
            retention=log_retention,
        )
        # API Gateway creates the group itself, unencrypted and kept forever, if it logs first.
        self.stage.node.add_dependency(self.execution_log_group)
        #: The stack's API Gateway account setting the stage waits for (None with ``cloud_watch_role=False``).
        self.account: ApiGatewayAccount | None = None
        if cloud_watch_role:
            self.account = ApiGatewayAccount.of(self)
            self.account.add_dependent(self.stage)
        else:
            # The user told us the account already has the role; if that is wrong, creating the
            # stage fails ("CloudWatch Logs role ARN must be set in account settings").
            acknowledge(self.stage, "DeployPreflight::RestApiLoggingWithoutAccountRole", ACCOUNT_ROLE_EXISTS_REASON)
        self.request_validator: apigw.RequestValidator = apigw.RequestValidator(
            self,
            "RequestValidator",
            rest_api=self.api,
            validate_request_body=True,
            validate_request_parameters=True,
        )
        #: The usage plan of each tier, by tier name.
        self.usage_plans: dict[str, apigw.UsagePlan] = {tier.name: self._usage_plan(tier) for tier in tiers}

        # ---- AWS WAF --------------------------------------------------------------------------
        self.web_acl: wafv2.CfnWebACL | None = None
        self.web_acl_log_group: logs.LogGroup | None = None
        if web_acl_opt_out_reason is None:
            if web_acl_arn is None:
                self.web_acl, self.web_acl_log_group = managed_web_acl(
                    self,
                    waf_scope="REGIONAL",
                    rate_limit=web_acl_rate_limit,
                    log_key=self.logs_key,
                    log_retention=log_retention,
                )
                web_acl_arn = self.web_acl.attr_arn
            from aws_cdk import aws_wafv2 as wafv2

            wafv2.CfnWebACLAssociation(
                self, "WebAclAssociation", resource_arn=self.stage.stage_arn, web_acl_arn=web_acl_arn
            )

        self.denied_alarm: cloudwatch.Alarm | None = None
        if denied_alarm_threshold is not None:
            self.denied_alarm = self._denied_alarm(denied_alarm_threshold, denied_alarm_period)
        self._outputs()
        self._acknowledge(web_acl_opt_out_reason)
        self.node.add_validation(_RoutesValidation(self))
        apply_removal_policy(self, removal_policy)
        apply_tags(self, _NAME, tags)

    # ---- construction helpers ---------------------------------------------------------------

    def _grant_permissions_lookup(self) -> None:
        """``dynamodb:GetItem`` on the table and decryption with its key: all the authorizer reads."""
        fn = principal_of(self.authorizer_function)
        iam.Grant.add_to_principal(
            grantee=fn, actions=_actions.DYNAMODB_GET_ITEM, resource_arns=[self.permissions_table.table_arn]
        )
        self.permissions_table.encryption_key.grant(fn, *_actions.KMS_DYNAMODB_READ)

    def _create_vpc_endpoint(
        self, vpc: ec2.IVpc, subnets: ec2.SubnetSelection | None
    ) -> ec2.InterfaceVpcEndpoint:
        security_group = ec2.SecurityGroup(
            self,
            "VpcEndpointSecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description=f"{path_of(self)}: HTTPS from the VPC to the execute-api endpoint",
        )
        security_group.add_ingress_rule(ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.tcp(443), "HTTPS from the VPC")
        return ec2.InterfaceVpcEndpoint(
            self,
            "VpcEndpoint",
            vpc=vpc,
            service=ec2.InterfaceVpcEndpointAwsService.APIGATEWAY,
            private_dns_enabled=True,
            subnets=subnets,
            security_groups=[security_group],
            open=False,
        )

    def _usage_plan(self, tier: UsagePlanTier) -> apigw.UsagePlan:
        plan = self.api.add_usage_plan(
            f"UsagePlan{pascal(tier.name)}",
            name=f"{Names.unique_resource_name(self, max_length=150, separator='-')}-{tier.name}",
            description=f"Tier {tier.name} of {path_of(self)}, for {tier.level} clients",
            quota=apigw.QuotaSettings(limit=tier.quota_per_day, period=apigw.Period.DAY),
            throttle=apigw.ThrottleSettings(rate_limit=tier.rate_limit, burst_limit=tier.burst_limit),
            api_stages=[apigw.UsagePlanPerApiStage(api=self.api, stage=self.stage)],
        )
        Tags.of(plan).add(TIER_TAG, tier.name)
        return plan

    def _denied_alarm(self, threshold: float, period: Duration) -> cloudwatch.Alarm:
        return threshold_alarm(
            self,
            "DeniedAlarm",
            metric=self.metric_denied(period=period),
            threshold=threshold,
            topic=self.alert_topic,
            description=(
                f"{path_of(self)}: the authorizer denied {threshold:g} or more requests in "
                f"{_minutes(period)} (unknown, revoked or malformed API keys, or keys below the "
                "route's level)."
            ),
        )

    def _outputs(self) -> None:
        """What ``serverless-patterns clients`` needs: the API, stage, table and usage plan ids."""
        for id, value, description in (
            ("ApiId", self.api.rest_api_id, "REST API id: serverless-patterns clients create --api-id"),
            ("StageName", self.stage.stage_name, "The stage the usage plans cover"),
            ("PermissionsTableName", self.permissions_table.table_name, "serverless-patterns clients --table"),
        ):
            CfnOutput(self, id, value=value, description=description)
        for name, plan in self.usage_plans.items():
            CfnOutput(
                self,
                f"UsagePlanId{pascal(name)}",
                value=plan.usage_plan_id,
                description=f"Tier {name}: serverless-patterns clients create --usage-plan-id",
            )

    def _acknowledge(self, web_acl_opt_out_reason: str | None) -> None:
        stage = self.stage.node.default_child
        acknowledge_all(stage, in_every_pack("APIGWCacheEnabledAndEncrypted"), NO_CACHE_REASON)
        acknowledge(stage, "CKV_AWS_120", NO_CACHE_REASON)
        acknowledge_all(stage, in_every_pack("APIGWSSLEnabled"), NO_CLIENT_CERTIFICATE_REASON)
        if web_acl_opt_out_reason is not None:
            rules = ["AwsSolutions-APIG3", *in_every_pack("APIGWAssociatedWithWAF", ("NIST.800.53.R5", "PCI.DSS.321"))]
            acknowledge_all(stage, rules, web_acl_opt_out_reason)

    # ---- routes -----------------------------------------------------------------------------

    def add_route(
        self,
        method: str,
        path: str,
        function: lambda_.IFunction | AlertingFunction,
        *,
        level: str,
        request_schema: Mapping[str, Any] | None = None,
        required_query_parameters: Sequence[str] = (),
    ) -> apigw.Method:
        """Serve ``method path`` with ``function`` to API keys of ``level`` or above.

        The method requires the API key and the authorizer, and runs the API's request
        validator. Intermediate resources of ``path`` are created as needed. The route joins the
        authorizer's ``ROUTE_PERMISSIONS``.

        Parameters
        ----------
        method
            ``GET``, ``POST``, ``PUT``, ``PATCH``, ``DELETE``, ``HEAD``, ``OPTIONS`` (not with
            ``cors_origins``) or ``ANY``.
        path
            The resource path, starting with ``/``: literal segments (letters, digits, ``.``,
            ``_``, ``-``, ``:``, ``$``), ``{param}`` segments and a final ``{proxy+}``.
        function
            The function behind the route (Lambda proxy integration): an :class:`AlertingFunction`
            or any ``lambda_.IFunction``, imported ones included.
        level
            The lowest permission level that may call the route: ``read-only``, ``read-write``
            or ``admin``.
        request_schema
            A JSON schema (draft 4) that ``application/json`` request bodies must satisfy;
            creates a model. Default: none (bodies are not validated).
        required_query_parameters
            Query string parameters a request must carry. Default: none.

        Returns
        -------
        apigw.Method
            The created method.

        Raises
        ------
        ValueError
            For a bad method, path or level, a route that exists already (``GET /a/{id}`` and
            ``GET /a/{name}`` are the same route), and a route the authorizer's policy would
            shadow (see :func:`~serverless_patterns.handlers.api_key_authorizer.routes.shadowed_routes`).
        """
        route = self._validate_route(method, path, function, level, request_schema, required_query_parameters)
        request_parameters = {f"method.request.path.{name}": True for name in path_parameters(path)}
        request_parameters.update(
            {f"method.request.querystring.{name}": True for name in required_query_parameters}
        )
        models = {"application/json": self._model(route, request_schema)} if request_schema is not None else None
        created = self.api.root.resource_for_path(path).add_method(
            route.method,
            apigw.LambdaIntegration(function, proxy=True, allow_test_invoke=False),
            api_key_required=True,
            authorization_type=apigw.AuthorizationType.CUSTOM,
            authorizer=self.authorizer,
            request_validator=self.request_validator,
            request_models=models,
            request_parameters=request_parameters or None,
        )
        acknowledge(created, "AwsSolutions-COG4", COGNITO_REASON)
        self._routes.append(route)
        return created

    def _validate_route(
        self,
        method: str,
        path: str,
        function: lambda_.IFunction | AlertingFunction,
        level: str,
        request_schema: Mapping[str, Any] | None,
        required_query_parameters: Sequence[str],
    ) -> Route:
        where = f"{_NAME}.add_route"
        require_type(where, "function", function, (AlertingFunction, lambda_.IFunction))
        if isinstance(required_query_parameters, str):
            raise TypeError(
                f"{where}: required_query_parameters must be a list of names, got str ({required_query_parameters!r})"
            )
        if request_schema is not None and not isinstance(request_schema, Mapping):
            raise TypeError(f"{where}: request_schema must be a JSON schema dict, got {type(request_schema).__name__}")
        errors = PropErrors(where)
        method = method.upper() if isinstance(method, str) else method
        errors.check(method in METHODS, "method", method, f"must be one of {', '.join(sorted(METHODS))}")
        errors.check(
            not (method == "OPTIONS" and self._cors),
            "method",
            method,
            "OPTIONS answers CORS preflight requests (cors_origins is set); it cannot be a route",
        )
        errors.check(level in LEVELS, "level", level, f"must be one of {', '.join(LEVELS)}")
        problem = path_problem(path)
        errors.check(problem is None, "path", path, problem or "")
        for name in required_query_parameters:
            errors.check(
                isinstance(name, str) and bool(_QUERY_NAME.match(name)),
                "required_query_parameters",
                name,
                "must be 1-128 letters, digits, '.', '_', '~' or '-'",
            )
        if request_schema is not None:
            problem = _schema_problem(request_schema)
            errors.check(problem is None, "request_schema", _short(request_schema), problem or "")
        errors.raise_if_any()
        route = Route(method=method, path=path, level=level)
        self._check_route_table(where, route)
        return route

    def _check_route_table(self, where: str, route: Route) -> None:
        """Refuse what API Gateway or the authorizer would: duplicates, sibling variables, shadows."""
        if any((r.method, r.path) == (route.method, route.path) for r in self._routes):
            raise ValueError(f"{where}: the route {route.method} {route.path} exists already")
        candidate = [*self._routes, route]
        try:
            parse_route_permissions(json.dumps([_route_json(r) for r in candidate]))
        except RouteConfigError as error:
            raise ValueError(f"{where}: {route.method} {route.path}: {error}") from None
        sibling = _sibling_variable(self._routes, route.path)
        if sibling is not None:
            raise ValueError(f"{where}: path={route.path!r}: {sibling}")
        conflicts = [
            f"{shadowed.method} {shadowed.path} ({shadowed.level}) would be denied to {shadowed.level} "
            f"keys by the Deny of {stricter.method} {stricter.path} ({stricter.level}), whose ARN "
            "pattern covers it"
            for shadowed, stricter in shadowed_routes(candidate)
            if route in (shadowed, stricter)
        ]
        if conflicts:
            raise ValueError(f"{where}: {route.method} {route.path}: " + "; ".join(conflicts))

    def _model(self, route: Route, schema: Mapping[str, Any]) -> apigw.IModel:
        model_id = f"Model{pascal(route.method.lower())}{pascal(route.path) or 'Root'}"
        model = apigw.CfnModel(
            self,
            model_id,
            rest_api_id=self.api.rest_api_id,
            content_type="application/json",
            schema={"$schema": JSON_SCHEMA_DRAFT_4, **schema},
            description=f"Request body of {route.method} {route.path}",
        )
        return apigw.Model.from_model_name(self, f"{model_id}Ref", model.ref)

    @property
    def authorizer(self) -> apigw.RequestAuthorizer:
        """The REQUEST authorizer of every route; created with the first route (API Gateway
        refuses an authorizer that no method uses)."""
        if self._authorizer is None:
            self._authorizer = apigw.RequestAuthorizer(
                self,
                "Authorizer",
                handler=self.authorizer_function,
                identity_sources=[IDENTITY_SOURCE],
                results_cache_ttl=self._authorizer_cache_ttl,
            )
        return self._authorizer

    @property
    def routes(self) -> tuple[Route, ...]:
        """The routes added so far, each with the lowest level that may call it."""
        return tuple(self._routes)

    @property
    def route_permissions(self) -> str:
        """The authorizer's ``ROUTE_PERMISSIONS``: the routes as a JSON list."""
        return json.dumps([_route_json(route) for route in self._routes], separators=(",", ":"))

    # ---- metrics ----------------------------------------------------------------------------

    def metric_denied(self, **options: Any) -> cloudwatch.Metric:
        """``AuthorizationDenied`` of this API's authorizer, sum over 5 minutes unless
        ``period``/``statistic`` say otherwise. Counts decisions, not requests: API Gateway caches
        each key's answer for ``authorizer_cache_ttl``."""
        return self._authorizer_metric(DENIED_METRIC, options)

    def metric_allowed(self, **options: Any) -> cloudwatch.Metric:
        """``AuthorizationAllowed`` of this API's authorizer, sum over 5 minutes."""
        return self._authorizer_metric(ALLOWED_METRIC, options)

    def _authorizer_metric(self, name: str, options: Mapping[str, Any]) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=name,
            dimensions_map={"service": self.metrics_service},
            **{"statistic": "Sum", "period": Duration.minutes(5), **options},
        )

    # ---- convenience ------------------------------------------------------------------------

    @property
    def rest_api_id(self) -> str:
        return self.api.rest_api_id

    @property
    def url(self) -> str:
        """The stage's base URL (``https://{id}.execute-api.{region}.amazonaws.com/{stage}/``)."""
        return self.api.url


@jsii.implements(IStringProducer)
class _RoutePermissions:
    def __init__(self, api: ApiWithKeyedUsagePlan) -> None:
        self._api = api

    def produce(self, context: IResolveContext) -> str:
        return self._api.route_permissions


@jsii.implements(IValidation)
class _RoutesValidation:
    def __init__(self, api: ApiWithKeyedUsagePlan) -> None:
        self._api = api

    def validate(self) -> list[str]:
        where = f"{_NAME} {path_of(self._api)}"
        if not self._api.routes:
            return [f"{where}: no routes; call add_route() at least once"]
        size = len(self._api.route_permissions.encode())
        if size > MAX_ROUTE_PERMISSIONS_BYTES:
            return [
                (
                    f"{where}: the route table is {size} bytes, more than the {MAX_ROUTE_PERMISSIONS_BYTES} "
                    "that fit in the authorizer's environment; use fewer routes (for example one "
                    "{proxy+} route per level)"
                )
            ]
        return []


# ---- helpers ------------------------------------------------------------------------------------


def _cors(origins: Sequence[str]) -> apigw.CorsOptions | None:
    if not origins:
        return None
    return apigw.CorsOptions(
        allow_origins=list(origins),
        allow_methods=apigw.Cors.ALL_METHODS,
        allow_headers=["Content-Type", API_KEY_HEADER],
        max_age=Duration.minutes(10),
    )


def _private_api_policy(endpoint: ec2.IInterfaceVpcEndpoint) -> iam.PolicyDocument:
    """Invocations through the VPC endpoint only: deny every other source, allow the endpoint."""
    invoke = {"principals": [iam.AnyPrincipal()], "actions": ["execute-api:Invoke"], "resources": ["execute-api:/*"]}
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                conditions={"StringNotEquals": {"aws:SourceVpce": endpoint.vpc_endpoint_id}},
                **invoke,
            ),
            iam.PolicyStatement(
                conditions={"StringEquals": {"aws:SourceVpce": endpoint.vpc_endpoint_id}}, **invoke
            ),
        ]
    )


def _topic(topic: AlertTopic | sns.ITopic) -> sns.ITopic:
    return topic.topic if isinstance(topic, AlertTopic) else topic


def _route_json(route: Route) -> dict[str, str]:
    return {"method": route.method, "path": route.path, "level": route.level}


def _minutes(value: Duration) -> str:
    minutes = value.to_minutes(integral=False)
    return f"{minutes:g} minute{'s' if minutes != 1 else ''}"


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _sibling_variable(routes: Sequence[Route], path: str) -> str | None:
    """API Gateway allows one variable segment among the children of a resource."""
    segments = path.split("/")[1:]
    for depth, segment in enumerate(segments):
        if not segment.startswith("{"):
            continue
        for route in routes:
            other = route.path.split("/")[1:]
            sibling = other[depth] if len(other) > depth and other[:depth] == segments[:depth] else segment
            if sibling.startswith("{") and sibling != segment:
                parent = "/" + "/".join(segments[:depth])
                return (
                    f"{segment} and {sibling} are both variable segments under {parent!r}; "
                    "API Gateway allows one, so use the same name"
                )
    return None


def _schema_problem(schema: Mapping[str, Any]) -> str | None:
    if not schema:
        return "must not be empty"
    try:
        json.dumps(schema)
    except (TypeError, ValueError) as error:
        return f"must be JSON-serialisable ({error})"
    declared = schema.get("$schema")
    if declared is not None and declared.rstrip("#") != JSON_SCHEMA_DRAFT_4.rstrip("#"):
        return "API Gateway models use JSON Schema draft 4"
    return None


def validate_props(**props: Any) -> None:
    """Run the construction-time checks of :class:`ApiWithKeyedUsagePlan` on ``props`` (the others
    at their defaults) without building anything: composite constructs call it inside
    :meth:`~serverless_patterns._validation.PropErrors.nested` to report problems up front."""
    values = {**constructor_defaults(ApiWithKeyedUsagePlan.__init__), **props}
    if values["authorizer_cache_ttl"] is None:
        values["authorizer_cache_ttl"] = DEFAULT_CACHE_TTL
    values["denied_alarm_period"] = values["denied_alarm_period"] or Duration.minutes(5)
    _validate(**values)


def _validate(
    *,
    tiers: Sequence[UsagePlanTier],
    stage_name: str,
    rest_api_name: str | None,
    description: str | None,
    authorizer_cache_ttl: Duration,
    throttling_rate_limit: float,
    throttling_burst_limit: float,
    logging_level: apigw.MethodLoggingLevel,
    detailed_metrics: bool,
    log_retention: logs.RetentionDays,
    cors_origins: Sequence[str],
    private: bool,
    vpc: ec2.IVpc | None,
    vpc_subnets: ec2.SubnetSelection | None,
    vpc_endpoint: ec2.IInterfaceVpcEndpoint | None,
    authorizer_vpc: ec2.IVpc | None,
    authorizer_vpc_subnets: ec2.SubnetSelection | None,
    web_acl_arn: str | None,
    web_acl_rate_limit: int,
    web_acl_opt_out_reason: str | None,
    cloud_watch_role: bool,
    denied_alarm_threshold: float | None,
    denied_alarm_period: Duration,
    alert_topic: AlertTopic | sns.ITopic | None,
    alert_emails: Sequence[str],
    encryption_key: kms.IKey | None,
    removal_policy: RemovalPolicy,
    tags: Mapping[str, str] | None,
) -> None:
    for prop, value, expected in (
        ("removal_policy", removal_policy, RemovalPolicy),
        ("stage_name", stage_name, str),
        ("rest_api_name", rest_api_name, str),
        ("description", description, str),
        ("authorizer_cache_ttl", authorizer_cache_ttl, Duration),
        ("denied_alarm_period", denied_alarm_period, Duration),
        ("logging_level", logging_level, apigw.MethodLoggingLevel),
        ("log_retention", log_retention, logs.RetentionDays),
        ("vpc", vpc, ec2.IVpc),
        ("vpc_subnets", vpc_subnets, ec2.SubnetSelection),
        ("vpc_endpoint", vpc_endpoint, ec2.IInterfaceVpcEndpoint),
        ("authorizer_vpc", authorizer_vpc, ec2.IVpc),
        ("authorizer_vpc_subnets", authorizer_vpc_subnets, ec2.SubnetSelection),
        ("web_acl_arn", web_acl_arn, str),
        ("web_acl_opt_out_reason", web_acl_opt_out_reason, str),
        ("alert_topic", alert_topic, (AlertTopic, sns.ITopic)),
        ("encryption_key", encryption_key, kms.IKey),
        ("detailed_metrics", detailed_metrics, bool),
        ("private", private, bool),
        ("cloud_watch_role", cloud_watch_role, bool),
    ):
        require_type(_NAME, prop, value, expected)
    for prop, value in (("tiers", tiers), ("cors_origins", cors_origins), ("alert_emails", alert_emails)):
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise TypeError(f"{_NAME}: {prop} must be a list, got {type(value).__name__} ({value!r})")
    for tier in tiers:
        require_type(_NAME, "tiers[]", tier, UsagePlanTier)
    validate_tags(_NAME, tags)

    errors = PropErrors(_NAME)
    _validate_tiers(errors, tiers)
    errors.check(
        is_token(stage_name) or bool(_STAGE_NAME.match(stage_name)),
        "stage_name",
        stage_name,
        "must be 1-128 letters, digits, '_' or '-'",
    )
    errors.check(
        rest_api_name is None or is_token(rest_api_name) or 0 < len(rest_api_name) <= 1024,
        "rest_api_name",
        rest_api_name,
        "must be 1-1024 characters",
    )
    if not is_token(authorizer_cache_ttl):
        seconds = authorizer_cache_ttl.to_seconds(integral=False)
        errors.check(
            0 <= seconds <= 3600 and seconds == int(seconds),
            "authorizer_cache_ttl",
            f"{seconds:g} seconds",
            "must be whole seconds from 0 (no caching) to 3600",
        )
    check_throttle(errors, "throttling_rate_limit", throttling_rate_limit, "throttling_burst_limit", throttling_burst_limit)
    errors.check(
        logging_level in (apigw.MethodLoggingLevel.ERROR, apigw.MethodLoggingLevel.INFO),
        "logging_level",
        logging_level,
        "execution logging stays on: use ERROR (default) or INFO",
    )
    errors.check(
        log_retention is not logs.RetentionDays.INFINITE,
        "log_retention",
        log_retention,
        "logs must expire; choose a retention up to RetentionDays.TEN_YEARS",
    )
    check_cors_origins(errors, cors_origins)

    # A private endpoint.
    errors.check(
        not private or vpc is not None or vpc_endpoint is not None,
        "private",
        private,
        "a private API needs vpc (an endpoint is created) or vpc_endpoint",
    )
    errors.check(
        private or (vpc is None and vpc_endpoint is None),
        "private",
        private,
        "vpc and vpc_endpoint serve a private API; also pass private=True",
    )
    errors.check(
        not (vpc is not None and vpc_endpoint is not None),
        "vpc_endpoint",
        vpc_endpoint,
        "pass vpc (to create an endpoint) or vpc_endpoint, not both",
    )
    errors.check(vpc_subnets is None or vpc is not None, "vpc_subnets", vpc_subnets, "needs vpc")

    # AWS WAF.
    errors.check(
        web_acl_opt_out_reason is None or bool(web_acl_opt_out_reason.strip()),
        "web_acl_opt_out_reason",
        web_acl_opt_out_reason,
        "say why the API needs no web ACL (the reason is recorded in the compliance report)",
    )
    errors.check(
        not (web_acl_opt_out_reason is not None and web_acl_arn is not None),
        "web_acl_opt_out_reason",
        web_acl_opt_out_reason,
        "cannot opt out of a web ACL and pass web_acl_arn at the same time",
    )
    errors.check(
        web_acl_arn is None or is_token(web_acl_arn) or bool(_REGIONAL_WEB_ACL_ARN.match(web_acl_arn)),
        "web_acl_arn",
        web_acl_arn,
        "must be the ARN of a REGIONAL web ACL (arn:aws:wafv2:<region>:<account>:regional/webacl/...)",
    )
    if isinstance(web_acl_rate_limit, int) and not isinstance(web_acl_rate_limit, bool):
        errors.check_range("web_acl_rate_limit", web_acl_rate_limit, minimum=100, maximum=2_000_000_000)
    else:
        errors.add("web_acl_rate_limit", web_acl_rate_limit, "must be a whole number")

    # Alarms.
    errors.check(
        denied_alarm_threshold is None
        or is_token(denied_alarm_threshold)
        or (is_number(denied_alarm_threshold) and denied_alarm_threshold >= 1),
        "denied_alarm_threshold",
        denied_alarm_threshold,
        "must be at least 1, or None to switch the alarm off",
    )
    if not is_token(denied_alarm_period):
        seconds = denied_alarm_period.to_seconds(integral=False)
        errors.check(
            seconds >= 60 and seconds % 60 == 0,
            "denied_alarm_period",
            f"{seconds:g} seconds",
            "must be a whole number of minutes",
        )
    for address in alert_emails:
        check_email(errors, "alert_emails", address)
    errors.check(
        not (alert_topic is not None and alert_emails),
        "alert_emails",
        list(alert_emails),
        "subscribe addresses to the alert_topic you pass, not here",
    )
    # The props handed on to the authorizer function: its problems are reported here, under these names.
    with errors.nested(
        {
            "log_retention": "log_retention",
            "vpc": "authorizer_vpc",
            "vpc_subnets": "authorizer_vpc_subnets",
            "encryption_key": "encryption_key",
            "alert_topic": "alert_topic",
        }
    ):
        validate_function_props(
            code=handler_code("api_key_authorizer"),
            handler=handler_entry("api_key_authorizer"),
            log_retention=log_retention,
            alert_topic=alert_topic,
            vpc=authorizer_vpc,
            vpc_subnets=authorizer_vpc_subnets,
            invocation=Invocation.SYNCHRONOUS,
            encryption_key=encryption_key,
        )
    errors.raise_if_any()


def _validate_tiers(errors: PropErrors, tiers: Sequence[UsagePlanTier]) -> None:
    errors.check(bool(tiers), "tiers", list(tiers), "at least one usage plan tier is needed")
    names = [tier.name for tier in tiers]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    errors.check(not duplicates, "tiers", duplicates, "tier names must be unique (the CLI finds plans by name)")
    for tier in tiers:
        where = f"tiers[{tier.name!r}]"
        errors.check(
            isinstance(tier.name, str) and bool(_TIER_NAME.match(tier.name)),
            f"{where}.name",
            tier.name,
            "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
        errors.check(tier.level in LEVELS, f"{where}.level", tier.level, f"must be one of {', '.join(LEVELS)}")
        quota = tier.quota_per_day
        errors.check(
            is_token(quota) or (is_number(quota) and quota >= 1 and quota == int(quota)),
            f"{where}.quota_per_day",
            quota,
            "must be a whole number of requests, at least 1",
        )
        check_throttle(errors, f"{where}.rate_limit", tier.rate_limit, f"{where}.burst_limit", tier.burst_limit)
