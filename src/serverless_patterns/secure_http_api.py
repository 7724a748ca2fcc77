"""SecureHttpApi: an API Gateway HTTP API with JSON access logs, throttling, CORS and authorizers."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import CfnOutput, Duration, Names
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from ._apis import check_cors_origins, check_throttle, json_access_log_format, pascal, path_problem, warn_loopback_origins
from ._defaults import DEFAULT_LOG_RETENTION, customer_managed_key, unique_physical_name
from ._log_groups import encrypted_log_group
from ._validation import PropErrors, is_token, require_type
from .alerting_function import AlertingFunction
from .compliance import acknowledge
from .tagging import apply_tags, validate_tags
from ._kernel import path_of

_NAME = "SecureHttpApi"

#: Access log fields: HTTP API ``$context`` variables (not the REST API ones such as
#: ``$context.resourcePath``), one JSON object per request, every value a string.
ACCESS_LOG_FIELDS: Mapping[str, str] = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "requestTimeEpoch": "$context.requestTimeEpoch",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationStatus": "$context.integrationStatus",
    "integrationLatency": "$context.integrationLatency",
    "integrationErrorMessage": "$context.integrationErrorMessage",
    "principalId": "$context.authorizer.principalId",
    "authorizerError": "$context.authorizer.error",
    "errorMessage": "$context.error.message",
    "errorType": "$context.error.responseType",
    "domainName": "$context.domainName",
}

#: The methods a route may name; ``ANY`` matches every method.
METHODS: tuple[str, ...] = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")

_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$")
_DOMAIN_NAME = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
DEFAULT_CORS_HEADERS: tuple[str, ...] = ("Content-Type", "Authorization")


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(json_access_log_format(ACCESS_LOG_FIELDS))


class SecureHttpApi(Construct):
    """An API Gateway HTTP API with JSON access logs, throttling, CORS by name and authorizers.

    HTTP APIs are cheaper and faster than REST APIs but have no API keys, usage plans, request
    validation, AWS WAF or X-Ray: use :class:`~serverless_patterns.keyed_api.ApiWithKeyedUsagePlan`
    when clients need keys and quotas. Every route (:meth:`add_route`) is a Lambda integration of an
    :class:`AlertingFunction` and needs an authorizer, unless it is declared public with a reason.

    Parameters
    ----------
    scope, id
        The construct's parent and id.
    api_name, description
        Default: a name made of the stack's name and the construct's path, and none.
    authorizer
        The default authorizer of every route: an ``aws_apigatewayv2_authorizers`` object such as
        ``HttpJwtAuthorizer``, ``HttpLambdaAuthorizer``, ``HttpIamAuthorizer`` or
        ``HttpUserPoolAuthorizer``. Default: none (each route names its own, or is public).
    throttling_rate_limit, throttling_burst_limit
        Limits of the default route settings of the stage, for all clients together.
        Default: 100 requests per second, bursts of 200.
    cors_origins
        ``https://`` origins browsers may call the API from (``*`` is refused). API Gateway then
        answers CORS preflight requests itself. ``http://localhost[:port]`` and ``http://127.0.0.1[:port]`` are accepted for development stages, with the warning ``serverless-patterns:devCorsOrigin``; any other ``http://`` origin is refused. Default: none (no CORS).
    cors_allow_headers
        Request headers browsers may send. Default: ``Content-Type``, ``Authorization``.
    cors_allow_credentials
        Let browsers send cookies and credentials. Default: False.
    cors_max_age
        How long browsers may cache a preflight answer. Default: 10 minutes.
    log_retention
        Retention of the access log group. Default: ``ONE_MONTH``.
    detailed_metrics
        Per-route CloudWatch metrics (billed as custom metrics). Default: False.
    domain_name, certificate
        A custom domain (with a regional ACM certificate of the stack's Region) with TLS 1.2. The
        default ``execute-api`` endpoint is then disabled, so every request uses the domain.
        Default: none (the ``execute-api`` endpoint stays, it is the only way in).
    tags
        Tags for every resource the construct creates. Default: none.

    Examples
    --------
    >>> api = SecureHttpApi(stack, "Api", authorizer=jwt, cors_origins=["https://app.example.com"])  # doctest: +SKIP
    >>> api.add_route("GET", "/api/data/{id}", reader)  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        api_name: str | None = None,
        description: str | None = None,
        authorizer: apigwv2.IHttpRouteAuthorizer | None = None,
        throttling_rate_limit: float = 100,
        throttling_burst_limit: float = 200,
        cors_origins: Sequence[str] = (),
        cors_allow_headers: Sequence[str] = DEFAULT_CORS_HEADERS,
        cors_allow_credentials: bool = False,
        cors_max_age: Duration | None = None,
        log_retention: logs.RetentionDays = DEFAULT_LOG_RETENTION,
        detailed_metrics: bool = False,
        domain_name: str | None = None,
        certificate: acm.ICertificate | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        _validate(**{k: v for k, v in locals().items() if k not in ("self", "scope", "id", "__class__")})
        super().__init__(scope, id)
        warn_loopback_origins(self, cors_origins, what="The CORS configuration")
        self._default_authorizer = authorizer
        self._cors = bool(cors_origins)
        self._route_keys: list[str] = []
        base_name = Names.unique_resource_name(self, max_length=200, separator="-")

        self.logs_key: kms.Key = customer_managed_key(
            self, "LogsKey", description=f"Encrypts the logs of {path_of(self)}"
        )
        # /aws/vendedlogs/: API Gateway delivers HTTP API logs as vended logs; this prefix keeps
        # the account's CloudWatch Logs resource policy from growing with every log group.
        self.access_log_group: logs.LogGroup = encrypted_log_group(
            self,
            "AccessLogs",
            name=unique_physical_name(self, f"/aws/vendedlogs/apigateway/{base_name}/access", max_length=512),
            key=self.logs_key,
            retention=log_retention,
        )
        self.domain_name: apigwv2.DomainName | None = None
        if domain_name is not None:
            self.domain_name = apigwv2.DomainName(
                self,
                "DomainName",
                domain_name=domain_name,
                certificate=certificate,
                security_policy=apigwv2.SecurityPolicy.TLS_1_2,
            )
        self.api: apigwv2.HttpApi = apigwv2.HttpApi(
            self,
            "Resource",
            api_name=api_name or base_name,
            description=description,
            create_default_stage=False,
            default_authorizer=authorizer,
            disable_execute_api_endpoint=self.domain_name is not None,
            cors_preflight=_cors(cors_origins, cors_allow_headers, cors_allow_credentials, cors_max_age),
        )
        self.stage: apigwv2.HttpStage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            access_log_settings=_AccessLogSettings(self.access_log_group),
            throttle=apigwv2.ThrottleSettings(rate_limit=throttling_rate_limit, burst_limit=throttling_burst_limit),
            detailed_metrics_enabled=detailed_metrics,
        )
        if self.domain_name is not None:
            mapping = apigwv2.CfnApiMapping(
                self,
                "ApiMapping",
                api_id=self.api.api_id,
                domain_name=self.domain_name.name,
                stage=self.stage.stage_name,
            )
            mapping.node.add_dependency(self.stage)
        CfnOutput(self, "Url", value=self.url, description="Base URL of the API")
        apply_tags(self, _NAME, tags)

    # ---- routes ---------------------------------------------------------------------------------

    def add_route(
        self,
        methods: str | Sequence[str],
        path: str,
        function: lambda_.IFunction | AlertingFunction,
        *,
        authorizer: apigwv2.IHttpRouteAuthorizer | None = None,
        authorization_scopes: Sequence[str] = (),
        public_reason: str | None = None,
    ) -> list[apigwv2.HttpRoute]:
        """Serve ``methods`` on ``path`` with ``function`` (a Lambda integration, payload 2.0).

        Parameters
        ----------
        methods
            One method or several: ``GET``, ``POST``, ``PUT``, ``PATCH``, ``DELETE``, ``HEAD``,
            ``OPTIONS`` (not with ``cors_origins``) or ``ANY``.
        path
            Starting with ``/``: literal segments, ``{param}`` segments and a final ``{proxy+}``.
        function
            The function behind the route: an :class:`AlertingFunction` or any ``lambda_.IFunction``.
        authorizer
            This route's authorizer. Default: the API's ``authorizer``.
        authorization_scopes
            OAuth scopes a JWT must carry for this route. Default: none.
        public_reason
            Make the route public (no authorizer, e.g. a health check); the reason becomes the
            acknowledgement's reason in the compliance report. Default: None (an authorizer is
            required).

        Returns
        -------
        list[apigwv2.HttpRoute]
            One route per method.
        """
        method_list = self._validate_route(methods, path, function, authorizer, authorization_scopes, public_reason)
        integration = integrations.HttpLambdaIntegration(f"Integration{pascal(path) or 'Root'}", function)
        routes = self.api.add_routes(
            path=path,
            methods=[apigwv2.HttpMethod(method) for method in method_list],
            integration=integration,
            authorizer=apigwv2.HttpNoneAuthorizer() if public_reason is not None else authorizer,
            authorization_scopes=list(authorization_scopes) or None,
        )
        for method, route in zip(method_list, routes):
            self._route_keys.append(f"{method} {path}")
            if public_reason is not None:
                acknowledge(route, "AwsSolutions-APIG4", public_reason)
        return routes

    def _validate_route(
        self,
        methods: str | Sequence[str],
        path: str,
        function: lambda_.IFunction | AlertingFunction,
        authorizer: apigwv2.IHttpRouteAuthorizer | None,
        authorization_scopes: Sequence[str],
        public_reason: str | None,
    ) -> list[str]:
        """The route's methods, upper case; raises for anything API Gateway or the rules refuse."""
        where = f"{_NAME}.add_route"
        require_type(where, "function", function, (AlertingFunction, lambda_.IFunction))
        require_type(where, "authorizer", authorizer, apigwv2.IHttpRouteAuthorizer)
        require_type(where, "public_reason", public_reason, str)
        if isinstance(authorization_scopes, str):
            raise TypeError(f"{where}: authorization_scopes must be a list, got str ({authorization_scopes!r})")
        method_list = [m.upper() if isinstance(m, str) else m for m in ([methods] if isinstance(methods, str) else methods)]
        errors = PropErrors(where)
        errors.check(bool(method_list), "methods", method_list, "name at least one method")
        for method in method_list:
            errors.check(method in METHODS, "methods", method, f"must be one of {', '.join(METHODS)}")
            errors.check(
                not (method == "OPTIONS" and self._cors),
                "methods",
                method,
                "API Gateway answers CORS preflight (OPTIONS) requests itself when cors_origins is set",
            )
        duplicates = sorted({m for m in method_list if method_list.count(m) > 1})
        errors.check(not duplicates, "methods", duplicates, "each method may be listed once")
        problem = path_problem(path)
        errors.check(problem is None, "path", path, problem or "")
        if problem is None:
            for key in (f"{method} {path}" for method in method_list):
                errors.check(key not in self._route_keys, "path", path, f"the route {key!r} exists already")

        effective = authorizer or self._default_authorizer
        public = public_reason is not None or effective is None or isinstance(effective, apigwv2.HttpNoneAuthorizer)
        if public_reason is not None:
            errors.check(
                bool(public_reason.strip()),
                "public_reason",
                public_reason,
                "say why the route needs no authorizer (the reason is recorded in the compliance report)",
            )
            errors.check(
                authorizer is None or isinstance(authorizer, apigwv2.HttpNoneAuthorizer),
                "public_reason",
                public_reason,
                "a public route takes no authorizer",
            )
        elif public:
            errors.add(
                "authorizer",
                None,
                "the route would be public: pass an authorizer (here or as the API's default), or "
                "public_reason to make it public on purpose",
            )
        errors.check(
            not (authorization_scopes and public),
            "authorization_scopes",
            list(authorization_scopes),
            "scopes need an authorizer",
        )
        errors.raise_if_any()
        return method_list

    # ---- convenience ----------------------------------------------------------------------------

    @property
    def route_keys(self) -> tuple[str, ...]:
        """The routes added so far, as ``"METHOD /path"``."""
        return tuple(self._route_keys)

    @property
    def url(self) -> str:
        """``https://{domain_name}/`` with a custom domain, else the ``execute-api`` URL."""
        if self.domain_name is not None:
            return f"https://{self.domain_name.name}/"
        return self.stage.url

    @property
    def api_id(self) -> str:
        return self.api.api_id


