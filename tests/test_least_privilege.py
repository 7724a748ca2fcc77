"""Least privilege, proven by a run: every AWS call of every function is allowed by its own policy,
and every permission in that policy is used by some call, or listed below with the reason it stays.

The flagship app's dev configuration runs on :class:`EmulatedStack`, which reports every AWS call
made with a function's role (``on_call``): the handler's own SDK calls, the requests it presigns
(S3 authorizes them against the signer) and the calls Lambda's event source mappings make for the
function. The end-to-end document flow runs first; a second run takes the paths the flow does not
(an event for an object that is not there, a status notification that keeps failing). Each call
becomes the IAM permissions it needs, including the KMS actions services perform with the
caller's permissions, and is checked against the customer-managed policies of the function's role
in the synthesized template, with every ``Ref``/``Fn::GetAtt`` resolved to the emulated resources.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import quote_plus

import boto3
import pytest
from aws_cdk import App
from botocore.exceptions import ClientError
from moto import mock_aws

from serverless_patterns.clients import create_client
from serverless_patterns.local import HANDLER, AwsCall, EmulatedRestApi, EmulatedStack

app_module = importlib.import_module("examples.document_pipeline.app")
local_flow = importlib.import_module("examples.document_pipeline.local_flow")

#: IAM service prefix of botocore services whose prefix differs from their name.
IAM_PREFIX = {"dynamodbstreams": "dynamodb"}
DYNAMODB_READS = {"GetItem", "BatchGetItem", "Query", "Scan", "GetRecords"}
DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}

#: KMS actions a service performs with the caller's permissions when a call touches data encrypted
#: under a customer managed key; the key is the one of the call's resource.
#: - S3: uploading an SSE-KMS object needs kms:GenerateDataKey (a single-part upload nothing else),
#:   reading it kms:Decrypt.
#: - SNS and SQS: publishing or sending needs kms:GenerateDataKey and kms:Decrypt, receiving
#:   kms:Decrypt.
#: - DynamoDB (tables and their streams): AWS documents that DynamoDB decrypts the table key with
#:   the caller's permissions (kms:Decrypt). AuditedTable grants, as CDK's Table does, kms:DescribeKey
#:   to readers and also kms:Encrypt and kms:GenerateDataKey to writers; the model follows the
#:   library, since DynamoDB's own calls to KMS cannot be observed locally.
KMS_ON_BEHALF = {
    "s3:PutObject": ["kms:GenerateDataKey"],
    "s3:GetObject": ["kms:Decrypt"],
    "s3:GetObjectVersion": ["kms:Decrypt"],
    "sns:Publish": ["kms:GenerateDataKey", "kms:Decrypt"],
    "sqs:SendMessage": ["kms:GenerateDataKey", "kms:Decrypt"],
    "sqs:ReceiveMessage": ["kms:Decrypt"],
    **{f"dynamodb:{op}": ["kms:Decrypt", "kms:DescribeKey"] for op in DYNAMODB_READS},
    **{f"dynamodb:{op}": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"] for op in DYNAMODB_WRITES},
}

#: Permissions no local run can exercise, each with the reason it stays. Keys: (handler, or "*"
#: for every function; action; the resource: "*", "own <type>" for the function's own log group,
#: key or dead-letter queue, or the CloudFormation type of the resource the statement names).
NOT_EXERCISED = {
    ("*", "logs:CreateLogStream", "own AWS::Logs::LogGroup"): "The Lambda runtime writes the function's logs with its role.",
    ("*", "logs:PutLogEvents", "own AWS::Logs::LogGroup"): "The Lambda runtime writes the function's logs with its role.",
    ("*", "xray:PutTraceSegments", "*"): "The Lambda runtime sends the function's traces; X-Ray has no resource-level permissions.",
    ("*", "xray:PutTelemetryRecords", "*"): "The Lambda runtime sends the function's traces; X-Ray has no resource-level permissions.",
    # No function dead-letter queue to send to (and no sqs:SendMessage or kms:GenerateDataKey on
    # an own queue and key): the functions are invoked synchronously or by event source mappings
    # (AlertingFunction invocation=SYNCHRONOUS / EVENT_SOURCE), so a DLQ could never fill.
    ("*", "kms:Decrypt", "own AWS::KMS::Key"): (
        "The function's key encrypts its environment variables; Lambda decrypts them with the role."
    ),
    ("document_processor", "sqs:GetQueueAttributes", "AWS::SQS::Queue"): (
        "Lambda reads the queue's attributes when it creates the event source mapping; AWS lists it "
        "among the permissions an SQS mapping needs."
    ),
    ("document_processor", "s3:ListBucket", "AWS::S3::Bucket"): (
        "S3 answers a GetObject of a missing key with 404 NoSuchKey only when the caller may list "
        "the bucket (403 AccessDenied otherwise); the processor rejects a document whose object is "
        "gone on NoSuchKey instead of retrying it into the dead-letter queue. Limited to documents/."
    ),
    ("document_notifier", "dynamodb:GetItem", "AWS::DynamoDB::Table"): (
        "Powertools Idempotency reads a record with GetItem only when a conditional PutItem fails "
        "without returning the existing item (boto3 too old for ReturnValuesOnConditionCheckFailure); "
        "the runtime's boto3 returns it, so the replayed stream never needs it. Powertools documents it "
        "among the permissions of its DynamoDB persistence layer."
    ),
    ("document_notifier", "dynamodb:ListStreams", "*"): (
        "AWS lists it among the permissions a DynamoDB stream mapping needs; it has no resource-level "
        "permissions."
    ),
}
#: Actions whose resource may be "*", because AWS offers nothing narrower.
WILDCARD_RESOURCE_ACTIONS = {
    "xray:PutTraceSegments": "X-Ray has no resource-level permissions.",
    "xray:PutTelemetryRecords": "X-Ray has no resource-level permissions.",
    "dynamodb:ListStreams": "ListStreams has no resource-level permissions.",
}
#: The record docs/least_privilege.md is built from; the last test keeps it current.
RECORD = Path(__file__).resolve().parent.parent / "docs" / "least_privilege.json"
UPDATE_RECORD = "SERVERLESS_PATTERNS_UPDATE_RECORDS"
#: The one pattern allowed besides: object ARNs limited to a key prefix of one bucket.
OBJECT_PATTERN = re.compile(r"arn:aws:s3:::[a-z0-9.-]+/[^*]+/\*")


@dataclass(frozen=True)
class Permission:
    function: str  # logical id
    action: str
    resource: str
    call: str  # what needs it, for messages


@dataclass(frozen=True)
class Statement:
    actions: tuple[str, ...]
    resources: tuple[str, ...]  # resolved to the emulated resources
    labels: tuple[str, ...]  # as the template writes them (the same in every run)
    kinds: tuple[str, ...]  # what each resource names, see NOT_EXERCISED
    conditional: bool


@dataclass(frozen=True)
class Grant:
    """One action on one resource in a function's policy, and whether any call of the runs used it."""

    handler: str
    action: str
    label: str
    kind: str
    resource: str  # as resolved in the first run
    used: bool


