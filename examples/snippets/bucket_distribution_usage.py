"""Usage of BucketDistribution, included in the docs and synthesized by the tests (in us-east-1)."""

from aws_cdk import Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront

from serverless_patterns.bucket_distribution import BucketDistribution
from serverless_patterns.secure_bucket import SecureBucket


def build(stack: Stack) -> BucketDistribution:
    # Defaults: a new SecureBucket behind Origin Access Control, HTTPS only, security headers,
    # access logs in a dedicated encrypted bucket. Works in any stack, environment-agnostic too.
    BucketDistribution(stack, "Preview")

    # A custom domain with an ACM certificate from us-east-1 raises viewer TLS to TLSv1.2_2021;
    # create_web_acl needs a stack in us-east-1 (elsewhere pass web_acl_arn).
    certificate = acm.Certificate.from_certificate_arn(
        stack, "Certificate", "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"
    )
    site = BucketDistribution(
        stack,
        "Site",
        bucket=SecureBucket(stack, "SiteContent"),
        domain_names=["www.example.com"],
        certificate=certificate,
        create_web_acl=True,
        content_security_policy="default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        geo_restriction=cloudfront.GeoRestriction.allowlist("DE", "AT", "CH"),
        # A single-page app answers unknown paths with its index page.
        error_responses=[
            cloudfront.ErrorResponse(http_status=403, response_http_status=200, response_page_path="/index.html")
        ],
    )
    return site
