"""Cold start of each handler as deployed: import in a fresh interpreter vs ``import boto3``.

Target: each handler's import costs at most 1.3x ``import boto3`` measured in the same run.

Each child process runs as the function runs in Lambda, with tracing on:

- ``site-packages`` holds only what the function finds there: the Python runtime's boto3,
  botocore, s3transfer, jmespath, urllib3, python-dateutil and six, and the Powertools layer's
  aws-lambda-powertools, aws-xray-sdk, wrapt and typing_extensions (linked from this virtual
  environment; none of the test tools, so X-Ray's ``patch_all`` finds no ``requests``).
- The task root is a copy of the handler's asset (its directory, and ``_shared`` when it uses it)
  without byte code, run with ``PYTHONDONTWRITEBYTECODE``: ``/var/task`` is read-only in Lambda,
  so the handler's own modules compile on every cold start.
- The environment is Lambda's (``LAMBDA_TASK_ROOT``, ``AWS_LAMBDA_FUNCTION_NAME``, the X-Ray
  daemon address of active tracing, ...) plus what the templates set (``POWERTOOLS_SERVICE_NAME``,
  ``POWERTOOLS_METRICS_NAMESPACE``; never ``POWERTOOLS_TRACE_DISABLED``).

With ``awslambdaric`` installed (``pip install awslambdaric``: Lambda's own Runtime Interface
Client, the bootstrap of the managed Python runtimes), each handler with a first event also runs
under that client against a stand-in Runtime API on loopback: "RIC init" is the time from starting
the process to its first ``/runtime/invocation/next`` (what Lambda reports as Init Duration:
runtime start and handler import), "RIC 1st invocation" from handing it the event to its answer
(the first invocation's Duration); the baseline there is a handler that imports boto3 and returns.

Two figures per handler: the import alone (Lambda's Init Duration, less the runtime's own start)
and import plus the first invocation (what the first request waits for: client creation, the
service models botocore loads, the first AWS call, to a moto server on loopback; the trace header
says ``Sampled=1``, so subsegments are sent). Seconds are medians of interleaved rounds, as wall
time and as CPU time of the child (user + system): on a loaded machine CPU time is the steadier
estimate of what an idle one would take, and the verdict uses it; both ratios are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import venv
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from common import ROOT, print_table, verdict

HANDLERS_DIR = ROOT / "src" / "serverless_patterns" / "handlers"
TARGET_RATIO = 1.3

#: What the python3.1x runtime ships, and what the Powertools layer adds.
RUNTIME_DISTRIBUTIONS = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six")
LAYER_DISTRIBUTIONS = ("aws-lambda-powertools", "aws-xray-sdk", "wrapt", "typing_extensions")
#: The runtime's bootstrap, when installed here (optional).
RIC_DISTRIBUTIONS = ("awslambdaric", "simplejson", "snapshot-restore-py")
BASELINE_HANDLER = "import boto3\n\n\ndef handler(event, context):\n    return {}\n"

#: Variables Lambda sets in every execution environment of a function with active tracing.
LAMBDA_ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.14",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
    "AWS_LAMBDA_LOG_STREAM_NAME": "2026/12/02/[$LATEST]0123456789abcdef",
    "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "_AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1",
    "_AWS_XRAY_DAEMON_PORT": "2000",
    "LAMBDA_RUNTIME_DIR": "/var/runtime",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
    "PYTHONDONTWRITEBYTECODE": "1",
}
TRACE_HEADER = "Root=1-6751a0c4-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1;Lineage=a87bd80c:0"
BUCKET, TABLE, STATUS_INDEX, LEDGER = "bench-documents", "bench-documents", "by-status", "bench-ledger"
DOCUMENT_ID = "0123456789abcdef0123456789abcdef"

#: The function environment the templates set (names as the constructs write them; resource
#: names point at what the moto server holds).
FUNCTION_ENV = {
    "documents_api": {"POWERTOOLS_SERVICE_NAME": "documents-api", "DOCUMENTS_BUCKET": BUCKET,
                      "DOCUMENTS_TABLE": TABLE, "STATUS_INDEX": STATUS_INDEX},
    "document_processor": {"POWERTOOLS_SERVICE_NAME": "document-processor", "DOCUMENTS_BUCKET": BUCKET,
                           "DOCUMENTS_TABLE": TABLE},
    "document_notifier": {"POWERTOOLS_SERVICE_NAME": "document-notifier", "STATUS_TOPIC_ARN": "",
                          "STATUS_EVENT_BUS": "default", "IDEMPOTENCY_TABLE": LEDGER},
    "data_api": {"POWERTOOLS_SERVICE_NAME": "secure-data-api", "BUCKET_NAME": BUCKET,
                 "CURSOR_KEY_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:cursor-AbCdEf"},
}
NAMESPACE = {"POWERTOOLS_METRICS_NAMESPACE": "ServerlessPatterns/Documents"}

# The child of "import + first invocation": import, then one invocation with a real event.
INVOKE = r"""
import json, sys
import {module}.index as index

