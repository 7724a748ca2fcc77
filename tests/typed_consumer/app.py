"""A user's stack, typed: the library's constructs where CDK expects the interfaces (checked by
tests/test_typing.py with mypy --strict and pyright strict)."""

from aws_cdk import App, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs

from serverless_patterns import (
    AlertingFunction,
    AlertTopic,
    AuditedTable,
    IsolatedNetwork,
    SecureBucket,
    SecureQueue,
    SecureSecret,
)


def build(stack: Stack) -> None:
    bucket: s3.IBucket = SecureBucket(stack, "Bucket")
    table: dynamodb.ITable = AuditedTable(
        stack,
        "Table",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        stream=dynamodb.StreamViewType.NEW_IMAGE,
    )
    queue: sqs.IQueue = SecureQueue(stack, "Queue")
    topic: sns.ITopic = AlertTopic(stack, "Alerts")
    secret: secretsmanager.ISecret = SecureSecret(stack, "Secret")
    vpc: ec2.IVpc = IsolatedNetwork(stack, "Network")
    fn: lambda_.IFunction = AlertingFunction(
        stack, "Fn", code=lambda_.Code.from_inline("def handler(e, c): pass"), handler="index.handler"
    )
    # (Rule.add_target itself is not checked: pyright finds CDK's own targets incompatible with
    # events.IRuleTarget, a parameter-name mismatch in aws-cdk-lib's stubs.)
    targets.LambdaFunction(fn)
    targets.SqsQueue(queue)
    targets.SnsTopic(topic)
    fn.add_event_source(sources.SqsEventSource(queue))
    fn.add_event_source(sources.DynamoEventSource(table, starting_position=lambda_.StartingPosition.LATEST))
    topic.add_subscription(subs.LambdaSubscription(fn))
    secret.grant_read(fn)
    bucket.grant_read(fn, "incoming/*")
    ec2.SecurityGroup(stack, "Group", vpc=vpc)


build(Stack(App(), "Consumer"))
