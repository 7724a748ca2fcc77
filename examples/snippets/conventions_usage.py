"""Usage of the conventions module, included in the docs and synthesized by the tests."""

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb

from serverless_patterns.alert_topic import AlertTopic
from serverless_patterns.audited_table import AuditedTable
from serverless_patterns.conventions import (
    alert_email_parameter,
    apply_required_tags,
    capacity_parameters,
    environment_suffix,
    resource_name,
    resource_prefix_parameter,
)


def build(stack: Stack) -> AuditedTable:
    # "dev" unless the app runs with `cdk synth -c env=staging` (or prod); anything else fails.
    environment = environment_suffix(stack)

    # Constrained parameters: a bad value fails before CloudFormation touches a resource.
    prefix = resource_prefix_parameter(stack, default="acme")  # ResourcePrefix: ^[a-z][a-z0-9]*(-[a-z0-9]+)*$
    email = alert_email_parameter(stack)  # AlertEmail: an email address
    read, write = capacity_parameters(stack)  # DynamoDbReadCapacity / DynamoDbWriteCapacity, at least 5

    # Literal names are checked against the service's rules: "audit-log-dev" ...
    log_topic_name = resource_name(stack, "audit-log", suffix=environment, kind="sns_topic")
    AlertTopic(stack, "Alerts", emails=[email.value_as_string], topic_name=log_topic_name)

    # ... and a name with a parameter in it becomes {"Fn::Join": ["-", [{"Ref": "ResourcePrefix"}, ...]]}.
    # The table outlives the stack: unique_per_stack adds the stack instance's id, so that deploying
    # the stack again after a delete does not collide with the kept table.
    orders = AuditedTable(
        stack,
        "Orders",
        table_name=resource_name(
            stack, "orders", prefix=prefix.value_as_string, suffix=environment, kind="dynamodb_table", unique_per_stack=True
        ),
        partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PROVISIONED,
        read_capacity=read.value_as_number,
        write_capacity=write.value_as_number,
        max_read_capacity=100,
        max_write_capacity=100,
    )

    # Every taggable resource in the stack, inside constructs too; synthesis fails if one lacks a tag.
    apply_required_tags(stack, {"Environment": "Production", "Owner": "data-platform"})
    return orders