@dataclass
class Observed:
    """One emulated stack and the calls made with its functions' roles."""

    stack: EmulatedStack
    calls: list[AwsCall]


# ---- runs -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("flagship-dev")
    app = App(outdir=str(outdir), context={"env": "dev"})
    (stack,) = app_module.build(app)
    return app.synth().get_stack_by_name(stack.stack_name).template, outdir


@contextlib.contextmanager
def _recording_stacks() -> Iterator[list[Observed]]:
    """Every EmulatedStack the document flow creates reports its calls into an :class:`Observed`."""
    observed: list[Observed] = []

    def emulated_stack(*args: Any, **kwargs: Any) -> EmulatedStack:
        calls: list[AwsCall] = []
        stack = EmulatedStack(*args, on_call=calls.append, **kwargs)
        observed.append(Observed(stack, calls))
        return stack

    with mock.patch.object(local_flow, "EmulatedStack", emulated_stack):
        yield observed


@pytest.fixture(scope="module")
def runs(dev) -> list[Observed]:
    template, outdir = dev
    with _recording_stacks() as observed:
        flow = local_flow.run(template, outdir)
    assert local_flow.problems(flow) == [], "the document flow itself must succeed"
    return [*observed, _failure_paths(template, outdir)]


def _failure_paths(template: dict[str, Any], outdir: Any) -> Observed:
    """An event for an object that does not exist (a classic S3 notification without a version id),
    whose REJECTED notification SNS keeps refusing until Lambda gives the record up; then the whole
    stream is delivered again (as after the mapping is recreated), which the notifier's idempotency
    records absorb."""
    calls: list[AwsCall] = []

    def on_call(call: AwsCall) -> None:
        calls.append(call)
        if call.origin == HANDLER and call.operation == "Publish" and '"status":"REJECTED"' in call.params["Message"]:
            raise ClientError({"Error": {"Code": "KMSThrottlingException", "Message": "injected"}}, "Publish")

    with mock_aws():
        stack = EmulatedStack(template, outdir, quiet=True, on_call=on_call).start()
        api = EmulatedRestApi(stack)
        environment = stack.function("documents_api.").environment
        key = create_client(
            table=stack.function("api_key_authorizer.").environment["PERMISSIONS_TABLE"], client_id="writer",
            level="read-write", api_id=api.api_id, session=boto3.Session(region_name=stack.region),
        ).api_key
        response = api.request("POST", "/documents", api_key=key, body={"file_name": "gone.pdf", "content_type": "application/pdf", "size": 10})
        assert response.status == 201, response.body
        document_id = response.body["document_id"]
        record = {"eventSource": "aws:s3", "eventName": "ObjectCreated:Post", "s3": {
            "bucket": {"name": environment["DOCUMENTS_BUCKET"]},
            "object": {"key": quote_plus(f"documents/{document_id}/gone.pdf"), "size": 10},
        }}
        upload_queue = stack.queue_url(next(m.source_arn for m in stack.mappings if m.is_queue))
        stack.client("sqs").send_message(QueueUrl=upload_queue, MessageBody=json.dumps({"Records": [record]}))
        stack.pump()
        item = stack.client("dynamodb").get_item(TableName=environment["DOCUMENTS_TABLE"], Key={"document_id": {"S": document_id}})["Item"]
        assert (item["status"]["S"], item["reason"]["S"]) == ("REJECTED", "the object no longer exists")
        failures_url = stack.queue_url(next(m.on_failure for m in stack.mappings if not m.is_queue))
        depth = stack.client("sqs").get_queue_attributes(QueueUrl=failures_url, AttributeNames=["ApproximateNumberOfMessages"])
        assert depth["Attributes"]["ApproximateNumberOfMessages"] == "1", "the notification's stream record was given up"
        stream = next(m for m in stack.mappings if not m.is_queue)
        published = sum(1 for c in calls if c.operation == "Publish")
        stream.shard_iterators.clear()  # read the stream again from its start
        stack.pump()
        replayed = sum(1 for c in calls if c.operation == "Publish") - published
        assert replayed == 1 + stream.maximum_retry_attempts, "only the never-published transition is tried again"
    return Observed(stack, calls)


