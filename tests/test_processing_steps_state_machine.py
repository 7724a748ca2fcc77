"""DocumentPipeline processing steps that are the user's state machines: runner, permissions, records.

Two steps: ``Ocr`` is a Standard state machine of the user's app (Pass states: what it does is the
user's business) and ``Vendor`` one imported by ARN. The coordinator starts each step's runner; the
runner starts the user's state machine with ``startExecution.sync:2``, retries it and sends a
record in the format of Lambda's invocation records to the step-results queue. The last tests
render those records the way Step Functions fills the runner's JSONPath templates and hand them
to the coordinator's own parser: the contract between the two, checked without AWS.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_stepfunctions as sfn
from harness import synthesize

from serverless_patterns import DocumentPipeline, IsolatedNetwork
from serverless_patterns.compliance import acknowledge_all
from serverless_patterns.handlers.document_steps.config import Config, Stage
from serverless_patterns.handlers.document_steps.stages import Change, result_action, step_input

VENDOR_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:vendor-ocr"
#: The user's own state machine is user code: its findings are the user's to fix or acknowledge.
USER_STATE_MACHINE_FINDINGS = (
    "AwsSolutions-SF1", "AwsSolutions-SF2", "HIPAA.Security-IAMNoInlinePolicy", "NIST.800.53.R5-IAMNoInlinePolicy",
    "PCI.DSS.321-IAMNoInlinePolicy", "Serverless-StepFunctionStateMachineXray",
)


def _build(stack: Stack) -> dict[str, Any]:
    pipeline = DocumentPipeline(stack, "Docs")
    ocr = sfn.StateMachine(
        stack, "Ocr", definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(stack, "Read", result=sfn.Result.from_object({"status": "READ"})))
    )
    acknowledge_all(ocr, USER_STATE_MACHINE_FINDINGS, "The test's stand-in for the user's own state machine")
    vendor = sfn.StateMachine.from_state_machine_arn(stack, "Vendor", VENDOR_ARN)
    steps = {
        "Ocr": pipeline.add_processing_step("Ocr", state_machine=ocr, statuses=["READ"], timeout=Duration.minutes(30)),
        "Vendor": pipeline.add_processing_step("Vendor", state_machine=vendor, statuses=["CHECKED", "FLAGGED"], retries=0),
    }
    return {"pipeline": pipeline, "ocr": ocr, "steps": steps}


@pytest.fixture(scope="module")
def synth():
    return synthesize(_build)


def _logical_id(synth, construct) -> str:
    return Stack.of(construct).resolve(construct.node.default_child.logical_id)


def _runner(synth, name: str) -> tuple[str, dict[str, Any]]:
    runner = synth.extra["built"]["steps"][name].runner
    logical_id = _logical_id(synth, runner.state_machine)
    return logical_id, synth.template["Resources"][logical_id]["Properties"]


def _definition(synth, name: str) -> dict[str, Any]:
    """The runner's ASL with each token shown as the logical id it refers to."""
    _, props = _runner(synth, name)
    parts = props["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "<" + next(iter(p.values())) + ">" for p in parts)
    return json.loads(text)


def _statements(synth, policy_id: str) -> list[dict[str, Any]]:
    return synth.template["Resources"][policy_id]["Properties"]["PolicyDocument"]["Statement"]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


def _policies_of_role(synth, role_id: str) -> dict[str, list[dict[str, Any]]]:
    attached = synth.template["Resources"][role_id]["Properties"]["ManagedPolicyArns"]
    return {ref["Ref"]: _statements(synth, ref["Ref"]) for ref in attached}


# ---- the runner --------------------------------------------------------------------------------


def test_the_runner_is_a_standard_state_machine_that_logs_everything_encrypted_and_traces(synth):
    _, props = _runner(synth, "Ocr")
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    logging = props["LoggingConfiguration"]
    assert logging["Level"] == "ALL" and logging["IncludeExecutionData"] is False
    group_id = logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    group = synth.template["Resources"][group_id]["Properties"]
    assert "KmsKeyId" in group and group["RetentionInDays"] == 30
    assert json.dumps(group["LogGroupName"]).startswith('{"Fn::Join": ["", ["/aws/vendedlogs/states/')


def test_the_runner_waits_for_the_users_state_machine_retries_it_and_records_both_outcomes(synth):
    results = _logical_id(synth, synth.extra["built"]["pipeline"].step_results.queue)
    ocr = _logical_id(synth, synth.extra["built"]["ocr"])
    states = _definition(synth, "Ocr")["States"]
    run = states["RunStep"]
    assert run["Resource"] == "arn:<AWS::Partition>:states:::states:startExecution.sync:2"
    assert run["Parameters"]["StateMachineArn"] == f"<{ocr}>" and run["Parameters"]["Input.$"] == "$"
    assert (run["TimeoutSeconds"], run["Retry"][0]["MaxAttempts"], run["Retry"][0]["ErrorEquals"]) == (1800, 2, ["States.ALL"])
    assert run["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$", "Next": "SendFailure"}]
    assert run["Next"] == "SendSuccess"
    for name in ("SendSuccess", "SendFailure"):
        assert states[name]["Resource"] == "arn:<AWS::Partition>:states:::sqs:sendMessage"
        assert states[name]["Parameters"]["QueueUrl"] == f"<{results}>" and states[name]["End"] is True
        assert states[name]["Retry"][0]["MaxAttempts"] >= 3
    vendor = _definition(synth, "Vendor")["States"]["RunStep"]
    assert "Retry" not in vendor and vendor["TimeoutSeconds"] == 6 * 3600, "retries=0 and the default timeout"
    assert vendor["Parameters"]["StateMachineArn"] == VENDOR_ARN


