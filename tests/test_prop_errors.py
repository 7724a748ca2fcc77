"""How invalid props are reported: interface checks, nested validation, resources in messages, CORS.

A composite construct reports the problems of the props it hands to its nested constructs up
front, in one error, under its own name and the prop the user passed; a resource prints as its
construct path and ARN; ``cors_origins`` takes loopback http origins (with a warning) and nothing
else over plain http.
"""

from __future__ import annotations

import re

import jsii
import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match, Template
from constructs import Construct
from harness import TEST_ENV

from serverless_patterns._apis import DEV_CORS_ORIGIN_WARNING
from serverless_patterns._prop_types import check_prop_types
from serverless_patterns._validation import (
    InvalidProps,
    PropErrors,
    _is_instance,
    describe,
    require_type,
)
from serverless_patterns.audit_trail import AuditTrail
from serverless_patterns.document_pipeline import DocumentPipeline
from serverless_patterns.handlers import handler_code, handler_entry
from serverless_patterns.keyed_api import ApiWithKeyedUsagePlan, UsagePlanTier
from serverless_patterns.secure_http_api import SecureHttpApi

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:ops-alerts"


@pytest.fixture(scope="module")
def stack() -> Stack:
    return Stack(App(), "Errors", env=TEST_ENV)


@pytest.fixture(scope="module")
def imported_key(stack):
    return kms.Key.from_key_arn(stack, "ImportedKey", KEY_ARN)


@jsii.implements(sns.ITopic)
class _DeclaresTopic(Construct):
    """Stands for a library construct that implements an interface with ``@jsii.implements``."""


def _build(*, key: kms.IKey | None = None, topic: sns.ITopic | None = None) -> None: ...


# ---- interfaces ----------------------------------------------------------------------------------


def test_an_imported_key_is_a_key_and_nothing_else(stack, imported_key):
    assert _is_instance(imported_key, kms.IKey)
    assert not _is_instance(imported_key, sns.ITopic), "an object made in JavaScript implements only its interfaces"
    assert _is_instance(kms.Key(stack, "Own"), kms.IKey)
    assert not _is_instance(kms.Key(stack, "Other"), sns.ITopic)
    assert _is_instance(sns.Topic.from_topic_arn(stack, "T1", TOPIC_ARN), sns.ITopic)


def test_a_class_that_declares_an_interface_implements_it(stack):
    declared = _DeclaresTopic(stack, "Declared")
    assert _is_instance(declared, sns.ITopic)
    check_prop_types("Probe", _build, {"topic": declared})
    with pytest.raises(TypeError, match=r"Probe: key must be IKey, got _DeclaresTopic \(Errors/Declared\)"):
        check_prop_types("Probe", _build, {"key": declared})


def test_prop_types_accept_an_interface_annotation_and_name_a_wrong_resource(stack, imported_key):
    check_prop_types("Probe", _build, {"key": imported_key, "topic": sns.Topic.from_topic_arn(stack, "T2", TOPIC_ARN)})
    with pytest.raises(TypeError) as error:
        check_prop_types("Probe", _build, {"topic": imported_key})
    assert str(error.value) == f"Probe: topic must be ITopic, got IKey (Errors/ImportedKey ({KEY_ARN}))"


def test_resources_print_as_path_and_arn_never_as_a_jsii_proxy(stack, imported_key):
    assert describe(imported_key) == f"Errors/ImportedKey ({KEY_ARN})"
    assert describe(kms.Key(stack, "Mine")) == "Errors/Mine"  # its ARN is only known after deployment
    assert describe(Duration.minutes(90)) == "Duration of 1 hour 30 minutes"
    assert describe("text") == "'text'" and describe(None) == "None"
    errors = PropErrors("Probe")
    errors.add("key", imported_key, "is not allowed here")
    with pytest.raises(ValueError) as error:
        errors.raise_if_any()
    assert "InterfaceDynamicProxy" not in str(error.value)
    assert f"key=Errors/ImportedKey ({KEY_ARN}): is not allowed here" in str(error.value)
    with pytest.raises(TypeError) as type_error:
        require_type("Probe", "key", object.__new__(type("Opaque", (), {})), kms.IKey)
    assert "Probe: key must be IKey, got Opaque" in str(type_error.value)


# ---- nested validation ---------------------------------------------------------------------------


def test_nested_errors_are_renamed_to_the_outer_props_and_collected():
    errors = PropErrors("Outer")
    errors.add("own", 1, "is wrong")
    with errors.nested({"rate": "api_rate", "origins": "cors_origins"}):
        inner = PropErrors("Inner")
        inner.add("rate", 0, "must be above 0")
        inner.add("origins[]", "http://x", "must be https")
        inner.add("set_by_outer", 5, "is off")
        inner.raise_if_any()
    with errors.nested({"key": "encryption_key"}):
        require_type("Inner", "key", "not a key", kms.IKey)
    with pytest.raises(InvalidProps) as error:
        errors.raise_if_any()
    assert isinstance(error.value, ValueError) and isinstance(error.value, TypeError)
    assert str(error.value) == (
        "Outer: invalid props:\n"
        "  - own=1: is wrong\n"
        "  - api_rate=0: must be above 0\n"
        "  - cors_origins[]='http://x': must be https\n"
        "  - set_by_outer (of the nested Inner)=5: is off\n"
        "  - encryption_key='not a key': must be IKey"
    )