# ---- calls -> permissions ---------------------------------------------------------------------


def _physical_index(stack: EmulatedStack) -> dict[str, str]:
    """Every physical name, URL and ARN of the emulated resources -> its logical id."""
    return {value: logical_id for logical_id, physical in stack.physical.items() for value in physical.values() if isinstance(value, str)}


def _key_of(stack: EmulatedStack, logical_id: str | None) -> str | None:
    if logical_id is None:  # a resource outside the stack (the account's default event bus)
        return None
    props = stack.resources[logical_id].get("Properties", {})
    key = (
        props.get("KmsMasterKeyId")
        or props.get("SSESpecification", {}).get("KMSMasterKeyId")
        or next(
            (rule["ServerSideEncryptionByDefault"].get("KMSMasterKeyID")
             for rule in props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])),
            None,
        )
    )
    return stack.resolve(key) if key else None


def required_permissions(stack: EmulatedStack, call: AwsCall) -> list[Permission]:
    """The IAM permissions ``call`` needs: its own action, and the KMS actions a service performs
    on the caller's behalf with the key of the call's resource."""
    index = _physical_index(stack)
    prefix = IAM_PREFIX.get(call.service, call.service)
    params = call.params
    operation = call.operation
    if call.service == "s3":
        if operation in ("GetObject", "HeadObject"):
            operation = "GetObjectVersion" if params.get("VersionId") else "GetObject"
        elif operation == "DeleteObject" and params.get("VersionId"):
            operation = "DeleteObjectVersion"
        elif operation in ("ListObjects", "ListObjectsV2"):
            operation = "ListBucket"
        resource = f"arn:aws:s3:::{params['Bucket']}" + ("" if operation == "ListBucket" else f"/{params['Key']}")
        logical_id = index[params["Bucket"]]
    elif call.service == "dynamodb":
        logical_id = index[params["TableName"]]
        resource = stack.physical[logical_id]["Arn"] + (f"/index/{params['IndexName']}" if params.get("IndexName") else "")
    elif call.service == "dynamodbstreams":
        resource, logical_id = params["StreamArn"], index[params["StreamArn"]]
    elif call.service == "sqs":
        logical_id = index[params["QueueUrl"]]
        resource = stack.physical[logical_id]["Arn"]
    elif call.service == "sns":
        resource, logical_id = params["TopicArn"], index[params["TopicArn"]]
    elif call.service == "lambda":
        resource, logical_id = params["FunctionName"], index[params["FunctionName"]]
        operation = {"Invoke": "InvokeFunction"}.get(operation, operation)
    elif call.service == "events" and operation == "PutEvents":
        # PutEvents is authorized per bus; each entry names its bus by name or ARN (default: "default").
        (bus,) = {entry.get("EventBusName") or "default" for entry in params["Entries"]}
        resource = bus if bus.startswith("arn:") else f"arn:aws:events:{stack.region}:123456789012:event-bus/{bus}"
        logical_id = index.get(resource)  # None for the account's default bus: not a stack resource
    else:
        raise AssertionError(f"no IAM mapping for {call.service}:{call.operation}; extend required_permissions")
    action = f"{prefix}:{operation}"
    description = f"{call.origin} call {call.service}:{call.operation}"
    permissions = [Permission(call.function, action, resource, description)]
    key = _key_of(stack, logical_id)
    if key is not None:
        permissions += [Permission(call.function, kms, key, f"{description} (by the service)") for kms in KMS_ON_BEHALF.get(action, [])]
    return permissions