def _cors(
    origins: Sequence[str], headers: Sequence[str], credentials: bool, max_age: Duration | None
) -> apigwv2.CorsPreflightOptions | None:
    if not origins:
        return None
    return apigwv2.CorsPreflightOptions(
        allow_origins=list(origins),
        allow_methods=[apigwv2.CorsHttpMethod.ANY],
        allow_headers=list(headers),
        allow_credentials=credentials,
        max_age=max_age or Duration.minutes(10),
    )


def _validate(
    *,
    api_name: str | None,
    description: str | None,
    authorizer: apigwv2.IHttpRouteAuthorizer | None,
    throttling_rate_limit: float,
    throttling_burst_limit: float,
    cors_origins: Sequence[str],
    cors_allow_headers: Sequence[str],
    cors_allow_credentials: bool,
    cors_max_age: Duration | None,
    log_retention: logs.RetentionDays,
    detailed_metrics: bool,
    domain_name: str | None,
    certificate: acm.ICertificate | None,
    tags: Mapping[str, str] | None,
) -> None:
    for prop, value, expected in (
        ("api_name", api_name, str),
        ("description", description, str),
        ("authorizer", authorizer, apigwv2.IHttpRouteAuthorizer),
        ("cors_max_age", cors_max_age, Duration),
        ("log_retention", log_retention, logs.RetentionDays),
        ("cors_allow_credentials", cors_allow_credentials, bool),
        ("detailed_metrics", detailed_metrics, bool),
        ("domain_name", domain_name, str),
        ("certificate", certificate, acm.ICertificate),
    ):
        require_type(_NAME, prop, value, expected)
    for prop, value in (("cors_origins", cors_origins), ("cors_allow_headers", cors_allow_headers)):
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise TypeError(f"{_NAME}: {prop} must be a list, got {type(value).__name__} ({value!r})")
    validate_tags(_NAME, tags)

    errors = PropErrors(_NAME)
    errors.check(
        api_name is None or is_token(api_name) or 0 < len(api_name) <= 128,
        "api_name",
        api_name,
        "must be 1-128 characters",
    )
    errors.check(
        not isinstance(authorizer, apigwv2.HttpNoneAuthorizer),
        "authorizer",
        authorizer,
        "a default authorizer that lets everyone in is no authorizer; leave it out and give public "
        "routes a public_reason",
    )
    check_throttle(errors, "throttling_rate_limit", throttling_rate_limit, "throttling_burst_limit", throttling_burst_limit)
    check_cors_origins(errors, cors_origins)
    for header in cors_allow_headers:
        errors.check(
            isinstance(header, str) and bool(_HEADER_NAME.match(header)) and header != "*",
            "cors_allow_headers",
            header,
            "must be a header name ('*' is refused)",
        )
    errors.check(
        not cors_allow_credentials or bool(cors_origins),
        "cors_allow_credentials",
        cors_allow_credentials,
        "needs cors_origins",
    )
    if cors_max_age is not None and not is_token(cors_max_age):
        seconds = cors_max_age.to_seconds(integral=False)
        errors.check(
            0 <= seconds <= 86400 and seconds == int(seconds),
            "cors_max_age",
            f"{seconds:g} seconds",
            "must be whole seconds from 0 to 86400",
        )
    errors.check(
        log_retention is not logs.RetentionDays.INFINITE,
        "log_retention",
        log_retention,
        "logs must expire; choose a retention up to RetentionDays.TEN_YEARS",
    )
    errors.check(
        (domain_name is None) == (certificate is None),
        "domain_name",
        domain_name,
        "a custom domain needs both domain_name and certificate",
    )
    errors.check(
        domain_name is None or is_token(domain_name) or bool(_DOMAIN_NAME.match(domain_name)),
        "domain_name",
        domain_name,
        "must be a lowercase DNS name such as 'api.example.com'",
    )
    errors.raise_if_any()