class Context:
    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    memory_limit_in_mb = 256
    aws_request_id = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "stream"
    def get_remaining_time_in_millis(self):
        return 10000

with open(sys.argv[1]) as source:
    event = json.load(source)
result = index.handler(event, Context())
print(json.dumps(result, default=str))
"""
#: What each first invocation must answer: every record handled, the API's 404 for what is missing.
EXPECTED = {
    "document_processor": lambda r: r == {"batchItemFailures": []},
    "document_notifier": lambda r: r == {"batchItemFailures": []},
    "documents_api": lambda r: r.get("statusCode") == 404,
    "data_api": lambda r: r.get("statusCode") == 404,
}


def handler_packages(handlers_dir: Path = HANDLERS_DIR) -> list[str]:
    return sorted(p.name for p in handlers_dir.iterdir() if (p / "index.py").exists())


def ric_installed() -> bool:
    try:
        distribution("awslambdaric")
    except PackageNotFoundError:
        return False
    return True


def lambda_site(target: Path) -> Path:
    """A virtual environment holding only the runtime's and the layer's distributions."""
    venv.create(target, with_pip=False, symlinks=True)
    site = next(target.glob("lib/python*/site-packages"))
    for name in RUNTIME_DISTRIBUTIONS + LAYER_DISTRIBUTIONS + (RIC_DISTRIBUTIONS if ric_installed() else ()):
        dist = distribution(name)
        tops = {f.parts[0] for f in dist.files or () if not f.parts[0].endswith((".dist-info", ".egg-info", ".."))}
        for top in tops:
            source = Path(dist.locate_file(top))
            if source.exists() and not (site / top).exists():
                (site / top).symlink_to(source)
    return target / "bin" / "python"


def task_root(target: Path, handlers_dir: Path, name: str) -> Path:
    """The handler's asset as Lambda unpacks it: its directory and ``_shared``, no byte code."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(handlers_dir / name, target / name, ignore=ignore)
    init = (handlers_dir / name / "__init__.py").read_text()
    if "_shared" in init and (handlers_dir / "_shared").is_dir():
        shutil.copytree(handlers_dir / "_shared", target / "_shared", ignore=ignore)
    return target


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_moto(port: int) -> subprocess.Popen:
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