# ---- policies -------------------------------------------------------------------------------


def _own_resources(props: dict[str, Any]) -> set[str]:
    """Logical ids of the function's own log group, key and dead-letter queue."""
    text = json.dumps({k: props.get(k) for k in ("LoggingConfig", "KmsKeyArn", "DeadLetterConfig")})
    return set(re.findall(r'"(?:Ref|Fn::GetAtt)": \[?"([A-Za-z0-9]+)"', text))


def _kind(stack: EmulatedStack, resource: Any, own: set[str]) -> str:
    if resource == "*":
        return "*"
    found = re.search(r'"(?:Ref|Fn::GetAtt)": \[?"([A-Za-z0-9]+)"', json.dumps(resource))
    if found is None:  # an ARN of pseudo parameters only: a resource of the account, not the stack
        return "account's default event bus" if ":event-bus/default" in json.dumps(resource) else "outside the stack"
    logical_id = found.group(1)
    kind = stack.resources[logical_id]["Type"]
    return f"own {kind}" if logical_id in own else kind


def policies(stack: EmulatedStack) -> dict[str, list[Statement]]:
    """function logical id -> the statements of its role's customer-managed policies, resolved."""
    resources = stack.resources
    result = {}
    for function_id, function in stack.functions.items():
        props = resources[function_id]["Properties"]
        role = props["Role"]["Fn::GetAtt"][0]
        assert not resources[role]["Properties"].get("Policies"), f"{function.handler}: inline policy"
        attached = resources[role]["Properties"].get("ManagedPolicyArns", [])
        assert all(isinstance(arn, dict) and "Ref" in arn for arn in attached), f"{function.handler}: AWS managed policy"
        assert not any(
            r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"].get("Roles", []) for r in resources.values()
        ), f"{function.handler}: AWS::IAM::Policy on its role"
        own = _own_resources(props)
        statements = []
        for reference in attached:
            for raw in resources[reference["Ref"]]["Properties"]["PolicyDocument"]["Statement"]:
                assert raw["Effect"] == "Allow"
                actions = raw["Action"] if isinstance(raw["Action"], list) else [raw["Action"]]
                unresolved = raw["Resource"] if isinstance(raw["Resource"], list) else [raw["Resource"]]
                statements.append(
                    Statement(
                        actions=tuple(actions),
                        resources=tuple(str(stack.resolve(r)) for r in unresolved),
                        labels=tuple(json.dumps(r, sort_keys=True) for r in unresolved),
                        kinds=tuple(_kind(stack, r, own) for r in unresolved),
                        conditional="Condition" in raw,
                    )
                )
        result[function_id] = statements
    return result


