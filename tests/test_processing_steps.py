"""DocumentPipeline processing steps and validators: wiring, least privilege, errors, and the flow.

The user's code lives in ``tests/steps_user_code/`` (plain Lambda handlers, as a user writes them):
two processing steps (``tag_pages`` reads the object and returns TAGGED; ``classify`` returns
CLASSIFIED_SMALL or CLASSIFIED_LARGE, raises for a file named ``*fail*`` and returns an undeclared
status for ``*bogus*``) and a validator of ``application/x-foo`` (content must start with FOO1).
The flow runs on :class:`EmulatedStack`: asynchronous invocations with their EventInvokeConfig,
Lambda's invocation records to the step-results queue, the coordinator, the failure queues.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_lambda as lambda_
from harness import synthesize
from moto import mock_aws

from serverless_patterns import AlertingFunction, DocumentPipeline, Invocation, ProcessingStep
from serverless_patterns.clients import create_client
from serverless_patterns.local import ASYNC_INVOKE, HANDLER, AwsCall, EmulatedRestApi, EmulatedStack

local_flow = importlib.import_module("examples.document_pipeline.local_flow")

USER_CODE = Path(__file__).resolve().parent / "steps_user_code"
FOO = "application/x-foo"


def user_function(stack: Stack, name: str) -> lambda_.Function:
    return lambda_.Function(
        stack, name.title().replace("_", ""), runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
        code=lambda_.Code.from_asset(str(USER_CODE / name)),
    )


def _with_steps(stack: Stack) -> DocumentPipeline:
    validator = user_function(stack, "foo_validator")
    pipeline = DocumentPipeline(
        stack, "Docs", allowed_content_types=["text/plain", "application/pdf", FOO], validators={FOO: validator},
    )
    pipeline.add_processing_step("TagPages", function=user_function(stack, "tag_pages"), statuses=["TAGGED"])
    pipeline.add_processing_step(
        "Classify", function=user_function(stack, "classify"), statuses=["CLASSIFIED_SMALL", "CLASSIFIED_LARGE"],
        retries=1, timeout=Duration.minutes(10),
    )
    return pipeline


@pytest.fixture(scope="module")
def synth():
    return synthesize(_with_steps)


def _resource_id(synth, path: str, kind: str) -> str:
    """The logical id of the resource at ``/Docs/<path>`` (the pipeline's construct tree)."""
    construct = synth.extra["built"]
    for part in path.removeprefix("/Docs/").split("/"):
        construct = construct.node.find_child(part)
    if not hasattr(construct, "logical_id"):
        construct = construct.node.default_child
    logical_id = Stack.of(construct).resolve(construct.logical_id)
    assert synth.template["Resources"][logical_id]["Type"] == kind
    return logical_id


def _function_id(synth, name: str) -> str:
    return next(lid for lid, r in synth.resources("AWS::Lambda::Function").items() if lid.startswith(name) and "Role" in r["Properties"])


def _invoke_configs(synth) -> dict[str, dict[str, Any]]:
    return {r["Properties"]["FunctionName"]["Ref"]: r["Properties"] for r in synth.resources("AWS::Lambda::EventInvokeConfig").values()}


# ---- template wiring --------------------------------------------------------------------------


def test_each_step_and_validator_is_invoked_asynchronously_with_records_to_the_results_queue(synth):
    results = _resource_id(synth, "/Docs/StepResults/Resource", "AWS::SQS::Queue")
    configs = _invoke_configs(synth)
    expected = {"TagPages": (2, 6 * 3600), "Classify": (1, 600), "FooValidator": (2, 6 * 3600)}
    for name, (retries, age) in expected.items():
        config = configs[_function_id(synth, name)]
        assert (config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"], config["Qualifier"]) == (retries, age, "$LATEST")
        destinations = config["DestinationConfig"]
        assert destinations["OnSuccess"]["Destination"] == {"Fn::GetAtt": [results, "Arn"]}
        assert destinations["OnFailure"]["Destination"] == {"Fn::GetAtt": [results, "Arn"]}


def test_the_coordinator_knows_the_steps_in_order_and_the_validators(synth):
    coordinator = synth.template["Resources"][_resource_id(synth, "/Docs/StepCoordinator/Resource", "AWS::Lambda::Function")]
    variables = coordinator["Properties"]["Environment"]["Variables"]
    assert coordinator["Properties"]["Handler"] == "document_steps.index.handler"
    steps = json.dumps(variables["PIPELINE_STEPS"])
    assert steps.index("TagPages") < steps.index("Classify")
    assert "CLASSIFIED_SMALL" in steps and _resource_id(synth, "/Docs/Steps/Classify/Failures/Resource", "AWS::SQS::Queue") in steps
    assert FOO in json.dumps(variables["PIPELINE_VALIDATORS"])


def test_the_processor_hands_validated_documents_and_custom_types_on(synth):
    processor = synth.template["Resources"][_resource_id(synth, "/Docs/Processor/Resource", "AWS::Lambda::Function")]
    variables = processor["Properties"]["Environment"]["Variables"]
    assert (variables["ACCEPTED_STATUS"], variables["VALIDATOR_TYPES"]) == ("VALIDATED", FOO)


def test_the_coordinator_reads_the_stream_and_the_results_queue(synth):
    coordinator = _resource_id(synth, "/Docs/StepCoordinator/Resource", "AWS::Lambda::Function")
    mappings = [r["Properties"] for r in synth.resources("AWS::Lambda::EventSourceMapping").values()
                if r["Properties"]["FunctionName"] == {"Ref": coordinator}]
    sources = sorted(json.dumps(m["EventSourceArn"]) for m in mappings)
    assert len(mappings) == 2 and any("StreamArn" in s for s in sources) and any("StepResults" in s for s in sources)
    stream = next(m for m in mappings if "StreamArn" in json.dumps(m["EventSourceArn"]))
    failures = _resource_id(synth, "/Docs/StepStartFailures/Resource", "AWS::SQS::Queue")
    assert stream["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [failures, "Arn"]}


def test_each_failure_queue_alarms_on_the_first_record(synth):
    topic = _resource_id(synth, "/Docs/Alerts/Resource", "AWS::SNS::Topic")
    for step in ("Steps/TagPages", "Steps/Classify", "Validators/ApplicationXFoo"):
        alarm = synth.template["Resources"][_resource_id(synth, f"/Docs/{step}/FailuresAlarm/Resource", "AWS::CloudWatch::Alarm")]["Properties"]
        queue = _resource_id(synth, f"/Docs/{step}/Failures/Resource", "AWS::SQS::Queue")
        assert (alarm["MetricName"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
            "ApproximateNumberOfMessagesVisible", 1, "GreaterThanOrEqualToThreshold")
        assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
        assert {"Ref": topic} in alarm["AlarmActions"]


def _statements(synth, function_id: str) -> list[dict[str, Any]]:
    role = synth.template["Resources"][function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    found = []
    for resource in synth.template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::ManagedPolicy" and {"Ref": role} in props.get("Roles", []):
            found += props["PolicyDocument"]["Statement"]
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in props.get("Roles", []):
            found += props["PolicyDocument"]["Statement"]
    role_props = synth.template["Resources"][role]["Properties"]
    for reference in role_props.get("ManagedPolicyArns", []):
        if isinstance(reference, dict) and "Ref" in reference:
            found += synth.template["Resources"][reference["Ref"]]["Properties"]["PolicyDocument"]["Statement"]
    return found


def _actions(statement: dict[str, Any]) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def test_the_coordinator_may_invoke_exactly_the_step_and_validator_functions(synth):
    coordinator = _resource_id(synth, "/Docs/StepCoordinator/Resource", "AWS::Lambda::Function")
    invoke = [s for s in _statements(synth, coordinator) if any(a.startswith("lambda:") for a in _actions(s))]
    resources = [r for s in invoke for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])]
    assert all(_actions(s) == ["lambda:InvokeFunction"] for s in invoke)
    assert sorted(json.dumps(r) for r in resources) == sorted(
        json.dumps({"Fn::GetAtt": [_function_id(synth, name), "Arn"]}) for name in ("TagPages", "Classify", "FooValidator")
    ), "unqualified ARNs only: no other version or alias, no other function"


def test_the_coordinator_sends_only_to_the_failure_queues(synth):
    """The steps' and validators' failure queues (its code) and the stream mapping's on-failure queue (Lambda)."""
    coordinator = _resource_id(synth, "/Docs/StepCoordinator/Resource", "AWS::Lambda::Function")
    sends = [s for s in _statements(synth, coordinator) if "sqs:SendMessage" in _actions(s)]
    targets = sorted(json.dumps(s["Resource"]) for s in sends)
    queues = sorted([
        json.dumps({"Fn::GetAtt": [_resource_id(synth, f"/Docs/{p}/Failures/Resource", "AWS::SQS::Queue"), "Arn"]})
        for p in ("Steps/TagPages", "Steps/Classify", "Validators/ApplicationXFoo")
    ] + [json.dumps({"Fn::GetAtt": [_resource_id(synth, "/Docs/StepStartFailures/Resource", "AWS::SQS::Queue"), "Arn"]})])
    assert targets == queues
    assert all(_actions(s) == ["sqs:SendMessage"] for s in sends)


def test_each_step_function_may_send_its_invocation_records_to_the_results_queue(synth):
    results = _resource_id(synth, "/Docs/StepResults/Resource", "AWS::SQS::Queue")
    for name in ("TagPages", "Classify", "FooValidator"):
        sends = [s for s in _statements(synth, _function_id(synth, name)) if "sqs:SendMessage" in _actions(s)]
        assert [s["Resource"] for s in sends] == [{"Fn::GetAtt": [results, "Arn"]}]


def test_the_pipelines_own_resources_have_no_unacknowledged_findings(synth):
    """The user's plain functions carry their own findings (no DLQ, no VPC ...); the pipeline none."""
    ours = [f for f in synth.nag.findings if "/Docs/" in f.path]
    assert not ours, "\n".join(map(str, ours))


def test_steps_are_exported_and_returned(synth):
    pipeline = synth.extra["built"]
    assert [type(s) for s in pipeline.processing_steps] == [ProcessingStep, ProcessingStep]
    assert [s.node.id for s in pipeline.processing_steps] == ["TagPages", "Classify"]
    assert pipeline.processing_steps[1].statuses == ("CLASSIFIED_SMALL", "CLASSIFIED_LARGE")
    assert set(pipeline.validators) == {FOO}


def test_a_pipeline_without_steps_has_no_coordinator():
    synth = synthesize(lambda stack: DocumentPipeline(stack, "Docs"))
    assert not synth.resources("AWS::Lambda::EventInvokeConfig")
    handlers = {r["Properties"].get("Handler") for r in synth.resources("AWS::Lambda::Function").values()}
    assert "document_steps.index.handler" not in handlers
    processor = next(r for r in synth.resources("AWS::Lambda::Function").values() if r["Properties"].get("Handler") == "document_processor.index.handler")
    assert "ACCEPTED_STATUS" not in processor["Properties"]["Environment"]["Variables"]


# ---- errors at construction -------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack():
    return Stack(App(context={"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True}), "Errors")


@pytest.fixture(scope="module")
def pipeline(stack):
    return DocumentPipeline(stack, "Docs")


@pytest.fixture(scope="module")
def plain(stack):
    return user_function(stack, "tag_pages")


def test_a_content_type_beyond_the_built_ins_without_a_validator_is_refused(stack):
    with pytest.raises(ValueError, match=r"DocumentPipeline: invalid props:\n.*allowed_content_types='application/x-foo': .*validator"):
        DocumentPipeline(stack, "NoValidator", allowed_content_types=["application/pdf", FOO])


@pytest.mark.parametrize(
    ("allowed", "content_type", "message"),
    [
        (["application/pdf"], "application/pdf", "validators='application/pdf': is a built-in content type"),
        (["application/pdf"], FOO, "validators='application/x-foo': is not in allowed_content_types"),
        (["application/pdf"], "not-a-type", "validators='not-a-type': keys must be MIME types"),
    ],
)
def test_validators_are_checked(stack, plain, allowed, content_type, message):
    with pytest.raises(ValueError, match=message):
        DocumentPipeline(stack, "BadValidator", allowed_content_types=allowed, validators={content_type: plain})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"statuses": []}, "statuses=\\[\\]: must be a non-empty list"),
        ({"statuses": ["tagged"]}, "statuses='tagged': a status is 1-40 upper-case"),
        ({"statuses": ["PROCESSED"]}, "statuses='PROCESSED': is a built-in status"),
        ({"retries": 3}, "retries=3: must be 0-2"),
        ({"timeout": Duration.seconds(30)}, "timeout='30 seconds': must be whole seconds from 1 minute to 6 hours"),
        ({"timeout": Duration.hours(7)}, "timeout='25200 seconds'"),
    ],
)
def test_step_arguments_are_checked(pipeline, plain, kwargs, message):
    arguments = {"function": plain, "statuses": ["TAGGED"], **kwargs}
    with pytest.raises(ValueError, match=r"DocumentPipeline.add_processing_step: invalid props:\n.*" + message):
        pipeline.add_processing_step("Bad", **arguments)


def test_an_alerting_function_must_leave_its_async_configuration_to_the_step(stack, pipeline):
    code = lambda_.Code.from_asset(str(USER_CODE / "tag_pages"))
    for invocation in (Invocation.ASYNCHRONOUS, Invocation.SYNCHRONOUS, Invocation.EVENT_SOURCE):
        function = AlertingFunction(stack, f"Wrong{invocation.name.title().replace('_', '')}", code=code, handler="index.handler", invocation=invocation)
        with pytest.raises(ValueError, match=r"is an AlertingFunction with invocation=Invocation\.\w+; .*Invocation.CALLER_CONFIGURED_ASYNC"):
            pipeline.add_processing_step("Wrong", function=function, statuses=["TAGGED"])


def test_a_plain_function_with_its_own_async_configuration_is_refused(stack, pipeline):
    function = lambda_.Function(stack, "PlainAsync", code=lambda_.Code.from_asset(str(USER_CODE / "tag_pages")),
                                handler="index.handler", runtime=lambda_.Runtime.PYTHON_3_12, retry_attempts=1)
    with pytest.raises(ValueError, match=r"already has an EventInvokeConfig .*Invocation.CALLER_CONFIGURED_ASYNC"):
        pipeline.add_processing_step("PlainAsync", function=function, statuses=["TAGGED"])


def test_an_alerting_function_step_gets_only_the_steps_async_configuration():
    def build(stack):
        pipeline = DocumentPipeline(stack, "Docs")
        function = AlertingFunction(stack, "Tagger", code=lambda_.Code.from_asset(str(USER_CODE / "tag_pages")),
                                    handler="index.handler", invocation=Invocation.CALLER_CONFIGURED_ASYNC,
                                    invoked_by="the Docs pipeline's Tag step")
        return function, pipeline.add_processing_step("Tag", function=function, statuses=["TAGGED"])

    synth = synthesize(build)
    function, step = synth.extra["built"]
    assert function.dead_letter_queue is None and function.function.node.try_find_child("EventInvokeConfig") is None
    (config,) = synth.resources("AWS::Lambda::EventInvokeConfig").values()
    assert config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]  # the step's, to the coordinator
    reasons = [f.reason for f in synth.nag.acknowledged if "LambdaDLQ" in f.rule and f.path.startswith("Test/Tagger/")]
    assert reasons and all("Invoked asynchronously by the Docs pipeline's Tag step" in r for r in reasons)
    assert synth.nag.findings == [] and synth.checkov.findings == []


def test_step_ids_are_unique(stack, plain):
    pipeline = DocumentPipeline(stack, "Unique")
    pipeline.add_processing_step("One", function=plain, statuses=["ONE"])
    with pytest.raises(ValueError, match="id='One': a processing step of that id exists already"):
        pipeline.add_processing_step("One", function=user_function(stack, "classify"), statuses=["TWO"])


# ---- the flow on the emulator -----------------------------------------------------------------

FOO_GOOD = local_flow.Sample("good.foo", FOO, b"FOO1 payload\n")
FOO_BAD = local_flow.Sample("bad.foo", FOO, b"BAR1 payload\n")
SMALL = local_flow.Sample("small.txt", "text/plain", b"one\ntwo\n")
LARGE = local_flow.Sample("large.txt", "text/plain", b"line\n" * 40)
FAILING = local_flow.Sample("fail.txt", "text/plain", b"will fail\n")
BOGUS = local_flow.Sample("bogus.txt", "text/plain", b"undeclared status\n")
WRONG_SIZE = local_flow.Sample("short.foo", FOO, b"FOO1", declared_size=10)
NOT_PDF = local_flow.Sample("fake.pdf", "application/pdf", b"not a pdf at all")
PAGED = local_flow.Sample("paged.txt", "text/plain", b"page one\x0cpage two\n")
UNSURE = local_flow.Sample("unsure.foo", FOO, b"FOO? maybe\n")

#: file name -> (final status, reason or None, statuses in order of the notifier-visible transitions)
EXPECTED = {
    "good.foo": ("PROCESSED", None),
    "bad.foo": ("REJECTED", "not a FOO document (starts with b'BAR1')"),
    "small.txt": ("PROCESSED", None),
    "large.txt": ("PROCESSED", None),
    "fail.txt": ("FAILED", "processing step Classify failed: ClassificationError: cannot classify fail.txt (RetriesExhausted after 2 attempts)"),
    "bogus.txt": ("FAILED", "processing step Classify returned status 'NOT_DECLARED', not one of its statuses (CLASSIFIED_SMALL, CLASSIFIED_LARGE)"),
    "short.foo": ("REJECTED", "size mismatch: declared 10 bytes, the object has 4"),
    "fake.pdf": ("REJECTED", None),
    "paged.txt": ("FAILED", "processing step TagPages failed: ValueError: form feed: cannot paginate (RetriesExhausted after 3 attempts)"),
    "unsure.foo": ("FAILED", "validator application/x-foo returned status 'UNSURE', not VALIDATED or REJECTED"),
}


class Flow:
    def __init__(self, stack: EmulatedStack, calls: list[AwsCall], documents: dict[str, dict[str, Any]], history: dict[str, list[str]]) -> None:
        self.stack, self.calls, self.documents, self.history = stack, calls, documents, history


def _item(stack: EmulatedStack, table: str, document_id: str) -> dict[str, Any]:
    item = stack.client("dynamodb").get_item(TableName=table, Key={"document_id": {"S": document_id}})["Item"]
    return {k: next(iter(v.values())) for k, v in item.items()}


def _history(stack: EmulatedStack, table: str) -> dict[str, list[str]]:
    """document id -> its statuses in stream order (each transition once)."""
    streams = stack.client("dynamodbstreams")
    arn = stack.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    history: dict[str, list[str]] = {}
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
            new, old = record["dynamodb"].get("NewImage", {}), record["dynamodb"].get("OldImage", {})
            if new and new.get("status") != old.get("status"):
                history.setdefault(new["document_id"]["S"], []).append(new["status"]["S"])
    return history


@pytest.fixture(scope="module")
def flow(synth):
    calls: list[AwsCall] = []
    with mock_aws():
        stack = EmulatedStack(synth.template, synth.outdir, quiet=True, on_call=calls.append).start()
        api = EmulatedRestApi(stack)
        key = create_client(
            table=stack.function("api_key_authorizer.").environment["PERMISSIONS_TABLE"], client_id="writer",
            level="read-write", api_id=api.api_id, session=boto3.Session(region_name=stack.region),
        ).api_key
        samples = [FOO_GOOD, FOO_BAD, SMALL, LARGE, FAILING, BOGUS, WRONG_SIZE, NOT_PDF, PAGED, UNSURE]
        outcomes = [local_flow._register_and_upload(api, key, sample) for sample in samples]
        assert [o.http_status for o in outcomes] == [201] * len(samples), [o.reason for o in outcomes]
        stack.pump()
        table = stack.function("document_steps.").environment["DOCUMENTS_TABLE"]
        documents = {o.file_name: _item(stack, table, o.document_id) for o in outcomes}
        history = {o.file_name: _history(stack, table).get(o.document_id, []) for o in outcomes}
        yield Flow(stack, calls, documents, history)


def test_every_document_ends_with_the_expected_status_and_reason(flow):
    for name, (status, reason) in EXPECTED.items():
        item = flow.documents[name]
        assert item["status"] == status, (name, item)
        if reason is not None:
            assert item["reason"] == reason, name


def test_the_steps_run_in_order_and_record_their_statuses_once(flow):
    assert flow.history["small.txt"] == ["AWAITING_UPLOAD", "VALIDATED", "TAGGED", "CLASSIFIED_SMALL", "PROCESSED"]
    assert flow.history["large.txt"] == ["AWAITING_UPLOAD", "VALIDATED", "TAGGED", "CLASSIFIED_LARGE", "PROCESSED"]
    assert flow.history["good.foo"] == ["AWAITING_UPLOAD", "VALIDATED", "TAGGED", "CLASSIFIED_SMALL", "PROCESSED"]
    assert flow.history["bad.foo"] == ["AWAITING_UPLOAD", "REJECTED"]
    assert flow.history["fail.txt"] == ["AWAITING_UPLOAD", "VALIDATED", "TAGGED", "FAILED"]
    assert flow.history["fake.pdf"] == ["AWAITING_UPLOAD", "REJECTED"]
    assert flow.history["paged.txt"] == ["AWAITING_UPLOAD", "VALIDATED", "FAILED"]
    assert flow.history["unsure.foo"] == ["AWAITING_UPLOAD", "FAILED"]


def test_a_steps_detail_is_kept_on_the_document(flow):
    item = flow.documents["small.txt"]
    assert json.loads(item["step_detail_TagPages"]) == {"lines": 2, "previous": "VALIDATED", "tag": ""}
    assert json.loads(item["step_detail_Classify"]) == {"after": "TAGGED"}
    assert flow.documents["fail.txt"]["failed_step"] == "Classify"


def _drain(stack: EmulatedStack, url: str) -> list[dict[str, Any]]:
    sqs = stack.client("sqs")
    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])
        if not batch:
            return messages
        messages += batch
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_a_failing_step_leaves_its_invocation_record_in_its_own_failure_queue(flow):
    stack = flow.stack
    steps = json.loads(stack.function("document_steps.").environment["PIPELINE_STEPS"])
    queues = {step["name"]: step["failure_queue"] for step in steps}
    classify = _drain(stack, queues["Classify"])
    (paged,) = _drain(stack, queues["TagPages"])
    assert json.loads(paged["Body"])["requestContext"]["approximateInvokeCount"] == 3  # retries=2
    validators = json.loads(stack.function("document_steps.").environment["PIPELINE_VALIDATORS"])
    (unsure,) = _drain(stack, validators[FOO]["failure_queue"])
    assert json.loads(unsure["Body"])["responsePayload"] == {"status": "UNSURE"}
    records = {json.loads(m["Body"])["requestPayload"]["key"].rsplit("/", 1)[-1]: (json.loads(m["Body"]), m) for m in classify}
    assert sorted(records) == ["bogus.txt", "fail.txt"], "one record per failed document"
    failed, message = records["fail.txt"]
    assert failed["requestContext"]["condition"] == "RetriesExhausted"
    assert failed["requestContext"]["approximateInvokeCount"] == 2  # retries=1
    assert failed["responsePayload"] == {"errorMessage": "cannot classify fail.txt", "errorType": "ClassificationError", "stackTrace": []}
    assert failed["requestPayload"]["step"] == "Classify" and failed["requestPayload"]["status"] == "TAGGED"
    assert message["MessageAttributes"]["step"]["StringValue"] == "Classify"
    assert records["bogus.txt"][0]["requestContext"]["condition"] == "Success"