def test_the_runner_may_start_and_follow_only_the_users_state_machine_and_send_only_to_the_results_queue(synth):
    built = synth.extra["built"]
    role_id = _logical_id(synth, built["steps"]["Vendor"].runner.role)
    trust = synth.template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "states.amazonaws.com"}]
    assert set(trust[0]["Condition"]) == {"StringEquals", "ArnLike"} and "aws:SourceAccount" in trust[0]["Condition"]["StringEquals"]
    statements = [s for policy in _policies_of_role(synth, role_id).values() for s in policy]
    by_action = {a: s["Resource"] for s in statements for a in _actions(s)}
    assert by_action["states:StartExecution"] == VENDOR_ARN
    assert by_action["states:DescribeExecution"] == by_action["states:StopExecution"] == "arn:aws:states:us-east-1:123456789012:execution:vendor-ocr:*"
    assert "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule" in json.dumps(by_action["events:PutRule"])
    assert by_action["sqs:SendMessage"] == {"Fn::GetAtt": [_logical_id(synth, built["pipeline"].step_results.queue), "Arn"]}
    assert {a for a in by_action if a.startswith("kms:")} == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert not {a for a in by_action if a.startswith(("s3:", "lambda:", "dynamodb:"))}
    ocr_role = _logical_id(synth, built["steps"]["Ocr"].runner.role)
    ocr_statements = [s for policy in _policies_of_role(synth, ocr_role).values() for s in policy]
    executions = next(s["Resource"] for s in ocr_statements if "states:DescribeExecution" in _actions(s))
    assert {"Fn::GetAtt": [_logical_id(synth, built["ocr"]), "Name"]} in executions["Fn::Join"][1]
    assert executions["Fn::Join"][1][-1] == ":*", "every execution of that state machine, and of no other of a longer name"


def test_the_state_machine_waits_for_every_policy_of_its_role(synth):
    runner = synth.extra["built"]["steps"]["Ocr"].runner
    logical_id, _ = _runner(synth, "Ocr")
    depends = set(synth.template["Resources"][logical_id].get("DependsOn", []))
    attached = {ref["Ref"] for ref in synth.template["Resources"][_logical_id(synth, runner.role)]["Properties"]["ManagedPolicyArns"]}
    assert len(attached) == 3 and attached <= depends


def test_a_failed_runner_execution_alarms_to_the_pipelines_alert_topic(synth):
    runner = synth.extra["built"]["steps"]["Ocr"].runner
    alarm = synth.template["Resources"][_logical_id(synth, runner.failed_alarm)]["Properties"]
    logical_id, _ = _runner(synth, "Ocr")
    assert (alarm["MetricName"], alarm["Namespace"], alarm["Threshold"]) == ("ExecutionsFailed", "AWS/States", 1)
    assert alarm["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": logical_id}}]
    topic = _logical_id(synth, synth.extra["built"]["pipeline"].alert_topic.topic)
    assert alarm["AlarmActions"] == [{"Ref": topic}]


# ---- the coordinator and the user's state machine ------------------------------------------------


def test_the_coordinator_starts_the_runners_and_invokes_no_function_for_them(synth):
    built = synth.extra["built"]
    coordinator = synth.template["Resources"][_logical_id(synth, built["pipeline"].step_coordinator.function)]["Properties"]
    variables = coordinator["Environment"]["Variables"]
    text = json.dumps(variables["PIPELINE_STEPS"])
    for name in ("Ocr", "Vendor"):
        runner_id, _ = _runner(synth, name)
        assert runner_id in text and f'\\"name\\":\\"{name}\\"' in text
    assert '\\"function\\"' not in text and '\\"state_machine\\":\\"' in text
    role_id = coordinator["Role"]["Fn::GetAtt"][0]
    statements = [s for policy in _policies_of_role(synth, role_id).values() for s in policy]
    starts = [s["Resource"] for s in statements if s["Action"] == "states:StartExecution"]
    assert sorted(json.dumps(r) for r in starts) == sorted(json.dumps({"Ref": _runner(synth, n)[0]}) for n in ("Ocr", "Vendor"))
    assert not synth.resources("AWS::Lambda::EventInvokeConfig"), "no function is a step here"