def _matches(pattern: str, value: str) -> bool:
    """IAM resource matching: ``*`` any run of characters, ``?`` one."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _allows(statement: Statement, permission: Permission) -> bool:
    # A statement with a condition is never counted: no recorded call carries condition keys.
    return (
        not statement.conditional
        and permission.action in statement.actions
        and any(_matches(resource, permission.resource) for resource in statement.resources)
    )


def _handler(stack: EmulatedStack, function_id: str) -> str:
    return stack.functions[function_id].handler.split(".")[0]


def _grants(runs: list[Observed]) -> list[Grant]:
    """Every (action, resource) pair of every function's policy, used or not by the runs' calls."""
    found: dict[tuple[str, str, str], Grant] = {}
    for run in runs:
        needed = [p for call in run.calls for p in required_permissions(run.stack, call)]
        for function_id, statements in policies(run.stack).items():
            handler = _handler(run.stack, function_id)
            mine = [p for p in needed if p.function == function_id]
            for statement in statements:
                for resource, label, kind in zip(statement.resources, statement.labels, statement.kinds, strict=True):
                    for action in statement.actions:
                        single = Statement((action,), (resource,), (label,), (kind,), statement.conditional)
                        used = any(_allows(single, p) for p in mine)
                        earlier = found.get((handler, action, label))
                        if earlier is None:
                            found[(handler, action, label)] = Grant(handler, action, label, kind, resource, used)
                        elif used and not earlier.used:
                            found[(handler, action, label)] = Grant(handler, action, label, kind, earlier.resource, True)
    return sorted(found.values(), key=lambda g: (g.handler, g.action, g.label))


def _unused(runs: list[Observed]) -> set[tuple[str, str, str]]:
    return {(g.handler, g.action, g.kind) for g in _grants(runs) if not g.used}


# ---- what must hold -------------------------------------------------------------------------


def test_the_runs_exercise_every_function_and_every_origin_of_calls(runs):
    flow = runs[0]
    assert {c.function for c in flow.calls} == set(flow.stack.functions)
    origins = {(run.stack.functions[c.function].handler.split(".")[0], c.origin) for run in runs for c in run.calls}
    assert {("documents_api", "presigned"), ("document_processor", "event-source"), ("document_notifier", "event-source")} <= origins


def test_every_call_is_allowed_by_the_functions_own_policy(runs):
    denied = []
    for run in runs:
        statements = policies(run.stack)
        for call in run.calls:
            for permission in required_permissions(run.stack, call):
                if not any(_allows(s, permission) for s in statements[permission.function]):
                    denied.append(f"{_handler(run.stack, permission.function)}: {permission.action} on {permission.resource} ({permission.call})")
    assert not denied, "calls outside the policy:\n" + "\n".join(sorted(set(denied)))


def test_no_call_is_allowed_by_another_functions_policy_alone(runs):
    """A call of one function is never satisfied through the policy of another (attribution works)."""
    run = runs[0]
    statements = policies(run.stack)
    api = run.stack.function("documents_api.").logical_id
    processor = run.stack.function("document_processor.").logical_id
    presigned_puts = [p for c in run.calls if c.origin == "presigned" and c.operation == "PutObject" for p in required_permissions(run.stack, c)]
    assert presigned_puts and all(p.function == api for p in presigned_puts)
    assert not any(_allows(s, presigned_puts[0]) for s in statements[processor]), "the processor may not upload"


def test_every_granted_action_is_used_or_listed_with_a_reason(runs):
    unexplained = sorted(u for u in _unused(runs) if u not in NOT_EXERCISED and ("*", u[1], u[2]) not in NOT_EXERCISED)
    assert not unexplained, "granted but never used, and not listed in NOT_EXERCISED:\n" + "\n".join(map(str, unexplained))


def test_the_list_of_unexercised_permissions_has_no_stale_entries(runs):
    unused = _unused(runs)
    for handler, action, kind in NOT_EXERCISED:
        matching = {u for u in unused if u[1] == action and u[2] == kind and handler in ("*", u[0])}
        assert matching, f"NOT_EXERCISED lists {handler} {action} on {kind}, which is now used or no longer granted"
    assert all(reason.strip() for reason in NOT_EXERCISED.values())


def test_resources_are_specific_arns(runs):
    problems = []
    for grant in _grants(runs):
        if grant.resource == "*":
            if grant.action not in WILDCARD_RESOURCE_ACTIONS:
                problems.append(f"{grant.handler}: {grant.action} on *")
        elif "*" in grant.resource and not OBJECT_PATTERN.fullmatch(grant.resource):
            problems.append(f"{grant.handler}: {grant.action} on {grant.resource}")
    assert not problems, "\n".join(problems)


def test_the_functions_need_exactly_these_actions(runs):
    """The used grants, per handler: a readable record of what the run proved necessary."""
    used: dict[str, set[str]] = {}
    for grant in _grants(runs):
        if grant.used:
            used.setdefault(grant.handler, set()).add(grant.action)
    kms_for_tables = {"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"}
    assert used == {
        "api_key_authorizer": {"dynamodb:GetItem", "kms:Decrypt", "kms:DescribeKey"},
        "documents_api": {
            "s3:PutObject", "s3:GetObjectVersion", "s3:DeleteObject",
            "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", *kms_for_tables,
        },
        "document_processor": {
            "sqs:ReceiveMessage", "sqs:DeleteMessage", "s3:GetObject", "s3:GetObjectVersion",
            "dynamodb:GetItem", "dynamodb:UpdateItem", *kms_for_tables,
        },
        "document_notifier": {
            "dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords", "sns:Publish", "events:PutEvents",
            "sqs:SendMessage", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
            *kms_for_tables,
        },
    }


# ---- what the recorded calls say about the network and the alarms ---------------------------

#: Services with a (free) gateway endpoint in an IsolatedNetwork.
GATEWAY_SERVICES = {"s3", "dynamodb"}


@pytest.fixture(scope="module")
def prod_template():
    app = App(context={"env": "prod", "@aws-cdk/core:failSynthOnValidationErrors": False})
    (stack,) = app_module.build(app)
    return app.synth().get_stack_by_name(stack.stack_name).template


def _interface_endpoint_services(template: dict[str, Any]) -> set[str]:
    """Short service names (``sns``) of the template's interface endpoints."""
    names = set()
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::EC2::VPCEndpoint" and props.get("VpcEndpointType") == "Interface":
            name = json.dumps(props["ServiceName"])  # com.amazonaws.<region>.<service>, maybe a Join
            names.add(re.search(r"\.([a-z0-9-]+)\"\]?\]?\}?$", name).group(1))
    return names