def test_nothing_is_left_in_the_results_queue_or_any_dead_letter_queue(flow):
    stack = flow.stack
    for logical_id, physical in stack.physical.items():
        if "QueueUrl" in physical and "Failures" not in logical_id:
            depth = stack.client("sqs").get_queue_attributes(QueueUrl=physical["QueueUrl"], AttributeNames=["ApproximateNumberOfMessages"])
            assert depth["Attributes"]["ApproximateNumberOfMessages"] == "0", logical_id


def test_the_step_input_is_the_documented_one(flow):
    invokes = [c for c in flow.calls if c.service == "lambda" and c.operation == "Invoke"]
    assert invokes and all(c.params["InvocationType"] == "Event" for c in invokes)
    payload = json.loads(next(c.params["Payload"] for c in invokes if b'"step": "TagPages"' in c.params["Payload"]))
    assert set(payload) == {"schema_version", "document_id", "bucket", "key", "version_id", "content_type", "size", "status", "status_version", "step"}
    assert payload["schema_version"] == "1" and payload["status"] == "VALIDATED"


def test_each_document_invokes_each_stage_once(flow):
    invokes = [json.loads(c.params["Payload"]) for c in flow.calls if c.service == "lambda" and c.operation == "Invoke"]
    keys = [(p["document_id"], p["step"]) for p in invokes]
    assert len(keys) == len(set(keys))
    # validator: 3 foo documents of the declared size; TagPages: 6 validated; Classify: the 5 tagged.
    steps = [p["step"] for p in invokes]
    assert (steps.count(FOO), steps.count("TagPages"), steps.count("Classify")) == (3, 6, 5)


