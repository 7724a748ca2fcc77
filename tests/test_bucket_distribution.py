"""BucketDistribution: defaults, logging modes, options, snapshots, compliance and validation."""

from __future__ import annotations

import importlib

import pytest
from aws_cdk import App, CfnParameter, Duration, Environment, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from deploy_readiness import STACK_INSTANCE_ID, ends_with_stack_instance_id, literal_start
from harness import TEST_ENV, acknowledged_rules, assert_compliant, synthesize

from serverless_patterns.bucket_distribution import (
    DEFAULT_CERTIFICATE_REASON,
    NEWER_TLS_POLICY_REASON,
    NO_GEO_RESTRICTION_REASON,
    NO_WAF_REASON,
    V2_LOGGING_REASON,
    AccessLogDelivery,
    BucketDistribution,
)
from serverless_patterns.secure_bucket import SecureBucket

CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"
WEB_ACL_ARN = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/site/0a1b2c3d-1111-2222-3333-444455556666"


def _default(stack):
    return BucketDistribution(stack, "Site")


def _maximal(stack):
    certificate = acm.Certificate.from_certificate_arn(stack, "Certificate", CERTIFICATE_ARN)
    return BucketDistribution(
        stack,
        "Site",
        bucket=SecureBucket(stack, "Content"),
        domain_names=["www.example.com", "example.com"],
        certificate=certificate,
        minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_3_2025,
        viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        content_security_policy="default-src 'self'",
        hsts_max_age=Duration.days(365),
        hsts_preload=True,
        frame_option=cloudfront.HeadersFrameOption.SAMEORIGIN,
        referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER,
        create_web_acl=True,
        web_acl_rate_limit=500,
        geo_restriction=cloudfront.GeoRestriction.allowlist("DE", "FR"),
        default_root_object="home.html",
        price_class=cloudfront.PriceClass.PRICE_CLASS_ALL,
        error_responses=[cloudfront.ErrorResponse(http_status=404, response_http_status=200, response_page_path="/home.html")],
        log_retention=Duration.days(90),
        comment="Public site",
        tags={"Owner": "web-team"},
    )


@pytest.fixture(scope="module")
def default():
    """Environment-agnostic stack: legacy standard logging."""
    return synthesize(_default)


@pytest.fixture(scope="module")
def us_east_1():
    """Stack in us-east-1: standard logging v2."""
    return synthesize(_default, env=TEST_ENV)


@pytest.fixture(scope="module")
def maximal():
    return synthesize(_maximal, env=TEST_ENV)


def _config(synth):
    return synth.only("AWS::CloudFront::Distribution")["DistributionConfig"]


def _logical_id(synth, resource_type, startswith=""):
    (logical_id,) = [i for i in synth.resources(resource_type) if i.startswith(startswith)]
    return logical_id


def _content_bucket_id(synth):
    (origin,) = _config(synth)["Origins"]
    return origin["DomainName"]["Fn::GetAtt"][0]


def _log_bucket(synth):
    content = _content_bucket_id(synth)
    (logical_id,) = [
        i for i in synth.resources("AWS::S3::Bucket") if i.startswith("SiteAccessLogs") and not i.startswith(content)
    ]
    return logical_id, synth.template["Resources"][logical_id]["Properties"]


def _statements(synth, resource_type, logical_id):
    resource = synth.template["Resources"][logical_id]["Properties"]
    document = resource["KeyPolicy"] if resource_type == "AWS::KMS::Key" else resource["PolicyDocument"]
    return document["Statement"]


def _policy_of_bucket(synth, bucket_id):
    (statements,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    return statements


def _service_statements(statements, service):
    return [s for s in statements if s.get("Principal") == {"Service": service}]


# ---- origin access --------------------------------------------------------------------------


def test_default_reads_the_bucket_through_origin_access_control_not_oai(default):
    (origin,) = _config(default)["Origins"]
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    oac_id = _logical_id(default, "AWS::CloudFront::OriginAccessControl")
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    default.assertions.has_resource_properties(
        "AWS::CloudFront::OriginAccessControl",
        {"OriginAccessControlConfig": {"OriginAccessControlOriginType": "s3", "SigningBehavior": "always", "SigningProtocol": "sigv4"}},
    )
    assert not default.resources("AWS::CloudFront::CloudFrontOriginAccessIdentity")


def test_bucket_policy_allows_only_this_distribution_to_get_objects(default):
    content = _content_bucket_id(default)
    distribution_id = _logical_id(default, "AWS::CloudFront::Distribution")
    (statement,) = _service_statements(_policy_of_bucket(default, content), "cloudfront.amazonaws.com")
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [content, "Arn"]}, "/*"]]}
    assert statement["Condition"] == {
        "StringEquals": {
            "AWS:SourceArn": {
                "Fn::Join": [
                    "",
                    ["arn:", {"Ref": "AWS::Partition"}, ":cloudfront::", {"Ref": "AWS::AccountId"}, ":distribution/", {"Ref": distribution_id}],
                ]
            }
        }
    }


