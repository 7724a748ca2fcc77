"""conventions: the environment, resource names, constrained parameters and required tags."""

from __future__ import annotations

import importlib
import re

import pytest
from aws_cdk import App, Duration, Stack, Tags
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk.assertions import Template
from harness import TEST_ENV, assert_compliant, synthesize
from hypothesis import given
from hypothesis import strategies as st
from tag_coverage import missing_tags, taggable_types

from serverless_patterns import audited_table
from serverless_patterns.alert_topic import AlertTopic
from serverless_patterns.alerting_function import AlertingFunction
from serverless_patterns.audit_trail import AuditTrail
from serverless_patterns.audited_table import AuditedTable
from serverless_patterns.bucket_distribution import BucketDistribution
from serverless_patterns.conventions import (
    ALERT_EMAIL_PATTERN,
    NAME_RULES,
    RESOURCE_PREFIX_MAX_LENGTH,
    RESOURCE_PREFIX_PATTERN,
    alert_email_parameter,
    apply_required_tags,
    capacity_parameters,
    environment_suffix,
    resource_name,
    resource_prefix_parameter,
    stack_instance_id,
)
from serverless_patterns.handlers import handler_code, handler_entry
from serverless_patterns.secure_bucket import SecureBucket
from serverless_patterns.secure_queue import SecureQueue

REQUIRED = {"Environment": "Production", "CostCentre": "1234"}


def _stack(context=None):
    return Stack(App(context=context or {}), "Conventions")


# ---- environment_suffix -----------------------------------------------------------------------


def test_the_environment_defaults_to_dev():
    assert environment_suffix(_stack()) == "dev"


@pytest.mark.parametrize("name", ["dev", "staging", "prod"])
def test_the_environment_comes_from_context_env(name):
    stack = _stack({"env": name})
    assert environment_suffix(stack) == name
    assert environment_suffix(stack.node.root) == name  # any scope of the app


def test_another_environment_is_refused_naming_the_context_key_and_value():
    with pytest.raises(ValueError) as error:
        environment_suffix(_stack({"env": "Prod"}))
    assert str(error.value) == (
        "environment_suffix: invalid props:\n"
        "  - context env='Prod': must be one of dev, staging, prod (set it with 'cdk synth -c env=<environment>')"
    )


def test_default_allowed_and_context_key_can_be_chosen():
    stack = _stack({"stage": "qa"})
    assert environment_suffix(stack, default="test", allowed=("test", "qa"), context_key="stage") == "qa"
    assert environment_suffix(_stack(), default="test", allowed=("test", "qa")) == "test"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"default": "prod2"}, "default='prod2': must be one of dev, staging, prod"),
        ({"allowed": ("dev", "Prod")}, "allowed='Prod': environment names are 1-16 lowercase letters and digits"),
        ({"allowed": (), "default": "dev"}, "allowed=[]: name at least one environment"),
    ],
)
def test_environment_options_are_validated(kwargs, message):
    with pytest.raises(ValueError) as error:
        environment_suffix(_stack(), **kwargs)
    assert message in str(error.value)


def test_allowed_must_be_a_sequence_of_names():
    with pytest.raises(TypeError, match="allowed must be a sequence of names, got 'dev'"):
        environment_suffix(_stack(), allowed="dev")


# ---- resource_name ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "kwargs", "expected"),
    [
        ("documents", {"prefix": "prod"}, "prod-documents"),
        ("ingest", {"suffix": "dev"}, "ingest-dev"),
        ("Ingest", {"suffix": "dev"}, "ingest-dev"),  # generic names are lowercase
        ("Ingest", {"prefix": "Prod", "kind": "lambda_function"}, "Prod-Ingest"),  # Lambda keeps the case
        ("Logs", {"prefix": "Prod", "kind": "s3_bucket"}, "prod-logs"),  # S3 needs lowercase
        ("orders_v2", {"suffix": "prod", "kind": "dynamodb_table"}, "orders_v2-prod"),
        ("api.v1", {"kind": "rest_api"}, "api.v1"),
    ],
)
def test_names_are_joined_with_hyphens(base, kwargs, expected):
    assert resource_name(_stack(), base, **kwargs) == expected