def test_replaying_the_whole_stream_and_the_records_changes_nothing(flow):
    """At-least-once everywhere: the stream read again from its start, every invocation record sent
    again; no status changes, no step runs whose result would be recorded, no new failure record."""
    stack = flow.stack
    table = stack.function("document_steps.").environment["DOCUMENTS_TABLE"]
    before = {name: _item(stack, table, item["document_id"]) for name, item in flow.documents.items()}
    depths = _failure_queue_depths(stack)
    results_url = stack.queue_url(next(m.source_arn for m in stack.mappings if m.is_queue and "StepResults" in m.source_arn))
    records = [json.loads(c.params["Payload"]) for c in flow.calls if c.service == "lambda" and c.operation == "Invoke"]
    for payload in records:  # a success record of each stage, as if Lambda sent it twice
        stack.client("sqs").send_message(QueueUrl=results_url, MessageBody=json.dumps({
            "version": "1.0", "requestContext": {"requestId": "replayed", "condition": "Success", "approximateInvokeCount": 1},
            "requestPayload": payload, "responseContext": {"statusCode": 200}, "responsePayload": {"status": "TAGGED"},
        }))
    for mapping in stack.mappings:
        mapping.shard_iterators.clear()
    stack.pump()
    after = {name: _item(stack, table, item["document_id"]) for name, item in flow.documents.items()}
    assert after == before
    assert _failure_queue_depths(stack) == depths, "no new failure record"


