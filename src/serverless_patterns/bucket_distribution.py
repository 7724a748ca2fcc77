"""BucketDistribution: a CloudFront distribution in front of a SecureBucket, through Origin Access Control."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence

from aws_cdk import Annotations, Duration, Names
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from . import _actions
from ._defaults import STATEFUL_REMOVAL_POLICY, allow_service_to_use_key, customer_managed_key, log_bucket_encryption, unique_physical_name
from ._log_groups import encrypted_log_group, log_group_arn
from ._resource_policies import require_key_statement, warn_bucket_statement
from ._validation import PropErrors, duration_in_days, is_token, require_type
from .compliance import acknowledge, acknowledge_all, in_every_pack
from .secure_bucket import LOG_SINK_REASON, NO_REPLICATION_REASON, SecureBucket
from .tagging import apply_tags, validate_tags
from ._kernel import path_of, region_of, stack_of

_NAME = "BucketDistribution"
_CLOUDFRONT_REGION = "us-east-1"
_HTTPS_POLICIES = (cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS, cloudfront.ViewerProtocolPolicy.HTTPS_ONLY)
_MODERN_TLS = (
    cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
    cloudfront.SecurityPolicyProtocol.TLS_V1_2_2025,
    cloudfront.SecurityPolicyProtocol.TLS_V1_3_2025,
)
#: Security policies newer than the list checkov 3.x accepts for CKV_AWS_174.
_NEWER_THAN_CHECKOV = (cloudfront.SecurityPolicyProtocol.TLS_V1_2_2025, cloudfront.SecurityPolicyProtocol.TLS_V1_3_2025)
_WEB_ACL_ARN = re.compile(r"^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/[\w-]{1,128}/[0-9a-f-]{36}$")
_CERTIFICATE_ARN_REGION = re.compile(r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):")
_DOMAIN_NAME = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_MANAGED_RULE_GROUPS = (
    # (priority, name): AWS managed rule groups every public site benefits from.
    (1, "AWSManagedRulesAmazonIpReputationList"),
    (2, "AWSManagedRulesCommonRuleSet"),
    (3, "AWSManagedRulesKnownBadInputsRuleSet"),  # includes the Log4j (CVE-2021-44228) rules
)

NO_WAF_REASON = (
    "No web ACL was attached. AWS WAF for CloudFront exists only in us-east-1, so the construct can "
    "create one only in a us-east-1 stack (create_web_acl=True); elsewhere pass web_acl_arn of a web "
    "ACL made in us-east-1. CloudFront's built-in AWS Shield Standard still applies."
)
DEFAULT_CERTIFICATE_REASON = (
    "No custom domain: CloudFront serves its default *.cloudfront.net certificate, whose security "
    "policy is fixed by CloudFront at TLSv1 and cannot be raised. Viewers are still forced onto HTTPS. "
    "Pass domain_names and an ACM certificate from us-east-1 to enforce TLSv1.2_2021."
)
NEWER_TLS_POLICY_REASON = (
    "The distribution uses a 2025 CloudFront security policy (TLS 1.2 or 1.3 with modern ciphers only), "
    "which is stricter than the TLSv1.2_2021 policy this check accepts; its list of values predates it."
)
NO_GEO_RESTRICTION_REASON = (
    "The content is meant for viewers in every country, so no geographic restriction is configured. "
    "Pass geo_restriction (an allowlist or denylist) to limit where it is served."
)
V2_LOGGING_REASON = (
    "Access logs are delivered with CloudFront standard logging v2 (AWS::Logs::DeliverySource, "
    "DeliveryDestination and Delivery in this construct) to its log bucket; the rule only inspects "
    "the legacy DistributionConfig.Logging property, which needs an ACL-enabled bucket."
)

#: Why CDK's OAC key-policy warning is acknowledged (``cdk synth --strict`` fails on warnings).
OAC_KEY_POLICY_WARNING_REASON = (
    "CloudFront reads the KMS-encrypted bucket through origin access control; the key policy statement "
    "CDK adds names this account's distributions by wildcard because naming this one would create a "
    "dependency cycle between key, bucket and distribution."
)


class AccessLogDelivery(enum.Enum):
    """How CloudFront delivers its access (standard) logs to the log bucket."""

    #: CloudFront standard logging v2 (CloudWatch Logs vended delivery): the log bucket keeps ACLs
    #: disabled. The delivery source can only be created in us-east-1.
    STANDARD_V2 = "standard-v2"
    #: Standard logging (legacy): works from a stack in any Region, but CloudFront writes through an
    #: S3 ACL grant, so the dedicated log bucket has ACLs enabled (owner-preferred, no public access).
    LEGACY = "legacy"


class BucketDistribution(Construct):
    """A CloudFront distribution serving a private ``SecureBucket`` over HTTPS only.

    The bucket stays private: CloudFront reads it through Origin Access Control, allowed by a bucket
    policy scoped to this distribution (``AWS:SourceArn``) and, for SSE-KMS, a key policy statement
    for ``cloudfront.amazonaws.com``. Responses carry security headers (HSTS, nosniff,
    frame options, referrer policy, XSS protection, optional CSP); access logs go to a dedicated,
    encrypted log bucket.

    Parameters
    ----------
    scope, id
        The construct's parent and id.
    bucket
        The origin. Default: a new ``SecureBucket`` (id ``Bucket``) with its defaults.
    domain_names
        Alternate domain names (CNAMEs), e.g. ``["www.example.com"]``. Default: none (the
        ``*.cloudfront.net`` name only). Requires ``certificate``.
    certificate
        An ACM certificate in us-east-1 covering ``domain_names``. Default: none (CloudFront's default
        certificate, whose TLS policy cannot be raised above TLSv1).
    minimum_protocol_version
        Viewer TLS policy with a custom certificate. Default: ``TLS_V1_2_2021``; ``TLS_V1_2_2025`` and
        ``TLS_V1_3_2025`` are accepted; older policies are refused.
    viewer_protocol_policy
        Default: ``REDIRECT_TO_HTTPS``; ``HTTPS_ONLY`` is accepted, ``ALLOW_ALL`` refused.
    content_security_policy
        A ``Content-Security-Policy`` header value, e.g. ``"default-src 'self'"``. Default: none (a CSP
        depends on what the site loads).
    hsts_max_age
        ``Strict-Transport-Security`` max-age, at least 365 days. Default: 730 days, with
        ``includeSubDomains``.
    hsts_preload
        Add ``preload`` to HSTS (submit the domain to browsers' preload lists yourself). Default: False.
    frame_option
        ``X-Frame-Options``. Default: ``DENY``.
    referrer_policy
        ``Referrer-Policy``. Default: ``STRICT_ORIGIN_WHEN_CROSS_ORIGIN``; ``UNSAFE_URL`` is refused.
    web_acl_arn
        ARN of an AWS WAF web ACL (scope CLOUDFRONT, made in us-east-1). Default: none.
    create_web_acl
        Create a web ACL with AWS managed rule groups (IP reputation, common rule set, known bad
        inputs) and a per-IP rate limit, logging to an encrypted log group. Only in a stack whose
        Region is us-east-1. Default: False.
    web_acl_rate_limit
        Requests per IP per 5 minutes before the created web ACL blocks the IP. Default: 2000.
    geo_restriction
        ``cloudfront.GeoRestriction.allowlist(...)`` or ``denylist(...)``. Default: none (served
        worldwide).
    default_root_object
        Object returned for ``/``. Default: ``"index.html"``.
    price_class
        Default: ``PRICE_CLASS_100`` (North America and Europe edge locations, the cheapest).
    error_responses
        Custom error responses, e.g. for single-page apps. Default: none. Behind Origin Access
        Control without ``s3:ListBucket`` (which this construct does not grant), S3 answers a missing
        object with 403, not 404: a 404 rule alone would never fire, so for a 404 rule without a 403
        rule the construct adds the same response for 403 (status 404 unless the rule sets one), as
        AWS documents for S3 origins. CloudFront's own 403s (geo restriction, a WAF block) then get
        that response too; pass your own 403 rule to answer them differently.
    log_delivery
        How access logs are delivered. Default: ``STANDARD_V2`` when the stack's Region is us-east-1,
        ``LEGACY`` otherwise (including environment-agnostic stacks).
    log_retention
        How long the log bucket keeps access logs. Default: 365 days.
    access_logs_opt_out_reason
        Turn access logging off; the reason becomes the acknowledgement's reason. Default: None.
    comment
        The distribution's comment (at most 128 characters). Default: none.
    tags
        Tags for every resource the construct creates. Default: none.

    Examples
    --------
    >>> site = BucketDistribution(stack, "Site")  # doctest: +SKIP
    >>> site.bucket.grant_write(deployer)  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket: SecureBucket | s3.IBucket | None = None,
        domain_names: Sequence[str] = (),
        certificate: acm.ICertificate | None = None,
        minimum_protocol_version: cloudfront.SecurityPolicyProtocol = cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
        viewer_protocol_policy: cloudfront.ViewerProtocolPolicy = cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        content_security_policy: str | None = None,
        hsts_max_age: Duration | None = None,
        hsts_preload: bool = False,
        frame_option: cloudfront.HeadersFrameOption = cloudfront.HeadersFrameOption.DENY,
        referrer_policy: cloudfront.HeadersReferrerPolicy = cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
        web_acl_arn: str | None = None,
        create_web_acl: bool = False,
        web_acl_rate_limit: int = 2000,
        geo_restriction: cloudfront.GeoRestriction | None = None,
        default_root_object: str = "index.html",
        price_class: cloudfront.PriceClass = cloudfront.PriceClass.PRICE_CLASS_100,
        error_responses: Sequence[cloudfront.ErrorResponse] = (),
        log_delivery: AccessLogDelivery | None = None,
        log_retention: Duration | None = None,
        access_logs_opt_out_reason: str | None = None,
        comment: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        region = region_of(scope)
        _validate(region=region, **{k: v for k, v in locals().items() if k not in ("self", "scope", "id", "region", "__class__")})
        super().__init__(scope, id)
        if log_delivery is None:
            log_delivery = AccessLogDelivery.STANDARD_V2 if region == _CLOUDFRONT_REGION else AccessLogDelivery.LEGACY
        logging_on = access_logs_opt_out_reason is None
        self.log_delivery: AccessLogDelivery | None = log_delivery if logging_on else None

        #: The custom error responses of the distribution, with the 403 rule added for a 404 one.
        self.error_responses: list[cloudfront.ErrorResponse] = _with_missing_object_responses(error_responses)
        #: The origin: the ``bucket`` given, or the ``SecureBucket`` made here.
        self.bucket: SecureBucket | s3.IBucket = bucket or SecureBucket(self, "Bucket")
        self.log_key: kms.Key | None = None
        self.log_bucket: s3.Bucket | None = None
        if logging_on or create_web_acl:
            self.log_key = customer_managed_key(self, "LogsKey", description=f"Encrypts the logs of {path_of(self)}")
        if logging_on:
            self.log_bucket = self._create_log_bucket(log_delivery, log_retention or Duration.days(365))

        self.response_headers_policy: cloudfront.ResponseHeadersPolicy = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment=f"Security headers of {path_of(self)}"[:128],
            security_headers_behavior=_security_headers(
                content_security_policy, hsts_max_age or Duration.days(730), hsts_preload, frame_option, referrer_policy
            ),
        )
        self.web_acl: wafv2.CfnWebACL | None = None
        self.web_acl_log_group: logs.LogGroup | None = None
        if create_web_acl:
            self.web_acl = self._create_web_acl(web_acl_rate_limit)
            web_acl_arn = self.web_acl.attr_arn

        self.distribution: cloudfront.Distribution = cloudfront.Distribution(
            self,
            "Resource",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(
                    _origin_bucket(self.bucket), origin_access_levels=[cloudfront.AccessLevel.READ]
                ),
                viewer_protocol_policy=viewer_protocol_policy,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.response_headers_policy,
                compress=True,
            ),
            domain_names=list(domain_names) or None,
            certificate=certificate,
            minimum_protocol_version=minimum_protocol_version if certificate else None,
            ssl_support_method=cloudfront.SSLMethod.SNI if certificate else None,
            default_root_object=default_root_object,
            price_class=price_class,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_ipv6=True,
            geo_restriction=geo_restriction,
            web_acl_id=web_acl_arn,
            error_responses=self.error_responses or None,
            log_bucket=self.log_bucket if self.log_delivery is AccessLogDelivery.LEGACY else None,
            comment=comment,
        )
        self._warn_if_imported(self.bucket)
        # The key policy names this account's distributions by wildcard (a key policy naming this one
        # would make key, bucket and distribution depend on each other); the grant still requires the
        # cloudfront.amazonaws.com principal, s3 via-service use and this account. Nothing to fix per synth.
        Annotations.of(self.bucket).acknowledge_warning(
            "@aws-cdk/aws-cloudfront-origins:wildcardKeyPolicyForOac", OAC_KEY_POLICY_WARNING_REASON
        )
        if self.log_delivery is AccessLogDelivery.STANDARD_V2:
            self._deliver_logs_v2()
        self._acknowledge(
            certificate=certificate,
            minimum_protocol_version=minimum_protocol_version,
            web_acl_arn=web_acl_arn,
            geo_restriction=geo_restriction,
            access_logs_opt_out_reason=access_logs_opt_out_reason,
        )
        apply_tags(self, _NAME, tags)

    # ---- access logs ----------------------------------------------------------------------

    def _warn_if_imported(self, bucket: SecureBucket | s3.IBucket) -> None:
        """CloudFront reads an imported bucket only once its owner adds the statements named here."""
        origin = _origin_bucket(bucket)
        if isinstance(origin, s3.Bucket):
            return  # CDK's origin adds both statements to a bucket (and key) of this app
        bucket_statement, key_statement = _oac_statements(origin, self.distribution)
        warn_bucket_statement(
            self, origin, bucket_statement, purpose=f"CloudFront (Origin Access Control of {path_of(self)}) to read it"
        )
        key = origin.encryption_key
        if key is not None:
            require_key_statement(
                self, key, key_statement,
                purpose=f"CloudFront (Origin Access Control of {path_of(self)}) to decrypt the bucket's objects",
            )

    def _create_log_bucket(self, delivery: AccessLogDelivery, retention: Duration) -> s3.Bucket:
        assert self.log_key is not None
        legacy = delivery is AccessLogDelivery.LEGACY
        log_bucket = s3.Bucket(
            self,
            "AccessLogs",
            # CloudFront standard logging (legacy and v2) supports SSE-KMS (see _defaults).
            encryption=log_bucket_encryption(server_access_logs=False),
            encryption_key=self.log_key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            # Legacy delivery writes through an ACL grant to CloudFront's log delivery account.
            object_ownership=(
                s3.ObjectOwnership.BUCKET_OWNER_PREFERRED if legacy else s3.ObjectOwnership.BUCKET_OWNER_ENFORCED
            ),
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-logs",
                    expiration=retention,
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=STATEFUL_REMOVAL_POLICY,
        )
        if legacy:
            # Documented for standard logging (legacy) into SSE-KMS buckets; the service passes no
            # source account or ARN that a condition could check.
            allow_service_to_use_key(self.log_key, "delivery.logs.amazonaws.com", actions=_actions.KMS_GENERATE_DATA_KEY)
        acknowledge_all(log_bucket, ["AwsSolutions-S1", *in_every_pack("S3BucketLoggingEnabled")], LOG_SINK_REASON)
        acknowledge(log_bucket, "CKV_AWS_18", LOG_SINK_REASON)
        acknowledge_all(log_bucket, in_every_pack("S3BucketReplicationEnabled"), NO_REPLICATION_REASON)
        acknowledge(log_bucket, "CKV_AWS_144", NO_REPLICATION_REASON)
        return log_bucket

    def _deliver_logs_v2(self) -> None:
        """Standard logging v2: delivery source (the distribution) -> delivery -> S3 destination."""
        assert self.log_bucket is not None and self.log_key is not None
        stack = stack_of(self)
        source_arn = f"arn:{stack.partition}:logs:{_CLOUDFRONT_REGION}:{stack.account}:delivery-source:*"
        self.log_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("delivery.logs.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[self.log_bucket.arn_for_objects(f"AWSLogs/{stack.account}/*")],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account, "s3:x-amz-acl": "bucket-owner-full-control"},
                    "ArnLike": {"aws:SourceArn": source_arn},
                },
            )
        )
        allow_service_to_use_key(
            self.log_key,
            "delivery.logs.amazonaws.com",
            actions=_actions.KMS_FOR_CLOUDWATCH_LOGS,
            source_account=stack.account,
            source_arn=source_arn,
        )
        name = Names.unique_resource_name(self, max_length=50, separator="-")
        source = logs.CfnDeliverySource(
            self,
            "AccessLogSource",
            name=f"{name}-src",
            log_type="ACCESS_LOGS",
            resource_arn=self.distribution.distribution_arn,
        )
        destination = logs.CfnDeliveryDestination(
            self,
            "AccessLogDestination",
            name=f"{name}-dst",
            destination_resource_arn=self.log_bucket.bucket_arn,
        )
        if self.log_bucket.policy is not None:
            destination.node.add_dependency(self.log_bucket.policy)
        delivery = logs.CfnDelivery(
            self,
            "AccessLogDelivery",
            delivery_source_name=source.name,
            delivery_destination_arn=destination.attr_arn,
        )
        delivery.node.add_dependency(source)

    # ---- AWS WAF --------------------------------------------------------------------------

    def _create_web_acl(self, rate_limit: int) -> wafv2.CfnWebACL:
        assert self.log_key is not None
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name=name,
                priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=name
                    )
                ),
                visibility_config=_visibility(name),
            )
            for priority, name in _MANAGED_RULE_GROUPS
        ]
        rules.append(
            wafv2.CfnWebACL.RuleProperty(
                name="RateLimitPerIp",
                priority=len(rules) + 1,
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=rate_limit, aggregate_key_type="IP", evaluation_window_sec=300
                    )
                ),
                visibility_config=_visibility("RateLimitPerIp"),
            )
        )
        web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="CLOUDFRONT",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(Names.unique_id(self)[-128:]),
            rules=rules,
        )
        # WAF requires log group names that start with "aws-waf-logs-"; unique per stack instance
        # because the group outlives the stack.
        group_name = unique_physical_name(
            self, f"aws-waf-logs-{Names.unique_resource_name(self, max_length=400, separator='-')}", max_length=512
        )
        log_group = encrypted_log_group(
            self, "WebAclLogs", name=group_name, key=self.log_key, retention=logs.RetentionDays.ONE_YEAR
        )
        logging = wafv2.CfnLoggingConfiguration(
            self, "WebAclLogging", resource_arn=web_acl.attr_arn, log_destination_configs=[log_group_arn(self, group_name)]
        )
        logging.node.add_dependency(log_group)
        self.web_acl_log_group = log_group
        return web_acl

    # ---- acknowledgements -----------------------------------------------------------------

    def _acknowledge(
        self,
        *,
        certificate: acm.ICertificate | None,
        minimum_protocol_version: cloudfront.SecurityPolicyProtocol,
        web_acl_arn: str | None,
        geo_restriction: cloudfront.GeoRestriction | None,
        access_logs_opt_out_reason: str | None,
    ) -> None:
        distribution = self.distribution.node.default_child
        if certificate is None:
            acknowledge(distribution, "AwsSolutions-CFR4", DEFAULT_CERTIFICATE_REASON)
            acknowledge(distribution, "CKV_AWS_174", DEFAULT_CERTIFICATE_REASON)
        elif minimum_protocol_version in _NEWER_THAN_CHECKOV:
            acknowledge(distribution, "CKV_AWS_174", NEWER_TLS_POLICY_REASON)
        if web_acl_arn is None:
            acknowledge(distribution, "AwsSolutions-CFR2", NO_WAF_REASON)
            acknowledge(distribution, "CKV_AWS_68", NO_WAF_REASON)
        if geo_restriction is None:
            acknowledge(distribution, "AwsSolutions-CFR1", NO_GEO_RESTRICTION_REASON)
        # Both rules read only the legacy Logging property.
        logging_reason = access_logs_opt_out_reason or (
            V2_LOGGING_REASON if self.log_delivery is AccessLogDelivery.STANDARD_V2 else None
        )
        if logging_reason is not None:
            acknowledge(distribution, "AwsSolutions-CFR3", logging_reason)
            acknowledge(distribution, "CKV_AWS_86", logging_reason)

    # ---- convenience ----------------------------------------------------------------------

    @property
    def distribution_id(self) -> str:
        return self.distribution.distribution_id

    @property
    def domain_name(self) -> str:
        """The distribution's ``*.cloudfront.net`` domain name."""
        return self.distribution.distribution_domain_name


def _with_missing_object_responses(responses: Sequence[cloudfront.ErrorResponse]) -> list[cloudfront.ErrorResponse]:
    """``responses``, plus a 403 rule mirroring the 404 rule when there is none for 403.

    S3 behind OAC answers 403 for a key that does not exist unless the distribution may list the
    bucket; the 404 rule is what the user meant for a missing object.
    """
    result = list(responses)
    not_found = next((r for r in result if r.http_status == 404), None)
    if not_found is None or any(r.http_status == 403 for r in result):
        return result
    status = not_found.response_http_status
    if status is None and not_found.response_page_path is not None:
        status = 404
    result.append(
        cloudfront.ErrorResponse(
            http_status=403,
            response_http_status=status,
            response_page_path=not_found.response_page_path,
            ttl=not_found.ttl,
        )
    )
    return result


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


def _security_headers(
    content_security_policy: str | None,
    hsts_max_age: Duration,
    hsts_preload: bool,
    frame_option: cloudfront.HeadersFrameOption,
    referrer_policy: cloudfront.HeadersReferrerPolicy,
) -> cloudfront.ResponseSecurityHeadersBehavior:
    return cloudfront.ResponseSecurityHeadersBehavior(
        strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
            access_control_max_age=hsts_max_age, include_subdomains=True, preload=hsts_preload, override=True
        ),
        content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
        frame_options=cloudfront.ResponseHeadersFrameOptions(frame_option=frame_option, override=True),
        referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(referrer_policy=referrer_policy, override=True),
        xss_protection=cloudfront.ResponseHeadersXSSProtection(protection=True, mode_block=True, override=True),
        content_security_policy=(
            cloudfront.ResponseHeadersContentSecurityPolicy(
                content_security_policy=content_security_policy, override=True
            )
            if content_security_policy
            else None
        ),
    )


def _oac_statements(bucket: s3.IBucket, distribution: cloudfront.Distribution) -> tuple[iam.PolicyStatement, iam.PolicyStatement]:
    """What Origin Access Control needs: the bucket policy and (SSE-KMS) key policy statements."""
    only_this_distribution = {
        "StringEquals": {
            "AWS:SourceArn": stack_of(distribution).format_arn(
                service="cloudfront", region="", resource="distribution", resource_name=distribution.distribution_id
            )
        }
    }
    principal = iam.ServicePrincipal("cloudfront.amazonaws.com")
    return (
        iam.PolicyStatement(
            principals=[principal], actions=["s3:GetObject"], resources=[bucket.arn_for_objects("*")],
            conditions=only_this_distribution,
        ),
        iam.PolicyStatement(
            principals=[principal], actions=["kms:Decrypt"], resources=["*"], conditions=only_this_distribution
        ),
    )


def _origin_bucket(bucket: SecureBucket | s3.IBucket) -> s3.IBucket:
    """The S3 bucket CloudFront reads: a ``SecureBucket``'s own, or ``bucket`` itself."""
    return bucket.bucket if isinstance(bucket, SecureBucket) else bucket


def _validate(
    *,
    region: str,
    bucket: SecureBucket | s3.IBucket | None,
    domain_names: Sequence[str],
    certificate: acm.ICertificate | None,
    minimum_protocol_version: cloudfront.SecurityPolicyProtocol,
    viewer_protocol_policy: cloudfront.ViewerProtocolPolicy,
    content_security_policy: str | None,
    hsts_max_age: Duration | None,
    hsts_preload: bool,
    frame_option: cloudfront.HeadersFrameOption,
    referrer_policy: cloudfront.HeadersReferrerPolicy,
    web_acl_arn: str | None,
    create_web_acl: bool,
    web_acl_rate_limit: int,
    geo_restriction: cloudfront.GeoRestriction | None,
    default_root_object: str,
    price_class: cloudfront.PriceClass,
    error_responses: Sequence[cloudfront.ErrorResponse],
    log_delivery: AccessLogDelivery | None,
    log_retention: Duration | None,
    access_logs_opt_out_reason: str | None,
    comment: str | None,
    tags: Mapping[str, str] | None,
) -> None:
    require_type(_NAME, "bucket", bucket, (SecureBucket, s3.IBucket))
    require_type(_NAME, "certificate", certificate, acm.ICertificate)
    require_type(_NAME, "minimum_protocol_version", minimum_protocol_version, cloudfront.SecurityPolicyProtocol)
    require_type(_NAME, "viewer_protocol_policy", viewer_protocol_policy, cloudfront.ViewerProtocolPolicy)
    require_type(_NAME, "frame_option", frame_option, cloudfront.HeadersFrameOption)
    require_type(_NAME, "referrer_policy", referrer_policy, cloudfront.HeadersReferrerPolicy)
    require_type(_NAME, "geo_restriction", geo_restriction, cloudfront.GeoRestriction)
    require_type(_NAME, "price_class", price_class, cloudfront.PriceClass)
    require_type(_NAME, "log_delivery", log_delivery, AccessLogDelivery)
    for prop, value in (("hsts_max_age", hsts_max_age), ("log_retention", log_retention)):
        require_type(_NAME, prop, value, Duration)
    for prop, value in (("hsts_preload", hsts_preload), ("create_web_acl", create_web_acl)):
        require_type(_NAME, prop, value, bool)
    for prop, value in (
        ("content_security_policy", content_security_policy),
        ("web_acl_arn", web_acl_arn),
        ("default_root_object", default_root_object),
        ("access_logs_opt_out_reason", access_logs_opt_out_reason),
        ("comment", comment),
    ):
        require_type(_NAME, prop, value, str)
    require_type(_NAME, "web_acl_rate_limit", web_acl_rate_limit, int)
    if isinstance(domain_names, str) or not all(isinstance(d, str) for d in domain_names):
        raise TypeError(f"{_NAME}: domain_names must be a sequence of str, got {domain_names!r}")
    for response in error_responses:
        require_type(_NAME, "error_responses", response, cloudfront.ErrorResponse)
    validate_tags(_NAME, tags)

    errors = PropErrors(_NAME)
    errors.check(
        viewer_protocol_policy in _HTTPS_POLICIES,
        "viewer_protocol_policy",
        viewer_protocol_policy,
        "viewers must use HTTPS: use REDIRECT_TO_HTTPS (default) or HTTPS_ONLY",
    )
    errors.check(
        minimum_protocol_version in _MODERN_TLS,
        "minimum_protocol_version",
        minimum_protocol_version,
        "use TLS_V1_2_2021 (default), TLS_V1_2_2025 or TLS_V1_3_2025; older policies allow weak ciphers",
    )
    errors.check(
        not domain_names or certificate is not None,
        "domain_names",
        list(domain_names),
        "alternate domain names need a certificate that covers them",
    )
    errors.check(
        certificate is None or bool(domain_names),
        "certificate",
        certificate,
        "a certificate is only used with domain_names",
    )
    for domain in domain_names:
        errors.check(
            is_token(domain) or bool(_DOMAIN_NAME.match(domain)),
            "domain_names",
            domain,
            "must be a lowercase DNS name such as 'www.example.com' or '*.example.com'",
        )
    if certificate is not None and not is_token(certificate.certificate_arn):
        match = _CERTIFICATE_ARN_REGION.match(certificate.certificate_arn)
        errors.check(
            match is None or match.group(1) == _CLOUDFRONT_REGION,
            "certificate",
            certificate.certificate_arn,
            "CloudFront only uses ACM certificates from us-east-1",
        )
    errors.check(
        web_acl_arn is None or is_token(web_acl_arn) or bool(_WEB_ACL_ARN.match(web_acl_arn)),
        "web_acl_arn",
        web_acl_arn,
        "must be the ARN of a WAFv2 web ACL with scope CLOUDFRONT, which lives in us-east-1 "
        "(arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>)",
    )
    errors.check(
        not (create_web_acl and web_acl_arn is not None),
        "create_web_acl",
        create_web_acl,
        "cannot create a web ACL and attach web_acl_arn at the same time",
    )
    errors.check(
        not create_web_acl or region == _CLOUDFRONT_REGION,
        "create_web_acl",
        create_web_acl,
        "a web ACL for CloudFront can only be created in us-east-1, but this stack's Region is "
        f"{'not known at synth time (environment-agnostic)' if is_token(region) else repr(region)}; "
        "create it in a us-east-1 stack and pass web_acl_arn",
    )
    errors.check_range("web_acl_rate_limit", web_acl_rate_limit, minimum=100, maximum=2_000_000_000)
    errors.check(
        log_delivery is not AccessLogDelivery.STANDARD_V2 or is_token(region) or region == _CLOUDFRONT_REGION,
        "log_delivery",
        log_delivery,
        f"standard logging v2 for CloudFront can only be set up from us-east-1, not {region!r}; use LEGACY",
    )
    errors.check(
        access_logs_opt_out_reason is None or bool(access_logs_opt_out_reason.strip()),
        "access_logs_opt_out_reason",
        access_logs_opt_out_reason,
        "say why access logs are not needed (the reason is recorded in the compliance report)",
    )
    errors.check(
        not (access_logs_opt_out_reason is not None and (log_delivery is not None or log_retention is not None)),
        "access_logs_opt_out_reason",
        access_logs_opt_out_reason,
        "cannot opt out of access logs and configure log_delivery or log_retention at the same time",
    )
    errors.check(
        referrer_policy is not cloudfront.HeadersReferrerPolicy.UNSAFE_URL,
        "referrer_policy",
        referrer_policy,
        "UNSAFE_URL sends full URLs, including over plain HTTP, to every site",
    )
    errors.check(
        bool(default_root_object) and not default_root_object.startswith("/"),
        "default_root_object",
        default_root_object,
        "must be an object key such as 'index.html', without a leading '/'",
    )
    errors.check(
        content_security_policy is None or bool(content_security_policy.strip()),
        "content_security_policy",
        content_security_policy,
        "must not be empty; leave it None to send no Content-Security-Policy header",
    )
    errors.check(
        comment is None or len(comment) <= 128,
        "comment",
        comment,
        "CloudFront comments are at most 128 characters",
    )
    hsts_days = duration_in_days(hsts_max_age)
    errors.check(
        hsts_days is None or hsts_days >= 365,
        "hsts_max_age",
        f"{hsts_days} days" if hsts_days is not None else hsts_max_age,
        "HSTS max-age must be at least 365 days to be effective (and for preload lists)",
    )
    log_days = duration_in_days(log_retention)
    errors.check(
        log_days is None or (log_days >= 1 and log_days == int(log_days)),
        "log_retention",
        f"{log_days} days" if log_days is not None else log_retention,
        "must be a whole number of days, at least 1",
    )
    errors.raise_if_any()
