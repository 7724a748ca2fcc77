"""A DocumentPipeline on the local emulator: register a document through the API, as a client would.

Used by docs/emulator.md; tests/test_docs.py runs it. Needs the ``local`` extra.
"""

from __future__ import annotations

import tempfile

import boto3
from aws_cdk import App, Stack
from moto import mock_aws

from serverless_patterns import DocumentPipeline
from serverless_patterns.clients import create_client
from serverless_patterns.local import EmulatedRestApi, EmulatedStack


def run() -> tuple[int, dict]:
    outdir = tempfile.mkdtemp()
    app = App(outdir=outdir)
    stack = Stack(app, "Documents")
    DocumentPipeline(stack, "Documents")
    template = app.synth().get_stack_by_name(stack.stack_name).template

    with mock_aws():
        emulated = EmulatedStack(template, outdir, region="us-east-1", quiet=True).start()
        api = EmulatedRestApi(emulated)  # API keys, the authorizer and its cache, Lambda proxy
        authorizer = emulated.function("api_key_authorizer.")
        key = create_client(
            table=authorizer.environment["PERMISSIONS_TABLE"], client_id="me", level="read-write",
            api_id=api.api_id, session=boto3.Session(region_name="us-east-1"),
        ).api_key
        response = api.request(
            "POST", "/documents", api_key=key, body={"file_name": "a.txt", "content_type": "text/plain", "size": 6}
        )
        emulated.pump()  # deliver queued messages and stream records
        return response.status, response.body  # 201 and a presigned upload form


if __name__ == "__main__":
    print(run())