@pytest.mark.parametrize(
    ("base", "kwargs", "message"),
    [
        ("a b", {}, "base='a b': generic names accept only [a-z0-9-]"),
        ("orders_v2", {}, "base='orders_v2': generic names accept only [a-z0-9-]"),
        ("docs", {"prefix": "-x"}, "prefix='-x': generic names accept only"),
        ("docs", {"suffix": "dev--1"}, "suffix='dev--1'"),
        ("docs", {"suffix": ""}, "suffix=''"),
        ("f" * 62, {"suffix": "dev", "kind": "lambda_function"}, "is 66 characters; lambda_function names must have 1-64"),
        ("ab", {}, "name='ab': is 2 characters; generic names must have 3-63"),
        ("documents", {"prefix": "prod", "max_length": 10}, "name='prod-documents': is 14 characters; generic names must have 3-10"),
        ("docs", {"max_length": 64}, "max_length=64: must be a whole number from 3 to 63 (the limit of generic)"),
        ("docs", {"kind": "ec2"}, "kind='ec2': must be one of generic, s3_bucket"),
        ("1.2.3.4", {"kind": "s3_bucket"}, "name='1.2.3.4': S3 refuses bucket names shaped like an IP address"),
        ("sthree-data", {"kind": "s3_bucket"}, "or with a reserved prefix"),
        ("data", {"suffix": "s3alias", "kind": "s3_bucket"}, "name='data-s3alias'"),
    ],
)
def test_names_services_would_refuse_are_refused(base, kwargs, message):
    with pytest.raises(ValueError) as error:
        resource_name(_stack(), base, **kwargs)
    assert message in str(error.value)
    assert str(error.value).startswith("resource_name (at Conventions): invalid props:")


def test_a_base_that_is_not_a_string_is_a_type_error():
    with pytest.raises(TypeError, match="resource_name: base must be str, got NoneType"):
        resource_name(_stack(), None)


def test_a_parameter_part_makes_an_unjudged_join():
    stack = _stack()
    prefix = resource_prefix_parameter(stack)
    name = resource_name(stack, "documents", prefix=prefix.value_as_string, suffix="prod", kind="s3_bucket")
    assert stack.resolve(name) == {"Fn::Join": ["-", [{"Ref": "ResourcePrefix"}, "documents-prod"]]}


#: How CloudFormation gets the 12 hex digits of the stack instance's id (the last UUID group).
STACK_INSTANCE_ID = {"Fn::Select": [4, {"Fn::Split": ["-", {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}]}]}


def test_unique_per_stack_puts_the_stack_instance_id_before_the_suffix():
    stack = _stack()
    name = resource_name(stack, "objects", suffix="dev", kind="dynamodb_table", unique_per_stack=True)
    assert stack.resolve(name) == {"Fn::Join": ["-", ["objects", STACK_INSTANCE_ID, "dev"]]}
    assert stack.resolve(stack_instance_id(stack)) == STACK_INSTANCE_ID


def test_unique_per_stack_counts_the_id_in_the_length():
    stack = _stack()
    # 50 + 1 + 12 = 63: the longest generic name; one more character is refused.
    resource_name(stack, "a" * 50, unique_per_stack=True)
    with pytest.raises(ValueError, match=r"name='a{51}-<stack-instance-id>': is 64 characters; generic names must have 3-63"):
        resource_name(stack, "a" * 51, unique_per_stack=True)
    with pytest.raises(TypeError, match="unique_per_stack"):
        resource_name(stack, "orders", unique_per_stack="yes")


def test_literal_parts_next_to_a_parameter_are_still_checked():
    stack = _stack()
    prefix = resource_prefix_parameter(stack)
    with pytest.raises(ValueError, match="base='bad name'"):
        resource_name(stack, "bad name", prefix=prefix.value_as_string)


