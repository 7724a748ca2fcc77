"""A mistake both type checkers must report: a queue where CDK expects a bucket."""

from aws_cdk import App, Stack
from aws_cdk import aws_s3 as s3

from serverless_patterns import SecureQueue

bucket: s3.IBucket = SecureQueue(Stack(App(), "Wrong"), "Queue")  # line 8: not an IBucket