def test_the_users_state_machine_of_this_app_may_read_the_documents_it_is_given(synth):
    ocr = synth.extra["built"]["ocr"]
    role_id = _logical_id(synth, ocr.role)
    policies = [r["Properties"] for r in synth.resources("AWS::IAM::Policy").values() if {"Ref": role_id} in r["Properties"]["Roles"]]
    actions = {a for p in policies for s in p["PolicyDocument"]["Statement"] for a in _actions(s)}
    assert {"s3:GetObject", "s3:GetObjectVersion", "kms:Decrypt"} <= actions
    assert "documents/*" in json.dumps(policies)


def test_nothing_is_left_open_but_the_users_own_state_machine(synth):
    assert not synth.nag.findings, "\n".join(map(str, synth.nag.findings))
    assert not synth.preflight.findings, "\n".join(map(str, synth.preflight.findings))
    library = [f for f in synth.nag.acknowledged if "/Docs/" in f.path and "StepFunctions" not in f.reason]
    runner_acks = {f.rule for f in library if "/Runner/" in f.path}
    assert runner_acks == {
        "AwsSolutions-IAM5[Resource::*]",
        f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<{_logical_id(synth, synth.extra['built']['ocr'])}.Name>:*]",
        "AwsSolutions-IAM5[Resource::arn:aws:states:us-east-1:123456789012:execution:vendor-ocr:*]",
    }


# ---- the runner's records, read by the coordinator ------------------------------------------------


def _render(template: Any, state: Any, context: dict[str, Any]) -> Any:
    """Fill a JSONPath payload template as Step Functions does (``key.$`` -> the value at the path)."""
    if isinstance(template, list):
        return [_render(v, state, context) for v in template]
    if not isinstance(template, dict):
        return template
    filled: dict[str, Any] = {}
    for key, value in template.items():
        if key.endswith(".$"):
            root, path = (context, value[3:]) if value.startswith("$$.") else (state, value[2:])
            for part in filter(None, path.split(".")):
                root = root[part]
            filled[key[:-2]] = root
        else:
            filled[key] = _render(value, state, context)
    return filled


def _record(synth, outcome: str, state: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    states = _definition(synth, "Ocr")["States"]
    body = states["SendSuccess" if outcome == "success" else "SendFailure"]["Parameters"]["MessageBody"]
    context = {"Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:runner:doc-v2", "Input": payload},
               "State": {"EnteredTime": "2026-12-03T08:00:00.000Z"}}
    return json.loads(json.dumps(_render(body, state, context)))  # as the queue carries it


def _config_and_payload() -> tuple[Config, dict[str, Any]]:
    config = Config(bucket="docs", table="metadata", steps=(Stage("Ocr", "", "q:ocr", ("READ",), state_machine="arn:runner"),))
    item = {"document_id": "doc1", "status": "VALIDATED", "status_version": 2, "object_key": "documents/doc1/a.pdf",
            "declared_type": "application/pdf", "size": 9, "version_id": "v1"}
    return config, step_input(config, item, config.steps[0])


def test_a_successful_execution_is_recorded_with_the_status_and_detail_it_returned(synth):
    config, payload = _config_and_payload()
    record = _record(synth, "success", {"Output": {"status": "READ", "detail": {"pages": 4}}, "ExecutionArn": "x"}, payload)
    action = result_action(config, record, now="2026-12-03T08:00:01.000Z")
    assert isinstance(action, Change)
    assert (action.changes["status"], action.changes["steps_done"], action.changes["step_detail_Ocr"]) == ("READ", 1, '{"pages": 4}')
    assert record["requestContext"]["requestId"].startswith("arn:aws:states:")


def test_an_execution_that_failed_every_attempt_fails_the_document_with_its_error(synth):
    config, payload = _config_and_payload()
    record = _record(synth, "failure", {"Error": "States.Timeout", "Cause": "the execution timed out"}, payload)
    action = result_action(config, record, now="2026-12-03T08:00:01.000Z")
    assert isinstance(action, Change) and action.changes["status"] == "FAILED" and action.forward == record
    assert action.changes["reason"] == (
        "processing step Ocr failed: States.Timeout: the execution timed out (RetriesExhausted after 3 attempts)"
    )


