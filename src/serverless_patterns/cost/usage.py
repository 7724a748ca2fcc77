"""Variable cost per 1,000 documents: the AWS calls one document causes, priced per resource.

A :class:`UsageProfile` says, per document, how often each function (found by its handler) runs,
for how long, and which AWS calls it makes on which resource (named by the function's environment
variable, as the code finds it). :data:`DOCUMENT_PIPELINE` is the flagship's flow; the calls its
handlers make are pinned against a recorded run of the local document flow
(``tests/test_cost.py``). Durations and log sizes are assumptions, printed with every estimate.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from .model import CostLine, Notes
from .prices import PriceTable
from .templates import Stack

GB = 1024**3
DOCUMENTS = 1000
ITEM_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
ITEM_READS = {"GetItem", "Query"}
S3_WRITES = {"PutObject", "CopyObject", "DeleteObject"}
S3_READS = {"GetObject", "HeadObject"}


@dataclass(frozen=True)
class Call:
    """``count`` calls of ``service``:``operation`` per document on the resource ``target`` names.

    ``target`` is ``"env:NAME"`` (the function's environment variable) or ``"event_source"`` (the
    queue or stream of the function's event source mapping). ``made_by`` is ``"function"`` (the
    handler), ``"client"`` (a request the handler presigns, made by the API client) or
    ``"service"`` (made for the function by AWS: EventBridge delivering, Lambda polling).
    """

    service: str
    operation: str
    count: float
    target: str
    made_by: str = "function"


@dataclass(frozen=True)
class Step:
    """One function of the flow: invocations and billed duration per document, and its calls."""

    handler: str  # prefix of the Handler property, e.g. "documents_api."
    invocations: float
    duration_ms: float
    calls: tuple[Call, ...] = ()
    own_trace: bool = True  # False when it runs inside the caller's X-Ray trace (an authorizer)
    why: str = ""


@dataclass(frozen=True)
class Stored:
    """What one document leaves behind on ``target`` (named as in :class:`Call`, for ``handler``'s
    function): the document itself in S3 (``Assumptions.document_mb``) or its item in DynamoDB
    (``Assumptions.item_kb``)."""

    service: str  # "s3" or "dynamodb"
    target: str
    handler: str


@dataclass(frozen=True)
class UsageProfile:
    name: str
    description: str
    api_requests: float  # per document, on every API that integrates a function of the profile
    steps: tuple[Step, ...]
    stored: tuple[Stored, ...] = ()
    service_events: tuple[tuple[str, str, str], ...] = ()  # (handler, env var of the bucket, what)


@dataclass(frozen=True)
class Assumptions:
    """Sizes the estimate assumes; every one is printed with the estimate."""

    document_mb: float = 1.0
    log_bytes_per_invocation: int = 1500  # START/END/REPORT lines, two structured log lines, one EMF blob
    access_log_bytes_per_request: int = 900  # the stage's JSON access-log format, about 20 fields
    execution_log_bytes_per_request: int = 4000  # only when a stage logs at INFO
    waf_log_bytes_per_request: int = 1500
    trail_log_bytes_per_event: int = 1500  # CloudTrail events delivered to CloudWatch Logs
    flow_log_bytes_per_vpc_invocation: int = 500  # a few flow records per function run in a VPC
    item_kb: float = 1.0  # DynamoDB items of the flow are at most 1 KB: 1 WRU per write, 1 RRU per read
    # New execution environments per invocation: each one of a SnapStart function is a restore.
    # Lambda's documentation puts cold starts at typically under 1 % of invocations.
    new_environments_per_invocation: float = 0.01

    def describe(self) -> list[str]:
        return [
            f"document size {self.document_mb:g} MB, stored once in S3 Standard (one PUT; no client download)",
            (f"{self.log_bytes_per_invocation:,} bytes of logs per Lambda invocation; "
            f"{self.access_log_bytes_per_request:,} bytes per API access-log line; {self.waf_log_bytes_per_request:,} per WAF log record; "
            f"{self.trail_log_bytes_per_event:,} per CloudTrail event sent to CloudWatch Logs; "
            f"{self.flow_log_bytes_per_vpc_invocation:,} of VPC flow logs per invocation of a function in a VPC"),
            (f"DynamoDB items up to {self.item_kb:g} KB: one write request unit per write, one read request unit per read "
            "(strongly consistent rate; eventually consistent reads cost half)"),
            ("every API request and every function run is a recorded X-Ray trace (the default sampling keeps "
            "nearly all traces at low rates); authorizer runs are part of the API request's trace"),
            "no free tier is subtracted: these are list prices for an account that has used its free tier",
        ]


DOCUMENT_PIPELINE = UsageProfile(
    name="document-pipeline",
    description=(
        "one document: POST /documents (register, presigned upload form), the client's upload to S3, "
        "the S3 event through EventBridge and SQS to the processor, two status changes through the "
        "table stream to the notifier (two status events, each published on SNS and put on EventBridge), "
        "and one GET /documents/{id}"
    ),
    api_requests=2,
    steps=(
        Step("api_key_authorizer.", invocations=1, duration_ms=50,
             calls=(Call("dynamodb", "GetItem", 1, "env:PERMISSIONS_TABLE"),), own_trace=False,
             why="one of the two API requests: the decision is cached per API key for the authorizer TTL (300 s)"),
        Step("documents_api.", invocations=2, duration_ms=80, calls=(
            Call("dynamodb", "PutItem", 1, "env:DOCUMENTS_TABLE"),
            Call("dynamodb", "GetItem", 1, "env:DOCUMENTS_TABLE"),
            Call("s3", "PutObject", 1, "env:DOCUMENTS_BUCKET", made_by="client"),
        ), why="POST /documents and GET /documents/{id}; the upload is the client's presigned POST"),
        Step("document_processor.", invocations=1, duration_ms=300, calls=(
            Call("sqs", "SendMessage", 1, "event_source", made_by="service"),
            Call("sqs", "ReceiveMessage", 1, "event_source", made_by="service"),
            Call("sqs", "DeleteMessage", 1, "event_source", made_by="service"),
            Call("s3", "GetObject", 1, "env:DOCUMENTS_BUCKET"),
            Call("dynamodb", "GetItem", 1, "env:DOCUMENTS_TABLE"),
            Call("dynamodb", "UpdateItem", 1, "env:DOCUMENTS_TABLE"),
        ), why="one run per document (batches of up to 10 would run less often); reads at most 64 KiB of the object"),
        Step("document_notifier.", invocations=2, duration_ms=100, calls=(
            # One idempotency record per status change and channel.
            Call("dynamodb", "PutItem", 4, "env:IDEMPOTENCY_TABLE"),
            Call("dynamodb", "UpdateItem", 4, "env:IDEMPOTENCY_TABLE"),
            Call("sns", "Publish", 2, "env:STATUS_TOPIC_ARN"),
            Call("events", "PutEvents", 2, "env:STATUS_EVENT_BUS"),
        ), why="two status changes (registered, then processed or rejected), one run each; stream reads by Lambda are free"),
    ),
    stored=(Stored("s3", "env:DOCUMENTS_BUCKET", "documents_api."), Stored("dynamodb", "env:DOCUMENTS_TABLE", "documents_api.")),
    service_events=(("documents_api.", "env:DOCUMENTS_BUCKET", "S3 Object Created event to the default event bus"),),
)

PROFILES = {DOCUMENT_PIPELINE.name: DOCUMENT_PIPELINE}


@dataclass
class _Function:
    stack: Stack
    logical_id: str
    props: dict[str, Any]

    def env(self, name: str) -> str | None:
        value = ((self.props.get("Environment") or {}).get("Variables") or {}).get(name)
        ids = self.stack.refs(value)
        return next(iter(sorted(ids))) if ids else None

    def event_source(self) -> str | None:
        for _, mapping in self.stack.of_type("AWS::Lambda::EventSourceMapping"):
            if self.logical_id in self.stack.refs(mapping.get("FunctionName")):
                ids = self.stack.refs(mapping.get("EventSourceArn"))
                if ids:
                    return next(iter(sorted(ids)))
        return None

    def has_env(self, spec: str) -> bool:
        """Whether ``spec`` (``env:NAME``) names a variable the function has."""
        variables = (self.props.get("Environment") or {}).get("Variables") or {}
        return spec.startswith("env:") and bool(variables.get(spec.removeprefix("env:")))

    def target(self, spec: str) -> str | None:
        return self.event_source() if spec == "event_source" else self.env(spec.removeprefix("env:"))


@dataclass
class _Lines:
    prices: PriceTable
    lines: list[CostLine] = field(default_factory=list)

    def add(self, stack: Stack, logical_id: str, item: str, quantity: float, unit: str, key: str) -> None:
        if quantity <= 0:
            return
        price = self.prices.per_unit(key)
        self.lines.append(CostLine(stack.name, logical_id, stack.type_of(logical_id) or "", item, quantity, unit, price, key, quantity * price))


def usage_lines(
    stacks: list[Stack], profile: UsageProfile, assumptions: Assumptions, prices: PriceTable, notes: Notes
) -> tuple[list[CostLine], list[CostLine]]:
    """(lines per 1,000 documents, storage lines per month per 1,000 documents kept)."""
    usage, storage = _Lines(prices), _Lines(prices)
    functions: dict[str, _Function] = {}
    matches = {
        step.handler: [
            _Function(stack, logical_id, props)
            for stack in stacks for logical_id, props in stack.of_type("AWS::Lambda::Function")
            if str(props.get("Handler", "")).startswith(step.handler)
        ]
        for step in profile.steps
    }
    missing = [handler + "*" for handler, found in matches.items() if not found]
    if missing:
        # A partial flow would price a fraction of a document: price none of it.
        notes.unpriced(f"per-document cost: the templates lack the {profile.name} flow's functions {', '.join(missing)}")
        return [], []
    for step in profile.steps:
        found = matches[step.handler]
        if len(found) > 1:
            notes.assume(f"{len(found)} functions run handler {step.handler}*: each is priced as running the whole step")
        for function in found:
            functions.setdefault(step.handler, function)
            _price_step(function, step, assumptions, usage, notes)
    if not functions:
        return [], []
    for stack in stacks:
        _price_apis(stack, {f.logical_id for f in functions.values() if f.stack is stack}, profile, assumptions, usage, notes)
    for handler, bucket_spec, what in profile.service_events:
        function = functions.get(handler)
        bucket = function.target(bucket_spec) if function else None
        if function and bucket and (function.stack.properties(bucket).get("NotificationConfiguration") or {}).get("EventBridgeConfiguration"):
            notes.note(f"{function.stack.name}/{bucket}: {what} is an AWS service event; EventBridge does not charge for it")
    for stored in profile.stored:
        function = functions.get(stored.handler)
        target = function.target(stored.target) if function else None
        if not function or not target:
            continue
        stack = function.stack
        if stored.service == "s3":
            gb = assumptions.document_mb * 1024**2 * DOCUMENTS / GB
            storage.add(stack, target, f"documents in S3 Standard ({assumptions.document_mb:g} MB each)", gb, "GB-months", "s3.storage_gb_month")
        elif stored.service == "dynamodb":
            gb = assumptions.item_kb * 1024 * DOCUMENTS / GB
            storage.add(stack, target, f"document items ({assumptions.item_kb:g} KB each)", gb, "GB-months", "dynamodb.storage_gb_month")
            if (stack.properties(target).get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled"):
                storage.add(stack, target, "point-in-time recovery of the items", gb, "GB-months", "dynamodb.pitr_gb_month")
    logs: dict[tuple[str, str], float] = {}
    for line in usage.lines:
        if line.price_key == "logs.ingest_gb":
            logs[(line.stack, line.logical_id)] = logs.get((line.stack, line.logical_id), 0) + line.quantity
    by_name = {stack.name: stack for stack in stacks}
    for (stack_name, logical_id), gb in sorted(logs.items()):
        storage.add(by_name[stack_name], logical_id, "log events kept (until the log group's retention)", gb, "GB-months", "logs.storage_gb_month")
    return usage.lines, storage.lines


def _price_step(function: _Function, step: Step, assumptions: Assumptions, usage: _Lines, notes: Notes) -> None:
    stack, props, lid = function.stack, function.props, function.logical_id
    invocations = step.invocations * DOCUMENTS
    memory_mb = stack.number(props.get("MemorySize"), 128) or 128
    architecture = (props.get("Architectures") or ["x86_64"])[0]
    usage.add(stack, lid, "Lambda requests", invocations, "requests", "lambda.requests_1m")
    gb_seconds = memory_mb / 1024 * step.duration_ms / 1000 * invocations
    usage.add(stack, lid, f"Lambda duration, {memory_mb:g} MB {architecture} x {step.duration_ms:g} ms", gb_seconds, "GB-seconds",
              f"lambda.gb_second_{'arm64' if architecture == 'arm64' else 'x86_64'}")
    notes.assume(f"{step.handler}*: {step.invocations:g} run(s) of {step.duration_ms:g} ms per document ({step.why})")
    if (props.get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions":
        restores = invocations * assumptions.new_environments_per_invocation
        usage.add(stack, lid, f"SnapStart restores, {memory_mb:g} MB each", restores * memory_mb / 1024, "GB restored",
                  "lambda.snapstart_restore_gb")
        notes.assume(f"{assumptions.new_environments_per_invocation:.0%} of invocations start a new execution "
                     "environment: for a SnapStart function, a snapshot restore")
    log_group = next(iter(sorted(stack.refs((props.get("LoggingConfig") or {}).get("LogGroup")))), lid)
    usage.add(stack, log_group, "function logs ingested", invocations * assumptions.log_bytes_per_invocation / GB, "GB", "logs.ingest_gb")
    if (props.get("TracingConfig") or {}).get("Mode") == "Active" and step.own_trace:
        usage.add(stack, lid, "X-Ray traces recorded", invocations, "traces", "xray.traces_1m")
    if props.get("VpcConfig"):
        for flow_log, flow in stack.of_type("AWS::EC2::FlowLog"):
            if stack.value(flow.get("LogDestinationType")) in (None, "cloud-watch-logs"):
                target = next(iter(sorted(stack.refs(flow.get("LogGroupName")))), flow_log)
                usage.add(stack, target, f"VPC flow logs of {lid}", invocations * assumptions.flow_log_bytes_per_vpc_invocation / GB, "GB", "logs.ingest_gb")
    for call in step.calls:
        target = function.target(call.target)
        if target is None and call.service == "events" and function.has_env(call.target):
            target = lid  # the account's default bus: no resource of the template, priced per event all the same
        if target is None:
            notes.unpriced(f"{stack.name}/{lid}: {call.service}:{call.operation} on {call.target} (no such resource in the template)")
            continue
        _price_call(stack, lid, target, call, assumptions, usage, notes)


def _price_call(stack: Stack, function: str, target: str, call: Call, assumptions: Assumptions, usage: _Lines, notes: Notes) -> None:
    count = call.count * DOCUMENTS
    who = {"function": f"by {function}", "client": f"by the API client (presigned by {function})", "service": f"by AWS for {function}"}[call.made_by]
    props = stack.properties(target)
    if call.service == "dynamodb":
        if (stack.value(props.get("BillingMode")) or "PROVISIONED") != "PAY_PER_REQUEST":
            notes.note(f"{stack.name}/{target}: {call.operation} is covered by the table's provisioned capacity")
        elif call.operation in ITEM_WRITES:
            units = count * math.ceil(assumptions.item_kb)
            usage.add(stack, target, f"{call.operation} {who}", units, "write request units", "dynamodb.write_request_units_1m")
        else:
            units = count * math.ceil(assumptions.item_kb / 4)
            usage.add(stack, target, f"{call.operation} {who}", units, "read request units", "dynamodb.read_request_units_1m")
    elif call.service == "s3":
        key = "s3.put_1k" if call.operation in S3_WRITES else "s3.get_1k"
        usage.add(stack, target, f"{call.operation} {who}", count, "requests", key)
    elif call.service == "sqs":
        usage.add(stack, target, f"{call.operation} {who}", count, "requests", "sqs.requests_1m")
    elif call.service == "sns":
        usage.add(stack, target, f"{call.operation} {who}", count, "publishes", "sns.publishes_1m")
    elif call.service == "events" and call.operation == "PutEvents":
        bus = "the default event bus" if target == function else target
        usage.add(stack, target, f"custom events put on {bus} {who}", count, "events", "events.custom_events_1m")
    else:
        notes.unpriced(f"{stack.name}/{function}: {call.service}:{call.operation} has no price in the model")
    _price_kms(stack, target, call, count, usage, notes)
    _price_data_events(stack, target, call, count, assumptions, usage, function)


def _price_kms(stack: Stack, target: str, call: Call, count: float, usage: _Lines, notes: Notes) -> None:
    """KMS requests a call causes on a customer managed key; services that cache data keys cause almost none."""
    props = stack.properties(target)
    kind = stack.type_of(target)
    if kind == "AWS::S3::Bucket":
        rules = ((props.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration")) or []
        for rule in rules:
            key = stack.refs((rule.get("ServerSideEncryptionByDefault") or {}).get("KMSMasterKeyID"))
            if not key:
                continue
            if rule.get("BucketKeyEnabled") in (True, "true"):
                notes.note(f"{stack.name}/{target}: S3 Bucket Key on: S3 calls KMS for a bucket-level key, not per object")
            else:
                usage.add(stack, min(key), f"KMS requests: {call.operation} on {target}", count, "requests", "kms.requests_10k")
    elif kind == "AWS::SQS::Queue" and stack.refs(props.get("KmsMasterKeyId")):
        period = stack.number(props.get("KmsDataKeyReusePeriodSeconds"), 300)
        notes.note(f"{stack.name}/{target}: SQS reuses its data key for {period:g} s: KMS requests per period, not per message")
    elif kind == "AWS::DynamoDB::Table" and stack.refs((props.get("SSESpecification") or {}).get("KMSMasterKeyId")):
        notes.note(f"{stack.name}/{target}: DynamoDB caches the table key: KMS requests are not per item request")
    elif kind == "AWS::SNS::Topic" and stack.refs(props.get("KmsMasterKeyId")):
        key = min(stack.refs(props.get("KmsMasterKeyId")))
        usage.add(stack, key, f"KMS requests: {call.operation} on {target}", count, "requests", "kms.requests_10k")
        notes.assume("an SNS publish to a topic with a customer managed key is assumed to cost one KMS request (not checked: SNS may reuse data keys)")


def _price_data_events(stack: Stack, target: str, call: Call, count: float, assumptions: Assumptions, usage: _Lines, function: str) -> None:
    """CloudTrail data events for object and item calls on resources a trail's data selectors name."""
    kind = stack.type_of(target)
    if not ((kind == "AWS::S3::Bucket" and call.service == "s3") or (kind == "AWS::DynamoDB::Table" and call.service == "dynamodb")):
        return
    resource_type = "AWS::S3::Object" if kind == "AWS::S3::Bucket" else "AWS::DynamoDB::Table"
    read = call.operation in ITEM_READS | S3_READS
    for trail, props in stack.of_type("AWS::CloudTrail::Trail"):
        if not _trail_records(stack, props, resource_type, target, read):
            continue
        usage.add(stack, trail, f"data events: {call.operation} on {target} by {function}", count, "events", "cloudtrail.data_events_100k")
        logs = sorted(stack.refs(props.get("CloudWatchLogsLogGroupArn")))
        if logs:
            usage.add(stack, logs[0], f"trail events ingested: {call.operation} on {target} by {function}", count * assumptions.trail_log_bytes_per_event / GB, "GB", "logs.ingest_gb")