def _failure_queue_depths(stack: EmulatedStack) -> dict[str, str]:
    sqs = stack.client("sqs")
    return {
        logical_id: sqs.get_queue_attributes(QueueUrl=p["QueueUrl"], AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"]
        for logical_id, p in stack.physical.items() if "QueueUrl" in p and "Failures" in logical_id
    }


def test_user_functions_and_the_coordinator_call_only_what_their_policies_allow(flow, synth):
    from test_least_privilege import _allows, policies, required_permissions

    stack = flow.stack
    statements = policies_with_user_roles(stack, synth, policies)
    coordinator = stack.function("document_steps.").logical_id
    users = {lid for lid, f in stack.functions.items() if f.handler == "index.handler"}
    relevant = [c for c in flow.calls if c.function == coordinator or c.function in users]
    assert {c.origin for c in relevant} >= {HANDLER, ASYNC_INVOKE}
    denied = [
        p for call in relevant for p in required_permissions(stack, call)
        if not any(_allows(s, p) for s in statements[call.function])
    ]
    assert not denied, "\n".join(map(str, denied))


def policies_with_user_roles(stack: EmulatedStack, synth, library_policies) -> dict[str, list[Any]]:
    """The library functions' managed policies, and the user functions' default policies (CDK's)."""
    from test_least_privilege import Statement

    user_ids = [lid for lid, f in stack.functions.items() if f.handler == "index.handler"]
    saved = {lid: stack.functions.pop(lid) for lid in user_ids}
    try:
        result = library_policies(stack)
    finally:
        stack.functions.update(saved)
    for function_id in user_ids:
        role = stack.resources[function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
        result[function_id] = [
            Statement(
                actions=tuple(_actions(raw)),
                resources=tuple(str(stack.resolve(r)) for r in (raw["Resource"] if isinstance(raw["Resource"], list) else [raw["Resource"]])),
                labels=(), kinds=(), conditional="Condition" in raw,
            )
            for resource in stack.resources.values()
            if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"].get("Roles", [])
            for raw in resource["Properties"]["PolicyDocument"]["Statement"]
        ]
    return result


#: The coordinator's permissions the flow does not exercise, each with its reason (see
#: tests/test_least_privilege.py for the flagship's functions).
COORDINATOR_NOT_EXERCISED = {
    ("dynamodb:ListStreams", "*"): "AWS lists it among the permissions a DynamoDB stream mapping needs; no resource-level permissions.",
    ("sqs:GetQueueAttributes", "AWS::SQS::Queue"): "Lambda reads the results queue's attributes when it creates the SQS mapping.",
    ("sqs:SendMessage", "AWS::SQS::Queue"): "The stream mapping's on-failure destination: only a batch that keeps failing is sent there.",
}


def test_every_permission_of_the_coordinator_is_used_or_listed(flow):
    from test_least_privilege import NOT_EXERCISED, Observed, _grants

    stack = flow.stack
    # A failure record delivered late, after the document failed: the coordinator reads the item.
    payload = next(json.loads(c.params["Payload"]) for c in flow.calls if c.operation == "Invoke" and b"fail.txt" in c.params["Payload"]
                   and b'"Classify"' in c.params["Payload"])
    results_url = stack.queue_url(next(m.source_arn for m in stack.mappings if m.is_queue and "StepResults" in m.source_arn))
    stack.client("sqs").send_message(QueueUrl=results_url, MessageBody=json.dumps({
        "version": "1.0", "requestContext": {"requestId": "late", "condition": "RetriesExhausted", "approximateInvokeCount": 2},
        "requestPayload": payload, "responseContext": {"statusCode": 200, "functionError": "Unhandled"}, "responsePayload": {},
    }))
    stack.pump()
    users = {lid: stack.functions.pop(lid) for lid, f in list(stack.functions.items()) if f.handler == "index.handler"}
    try:
        grants = [g for g in _grants([Observed(stack, [c for c in flow.calls if c.function not in users])]) if g.handler == "document_steps"]
    finally:
        stack.functions.update(users)
    unused = {(g.action, g.kind, g.label) for g in grants if not g.used}
    unexplained = sorted(
        u for u in unused if (u[0], u[1]) not in COORDINATOR_NOT_EXERCISED and ("*", u[0], u[1]) not in NOT_EXERCISED
    )
    assert not unexplained, unexplained
    start_failures = _resource_id_of(stack, "StepStartFailures")
    # Every stage's failure queue was used; only the stream mapping's on-failure queue was not.
    on_failure = json.dumps({"Fn::GetAtt": [start_failures, "Arn"]}, sort_keys=True)
    assert [u for u in unused if u[0] == "sqs:SendMessage"] == [("sqs:SendMessage", "AWS::SQS::Queue", on_failure)]
    used = {g.action for g in grants if g.used}
    assert {"lambda:InvokeFunction", "dynamodb:GetItem", "dynamodb:UpdateItem", "sqs:SendMessage", "sqs:ReceiveMessage", "dynamodb:GetRecords"} <= used


def _resource_id_of(stack: EmulatedStack, name: str) -> str:
    (logical_id,) = [lid for lid, r in stack.resources.items() if r["Type"] == "AWS::SQS::Queue" and name in lid and "DeadLetter" not in lid]
    return logical_id