@given(
    prefix=st.from_regex(RESOURCE_PREFIX_PATTERN, fullmatch=True).filter(lambda p: len(p) <= RESOURCE_PREFIX_MAX_LENGTH),
    kind=st.sampled_from(sorted(NAME_RULES)),
)
def test_every_prefix_the_parameter_admits_makes_a_valid_name_of_every_kind(prefix, kind):
    # What CloudFormation lets through the ResourcePrefix parameter is a valid literal prefix too.
    assert resource_name(_PARAMETER_STACK, "data", prefix=prefix, kind=kind).startswith(prefix)


_PARAMETER_STACK = _stack()


# ---- parameters -------------------------------------------------------------------------------


def test_the_resource_prefix_parameter_is_constrained():
    stack = _stack()
    parameter = resource_prefix_parameter(stack, default="acme")
    assert resource_prefix_parameter(stack) is parameter  # created once
    assert Template.from_stack(stack).to_json()["Parameters"]["ResourcePrefix"] == {
        "Type": "String",
        "Default": "acme",
        "AllowedPattern": "^[a-z][a-z0-9]*(-[a-z0-9]+)*$",
        "MinLength": 1,
        "MaxLength": 20,
        "ConstraintDescription": (
            "1-20 lowercase letters, digits and hyphens, starting with a letter, without a hyphen at the end "
            "or two in a row (it becomes part of resource names)"
        ),
        "Description": "Prefix of resource names, to keep the names of several deployments apart.",
    }


@pytest.mark.parametrize(
    ("value", "admitted"),
    [("acme", True), ("team-7", True), ("a", True), ("Acme", False), ("7team", False), ("team-", False), ("a--b", False), ("a_b", False)],
)
def test_the_prefix_pattern_admits_only_portable_prefixes(value, admitted):
    assert bool(re.match(RESOURCE_PREFIX_PATTERN, value)) is admitted


@pytest.mark.parametrize("default", ["Acme", "x" * 21, "a--b"])
def test_a_prefix_default_the_pattern_refuses_is_refused(default):
    with pytest.raises(ValueError, match=re.escape(f"resource_prefix_parameter: invalid props:\n  - default={default!r}")):
        resource_prefix_parameter(_stack(), default=default)


def test_the_alert_email_parameter_is_constrained_like_alert_topic_addresses():
    stack = _stack()
    parameter = alert_email_parameter(stack)
    assert alert_email_parameter(stack) is parameter
    spec = Template.from_stack(stack).to_json()["Parameters"]["AlertEmail"]
    assert spec["Type"] == "String"
    assert spec["AllowedPattern"] == ALERT_EMAIL_PATTERN
    assert (spec["MinLength"], spec["MaxLength"]) == (3, 254)
    assert spec["ConstraintDescription"] == "an email address such as name@example.com"
    assert "Default" not in spec
    for address, admitted in (("ops@example.com", True), ("first.last+alerts@sub.example.co.uk", True), ("ops", False), ("ops@", False), ("a b@example.com", False)):
        assert bool(re.match(ALERT_EMAIL_PATTERN, address)) is admitted, address
    AlertTopic(stack, "Alerts", emails=[parameter.value_as_string])  # a parameter is not judged


def test_an_email_default_must_be_an_address():
    with pytest.raises(ValueError, match="default='oncall': is not an email address"):
        alert_email_parameter(_stack(), default="oncall")


def test_parameters_need_a_stack():
    with pytest.raises(TypeError, match="resource_prefix_parameter: stack must be Stack, got App"):
        resource_prefix_parameter(App())


def test_capacity_parameters_are_audited_tables_own():
    assert capacity_parameters is audited_table.capacity_parameters


# ---- apply_required_tags ----------------------------------------------------------------------