def test_interface_endpoints_are_exactly_the_services_the_code_calls_without_a_gateway(runs, prod_template):
    """The prod network's interface endpoints: what the handlers' own code calls (from inside the
    VPC), less S3 and DynamoDB (gateway endpoints). Presigned requests are sent by the client, and
    event-source polling, failure destinations, log shipping and environment decryption are made by
    the Lambda service outside the function's network interface; traces go over UDP to the X-Ray
    daemon Lambda runs beside the function. None of them needs an endpoint."""
    from serverless_patterns.document_pipeline import VPC_INTERFACE_ENDPOINTS

    called = {IAM_PREFIX.get(c.service, c.service) for run in runs for c in run.calls if c.origin == HANDLER}
    assert {"s3", "dynamodb", "sns"} <= called  # the flow reached every handler's calls
    assert set(VPC_INTERFACE_ENDPOINTS) == called - GATEWAY_SERVICES
    assert _interface_endpoint_services(prod_template) == called - GATEWAY_SERVICES


def _alarm_operations(template: dict[str, Any]) -> dict[str, dict[str, set[str]]]:
    """Per table logical id and metric name: the ``Operation`` dimensions its math alarms sum."""
    found: dict[str, dict[str, set[str]]] = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        for query in resource["Properties"].get("Metrics", []):
            metric = query.get("MetricStat", {}).get("Metric")
            if not metric or metric.get("Namespace") != "AWS/DynamoDB":
                continue
            dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            table = dimensions["TableName"]["Ref"]
            found.setdefault(table, {}).setdefault(metric["MetricName"], set()).add(dimensions["Operation"])
    return found


