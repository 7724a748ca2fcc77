"""The constructs are the CDK interfaces they harden: CDK's own APIs take them directly.

One stack uses every construct where CDK expects its interface (rule targets, event sources,
subscriptions, notifications, origins, security groups, grants); the template must wire each
use to the construct's own resource.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from harness import synthesize

from serverless_patterns import (
    AlertingFunction,
    AlertTopic,
    AuditedTable,
    IsolatedNetwork,
    SecureBucket,
    SecureQueue,
    SecureSecret,
)
from serverless_patterns.handlers import handler_code, handler_entry

ROOT = Path(__file__).resolve().parent.parent
PK = dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)


def _function(stack: Stack, id: str, **props):
    return AlertingFunction(
        stack, id, code=handler_code("example_echo"), handler=handler_entry("example_echo"), **props
    )


def _build(stack: Stack) -> dict:
    docs = SecureBucket(stack, "Docs")
    scratch = SecureBucket(stack, "Scratch")
    table = AuditedTable(stack, "Table", partition_key=PK, stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES)
    queue = SecureQueue(stack, "Queue")
    alerts = AlertTopic(stack, "Alerts")
    more_alerts = AlertTopic(stack, "MoreAlerts")
    secret = SecureSecret(stack, "Secret")
    network = IsolatedNetwork(stack, "Network")
    fn = _function(stack, "Consumer")
    snap = _function(stack, "Snap", snap_start=True, runtime=lambda_.Runtime.PYTHON_3_13)

    rule = events.Rule(stack, "Rule", event_pattern=events.EventPattern(source=["my.app"]))
    rule.add_target(targets.LambdaFunction(fn))
    rule.add_target(targets.LambdaFunction(snap))
    rule.add_target(targets.SqsQueue(queue))
    rule.add_target(targets.SnsTopic(alerts))

    fn.add_event_source(sources.SqsEventSource(queue, batch_size=5))
    fn.add_event_source(sources.DynamoEventSource(table, starting_position=lambda_.StartingPosition.LATEST))

    # One function on two alert topics: each subscription takes its AlertTopic's id.
    alerts.add_subscription(subs.LambdaSubscription(fn))
    more_alerts.topic.add_subscription(subs.LambdaSubscription(fn))
    alerts.add_subscription(subs.SqsSubscription(queue))

    docs.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(fn), s3.NotificationKeyFilter(prefix="in/"))
    cloudfront.Distribution(
        stack,
        "Cdn",
        default_behavior=cloudfront.BehaviorOptions(origin=origins.S3BucketOrigin.with_origin_access_control(docs)),
    )

    group = ec2.SecurityGroup(stack, "Group", vpc=network, allow_all_outbound=False)
    network.add_interface_endpoint("Sts", service=ec2.InterfaceVpcEndpointAwsService.STS)

    reader = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    secret.grant_read(reader)
    queue.grant_send_messages(fn)
    scratch.apply_removal_policy(RemovalPolicy.DESTROY)
    return {
        "docs": docs, "scratch": scratch, "table": table, "queue": queue, "alerts": alerts,
        "more_alerts": more_alerts, "secret": secret, "network": network, "fn": fn, "snap": snap,
        "rule": rule, "group": group, "reader": reader,
    }


@pytest.fixture(scope="module")
def synth():
    return synthesize(_build, stack_name="Interop")


@pytest.fixture(scope="module")
def built(synth):
    return synth.extra["built"]


def _of_type(synth, kind: str) -> dict[str, dict]:
    return {k: r for k, r in synth.template["Resources"].items() if r["Type"] == kind}


def _ref(construct) -> str:
    stack = Stack.of(construct)
    return stack.get_logical_id(construct.node.default_child)


def test_rule_targets_are_the_constructs_resources(synth, built):
    (rule,) = _of_type(synth, "AWS::Events::Rule").values()
    arns = [t["Arn"] for t in rule["Properties"]["Targets"]]
    assert {"Fn::GetAtt": [_ref(built["fn"].function), "Arn"]} in arns
    assert {"Fn::GetAtt": [_ref(built["queue"].queue), "Arn"]} in arns
    assert {"Ref": _ref(built["alerts"].topic)} in arns
    # With SnapStart the construct is its alias: the target and its permission name the alias.
    assert {"Ref": _ref(built["snap"].alias)} in arns
    permissions = [
        p["Properties"] for p in _of_type(synth, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
    ]
    assert {"Ref": _ref(built["snap"].alias)} in [p["FunctionName"] for p in permissions]
    assert {"Fn::GetAtt": [_ref(built["fn"].function), "Arn"]} in [p["FunctionName"] for p in permissions]


def test_event_sources_read_the_queue_and_the_table_stream(synth, built):
    mappings = [m["Properties"] for m in _of_type(synth, "AWS::Lambda::EventSourceMapping").values()]
    by_source = {str(m["EventSourceArn"]): m for m in mappings}
    queue_arn = {"Fn::GetAtt": [_ref(built["queue"].queue), "Arn"]}
    stream_arn = {"Fn::GetAtt": [_ref(built["table"].table), "StreamArn"]}
    assert str(queue_arn) in by_source and str(stream_arn) in by_source
    for mapping in mappings:
        assert mapping["FunctionName"] == {"Ref": _ref(built["fn"].function)}
    assert by_source[str(queue_arn)]["BatchSize"] == 5


def test_one_function_subscribes_to_two_alert_topics_and_a_queue_to_one(synth, built):
    subscriptions = [s["Properties"] for s in _of_type(synth, "AWS::SNS::Subscription").values()]
    fn_arn = {"Fn::GetAtt": [_ref(built["fn"].function), "Arn"]}
    lambda_topics = [s["TopicArn"] for s in subscriptions if s["Protocol"] == "lambda" and s["Endpoint"] == fn_arn]
    assert sorted(map(str, lambda_topics)) == sorted(
        str({"Ref": _ref(topic.topic)}) for topic in (built["alerts"], built["more_alerts"])
    )
    (sqs_subscription,) = [s for s in subscriptions if s["Protocol"] == "sqs"]
    assert sqs_subscription["Endpoint"] == {"Fn::GetAtt": [_ref(built["queue"].queue), "Arn"]}
    assert sqs_subscription["TopicArn"] == {"Ref": _ref(built["alerts"].topic)}
    # The subscriptions live under the function with the AlertTopics' ids.
    children = {c.node.id for c in built["fn"].node.children}
    assert {"Alerts", "MoreAlerts"} <= children


def test_bucket_notification_and_cloudfront_origin_use_the_secure_bucket(synth, built):
    (notifications,) = _of_type(synth, "Custom::S3BucketNotifications").values()
    props = notifications["Properties"]
    assert props["BucketName"] == {"Ref": _ref(built["docs"].bucket)}
    (config,) = props["NotificationConfiguration"]["LambdaFunctionConfigurations"]
    assert config["LambdaFunctionArn"] == {"Fn::GetAtt": [_ref(built["fn"].function), "Arn"]}
    (distribution,) = _of_type(synth, "AWS::CloudFront::Distribution").values()
    (origin,) = distribution["Properties"]["DistributionConfig"]["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": [_ref(built["docs"].bucket), "RegionalDomainName"]}
    policies = [
        p["Properties"] for p in _of_type(synth, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": _ref(built["docs"].bucket)}
    ]
    principals = [s.get("Principal") for p in policies for s in p["PolicyDocument"]["Statement"]]
    assert {"Service": "cloudfront.amazonaws.com"} in principals


def test_security_group_and_endpoint_are_in_the_isolated_network(synth, built):
    vpc_ref = {"Ref": _ref(built["network"].vpc)}
    group = synth.template["Resources"][_ref(built["group"])]
    assert group["Properties"]["VpcId"] == vpc_ref
    endpoints = [e["Properties"] for e in _of_type(synth, "AWS::EC2::VPCEndpoint").values()]
    sts = [e for e in endpoints if "sts" in str(e["ServiceName"])]
    assert len(sts) == 1 and sts[0]["VpcId"] == vpc_ref


def test_grants_and_removal_policy_through_the_interfaces(synth, built):
    statements = [
        s for p in _of_type(synth, "AWS::IAM::Policy").values() for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    secret_ref = {"Ref": _ref(built["secret"].secret)}
    assert any(s["Resource"] == secret_ref and "secretsmanager:GetSecretValue" in s["Action"] for s in statements)
    scratch = synth.template["Resources"][_ref(built["scratch"].bucket)]
    assert scratch["DeletionPolicy"] == "Delete"
    assert Stack.of(built["docs"]) is built["docs"].stack
    assert built["docs"].env.region == built["docs"].bucket.env.region


def test_every_construct_declares_its_interface():
    for construct, interface in (
        (SecureBucket, s3.IBucket),
        (AuditedTable, dynamodb.ITable),
        (AlertingFunction, lambda_.IFunction),
        (SecureQueue, sqs.IQueue),
        (AlertTopic, sns.ITopic),
        (SecureSecret, secretsmanager.ISecret),
        (IsolatedNetwork, ec2.IVpc),
    ):
        assert interface in construct.__jsii_ifaces__, construct


def test_interop_module_is_generated_from_the_installed_cdk():
    spec = importlib.util.spec_from_file_location("gen_interop", ROOT / "scripts" / "gen_interop.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert gen.TARGET.read_text() == gen.generate(), "stale: run python scripts/gen_interop.py"


def test_lambda_subscription_on_the_pipeline_status_topic():
    """The issue's reproduction: a plain ``lambda_.Function`` subscribed to the pipeline's topics."""
    from aws_cdk import App

    from serverless_patterns import DocumentPipeline

    stack = Stack(App(), "Subscriber")
    pipeline = DocumentPipeline(stack, "Docs")
    fn = lambda_.Function(
        stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
    )
    pipeline.status_topic.topic.add_subscription(subs.LambdaSubscription(fn))
    pipeline.alert_topic.add_subscription(subs.LambdaSubscription(fn))
    subscriptions = {c.node.id: c for c in fn.node.children if isinstance(c, sns.Subscription)}
    assert set(subscriptions) == {pipeline.status_topic.node.id, pipeline.alert_topic.node.id}
    topic_arn = stack.resolve(subscriptions[pipeline.status_topic.node.id].node.default_child.topic_arn)
    assert topic_arn == stack.resolve(pipeline.status_topic.topic_arn)