def _resources(endpoint: str) -> str:
    """The bucket, tables and topic the first invocations call; returns the topic's ARN."""
    import boto3

    options = {"endpoint_url": endpoint, "region_name": "us-east-1",
               "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    boto3.client("s3", **options).create_bucket(Bucket=BUCKET)
    dynamodb = boto3.client("dynamodb", **options)
    dynamodb.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("document_id", "status", "created_at")],
        KeySchema=[{"AttributeName": "document_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{"IndexName": STATUS_INDEX, "Projection": {"ProjectionType": "ALL"}, "KeySchema": [
            {"AttributeName": "status", "KeyType": "HASH"}, {"AttributeName": "created_at", "KeyType": "RANGE"}]}],
    )
    dynamodb.create_table(TableName=LEDGER, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    return boto3.client("sns", **options).create_topic(Name="bench-status")["TopicArn"]


def first_events() -> dict[str, dict]:
    """One event per handler whose handling makes real AWS calls (each answered by moto)."""
    object_created = {"version": "0", "detail-type": "Object Created", "source": "aws.s3", "detail": {
        "bucket": {"name": BUCKET}, "object": {"key": f"documents/{DOCUMENT_ID}", "size": 10}}}
    image = {"document_id": {"S": DOCUMENT_ID}, "status_version": {"N": "2"}, "updated_at": {"S": "2026-12-02T00:00:00Z"}}
    return {
        # an unknown document: GetItem, then dropped
        "document_processor": {"Records": [{
            "messageId": "m-1", "receiptHandle": "r-1", "body": json.dumps(object_created), "attributes": {},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:uploads", "awsRegion": "us-east-1"}]},
        # a status change: the idempotency records (PutItem, UpdateItem per channel), one SNS Publish
        # and one EventBridge PutEvents
        "document_notifier": {"Records": [{
            "eventID": "e-1", "eventName": "MODIFY", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
            "eventSourceARN": f"arn:aws:dynamodb:us-east-1:123456789012:table/{TABLE}/stream/2026-12-02T00:00:00.000",
            "dynamodb": {"SequenceNumber": "100", "StreamViewType": "NEW_AND_OLD_IMAGES",
                         "Keys": {"document_id": {"S": DOCUMENT_ID}},
                         "OldImage": {**image, "status": {"S": "AWAITING_UPLOAD"}, "status_version": {"N": "1"}},
                         "NewImage": {**image, "status": {"S": "PROCESSED"}}}}]},
        # GET /documents/{id} of an unknown document: GetItem, 404
        "documents_api": {
            "resource": "/documents/{id}", "path": f"/documents/{DOCUMENT_ID}", "httpMethod": "GET",
            "headers": {"Accept": "application/json"}, "multiValueHeaders": None, "queryStringParameters": None,
            "multiValueQueryStringParameters": None, "pathParameters": {"id": DOCUMENT_ID}, "stageVariables": None,
            "requestContext": {"requestId": "req-1", "stage": "prod",
                               "authorizer": {"principalId": "c", "client_id": "c", "level": "read-only"}},
            "body": None, "isBase64Encoded": False},
        # GET /api/data/{key} of a missing object: GetObject, 404
        "data_api": {
            "version": "2.0", "routeKey": "GET /api/data/{key}", "rawPath": "/api/data/report.json", "rawQueryString": "",
            "headers": {"host": "abc.execute-api.us-east-1.amazonaws.com"}, "queryStringParameters": None,
            "pathParameters": {"key": "report.json"}, "body": None, "isBase64Encoded": False,
            "requestContext": {"accountId": "123456789012", "apiId": "abc", "domainName": "abc.execute-api.us-east-1.amazonaws.com",
                               "http": {"method": "GET", "path": "/api/data/report.json", "protocol": "HTTP/1.1",
                                        "sourceIp": "192.0.2.1", "userAgent": "bench"},
                               "requestId": "req-1", "routeKey": "GET /api/data/{key}", "stage": "$default"}},
    }


def _emulate(command: list[str], env: dict[str, str], event: dict, check, timeout: float = 120) -> tuple[float, ...]:
    """Run ``command`` (the Runtime Interface Client) against a stand-in Runtime API.

    Returns the seconds from starting the process to its first ``/next`` (Init Duration), from
    handing over ``event`` to the answer (the first invocation's Duration), and the CPU seconds the
    process had used by its first ``/next``.
    """
    marks: dict[str, float] = {}
    answer: dict[str, str] = {}
    answered = threading.Event()

    class RuntimeApi(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return None

        def do_GET(self) -> None:
            if not self.path.endswith("/runtime/invocation/next") or "next" in marks:
                answered.wait(timeout)  # a second /next: the benchmark is done with this process
                self.send_response(500)
                self.end_headers()
                return
            marks["next"] = time.perf_counter()
            marks["init_cpu"] = _cpu_seconds(process.pid)
            body = json.dumps(event).encode()
            self.send_response(200)
            headers = {
                "Lambda-Runtime-Aws-Request-Id": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
                "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 60_000),
                "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:bench",
                "Lambda-Runtime-Trace-Id": TRACE_HEADER,
                "Content-Type": "application/json",
                "Content-Length": str(len(body)),
            }
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            marks["sent"] = time.perf_counter()

        def do_POST(self) -> None:
            payload = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            marks["answer"] = time.perf_counter()
            answer.update(path=self.path, payload=payload.decode())
            self.send_response(202)
            self.end_headers()
            answered.set()

    server = ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {**env, "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}"}
    started = time.perf_counter()
    process: subprocess.Popen | None = None
    process = subprocess.Popen(command, env=env, cwd=env["LAMBDA_TASK_ROOT"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        done = answered.wait(timeout)
    finally:
        process.kill()
        _, stderr = process.communicate()
        server.shutdown()
        server.server_close()
    if not done or not answer["path"].endswith("/response") or not check(json.loads(answer["payload"])):
        raise RuntimeError(f"{' '.join(command)}: {answer or 'no answer'}\n{stderr.decode()[-1500:]}")
    return marks["next"] - started, marks["answer"] - marks["sent"], marks["init_cpu"]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process so far (clock ticks of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run(command: list[str], env: dict[str, str], check=None) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one child process; ``check`` judges its answer."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-1500:]}\n{result.stderr[-1500:]}")
    if check is not None and not check(json.loads(result.stdout.strip().splitlines()[-1])):
        raise RuntimeError(f"unexpected answer of the first invocation:\n{result.stdout[-1500:]}\n{result.stderr[-1500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(repeat: int = 9, handlers_dir: Path = HANDLERS_DIR) -> list[tuple]:
    names = handler_packages(handlers_dir)
    events = first_events()
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as scratch:
        scratch_dir = Path(scratch)
        python = str(lambda_site(scratch_dir / "site"))
        port = _free_port()
        server = _start_moto(port)
        try:
            endpoint = f"http://127.0.0.1:{port}"
            topic_arn = _resources(endpoint)
            base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **LAMBDA_ENV, **NAMESPACE}
            commands: dict[str, tuple[list[str], dict[str, str]]] = {}
            emulated: dict[str, tuple] = {}
            for name in names:
                root = task_root(scratch_dir / "task" / name, handlers_dir, name)
                env = {**base_env, **FUNCTION_ENV.get(name, {"POWERTOOLS_SERVICE_NAME": name.replace("_", "-")}),
                       "LAMBDA_TASK_ROOT": str(root), "PYTHONPATH": str(root)}
                if name == "document_notifier":
                    env["STATUS_TOPIC_ARN"] = topic_arn
                if name == names[0]:
                    commands["boto3"] = ([python, "-c", "import boto3"], env)
                commands[f"import:{name}"] = ([python, "-c", f"import {name}.index"], env)
                if name in events:
                    event_file = scratch_dir / f"{name}.json"
                    event_file.write_text(json.dumps(events[name]))
                    invoke_env = {**env, "AWS_ENDPOINT_URL": endpoint, "_X_AMZN_TRACE_ID": TRACE_HEADER}
                    commands[f"invoke:{name}"] = ([python, "-c", INVOKE.format(module=name), str(event_file)], invoke_env)
                    if ric_installed():
                        ric_env = {key: value for key, value in invoke_env.items() if key != "_X_AMZN_TRACE_ID"}
                        emulated[f"ric:{name}"] = ([python, "-m", "awslambdaric", f"{name}.index.handler"], ric_env,
                                                   events[name], EXPECTED[name])
            if emulated:
                root = scratch_dir / "task" / "_baseline"
                (root / "bench_boto3").mkdir(parents=True)
                (root / "bench_boto3" / "__init__.py").write_text("")
                (root / "bench_boto3" / "index.py").write_text(BASELINE_HANDLER)
                env = {**base_env, "POWERTOOLS_SERVICE_NAME": "baseline", "LAMBDA_TASK_ROOT": str(root),
                       "PYTHONPATH": str(root), "AWS_ENDPOINT_URL": endpoint}
                emulated = {"ric:boto3": ([python, "-m", "awslambdaric", "bench_boto3.index.handler"], env, {},
                                          lambda answer: answer == {}), **emulated}
            samples: dict[str, list[tuple[float, float]]] = {key: [] for key in commands}
            for _ in range(repeat):  # interleaved, so that load on the machine hits all alike
                for key, (command, env) in commands.items():
                    check = EXPECTED.get(key.partition(":")[2]) if key.startswith("invoke:") else None
                    samples[key].append(_run(command, env, check))
                for key, (command, env, event, check) in emulated.items():
                    samples.setdefault(key, []).append(_emulate(command, env, event, check))
        finally:
            server.kill()
            server.wait()

    def median(key: str, index: int) -> float:
        return statistics.median(sample[index] for sample in samples[key])

    base_wall, base_cpu = median("boto3", 0), median("boto3", 1)
    ric = "ric:boto3" in samples
    base_init = median("ric:boto3", 2) if ric else None

    def emulated_figures(key: str) -> tuple:
        if key not in samples:
            return ("-", "-", "-", "-")
        return (median(key, 0), median(key, 2), median(key, 2) / base_init, median(key, 1))

    rows = [("import boto3 (baseline)", base_wall, base_cpu, 1.0, 1.0, "-", "-", "-", *emulated_figures("ric:boto3"))]
    for name in names:
        wall, cpu = median(f"import:{name}", 0), median(f"import:{name}", 1)
        invoke = f"invoke:{name}" in samples
        rows.append((
            f"{name}.index", wall, cpu, wall / base_wall, cpu / base_cpu, verdict(cpu / base_cpu <= TARGET_RATIO),
            median(f"invoke:{name}", 0) if invoke else "-", median(f"invoke:{name}", 1) if invoke else "-",
            *emulated_figures(f"ric:{name}"),
        ))
    load = os.getloadavg()
    print_table(
        f"Handler cold start as deployed (tracing on), fresh interpreter, median of {repeat} interleaved rounds; "
        f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores "
        f"(target: import <= {TARGET_RATIO}x import boto3, CPU time)",
        ["module", "import wall s", "import CPU s", "ratio wall", "ratio CPU", "target",
         "import + 1st invocation wall s", "import + 1st invocation CPU s",
         "RIC init wall s", "RIC init CPU s", "RIC init ratio CPU", "RIC 1st invocation wall s"],
        rows,
    )
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--handlers", type=Path, default=HANDLERS_DIR, help="a handlers directory to measure instead")
    arguments = parser.parse_args()
    main(arguments.repeat, arguments.handlers)