def test_bucket_stays_private_and_kms_encrypted(default):
    content = default.template["Resources"][_content_bucket_id(default)]["Properties"]
    assert content["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    sse = content["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert sse["SSEAlgorithm"] == "aws:kms"


def test_content_key_lets_cloudfront_decrypt_only_for_distributions_of_this_account(default):
    key_id = _content_key_id(default)
    (statement,) = _service_statements(_statements(default, "AWS::KMS::Key", key_id), "cloudfront.amazonaws.com")
    assert statement["Action"] == "kms:Decrypt"
    assert statement["Condition"] == {
        "ArnLike": {
            "AWS:SourceArn": {
                "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":cloudfront::", {"Ref": "AWS::AccountId"}, ":distribution/*"]]
            }
        }
    }


def _content_key_id(synth):
    content = synth.template["Resources"][_content_bucket_id(synth)]["Properties"]
    sse = content["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    return sse["KMSMasterKeyID"]["Fn::GetAtt"][0]


# ---- viewer side ----------------------------------------------------------------------------


def test_default_behaviour_is_https_get_head_compressed_with_security_headers(default):
    config = _config(default)
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert behavior["Compress"] is True
    headers_id = _logical_id(default, "AWS::CloudFront::ResponseHeadersPolicy")
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": headers_id}
    assert config["HttpVersion"] == "http2and3"
    assert config["PriceClass"] == "PriceClass_100"
    assert config["DefaultRootObject"] == "index.html"
    assert "Aliases" not in config and "ViewerCertificate" not in config and "WebACLId" not in config


def test_default_security_headers(default):
    headers = default.only("AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers == {
        "StrictTransportSecurity": {"AccessControlMaxAgeSec": 63072000, "IncludeSubdomains": True, "Preload": False, "Override": True},
        "ContentTypeOptions": {"Override": True},
        "FrameOptions": {"FrameOption": "DENY", "Override": True},
        "ReferrerPolicy": {"ReferrerPolicy": "strict-origin-when-cross-origin", "Override": True},
        "XSSProtection": {"Protection": True, "ModeBlock": True, "Override": True},
    }


def test_default_certificate_findings_are_acknowledged_with_the_reason(default):
    acks = {(a.rule, a.reason) for a in [*default.nag.acknowledged, *default.checkov.acknowledged]}
    assert ("AwsSolutions-CFR4", DEFAULT_CERTIFICATE_REASON) in acks
    assert ("CKV_AWS_174", DEFAULT_CERTIFICATE_REASON) in acks
    assert ("AwsSolutions-CFR2", NO_WAF_REASON) in acks
    assert ("AwsSolutions-CFR1", NO_GEO_RESTRICTION_REASON) in acks


# ---- access logs ----------------------------------------------------------------------------


def test_environment_agnostic_stack_uses_legacy_logging_into_an_acl_enabled_encrypted_bucket(default):
    log_id, log_bucket = _log_bucket(default)
    assert _config(default)["Logging"] == {"Bucket": {"Fn::GetAtt": [log_id, "RegionalDomainName"]}}
    assert log_bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
    assert all(log_bucket["PublicAccessBlockConfiguration"].values())
    sse = log_bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    logs_key = _logical_id(default, "AWS::KMS::Key", "SiteLogsKey")
    assert sse["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": [logs_key, "Arn"]}}
    assert log_bucket["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 365
    (statement,) = _service_statements(_statements(default, "AWS::KMS::Key", logs_key), "delivery.logs.amazonaws.com")
    assert statement["Action"] == "kms:GenerateDataKey"
    assert not default.resources("AWS::Logs::DeliverySource")
    assert "AwsSolutions-CFR3" not in {a.rule for a in default.nag.acknowledged}, "legacy logging must really log"


def test_us_east_1_stack_uses_standard_logging_v2_into_a_bucket_without_acls(us_east_1):
    config = _config(us_east_1)
    assert "Logging" not in config
    log_id, log_bucket = _log_bucket(us_east_1)
    assert log_bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    distribution_id = _logical_id(us_east_1, "AWS::CloudFront::Distribution")
    source = us_east_1.only("AWS::Logs::DeliverySource")
    assert source["LogType"] == "ACCESS_LOGS"
    assert source["ResourceArn"] == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":cloudfront::123456789012:distribution/", {"Ref": distribution_id}]]
    }
    destination_id = _logical_id(us_east_1, "AWS::Logs::DeliveryDestination")
    destination = us_east_1.template["Resources"][destination_id]
    assert destination["Properties"]["DestinationResourceArn"] == {"Fn::GetAtt": [log_id, "Arn"]}
    delivery = us_east_1.only("AWS::Logs::Delivery")
    assert delivery["DeliverySourceName"] == source["Name"]
    assert delivery["DeliveryDestinationArn"] == {"Fn::GetAtt": [destination_id, "Arn"]}
    # The destination is created only once the bucket policy lets the delivery service write.
    (policy_id,) = [i for i, p in us_east_1.resources("AWS::S3::BucketPolicy").items() if p["Properties"]["Bucket"] == {"Ref": log_id}]
    assert policy_id in destination["DependsOn"]


def test_v2_delivery_is_scoped_to_this_account_and_delivery_sources_in_us_east_1(us_east_1):
    log_id, _ = _log_bucket(us_east_1)
    source_arn = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":logs:us-east-1:123456789012:delivery-source:*"]]}
    (write,) = _service_statements(_policy_of_bucket(us_east_1, log_id), "delivery.logs.amazonaws.com")
    assert write["Action"] == "s3:PutObject"
    assert write["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [log_id, "Arn"]}, "/AWSLogs/123456789012/*"]]}
    assert write["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012", "s3:x-amz-acl": "bucket-owner-full-control"},
        "ArnLike": {"aws:SourceArn": source_arn},
    }
    logs_key = _logical_id(us_east_1, "AWS::KMS::Key", "SiteLogsKey")
    (use,) = _service_statements(_statements(us_east_1, "AWS::KMS::Key", logs_key), "delivery.logs.amazonaws.com")
    assert use["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}, "ArnLike": {"aws:SourceArn": source_arn}}
    assert not [a for a in use["Action"] if "*" in a]


def test_v2_logging_acknowledges_the_legacy_only_logging_rules_with_the_reason(us_east_1):
    acks = {(a.rule, a.reason) for a in [*us_east_1.nag.acknowledged, *us_east_1.checkov.acknowledged]}
    assert ("AwsSolutions-CFR3", V2_LOGGING_REASON) in acks
    assert ("CKV_AWS_86", V2_LOGGING_REASON) in acks


def test_legacy_logging_can_be_chosen_in_us_east_1():
    synth = synthesize(lambda stack: BucketDistribution(stack, "Site", log_delivery=AccessLogDelivery.LEGACY), env=TEST_ENV)
    assert "Logging" in _config(synth)
    assert not synth.resources("AWS::Logs::DeliverySource")
    assert_compliant(synth)


def test_v2_logging_can_be_chosen_in_an_environment_agnostic_stack_deployed_to_us_east_1():
    synth = synthesize(lambda stack: BucketDistribution(stack, "Site", log_delivery=AccessLogDelivery.STANDARD_V2))
    assert "Logging" not in _config(synth)
    assert synth.only("AWS::Logs::DeliverySource")["LogType"] == "ACCESS_LOGS"


def test_a_stack_in_another_region_uses_legacy_logging_and_an_existing_web_acl():
    eu_west_1 = Environment(account="123456789012", region="eu-west-1")
    synth = synthesize(lambda stack: BucketDistribution(stack, "Site", web_acl_arn=WEB_ACL_ARN), env=eu_west_1)
    config = _config(synth)
    assert "Logging" in config and config["WebACLId"] == WEB_ACL_ARN
    assert not synth.resources("AWS::Logs::DeliverySource")
    assert_compliant(synth)


def test_access_log_opt_out_records_the_reason_and_creates_no_log_bucket():
    reason = "Preview distribution for a load test; WAF logs cover requests."
    synth = synthesize(lambda stack: BucketDistribution(stack, "Site", access_logs_opt_out_reason=reason))
    assert "Logging" not in _config(synth)
    assert len(synth.resources("AWS::S3::Bucket")) == 2  # the content bucket and its access-log bucket
    assert len(synth.resources("AWS::KMS::Key")) == 1
    assert ("AwsSolutions-CFR3", reason) in {(a.rule, a.reason) for a in synth.nag.acknowledged}
    assert_compliant(synth)


# ---- options --------------------------------------------------------------------------------


def test_maximal_custom_domain_with_modern_tls_and_sni(maximal):
    config = _config(maximal)
    assert config["Aliases"] == ["www.example.com", "example.com"]
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": CERTIFICATE_ARN,
        "MinimumProtocolVersion": "TLSv1.3_2025",
        "SslSupportMethod": "sni-only",
    }
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "https-only"
    acks = {(a.rule, a.reason) for a in maximal.checkov.acknowledged}
    assert ("CKV_AWS_174", NEWER_TLS_POLICY_REASON) in acks
    assert "AwsSolutions-CFR4" not in {a.rule for a in maximal.nag.acknowledged}


def test_maximal_headers_geo_root_object_price_class_errors_and_comment(maximal):
    config = _config(maximal)
    assert config["Restrictions"] == {"GeoRestriction": {"Locations": ["DE", "FR"], "RestrictionType": "whitelist"}}
    assert config["DefaultRootObject"] == "home.html"
    assert config["PriceClass"] == "PriceClass_All"
    # S3 behind OAC (no s3:ListBucket) answers 403 for a missing object: the 404 rule is mirrored.
    assert config["CustomErrorResponses"] == [
        {"ErrorCode": 404, "ResponseCode": 200, "ResponsePagePath": "/home.html"},
        {"ErrorCode": 403, "ResponseCode": 200, "ResponsePagePath": "/home.html"},
    ]
    assert config["Comment"] == "Public site"
    headers = maximal.only("AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["ContentSecurityPolicy"] == {"ContentSecurityPolicy": "default-src 'self'", "Override": True}
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == 365 * 86400
    assert headers["StrictTransportSecurity"]["Preload"] is True
    assert headers["FrameOptions"]["FrameOption"] == "SAMEORIGIN"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"


def test_maximal_uses_the_given_bucket_and_creates_no_other_content_bucket(maximal):
    assert _content_bucket_id(maximal).startswith("Content")
    assert not [i for i in maximal.resources("AWS::S3::Bucket") if i.startswith("SiteBucket")]


def test_maximal_web_acl_with_managed_rules_rate_limit_and_encrypted_logs(maximal):
    web_acl_id = _logical_id(maximal, "AWS::WAFv2::WebACL")
    assert _config(maximal)["WebACLId"] == {"Fn::GetAtt": [web_acl_id, "Arn"]}
    web_acl = maximal.only("AWS::WAFv2::WebACL")
    assert web_acl["Scope"] == "CLOUDFRONT"
    assert web_acl["DefaultAction"] == {"Allow": {}}
    managed = [r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in web_acl["Rules"] if "ManagedRuleGroupStatement" in r["Statement"]]
    assert managed == ["AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"]
    (rate,) = [r for r in web_acl["Rules"] if "RateBasedStatement" in r["Statement"]]
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"] == {"AggregateKeyType": "IP", "EvaluationWindowSec": 300, "Limit": 500}
    assert len({r["Priority"] for r in web_acl["Rules"]}) == len(web_acl["Rules"])

    group = maximal.only("AWS::Logs::LogGroup")
    assert literal_start(group["LogGroupName"]).startswith("aws-waf-logs-")
    assert ends_with_stack_instance_id(group["LogGroupName"]), "unique per stack instance: the group outlives the stack"
    assert group["RetentionInDays"] == 365
    logs_key = _logical_id(maximal, "AWS::KMS::Key", "SiteLogsKey")
    assert group["KmsKeyId"] == {"Fn::GetAtt": [logs_key, "Arn"]}
    group_arn = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                f":logs:us-east-1:123456789012:log-group:{literal_start(group['LogGroupName'])}",
                STACK_INSTANCE_ID,
            ],
        ]
    }
    logging = maximal.only("AWS::WAFv2::LoggingConfiguration")
    assert logging == {"LogDestinationConfigs": [group_arn], "ResourceArn": {"Fn::GetAtt": [web_acl_id, "Arn"]}}
    (use,) = _service_statements(_statements(maximal, "AWS::KMS::Key", logs_key), "logs.us-east-1.amazonaws.com")
    assert use["Condition"] == {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": group_arn}}


def test_maximal_log_retention_and_user_tags(maximal):
    _, log_bucket = _log_bucket(maximal)
    assert log_bucket["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 90
    distribution = maximal.only("AWS::CloudFront::Distribution")
    assert {"Key": "Owner", "Value": "web-team"} in distribution["Tags"]
    assert {"Key": "serverless-patterns:construct", "Value": "BucketDistribution"} in distribution["Tags"]


def test_an_existing_web_acl_is_attached_and_no_waf_acknowledgement_is_made():
    synth = synthesize(lambda stack: BucketDistribution(stack, "Site", web_acl_arn=WEB_ACL_ARN))
    assert _config(synth)["WebACLId"] == WEB_ACL_ARN
    assert not synth.resources("AWS::WAFv2::WebACL")
    assert not {"AwsSolutions-CFR2", "CKV_AWS_68"} & {a.rule for a in [*synth.nag.acknowledged, *synth.checkov.acknowledged]}


def test_an_sse_s3_bucket_needs_no_key_statement():
    synth = synthesize(
        lambda stack: BucketDistribution(stack, "Site", bucket=SecureBucket(stack, "Plain", encryption=s3.BucketEncryption.S3_MANAGED))
    )
    for key_id in synth.resources("AWS::KMS::Key"):
        assert not _service_statements(_statements(synth, "AWS::KMS::Key", key_id), "cloudfront.amazonaws.com")
    # SSE-S3 is SecureBucket's explicit opt-out of KMS, which the packs report on that bucket only.
    assert {f.rule.split("-", 1)[1] for f in synth.nag.findings} <= {"S3DefaultEncryptionKMS"}
    assert all(f.path.startswith("Test/Plain/") for f in synth.nag.findings)


# ---- snapshots ------------------------------------------------------------------------------


def test_default_snapshot(default, snapshot_json):
    assert default.normalised() == snapshot_json


def test_maximal_snapshot(maximal, snapshot_json):
    assert maximal.normalised() == snapshot_json


def test_logical_id_of_the_distribution_is_stable(default):
    # Changing it replaces the distribution (and its domain name) in deployed stacks.
    assert _logical_id(default, "AWS::CloudFront::Distribution") == "Site03B75BBB"


# ---- compliance -----------------------------------------------------------------------------


@pytest.mark.parametrize("configuration", ["default", "us_east_1", "maximal"])
def test_compliance(configuration, request):
    assert_compliant(request.getfixturevalue(configuration))


@pytest.mark.parametrize("configuration", ["default", "us_east_1", "maximal"])
def test_acknowledgements_are_the_expected_narrow_ones(configuration, request):
    synth = request.getfixturevalue(configuration)
    acks = acknowledged_rules(synth)
    log_sink = {
        "AwsSolutions-S1", "CKV_AWS_18", "CKV_AWS_144",
        *(f"{p}-{r}" for p in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
          for r in ("S3BucketLoggingEnabled", "S3BucketReplicationEnabled", "S3DefaultEncryptionKMS")),
    }
    distribution = {"AwsSolutions-CFR1", "AwsSolutions-CFR2", "AwsSolutions-CFR3", "AwsSolutions-CFR4", "CKV_AWS_68", "CKV_AWS_86", "CKV_AWS_174"}
    distribution_paths = [p for p in acks if p.endswith("Site/Resource/Resource") or p.startswith("AWS::CloudFront::")]
    assert distribution_paths
    for path, rules in acks.items():
        assert rules <= (distribution if path in distribution_paths else log_sink), (path, rules)


# ---- validation -----------------------------------------------------------------------------


def _certificate(stack, arn=CERTIFICATE_ARN):
    return acm.Certificate.from_certificate_arn(stack, "Cert", arn)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"viewer_protocol_policy": cloudfront.ViewerProtocolPolicy.ALLOW_ALL}, "viewer_protocol_policy=<ViewerProtocolPolicy.ALLOW_ALL"),
        ({"minimum_protocol_version": cloudfront.SecurityPolicyProtocol.TLS_V1_2_2019}, "older policies allow weak ciphers"),
        ({"domain_names": ["www.example.com"]}, "domain_names=['www.example.com']: alternate domain names need a certificate"),
        ({"certificate": "CERT"}, "certificate=V/Cert (arn:aws:acm:us-east-1:123456789012:certificate/"),
        ({"certificate": "CERT", "domain_names": ["Bad_Name.example.com"]}, "domain_names='Bad_Name.example.com': must be a lowercase DNS name"),
        (
            {"certificate": "arn:aws:acm:eu-west-1:123456789012:certificate/x", "domain_names": ["a.example.com"]},
            "certificate='arn:aws:acm:eu-west-1:123456789012:certificate/x': CloudFront only uses ACM certificates from us-east-1",
        ),
        ({"web_acl_arn": "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/a/b"}, "web_acl_arn='arn:aws:wafv2:eu-west-1"),
        ({"create_web_acl": True}, "create_web_acl=True: a web ACL for CloudFront can only be created in us-east-1, but this stack's Region is not known at synth time"),
        ({"create_web_acl": True, "web_acl_arn": WEB_ACL_ARN}, "cannot create a web ACL and attach web_acl_arn"),
        ({"web_acl_rate_limit": 50}, "web_acl_rate_limit=50: must be at least 100"),
        ({"access_logs_opt_out_reason": " "}, "say why access logs are not needed"),
        ({"access_logs_opt_out_reason": "x", "log_retention": Duration.days(3)}, "cannot opt out of access logs and configure"),
        ({"referrer_policy": cloudfront.HeadersReferrerPolicy.UNSAFE_URL}, "UNSAFE_URL sends full URLs"),
        ({"default_root_object": "/index.html"}, "default_root_object='/index.html': must be an object key"),
        ({"content_security_policy": ""}, "content_security_policy='': must not be empty"),
        ({"comment": "x" * 129}, "CloudFront comments are at most 128 characters"),
        ({"hsts_max_age": Duration.days(30)}, "hsts_max_age='30.0 days': HSTS max-age must be at least 365 days"),
        ({"log_retention": Duration.hours(36)}, "log_retention='1.5 days': must be a whole number of days"),
        ({"tags": {"aws:owner": "x"}}, "tags key 'aws:owner'"),
    ],
)
def test_invalid_props_raise_value_error_naming_the_prop(props, message):
    stack = Stack(App(), "V")
    if props.get("certificate") == "CERT":
        props = {**props, "certificate": _certificate(stack)}
    elif isinstance(props.get("certificate"), str):
        props = {**props, "certificate": _certificate(stack, props["certificate"])}
    with pytest.raises(ValueError) as error:
        BucketDistribution(stack, "Bad", **props)
    assert message in str(error.value)
    assert str(error.value).startswith("BucketDistribution: ")


@pytest.mark.parametrize(
    ("region", "props", "message"),
    [
        ("eu-west-1", {"create_web_acl": True}, "only be created in us-east-1, but this stack's Region is 'eu-west-1'"),
        ("eu-west-1", {"log_delivery": AccessLogDelivery.STANDARD_V2}, "can only be set up from us-east-1, not 'eu-west-1'; use LEGACY"),
    ],
)
def test_region_bound_features_name_the_stack_region(region, props, message):
    stack = Stack(App(), "V", env=Environment(account="123456789012", region=region))
    with pytest.raises(ValueError, match=message):
        BucketDistribution(stack, "Bad", **props)


def test_several_violations_are_reported_together():
    with pytest.raises(ValueError) as error:
        BucketDistribution(
            Stack(App(), "V"), "Bad",
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.ALLOW_ALL, default_root_object="/x",
        )
    assert "viewer_protocol_policy=" in str(error.value) and "default_root_object='/x'" in str(error.value)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"bucket": "my-bucket"}, "bucket must be SecureBucket or IBucket, got str"),
        ({"price_class": "PriceClass_100"}, "price_class must be PriceClass, got str"),
        ({"domain_names": "www.example.com"}, "domain_names must be a sequence of str"),
        ({"log_delivery": "legacy"}, "log_delivery must be AccessLogDelivery, got str"),
        ({"create_web_acl": "yes"}, "create_web_acl must be bool, got str"),
        ({"hsts_max_age": 365}, "hsts_max_age must be Duration, got int"),
    ],
)
def test_wrong_types_raise_type_error_naming_the_prop(props, message):
    with pytest.raises(TypeError, match=message):
        BucketDistribution(Stack(App(), "V"), "Bad", **props)


def test_a_resource_that_is_not_a_bucket_is_refused_as_origin():
    stack = Stack(App(), "V")
    with pytest.raises(TypeError, match=r"bucket must be SecureBucket or IBucket, got Key \(V/NotABucket\)"):
        BucketDistribution(stack, "Bad", bucket=kms.Key(stack, "NotABucket"))


def test_parameter_tokens_are_not_judged():
    def build(stack):
        domain = CfnParameter(stack, "Domain", type="String")
        web_acl = CfnParameter(stack, "WebAclArn", type="String")
        certificate = acm.Certificate.from_certificate_arn(stack, "Cert", CfnParameter(stack, "CertArn").value_as_string)
        return BucketDistribution(
            stack, "Site", domain_names=[domain.value_as_string], certificate=certificate, web_acl_arn=web_acl.value_as_string
        )

    synth = synthesize(build)
    config = _config(synth)
    assert config["Aliases"] == [{"Ref": "Domain"}]
    assert config["WebACLId"] == {"Ref": "WebAclArn"}
    assert config["ViewerCertificate"]["AcmCertificateArn"] == {"Ref": "CertArn"}


# ---- documentation snippet ------------------------------------------------------------------


def test_docs_snippet_synthesizes_clean_in_us_east_1():
    module = importlib.import_module("examples.snippets.bucket_distribution_usage")
    synth = synthesize(module.build, env=TEST_ENV)
    assert len(synth.resources("AWS::CloudFront::Distribution")) == 2
    assert synth.only("AWS::WAFv2::WebACL")["Scope"] == "CLOUDFRONT"
    assert_compliant(synth)


def _error_responses(stack, responses):
    site = BucketDistribution(stack, "Site", error_responses=responses)
    template = Template.from_stack(stack).to_json()
    (distribution,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudFront::Distribution"]
    return site, distribution["Properties"]["DistributionConfig"].get("CustomErrorResponses")


@pytest.mark.parametrize(
    ("responses", "expected"),
    [
        # A page without a status: a missing object is answered 404 with that page, not 403.
        (
            [cloudfront.ErrorResponse(http_status=404, response_page_path="/404.html", ttl=Duration.seconds(30))],
            [
                {"ErrorCachingMinTTL": 30, "ErrorCode": 404, "ResponseCode": 404, "ResponsePagePath": "/404.html"},
                {"ErrorCachingMinTTL": 30, "ErrorCode": 403, "ResponseCode": 404, "ResponsePagePath": "/404.html"},
            ],
        ),
        # The user's own 403 rule is kept as it is, and nothing is added.
        (
            [
                cloudfront.ErrorResponse(http_status=404, response_http_status=200, response_page_path="/index.html"),
                cloudfront.ErrorResponse(http_status=403, response_http_status=403, response_page_path="/denied.html"),
            ],
            [
                {"ErrorCode": 404, "ResponseCode": 200, "ResponsePagePath": "/index.html"},
                {"ErrorCode": 403, "ResponseCode": 403, "ResponsePagePath": "/denied.html"},
            ],
        ),
        # No 404 rule: nothing to mirror.
        ([cloudfront.ErrorResponse(http_status=500, ttl=Duration.seconds(0))], [{"ErrorCachingMinTTL": 0, "ErrorCode": 500}]),
        ([], None),
    ],
)
def test_a_404_rule_also_answers_the_403_s3_returns_for_missing_objects(responses, expected):
    site, rendered = _error_responses(Stack(App(), "Errors"), responses)
    assert rendered == expected
    assert len(site.error_responses) == len(expected or [])


def test_the_distribution_is_not_granted_list_bucket(maximal):
    """The 403 mapping is what makes missing objects answer as intended; listing stays closed."""
    for policy in maximal.resources("AWS::S3::BucketPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement.get("Principal") == {"Service": "cloudfront.amazonaws.com"}:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert "s3:ListBucket" not in actions