# ---- errors --------------------------------------------------------------------------------------


def _error(build) -> str:
    stack = Stack()
    with pytest.raises((ValueError, TypeError)) as raised:
        build(stack, DocumentPipeline(stack, "Docs"))
    return str(raised.value)


def _express(stack: Stack, id: str = "Fast") -> sfn.StateMachine:
    return sfn.StateMachine(
        stack, id, state_machine_type=sfn.StateMachineType.EXPRESS,
        definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(stack, f"{id}Pass")),
    )


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda s, p: p.add_processing_step("Both", function=p.processor.function, state_machine=_express(s, "Other"), statuses=["X"]),
         r"DocumentPipeline\.add_processing_step: .*\n  - state_machine=.*Other.*: pass function or state_machine, not both"),
        (lambda s, p: p.add_processing_step("Neither", statuses=["X"]), r"DocumentPipeline\.add_processing_step: .*\n  - function=None: pass"),
        (lambda s, p: p.add_processing_step("Fast", state_machine=_express(s), statuses=["X"]),
         r"state_machine.*Fast.*EXPRESS state machine; a step must be a Standard one"),
        (lambda s, p: p.add_processing_step("Odd", state_machine="arn:aws:states:us-east-1:1:stateMachine:x", statuses=["X"]),
         r"state_machine.*must be a sfn\.IStateMachine"),
    ],
    ids=["both", "neither", "express", "not-a-state-machine"],
)
def test_a_wrong_state_machine_step_is_refused_naming_the_prop(build, expected):
    assert re.search(expected, _error(build)), _error(build)


def test_an_isolated_network_without_a_step_functions_endpoint_is_refused_for_a_state_machine_step():
    stack = Stack()
    network = IsolatedNetwork(stack, "Net", interface_endpoints=["sqs", "sns", "kms", "logs", "xray", "lambda", "events"])
    pipeline = DocumentPipeline(stack, "Docs", network=network)
    vendor = sfn.StateMachine.from_state_machine_arn(stack, "Vendor", VENDOR_ARN)
    with pytest.raises(ValueError, match=r"DocumentPipeline\.add_processing_step: .*\n  - network=.*without states endpoints"):
        pipeline.add_processing_step("Vendor", state_machine=vendor, statuses=["CHECKED"])


# ---- on the local emulator ------------------------------------------------------------------------


def test_locally_the_coordinator_starts_each_runner_once_and_records_what_the_runner_sends(synth):
    """moto records the runner's executions without running them: the test plays the runner's part
    with the record its definition sends, and the coordinator moves the document to the next step."""
    import boto3
    from moto import mock_aws

    from serverless_patterns.clients import create_client
    from serverless_patterns.local import EmulatedRestApi, EmulatedStack

    local_flow = __import__("examples.document_pipeline.local_flow", fromlist=["Sample"])
    with mock_aws():
        stack = EmulatedStack(synth.template, synth.outdir, quiet=True).start()
        api = EmulatedRestApi(stack)
        key = create_client(
            table=stack.function("api_key_authorizer.").environment["PERMISSIONS_TABLE"], client_id="writer",
            level="read-write", api_id=api.api_id, session=boto3.Session(region_name=stack.region),
        ).api_key
        outcome = local_flow._register_and_upload(api, key, local_flow.Sample("scan.pdf", "application/pdf", local_flow.minimal_pdf()))
        assert outcome.http_status == 201, outcome.reason
        stack.pump()
        ocr_runner, vendor_runner = (_runner(synth, name)[0] for name in ("Ocr", "Vendor"))
        (started,) = stack.executions(ocr_runner)
        assert stack.executions(vendor_runner) == []
        payload = json.loads(started["input"])
        assert (started["name"], payload["step"], payload["status"]) == (f"{outcome.document_id}-v2", "Ocr", "VALIDATED")

        record = _record(synth, "success", {"Output": {"status": "READ"}}, payload)
        results = stack.queue_url(next(m.source_arn for m in stack.mappings if m.is_queue and "StepResults" in m.source_arn))
        stack.client("sqs").send_message(QueueUrl=results, MessageBody=json.dumps(record))
        stack.pump()
        table = stack.function("document_steps.").environment["DOCUMENTS_TABLE"]
        item = stack.client("dynamodb").get_item(TableName=table, Key={"document_id": {"S": outcome.document_id}})["Item"]
        assert (item["status"]["S"], item["steps_done"]["N"]) == ("READ", "1")
        (next_step,) = stack.executions(vendor_runner)
        assert json.loads(next_step["input"])["status"] == "READ"
        assert len(stack.executions(ocr_runner)) == 1