def _whole_app(stack):
    """One of every construct of the library, wired together, tagged at the app."""
    alerts = AlertTopic(stack, "Alerts", emails=["ops@example.com"])
    bucket = SecureBucket(stack, "Data", event_bridge_enabled=True)
    table = AuditedTable(
        stack,
        "Table",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        alarm_topic=alerts.topic,
    )
    queue = SecureQueue(stack, "Events", alarm_topic=alerts)
    events.Rule(stack, "Created", event_pattern=events.EventPattern(source=["aws.s3"]), targets=[queue.rule_target()])
    function = AlertingFunction(
        stack, "Worker", code=handler_code("example_echo"), handler=handler_entry("example_echo"),
        timeout=Duration.seconds(10), alert_topic=alerts, dashboard=True,
    )
    function.add_sqs_source(queue.queue)
    function.add_dynamodb_stream_source(table.table)
    bucket.grant_read(function)
    table.grant_write_data(function)
    AuditTrail(stack, "Trail").add_s3_data_events([bucket])
    BucketDistribution(stack, "Site")
    apply_required_tags(stack.node.root, REQUIRED)


@pytest.fixture(scope="module")
def whole_app():
    return synthesize(_whole_app, env=TEST_ENV)


def test_tags_reach_every_taggable_resource_inside_every_construct(whole_app):
    # Judged by CloudFormation's resource schemas, not by what CDK thinks is taggable.
    assert not missing_tags(whole_app.template, REQUIRED, "us-east-1")
    assert taggable_types(whole_app.template, "us-east-1") >= {
        "AWS::S3::Bucket", "AWS::KMS::Key", "AWS::DynamoDB::Table", "AWS::Lambda::Function", "AWS::IAM::Role",
        "AWS::Logs::LogGroup", "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::CloudWatch::Alarm", "AWS::Events::Rule",
        "AWS::Lambda::EventSourceMapping", "AWS::CloudTrail::Trail", "AWS::CloudFront::Distribution",
    }


def test_the_check_sees_a_missing_tag():
    template = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"Tags": [{"Key": "Environment", "Value": "Test"}]}}}}
    assert missing_tags(template, REQUIRED, "us-east-1") == {
        "Bucket (AWS::S3::Bucket)": {"Environment": "Test", "CostCentre": None}
    }


def test_synthesis_fails_naming_a_resource_that_lost_a_required_tag():
    app = App()
    stack = Stack(app, "Tagged")
    SecureBucket(stack, "Data")
    apply_required_tags(app, REQUIRED)
    Tags.of(stack.node.find_child("Data").node.find_child("AccessLogs")).remove("CostCentre")
    with pytest.raises(Exception, match=r"Tagged/Data/AccessLogs/Resource: missing CostCentre"):
        app.synth()


@pytest.mark.parametrize(
    ("tags", "error", "message"),
    [
        ({}, ValueError, "apply_required_tags: tags={}: name at least one tag"),
        ({"aws:owner": "x"}, ValueError, "apply_required_tags: tags key 'aws:owner' must be 1-128 characters"),
        ({"Owner": 7}, TypeError, "apply_required_tags: tags must map str to str"),
        (["Environment"], TypeError, "apply_required_tags: tags must be a mapping of str to str"),
    ],
)
def test_required_tags_are_validated(tags, error, message):
    with pytest.raises(error, match=re.escape(message)):
        apply_required_tags(App(), tags)


# ---- the documented usage ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def snippet():
    return synthesize(importlib.import_module("examples.snippets.conventions_usage").build)


def test_the_snippet_names_the_table_from_the_parameters_and_tags_everything(snippet):
    (table,) = snippet.resources("AWS::DynamoDB::Table").values()
    assert table["Properties"]["TableName"] == {
        "Fn::Join": ["-", [{"Ref": "ResourcePrefix"}, "orders", STACK_INSTANCE_ID, "dev"]]
    }
    (topic,) = snippet.resources("AWS::SNS::Topic").values()
    assert topic["Properties"]["TopicName"] == "audit-log-dev"
    assert set(snippet.template["Parameters"]) >= {"ResourcePrefix", "AlertEmail", "DynamoDbReadCapacity", "DynamoDbWriteCapacity"}
    assert not missing_tags(snippet.template, {"Environment": "Production", "Owner": "data-platform"}, "us-east-1")


def test_the_snippet_is_compliant(snippet):
    assert_compliant(snippet)
