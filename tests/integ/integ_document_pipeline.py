"""Integ test of the flagship, examples/document_pipeline (dev configuration), on a real account.

A test client (API key on the read-write usage plan, its record in the permissions table)
registers a PDF with the documents API, the PDF is put at the object key the API assigned, and
the test waits until the metadata table says PROCESSED and the status topic has published the
PROCESSED notification (to a queue of the assertion stack). Finally the client lists PROCESSED
documents over HTTPS through API Gateway, its usage plan and the authorizer. Deploy, assert and
destroy with ``make integ`` (see docs/integ_tests.md).

Why not POST /documents over HTTP: the answer carries the presigned upload form with the function's
session token twice (about 4 KB), and a custom resource's response is limited to 4,096 bytes. The
registration invokes the API function with the event API Gateway sends after the authorizer.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _support  # puts the repository root on sys.path (examples)
from aws_cdk import App, Duration, Environment
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk.integ_tests_alpha import ActualResult, ExpectedResult, IntegTest, Match

from examples.document_pipeline.app import CONFIGURATIONS, REGION, DocumentProcessingStack
from examples.document_pipeline.local_flow import minimal_pdf

STACK_NAME = "integ-document-pipeline"
FILE_NAME = "integ-report.pdf"
LEVEL = "read-write"


def build(app: App) -> IntegTest:
    stack = DocumentProcessingStack(
        app, STACK_NAME, configuration=CONFIGURATIONS["dev"], env=Environment(region=REGION)
    )
    pipeline = stack.pipeline
    assertions = _support.assertion_stack(app, stack)
    integ = IntegTest(app, "DocumentPipeline", test_cases=[stack], assertion_stack=assertions, regions=[REGION])
    key = _support.test_api_key(app)
    pdf = minimal_pdf()

    # Every status notification, delivered raw, to a queue the test reads.
    notifications = sqs.Queue(
        assertions, "Notifications", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
        retention_period=Duration.hours(1),
    )
    subscription = pipeline.status_topic.topic.add_subscription(
        subscriptions.SqsSubscription(notifications, raw_message_delivery=True)
    )

    client = _support.issue_test_client(integ, assertions, pipeline.api, level=LEVEL, key=key)
    register = integ.assertions.aws_api_call(
        "Lambda",
        "invoke",
        {
            "FunctionName": pipeline.api_handler.function_name,
            "Payload": _support.rest_proxy_event(
                "POST", "/documents",
                body={"file_name": FILE_NAME, "content_type": "application/pdf", "size": len(pdf)},
                client_id=_support.TEST_CLIENT, level=LEVEL,
            ),
        },
        ["Payload.statusCode", "Payload.body.document_id", "Payload.body.status"],
    )
    register.node.add_dependency(subscription)
    _support.allow(register, ["lambda:InvokeFunction"], [pipeline.api_handler.function_arn])
    document_id = register.get_att_string("Payload.body.document_id")
    integ.assertions.expect(
        "Registered", ExpectedResult.exact("AWAITING_UPLOAD"),
        ActualResult.from_aws_api_call(register, "Payload.body.status"),
    )

    upload = integ.assertions.aws_api_call(
        "S3",
        "putObject",
        {
            "Bucket": pipeline.documents.bucket_name,
            "Key": f"documents/{document_id}/{FILE_NAME}",
            "Body": pdf.decode("ascii"),
            "ContentType": "application/pdf",
        },
    )
    _support.allow(upload, ["kms:GenerateDataKey", "kms:Encrypt"], _support.key_arn(pipeline.documents.encryption_key))

    processed = integ.assertions.aws_api_call(
        "DynamoDB",
        "getItem",
        {"TableName": pipeline.metadata.table_name, "Key": {"document_id": {"S": document_id}}, "ConsistentRead": True},
    )
    processed.expect(
        ExpectedResult.object_like(
            {"Item": Match.object_like({"status": {"S": "PROCESSED"}, "detected_type": {"S": "application/pdf"}})}
        )
    ).wait_for_assertions(**_support.WAIT)
    _support.allow(processed, ["kms:Decrypt", "kms:DescribeKey"], _support.key_arn(pipeline.metadata.encryption_key))

    notified = integ.assertions.aws_api_call(
        "SQS",
        "receiveMessage",
        {"QueueUrl": notifications.queue_url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 5, "VisibilityTimeout": 0},
    )
    notified.expect(
        ExpectedResult.object_like(
            {
                "Messages": Match.array_with(
                    [Match.object_like({"Body": Match.serialized_json(
                        Match.object_like({"document_id": document_id, "status": "PROCESSED", "file_name": FILE_NAME})
                    )})]
                )
            }
        )
    ).wait_for_assertions(**_support.WAIT)

    listed = integ.assertions.http_api_call(
        f"{pipeline.api.url}documents?status=PROCESSED", method="GET", headers={"x-api-key": key}
    )
    listed.expect(
        ExpectedResult.object_like(
            {
                "status": 200,
                "body": Match.object_like(
                    {"items": Match.array_with([Match.object_like({"document_id": document_id, "status": "PROCESSED"})])}
                ),
            }
        )
    )

    client.next(register).next(upload).next(processed).next(notified).next(listed)
    return integ


if __name__ == "__main__":
    app = App()
    build(app)
    app.synth()