def _trail_records(stack: Stack, props: dict[str, Any], resource_type: str, target: str, read: bool) -> bool:
    for selector in props.get("AdvancedEventSelectors") or []:
        fields = {f.get("Field"): f for f in selector.get("FieldSelectors") or []}
        if "Data" not in (fields.get("eventCategory") or {}).get("Equals", []):
            continue
        if resource_type not in (fields.get("resources.type") or {}).get("Equals", []):
            continue
        arn = fields.get("resources.ARN")
        if arn is not None and target not in stack.refs(arn):
            continue
        read_only = (fields.get("readOnly") or {}).get("Equals")
        if read_only and str(read).lower() not in [str(v).lower() for v in read_only]:
            continue
        return True
    for selector in props.get("EventSelectors") or []:
        kind = selector.get("ReadWriteType", "All")
        if kind != "All" and (kind == "ReadOnly") != read:
            continue
        for resource in selector.get("DataResources") or []:
            values = resource.get("Values") or []
            everything = resource_type == "AWS::S3::Object" and any(v in ("arn:aws:s3", "arn:aws:s3:::") for v in values)
            if resource.get("Type") == resource_type and (everything or target in stack.refs(values)):
                return True
    return False


def _price_apis(stack: Stack, function_ids: set[str], profile: UsageProfile, assumptions: Assumptions, usage: _Lines, notes: Notes) -> None:
    """API requests on every API that integrates a function of the profile, with their WAF and logs."""
    requests = profile.api_requests * DOCUMENTS
    apis: set[str] = set()
    for _, method in stack.of_type("AWS::ApiGateway::Method"):
        if stack.refs((method.get("Integration") or {}).get("Uri")) & function_ids:
            apis |= stack.refs(method.get("RestApiId"))
    http_apis: set[str] = set()
    for _, integration in stack.of_type("AWS::ApiGatewayV2::Integration"):
        if stack.refs(integration.get("IntegrationUri")) & function_ids:
            http_apis |= stack.refs(integration.get("ApiId"))
    for api in sorted(apis):
        usage.add(stack, api, "REST API requests", requests, "requests", "apigateway.rest_requests_1m")
    for api in sorted(http_apis):
        usage.add(stack, api, "HTTP API requests (up to 512 KB)", requests, "requests", "apigateway.http_requests_1m")
    if apis or http_apis:
        notes.assume(f"{profile.api_requests:g} API requests per document ({profile.description})")
    for stage, props in stack.of_type("AWS::ApiGateway::Stage", "AWS::ApiGatewayV2::Stage"):
        if not stack.refs(props.get("RestApiId") or props.get("ApiId")) & (apis | http_apis):
            continue
        settings = props.get("AccessLogSetting") or props.get("AccessLogSettings") or {}
        target = sorted(stack.refs(settings.get("DestinationArn")))
        if target:
            usage.add(stack, target[0], "API access logs ingested", requests * assumptions.access_log_bytes_per_request / GB, "GB", "logs.ingest_gb")
        levels = {str(s.get("LoggingLevel", "OFF")).upper() for s in props.get("MethodSettings") or []}
        if "INFO" in levels:
            usage.add(stack, stage, "API execution logs ingested (INFO)", requests * assumptions.execution_log_bytes_per_request / GB, "GB", "logs.ingest_gb")
    for _, association in stack.of_type("AWS::WAFv2::WebACLAssociation"):
        if not stack.refs(association.get("ResourceArn")) & (apis | http_apis):
            continue
        for acl in sorted(stack.refs(association.get("WebACLArn"))):
            usage.add(stack, acl, "WAF requests inspected", requests, "requests", "waf.requests_1m")
            for _, logging in stack.of_type("AWS::WAFv2::LoggingConfiguration"):
                if acl in stack.refs(logging.get("ResourceArn")):
                    group = _waf_log_group(stack, logging)
                    usage.add(stack, group or acl, "WAF logs ingested", requests * assumptions.waf_log_bytes_per_request / GB, "GB", "logs.ingest_gb")


def _waf_log_group(stack: Stack, logging: dict[str, Any]) -> str | None:
    """The log group of a WAF logging configuration (its ARN is usually written out, not referenced)."""
    destinations = json.dumps(logging.get("LogDestinationConfigs"))
    refs = sorted(stack.refs(logging.get("LogDestinationConfigs")))
    if refs:
        return refs[0]
    for logical_id, props in stack.of_type("AWS::Logs::LogGroup"):
        name = stack.value(props.get("LogGroupName"))
        if isinstance(name, str) and name in destinations:
            return logical_id
    return None
