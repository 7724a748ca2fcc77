"""Processor efficiency on a moto server over loopback, against a naive whole-object processor.

For documents of 1 KB, 1 MB, 100 MB and 1 GB: bytes read from S3, AWS calls, and the peak
memory of the process that handles one document. Each measurement runs in a fresh child
process (so peak RSS belongs to that document alone), against one moto server on 127.0.0.1.

Targets: at most 64 KiB read and at most 3 AWS calls per document whatever its size, and
peak memory that does not grow with document size (within 10 MB from 1 MB to 1 GB).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid

import boto3

from common import ROOT, benchmark_env, print_table, verdict

SIZES = {"1 KB": 1024, "1 MB": 1024**2, "100 MB": 100 * 1024**2, "1 GB": 1024**3}
HEAD_LIMIT = 64 * 1024
CHUNK = 8 * 1024**2
BUCKET, TABLE = "bench-documents", "bench-metadata"

# The child: handles one document with the real processor or the naive one, counting calls
# and bytes at the botocore client, and prints its measurements as JSON.
CHILD = r"""
import json, os, sys
import botocore.client

calls, bytes_read = [], [0]
original = botocore.client.BaseClient._make_api_call

def counting(self, operation, params):
    calls.append(operation)
    response = original(self, operation, params)
    if operation == "GetObject":
        body = response["Body"]
        read = body.read
        def counted(amt=None):
            data = read(amt)
            bytes_read[0] += len(data)
            return data
        body.read = counted
    return response

botocore.client.BaseClient._make_api_call = counting
mode, document_id, key = sys.argv[1:4]
if mode == "library":
    from document_processor.index import handler
    body = {"version": "0", "detail-type": "Object Created", "source": "aws.s3",
            "detail": {"bucket": {"name": os.environ["DOCUMENTS_BUCKET"]}, "object": {"key": key}}}
    event = {"Records": [{"messageId": "m1", "receiptHandle": "r", "body": json.dumps(body), "attributes": {},
                          "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                          "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}]}
    class Context:
        function_name = "bench"; memory_limit_in_mb = 512; aws_request_id = "req"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
        def get_remaining_time_in_millis(self): return 60000
    result = handler(event, Context())
    assert result == {"batchItemFailures": []}, result
else:
    import boto3
    s3, dynamodb = boto3.client("s3"), boto3.client("dynamodb")
    item = dynamodb.get_item(TableName=os.environ["DOCUMENTS_TABLE"], Key={"document_id": {"S": document_id}})
    content = s3.get_object(Bucket=os.environ["DOCUMENTS_BUCKET"], Key=key)["Body"].read()
    detected = "application/pdf" if content.startswith(b"%PDF-") else "unknown"
    dynamodb.update_item(TableName=os.environ["DOCUMENTS_TABLE"], Key={"document_id": {"S": document_id}},
                         UpdateExpression="SET #s = :s, detected_type = :t",
                         ExpressionAttributeNames={"#s": "status"},
                         ExpressionAttributeValues={":s": {"S": "PROCESSED"}, ":t": {"S": detected}})
# VmHWM, not ru_maxrss: on Linux ru_maxrss keeps the parent's high-water mark across fork+exec.
hwm_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"calls": calls, "bytes_read": bytes_read[0], "peak_mb": hwm_kib / 1024}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_moto(port: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("moto server did not start")


class _PdfStream:
    """A file-like PDF of ``size`` bytes, generated in chunks (never held in memory whole)."""

    def __init__(self, size: int) -> None:
        self.size, self.sent = size, 0

    def read(self, amount: int = -1) -> bytes:
        remaining = self.size - self.sent
        amount = remaining if amount is None or amount < 0 else min(amount, remaining)
        head = b"%PDF-1.7\n" if self.sent == 0 else b""
        data = (head + b"0" * max(0, amount - len(head)))[:amount]
        self.sent += len(data)
        return data


def prepare(endpoint: str, size: int) -> tuple[str, str]:
    """Register one AWAITING_UPLOAD document of ``size`` bytes and upload its object."""
    s3 = boto3.client("s3", endpoint_url=endpoint)
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint)
    document_id = uuid.uuid4().hex
    key = f"documents/{document_id}/report.pdf"
    s3.upload_fileobj(_PdfStream(size), BUCKET, key,
                      Config=boto3.s3.transfer.TransferConfig(multipart_chunksize=CHUNK, max_concurrency=2))
    now = "2026-01-01T00:00:00.000Z"
    dynamodb.put_item(TableName=TABLE, Item={
        "document_id": {"S": document_id}, "status": {"S": "AWAITING_UPLOAD"}, "file_name": {"S": "report.pdf"},
        "declared_type": {"S": "application/pdf"}, "declared_size": {"N": str(size)}, "object_key": {"S": key},
        "owner": {"S": "bench"}, "created_at": {"S": now}, "updated_at": {"S": now}, "status_version": {"N": "1"},
    })
    return document_id, key


def measure(mode: str, endpoint: str, document_id: str, key: str) -> dict:
    env = benchmark_env({
        "AWS_ENDPOINT_URL": endpoint, "DOCUMENTS_BUCKET": BUCKET, "DOCUMENTS_TABLE": TABLE,
        "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "ERROR",
        "PYTHONPATH": str(ROOT / "src" / "serverless_patterns" / "handlers"),
    })
    result = subprocess.run([sys.executable, "-c", CHILD, mode, document_id, key], env=env,
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{mode} processor failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(sizes: dict[str, int] | None = None) -> list[tuple]:
    sizes = sizes or SIZES
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"})
    server = start_moto(port)
    try:
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        boto3.client("dynamodb", endpoint_url=endpoint).create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "document_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "document_id", "AttributeType": "S"}],
        )
        rows, peaks = [], {"library": {}, "naive": {}}
        for label, size in sizes.items():
            for mode in ("library", "naive"):
                document_id, key = prepare(endpoint, size)
                m = measure(mode, endpoint, document_id, key)
                peaks[mode][label] = m["peak_mb"]
                ok = m["bytes_read"] <= HEAD_LIMIT and len(m["calls"]) <= 3 if mode == "library" else None
                rows.append((label, mode, m["bytes_read"], len(m["calls"]), " ".join(m["calls"]), m["peak_mb"],
                             verdict(ok) if ok is not None else "baseline"))
    finally:
        server.terminate()
        server.wait(timeout=10)
    print_table(
        "Processor per document on moto server over loopback (target: <= 64 KiB read, <= 3 calls)",
        ["size", "processor", "bytes read", "calls", "operations", "peak MB", "target"],
        rows,
    )
    labels = [label for label in sizes if label != "1 KB"]
    if len(labels) >= 2:
        growth = peaks["library"][labels[-1]] - peaks["library"][labels[0]]
        naive_growth = peaks["naive"][labels[-1]] - peaks["naive"][labels[0]]
        print(f"\nPeak memory growth {labels[0]} -> {labels[-1]}: library {growth:+.1f} MB "
              f"({verdict(growth <= 10)}, target <= 10 MB), naive {naive_growth:+.1f} MB")
    return rows


if __name__ == "__main__":
    main()