def test_document_pipeline_reports_its_own_and_its_apis_problems_in_one_error():
    with pytest.raises(ValueError) as error:
        DocumentPipeline(
            Stack(App(), "Pipeline"),
            "Docs",
            max_document_bytes=0,
            cors_origins=["http://app.example.com", "https://ok.example.com"],
            authorizer_cache_ttl=Duration.hours(2),
            tiers=[UsagePlanTier(name="basic", level="read-only", rate_limit=0, burst_limit=1)],
        )
    message = str(error.value)
    assert message.startswith("DocumentPipeline: invalid props:\n")
    assert "ApiWithKeyedUsagePlan" not in message
    lines = message.splitlines()[1:]
    assert "  - max_document_bytes=0: must be at least 1 bytes" in lines
    assert any(line.startswith("  - cors_origins='http://app.example.com': must be an https origin") for line in lines)
    assert "  - authorizer_cache_ttl='7200 seconds': must be whole seconds from 0 (no caching) to 3600" in lines
    assert any(line.startswith("  - tiers") and "rate_limit" in line for line in lines), lines
    assert len(lines) == 4, lines


# ---- CORS origins ---------------------------------------------------------------------------------


def _function(stack: Stack) -> lambda_.Function:
    return lambda_.Function(
        stack, "Fn", code=handler_code("example_echo"), handler=handler_entry("example_echo"), runtime=lambda_.Runtime.PYTHON_3_13
    )


def _dev_warnings(stack: Stack) -> list[str]:
    messages = [m.entry.data for m in Annotations.from_stack(stack).find_warning("*", Match.any_value())]
    return [m for m in messages if m.endswith(f"[ack: {DEV_CORS_ORIGIN_WARNING}]")]


@pytest.mark.parametrize(
    "build",
    [
        lambda s, origins: ApiWithKeyedUsagePlan(s, "Api", cors_origins=origins).add_route(
            "GET", "/items", _function(s), level="read-only"
        ),
        lambda s, origins: SecureHttpApi(s, "Api", cors_origins=origins),
    ],
    ids=["ApiWithKeyedUsagePlan", "SecureHttpApi"],
)
def test_loopback_origins_are_accepted_with_a_dev_warning(build):
    stack = Stack(App(), "Dev")
    build(stack, ["http://localhost:3000", "http://127.0.0.1", "https://app.example.com"])
    (warning,) = _dev_warnings(stack)
    assert "allows the loopback origins http://localhost:3000, http://127.0.0.1 over plain http" in warning
    assert "For development stages only" in warning
    quiet = Stack(App(), "Prod")
    build(quiet, ["https://app.example.com"])
    assert _dev_warnings(quiet) == []


@pytest.mark.parametrize("origin", ["http://app.example.com", "http://localhost.example.com", "http://127.0.0.1.nip.io", "http://localhost:3000/"])
@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda s, o: ApiWithKeyedUsagePlan(s, "Api", cors_origins=[o]), "ApiWithKeyedUsagePlan"),
        (lambda s, o: SecureHttpApi(s, "Api", cors_origins=[o]), "SecureHttpApi"),
        (lambda s, o: DocumentPipeline(s, "Docs", cors_origins=[o]), "DocumentPipeline"),
    ],
)
def test_any_other_http_origin_is_refused(build, name, origin):
    with pytest.raises(ValueError, match=rf"^{name}: invalid props:\n  - cors_origins={re.escape(repr(origin))}: must be an https origin"):
        build(Stack(App(), "Refused"), origin)


def test_document_pipeline_accepts_a_loopback_origin_for_bucket_and_api():
    stack = Stack(App(), "DevPipeline")
    DocumentPipeline(stack, "Docs", cors_origins=["http://localhost:5173"])
    warnings = _dev_warnings(stack)
    assert any("documents bucket" in w and "DevPipeline/Docs " in w for w in warnings)
    assert any(w.startswith("The CORS configuration of DevPipeline/Docs/Api ") for w in warnings)
    template = Template.from_stack(stack).to_json()
    cors = [r["Properties"]["CorsConfiguration"] for r in template["Resources"].values()
            if r["Type"] == "AWS::S3::Bucket" and "CorsConfiguration" in r["Properties"]]
    assert cors == [{"CorsRules": [{"AllowedHeaders": ["*"], "AllowedMethods": ["POST"], "AllowedOrigins": ["http://localhost:5173"], "MaxAge": 3000}]}]


def test_keyed_api_reports_its_authorizer_functions_problems_under_its_own_props():
    with pytest.raises(ValueError) as error:
        ApiWithKeyedUsagePlan(
            Stack(App(), "Keyed"),
            "Api",
            stage_name="bad name!",
            authorizer_vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        )
    lines = str(error.value).splitlines()
    assert lines[0] == "ApiWithKeyedUsagePlan: invalid props:"
    assert "AlertingFunction" not in str(error.value)
    assert lines[1] == "  - stage_name='bad name!': must be 1-128 letters, digits, '_' or '-'"
    assert lines[2].startswith("  - authorizer_vpc_subnets=SubnetSelection(") and lines[2].endswith(": needs vpc")
    assert len(lines) == 3


def test_audit_trail_reports_its_buckets_problems_under_its_own_props():
    stack = Stack(App(), "Trail")
    kms_logs = s3.Bucket(stack, "KmsLogs", encryption=s3.BucketEncryption.KMS)
    with pytest.raises(ValueError) as error:
        AuditTrail(stack, "Audit", server_access_logs_bucket=kms_logs, s3_key_prefix="/logs")
    message = str(error.value)
    assert message.startswith("AuditTrail: invalid props:\n")
    assert "SecureBucket" not in message
    assert "  - s3_key_prefix='/logs': must not be empty or start or end with '/'" in message
    assert "  - server_access_logs_bucket='Trail/KmsLogs': is encrypted with aws:kms" in message