def test_table_alarms_sum_exactly_the_operations_that_can_reach_the_table(runs, dev):
    """Each table's throttling and system-error alarms read one metric per operation ($0.10 each):
    every operation the flow calls is summed, and none that no function may call (it could never
    have data). The permissions table is also written by the key-management client."""
    template, _ = dev
    alarms = _alarm_operations(template)
    index = _physical_index(runs[0].stack)
    called: dict[str, set[str]] = {}
    for run in runs:
        run_index = _physical_index(run.stack)
        for c in run.calls:
            if c.service == "dynamodb" and "TableName" in c.params:
                called.setdefault(run_index[c.params["TableName"]], set()).add(c.operation)
    granted: dict[str, set[str]] = {}
    stream_actions = {"DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"}
    for grant in _grants(runs):
        table = index.get(grant.resource.split("/index/")[0])  # an index's operations count for its table
        action = grant.action.split(":", 1)[1]
        if table and grant.action.startswith("dynamodb:") and action not in stream_actions:
            granted.setdefault(table, set()).add(action)
    tables = {lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"}
    assert set(alarms) == tables and set(called) == tables
    for table in tables:
        assert set(alarms[table]) == {"ThrottledRequests", "SystemErrors"}, table
        for operations in alarms[table].values():
            assert called[table] <= operations, table
            if "Permissions" not in table:
                assert operations == granted[table], table


# ---- the record the docs page is built from -------------------------------------------------


def _readable(value: Any) -> str:
    """A policy resource as the template writes it, in short: ``Table.Arn/index/*``, ``Key.Arn``."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(_readable(item) for item in value)
    if set(value) == {"Ref"}:
        return value["Ref"] if not value["Ref"].startswith("AWS::") else "${" + value["Ref"] + "}"
    if set(value) == {"Fn::GetAtt"}:
        return ".".join(value["Fn::GetAtt"])
    if set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(_readable(part) for part in parts)
    return json.dumps(value, sort_keys=True)


def least_privilege_record(runs: list[Observed]) -> dict[str, Any]:
    """Per function: the calls the runs made with its role, every permission it holds, whether a
    call used it, and the reason an unused one stays (docs/least_privilege.md shows this)."""
    stack = runs[0].stack
    grants = _grants(runs)
    functions = []
    for function_id in sorted(stack.functions, key=lambda f: _handler(stack, f)):
        handler = _handler(stack, function_id)
        calls = sorted({(c.origin, f"{c.service}:{c.operation}") for run in runs for c in run.calls if _handler(run.stack, c.function) == handler})
        held = []
        for grant in (g for g in grants if g.handler == handler):
            entry = {"action": grant.action, "resource": _readable(json.loads(grant.label)), "kind": grant.kind, "used": grant.used}
            if not grant.used:
                entry["reason"] = NOT_EXERCISED.get((handler, grant.action, grant.kind)) or NOT_EXERCISED.get(("*", grant.action, grant.kind), "")
            held.append(entry)
        functions.append({"handler": handler, "logical_id": function_id, "calls": [{"origin": o, "call": c} for o, c in calls], "grants": held})
    return {"configuration": "dev", "functions": functions}


def test_the_committed_record_for_the_docs_is_what_the_runs_produce(runs):
    produced = json.dumps(least_privilege_record(runs), indent=1, sort_keys=True) + "\n"
    if os.environ.get(UPDATE_RECORD) == "1":
        RECORD.write_text(produced)
    committed = RECORD.read_text() if RECORD.exists() else ""
    assert committed == produced, (
        f"docs/{RECORD.name} differs from what this run produces (the docs page shows it); regenerate it with "
        f"{UPDATE_RECORD}=1 make test PYTEST_ARGS=tests/test_least_privilege.py, and review the difference"
    )
