"""Usage of AuditedTable, included in the docs and synthesized by the tests."""

from aws_cdk import Stack, aws_cloudtrail as cloudtrail, aws_dynamodb as dynamodb, aws_iam as iam

from serverless_patterns.audited_table import (
    AuditedTable,
    capacity_parameters,
    dynamodb_data_event_selector,
)


def build(stack: Stack) -> AuditedTable:
    # Defaults: encrypted with a rotating customer-managed key, point-in-time recovery (35 days),
    # deletion protection, RETAIN, on-demand billing, alarms on throttling and system errors.
    documents = AuditedTable(
        stack,
        "Documents",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
        global_secondary_indexes=[
            dynamodb.GlobalSecondaryIndexProps(
                index_name="byStatus",
                partition_key=dynamodb.Attribute(name="status", type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name="updatedAt", type=dynamodb.AttributeType.NUMBER),
            )
        ],
        time_to_live_attribute="expiresAt",
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,  # a change log of every write, kept 24 h
    )

    # Provisioned capacity from CloudFormation parameters (MinValue 5), auto scaled up to 100.
    read, write = capacity_parameters(stack, prefix="DynamoDb")
    AuditedTable(
        stack,
        "Requests",
        partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PROVISIONED,
        read_capacity=read.value_as_number,
        write_capacity=write.value_as_number,
        max_read_capacity=100,
        max_write_capacity=100,
    )

    # Grants name explicit actions, include the KMS key, and name each index (no index/*).
    processor = iam.Role(
        stack, "Processor", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")
    )
    documents.grant_read_write_data(processor)
    documents.grant_stream_read(processor)
    return documents


def log_data_events(trail: cloudtrail.Trail, tables: list[AuditedTable]) -> None:
    """Who read or wrote which item: CloudTrail data events (billed per request) on ``trail``.

    A trail holds basic or advanced event selectors, not both, and with advanced selectors it
    logs management events only when a selector asks for them.
    """
    cfn_trail = trail.node.default_child
    cfn_trail.event_selectors = None
    cfn_trail.advanced_event_selectors = [
        cloudtrail.CfnTrail.AdvancedEventSelectorProperty(
            name="Management events",
            field_selectors=[
                cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(
                    field="eventCategory", equal_to=["Management"]
                )
            ],
        ),
        dynamodb_data_event_selector(tables),
    ]
