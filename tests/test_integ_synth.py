"""The integ tests (tests/integ/integ_*.py) synthesize, carry their assertions, and snapshot.

Nothing here deploys: ``make integ`` does, against a real account (docs/integ_tests.md). These
tests check what a deployment would run: every example app has an integ test, each test's
assertion stack holds the calls, waiters and outputs its docstring promises, the roles that make
the calls can use the KMS keys involved, the calls run in order, and ``scripts/integ.py`` reads
the manifests and results the way it needs to.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from harness import normalise_template

ROOT = Path(__file__).resolve().parent.parent
INTEG = ROOT / "tests" / "integ"
sys.path.insert(0, str(INTEG))

import _support


def _module(name: str, path: Path):
    """Import ``path`` as module ``name`` (the integ apps and scripts/integ.py are no packages)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


runner = _module("integ_runner", ROOT / "scripts" / "integ.py")

#: A fixed test-client key, so the snapshots are stable (a deployment gets a random one).
FIXED_KEY = "integTestKey0123456789abcdef0123456789"
#: Assertion resources each integ test must have (custom resource type -> count).
EXPECTED_CALLS = {
    "document_pipeline": {
        "Custom::DeployAssert@SdkCallDynamoDBputItem": 1,  # the test client's permission record
        "Custom::DeployAssert@SdkCallLambdainvoke": 1,  # POST /documents, as API Gateway sends it
        "Custom::DeployAssert@AssertEquals": 1,  # ... answered AWAITING_UPLOAD
        "Custom::DeployAssert@SdkCallS3putObject": 1,  # the upload
        "Custom::DeployAssert@SdkCallDynamoDBgetItem": 1,  # waits for PROCESSED
        "Custom::DeployAssert@SdkCallSQSreceiveMessage": 1,  # waits for the notification
        "Custom::DeployAssert@HttpCall": 1,  # GET /documents over HTTPS with the key
    },
    "quickstart": {"Custom::DeployAssert@SdkCallS3putObject": 1, "Custom::DeployAssert@SdkCallS3getObject": 1},
    "prod_http_api": {"Custom::DeployAssert@HttpCall": 1, "Custom::DeployAssert@SdkCallS3listObjectsV2": 1},
    "audited_ingest": {"Custom::DeployAssert@SdkCallS3putObject": 1, "Custom::DeployAssert@SdkCallDynamoDBgetItem": 1},
    "data_processing_stack": {
        "Custom::DeployAssert@SdkCallDynamoDBputItem": 2,  # permission record, then the record to process
        "Custom::DeployAssert@HttpCall": 2,  # POST /process, then the result behind CloudFront
        "Custom::DeployAssert@AssertEquals": 1,
    },
    "secure_data_api": {"Custom::DeployAssert@HttpCall": 2, "Custom::DeployAssert@SdkCallLambdainvoke": 2},
}
#: Calls that poll until their assertion holds (one Step Functions waiter each).
WAITERS = {"document_pipeline": 2, "quickstart": 0, "prod_http_api": 1, "audited_ingest": 1,
           "data_processing_stack": 0, "secure_data_api": 0}


@dataclass
class IntegSynth:
    name: str
    manifest: dict[str, Any]
    templates: dict[str, dict[str, Any]]

    @property
    def case(self) -> dict[str, Any]:
        (case,) = self.manifest["testCases"].values()
        return case

    @property
    def assertions(self) -> dict[str, Any]:
        return self.templates[self.case["assertionStackName"]]

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.assertions["Resources"].items() if r["Type"] == resource_type}

    def role_statements(self) -> list[dict[str, Any]]:
        return [
            statement
            for resource in self.resources("AWS::IAM::Role").values()
            for policy in resource["Properties"].get("Policies", [])
            for statement in policy["PolicyDocument"]["Statement"]
        ]


def _load(name: str):
    return _module(f"integ_{name}", INTEG / f"integ_{name}.py")


@functools.cache
def _synthesize(name: str) -> tuple[IntegSynth, Path]:
    """Synthesize ``integ_<name>.py`` once per test session, with the fixed client key."""
    outdir = Path(tempfile.mkdtemp(prefix="sp-integ-"))
    app = App(outdir=str(outdir), context={_support.API_KEY_CONTEXT: FIXED_KEY})
    _load(name).build(app)
    assembly = app.synth()
    templates = {stack.stack_name: stack.template for stack in assembly.stacks}
    return IntegSynth(name, json.loads((outdir / "integ.json").read_text()), templates), outdir


@pytest.fixture(scope="module", params=sorted(EXPECTED_CALLS))
def synth(request) -> IntegSynth:
    return _synthesize(request.param)[0]


def _normalised(template: dict[str, Any]) -> dict[str, Any]:
    """The harness normalisation, without the synthesis time in assertion calls and output ids."""
    result = normalise_template(template)
    result["Outputs"] = {
        # An equality assertion's output id hashes its inputs, the synthesis time among them.
        re.sub(r"[0-9a-f]{32}$", "<hash>", k) if k.startswith("AssertionResultsEqualsAssertion") else k: v
        for k, v in result.get("Outputs", {}).items()
    }
    for resource in result["Resources"].values():
        if resource["Type"].startswith("Custom::DeployAssert@"):
            resource["Properties"].pop("salt", None)
    return result


def test_every_example_app_has_an_integ_test():
    apps = {p.parent.name for p in (ROOT / "examples").glob("*/app.py")}
    tests = {p.stem.removeprefix("integ_") for p in INTEG.glob("integ_*.py")}
    assert apps == tests == set(EXPECTED_CALLS)


def test_manifest_names_the_test_and_assertion_stacks(synth):
    case = synth.case
    assert len(case["stacks"]) == 1 and case["stacks"][0] in synth.templates
    assert case["assertionStackName"] in synth.templates
    (parsed,) = runner.read_manifest(_synthesize(synth.name)[1])
    assert parsed.stacks == tuple(case["stacks"]) and parsed.assertion_stack == case["assertionStackName"]


def test_assertion_stack_holds_the_calls(synth):
    types = Counter(r["Type"] for r in synth.assertions["Resources"].values())
    calls = {t: n for t, n in types.items() if t.startswith("Custom::DeployAssert@")}
    assert calls == EXPECTED_CALLS[synth.name]
    assert types["AWS::StepFunctions::StateMachine"] == WAITERS[synth.name]
    results = [k for k in synth.assertions.get("Outputs", {}) if k.startswith(runner.RESULT_PREFIX)]
    assert results, "an integ test without assertion results would pass without checking anything"


def test_the_test_stack_runs_no_assertions(synth):
    (stack,) = synth.case["stacks"]
    types = {r["Type"] for r in synth.templates[stack]["Resources"].values()}
    assert not any(t.startswith("Custom::DeployAssert@") for t in types)


def test_calls_run_one_after_another(synth):
    """One call starts the test; every other call waits for an earlier one (``.next``), so no
    upload runs before the test client exists and no listing before the waiters are done."""
    calls = {
        k: r for k, r in synth.assertions["Resources"].items()
        if r["Type"].startswith("Custom::DeployAssert@") and not r["Type"].endswith("AssertEquals")
    }
    first = [k for k, r in calls.items() if not any(d in calls for d in _depends_on(r))]
    assert len(first) == 1, f"calls that wait for no other call: {first}"


def _depends_on(resource: dict[str, Any]) -> list[str]:
    depends = resource.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else depends


#: IAM actions of the SDK calls whose name is not ``service:Api`` (the providers grant that name).
IAM_ACTIONS = {("s3", "listObjectsV2"): "s3:ListBucket", ("lambda", "invoke"): "lambda:InvokeFunction"}


def test_roles_may_make_every_call(synth):
    """The roles of the assertion providers hold the IAM action of every SDK call they make."""
    granted = {
        action
        for statement in synth.role_statements() if statement["Effect"] == "Allow"
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    for call in synth.assertions["Resources"].values():
        if call["Type"].startswith("Custom::DeployAssert@SdkCall"):
            service, api = call["Properties"]["service"].lower(), call["Properties"]["api"]
            action = IAM_ACTIONS.get((service, api), f"{service}:{api[0].upper()}{api[1:]}")
            assert action in granted, f"no role may call {action}"


def test_snapshot(synth, snapshot_json):
    assert _normalised(synth.assertions) == snapshot_json


# ---- the flagship's test, in detail -------------------------------------------------------------


@pytest.fixture(scope="module")
def flagship() -> IntegSynth:
    return _synthesize("document_pipeline")[0]


def test_flagship_client_key_and_its_permission_record(flagship):
    (key,) = flagship.resources("AWS::ApiGateway::ApiKey").values()
    assert key["Properties"]["Value"] == FIXED_KEY and key["Properties"]["Enabled"] is True
    assert len(flagship.resources("AWS::ApiGateway::UsagePlanKey")) == 1
    (record,) = flagship.resources("Custom::DeployAssert@SdkCallDynamoDBputItem").values()
    item = json.dumps(record["Properties"]["parameters"]["Item"])
    assert hashlib.sha256(FIXED_KEY.encode()).hexdigest() in item
    assert '\\"read-write\\"' in item and '\\"active\\"' in item


def test_flagship_notifications_reach_the_test_queue(flagship):
    (subscription,) = flagship.resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "sqs"
    assert subscription["Properties"]["RawMessageDelivery"] is True
    assert "StatusTopic" in json.dumps(subscription["Properties"]["TopicArn"])


def test_flagship_waiters_can_read_the_encrypted_table(flagship):
    """The waiter polls the metadata table with its own role, which needs the table's key."""
    # The metadata table is encrypted with the pipeline's documents key (the bucket's).
    key = "DocumentsKey9287C11A"
    decrypting = [
        s for s in flagship.role_statements()
        if "kms:Decrypt" in s["Action"] and key in json.dumps(s["Resource"])
    ]
    assert len(decrypting) == 2  # the provider's role and the waiter's role


def test_flagship_register_call_returns_little(flagship):
    """A custom resource answers CloudFormation in at most 4,096 bytes: keep only what is read."""
    (register,) = flagship.resources("Custom::DeployAssert@SdkCallLambdainvoke").values()
    assert set(register["Properties"]["outputPaths"]) == {
        "Payload.statusCode", "Payload.body.document_id", "Payload.body.status"
    }


# ---- the runner -----------------------------------------------------------------------------------


def test_runner_reads_deploy_parameters():
    (case,) = runner.read_manifest(_synthesize("data_processing_stack")[1])
    assert set(case.parameters) == {"integ-data-processing:ResourcePrefix", "integ-data-processing:AlertEmail"}
    assert runner.parameter_args({"S:A": "1"}) == ["--parameters", "S:A=1"]


def test_runner_reports_failed_and_missing_assertions():
    outputs = {
        "S-assertions": {
            "AssertionResultsA": json.dumps({"status": "success"}),
            "AssertionResultsB": json.dumps({"status": "fail", "message": "Expected PROCESSED"}),
            "Other": "x",
        }
    }
    assert runner.assertion_failures(outputs, "S-assertions") == ["AssertionResultsB: Expected PROCESSED"]
    assert runner.assertion_failures({"S-assertions": {"AssertionResultsA": '{"status":"success"}'}}, "S-assertions") == []
    with pytest.raises(ValueError, match="no AssertionResults"):
        runner.assertion_failures({"S-assertions": {"Other": "x"}}, "S-assertions")


def test_runner_without_credentials_deploys_nothing(monkeypatch, tmp_path, capsys):
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(runner, "run_test", lambda *a, **k: pytest.fail("deployed without credentials"))
    assert runner.main([]) == 2
    message = capsys.readouterr().err
    assert "needs credentials" in message and "Nothing was deployed" in message


def test_runner_lists_and_rejects_unknown_tests(capsys):
    assert runner.main(["--list"]) == 0
    assert set(capsys.readouterr().out.split()) == set(EXPECTED_CALLS)
    with pytest.raises(SystemExit, match="no such integ test: integ_nope.py"):
        runner.discover(["nope"])


def test_random_key_per_synth_unless_fixed():
    assert _support.test_api_key(App()) != _support.test_api_key(App())
    with pytest.raises(ValueError, match="integ_api_key"):
        _support.test_api_key(App(context={_support.API_KEY_CONTEXT: "short"}))


def _call(synth: IntegSynth, resource_type: str) -> dict[str, Any]:
    (resource,) = synth.resources(resource_type).values()
    return resource["Properties"]


def _literal(value: Any) -> Any:
    """A call parameter as the provider decodes it (each is JSON-encoded in the template)."""
    return json.loads(value)


def test_flagship_calls_match_what_the_handlers_do(flagship):
    """Replay the flagship's assertion calls on moto with the real handler code.

    The registration event, the object key, the expected item and the expected notification are
    the ones in the assertion stack's template; if a handler stops accepting or producing them,
    the integ test would fail on AWS, so this fails first.
    """
    import boto3
    from moto import mock_aws

    from serverless_patterns.clients import create_client
    from serverless_patterns.local import EmulatedRestApi, EmulatedStack

    module = _load("document_pipeline")
    template = flagship.templates[module.STACK_NAME]
    payload = _literal(_call(flagship, "Custom::DeployAssert@SdkCallLambdainvoke")["parameters"]["Payload"])
    event = json.loads(payload)  # what Lambda hands the handler
    upload = _call(flagship, "Custom::DeployAssert@SdkCallS3putObject")["parameters"]
    expected_item = json.loads(_call(flagship, "Custom::DeployAssert@SdkCallDynamoDBgetItem")["expected"])
    with mock_aws():
        stack = EmulatedStack(template, _synthesize("document_pipeline")[1], quiet=True).start()
        handler = stack.function("documents_api.")
        sqs, sns = stack.client("sqs"), stack.client("sns")
        queue_url = sqs.create_queue(QueueName="integ-notifications")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=stack.function("document_notifier.").environment["STATUS_TOPIC_ARN"], Protocol="sqs",
                      Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})

        response = stack.invoke(handler, event)
        assert response["statusCode"] == 201, response
        body = json.loads(response["body"])
        assert body["status"] == "AWAITING_UPLOAD"
        document_id = body["document_id"]
        object_key = "".join(
            document_id if isinstance(part, dict) else part for part in upload["Key"]["Fn::Join"][1]
        ).strip('"')
        assert body["upload"]["fields"]["key"] == object_key, "the integ test puts the object at another key"
        stack.client("s3").put_object(
            Bucket=handler.environment["DOCUMENTS_BUCKET"], Key=object_key,
            Body=_literal(upload["Body"]).encode("ascii"), ContentType=_literal(upload["ContentType"]),
        )
        stack.pump()

        item = stack.client("dynamodb").get_item(
            TableName=handler.environment["DOCUMENTS_TABLE"], Key={"document_id": {"S": document_id}}
        )["Item"]
        for name, value in expected_item["$ObjectLike"]["Item"]["$ObjectLike"].items():
            assert item[name] == value, (name, item.get(name))
        messages = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]]
        assert {"document_id": document_id, "status": "PROCESSED", "file_name": module.FILE_NAME}.items() <= next(
            m for m in messages if m["status"] == "PROCESSED"
        ).items()

        api = EmulatedRestApi(stack)
        api_key = create_client(
            table=stack.function("api_key_authorizer.").environment["PERMISSIONS_TABLE"], client_id="reader",
            level="read-write", api_id=api.api_id, session=boto3.Session(region_name=stack.region),
        ).api_key
        listed = api.request("GET", "/documents", api_key=api_key, query={"status": "PROCESSED"})
        assert listed.status == 200
        assert [(d["document_id"], d["status"]) for d in listed.body["items"]] == [(document_id, "PROCESSED")]


def test_secure_data_api_events_route_to_the_data_operations():
    """The events the secure data API's test sends parse and route as signed requests would."""
    from serverless_patterns.handlers.data_api.request import parse_event, route

    synth = _synthesize("secure_data_api")[0]
    routed = []
    for call in synth.resources("Custom::DeployAssert@SdkCallLambdainvoke").values():
        event = json.loads(_literal(call["Properties"]["parameters"]["Payload"]))
        target = route(parse_event(event))
        routed.append((event["requestContext"]["http"]["method"], target.operation, target.key))
    module = _load("secure_data_api")
    assert sorted(routed) == [("GET", "get_object", module.KEY), ("PUT", "put_object", module.KEY)]


def test_secure_data_api_calls_match_what_the_handler_does():
    """Replay the write and the read on moto with the real handler, checked against the expectations."""
    from moto import mock_aws

    from serverless_patterns.local import EmulatedStack

    synth, outdir = _synthesize("secure_data_api")
    module = _load("secure_data_api")
    calls = sorted(synth.resources("Custom::DeployAssert@SdkCallLambdainvoke").values(),
                   key=lambda c: json.loads(_literal(c["Properties"]["parameters"]["Payload"]))["requestContext"]["http"]["method"] != "PUT")
    with mock_aws():
        stack = EmulatedStack(synth.templates[module.STACK_NAME], outdir, quiet=True).start()
        function = stack.function("data_api.")
        for call in calls:  # PUT first, then GET
            event = json.loads(_literal(call["Properties"]["parameters"]["Payload"]))
            response = stack.invoke(function, event)
            expected = json.loads(call["Properties"]["expected"])["$ObjectLike"]["Payload"]["$SerializedJson"]["$ObjectLike"]
            assert {k: response[k] for k in expected} == expected, response


def _emulated(name: str, **kwargs: Any):
    from serverless_patterns.local import EmulatedStack

    synth, outdir = _synthesize(name)
    module = _load(name)
    return synth, module, EmulatedStack(synth.templates[module.STACK_NAME], outdir, quiet=True, **kwargs)


def test_audited_ingest_calls_match_what_the_handler_does():
    """The object the test puts gets the LATEST item the test waits for (S3 -> rule -> queue -> writer)."""
    from moto import mock_aws

    synth, module, emulated = _emulated("audited_ingest")
    put = _call(synth, "Custom::DeployAssert@SdkCallS3putObject")["parameters"]
    with mock_aws():
        stack = emulated.start()
        environment = stack.function("object_metadata_writer.").environment
        stack.client("s3").put_object(
            Bucket=environment["BUCKET_NAME"], Key=_literal(put["Key"]), Body=_literal(put["Body"]).encode(),
            ContentType=_literal(put["ContentType"]),
        )
        stack.pump()
        pk = module.object_pk(environment["BUCKET_NAME"], module.KEY)
        item = stack.client("dynamodb").get_item(
            TableName=environment["TABLE_NAME"], Key={"pk": {"S": pk}, "sk": {"S": module.LATEST_SK}}
        ).get("Item")
    assert item is not None and item["pk"] == {"S": pk}  # what the test's waiter expects


def test_data_processing_calls_match_what_the_handler_does():
    """``POST /process`` with the test's record answers the attributes the test reads."""
    import boto3
    from moto import mock_aws

    from serverless_patterns.clients import create_client
    from serverless_patterns.local import EmulatedRestApi

    parameters = {"ResourcePrefix": "integ", "AlertEmail": _load("data_processing_stack").DEFAULT_ALERT_EMAIL}
    synth, module, emulated = _emulated("data_processing_stack", parameters=parameters)
    record, _permission = sorted(
        (c["Properties"]["parameters"] for c in synth.resources("Custom::DeployAssert@SdkCallDynamoDBputItem").values()),
        key=lambda p: "key_digest" in json.dumps(p["Item"]),
    )
    (process,) = [c["Properties"]["parameters"] for c in synth.resources("Custom::DeployAssert@HttpCall").values()
                  if c["Properties"]["parameters"]["fetchOptions"].get("method") == "POST"]
    with mock_aws():
        stack = emulated.start()
        processor = stack.function("request_processor.")
        # The emulator creates no CloudFront distribution: give the function a domain name's form.
        processor.environment["RESULT_BASE_URL"] = "https://d111111abcdef8.cloudfront.net"
        stack.client("dynamodb").put_item(TableName=processor.environment["TABLE_NAME"], Item=_literal(record["Item"]))
        api = EmulatedRestApi(stack)
        key = create_client(
            table=stack.function("api_key_authorizer.").environment["PERMISSIONS_TABLE"], client_id="integ",
            level="read-write", api_id=api.api_id, session=boto3.Session(region_name=stack.region),
        ).api_key
        response = api.request("POST", "/process", api_key=key, body=process["fetchOptions"]["body"])
    assert response.status == 201, response.body
    assert response.body["id"] == module.RECORD_ID and response.body["resultUrl"].startswith("https://")


def test_prod_http_api_calls_match_what_the_handler_does():
    """``GET /`` answers what the test expects and leaves the one record the test waits for."""
    from moto import mock_aws

    synth, _, emulated = _emulated("prod_http_api")
    (http,) = synth.resources("Custom::DeployAssert@HttpCall").values()
    expected = json.loads(http["Properties"]["expected"])["$ObjectLike"]
    event = json.loads(_support.http_api_event("GET", "/"))  # what API Gateway sends for the test's GET /
    with mock_aws():
        stack = emulated.start()
        function = stack.function("prod_info.")
        response = stack.invoke(function, event)
        listed = stack.client("s3").list_objects_v2(
            Bucket=function.environment["LOG_BUCKET"], Prefix=function.environment["LOG_PREFIX"]
        )
    assert response["statusCode"] == expected["status"]
    body = json.loads(response["body"])
    assert {k: body[k] for k in expected["body"]["$ObjectLike"]} == expected["body"]["$ObjectLike"]
    assert listed["KeyCount"] == 1


@pytest.mark.parametrize("deploy_code, outputs, expected", [
    (0, {"T-assertions": {"AssertionResultsX": '{"status":"success"}'}}, []),
    (0, {"T-assertions": {"AssertionResultsX": '{"status":"fail","message":"no"}'}}, ["Case: AssertionResultsX: no"]),
    (1, None, ["Case: deploy failed (1); see the CloudFormation events above"]),
])
def test_runner_destroys_the_stacks_whatever_the_outcome(monkeypatch, deploy_code, outputs, expected):
    """``run_test`` with the CDK CLI replaced: the stacks are destroyed after a pass, a failed
    assertion and a failed deployment alike, and the failures are what the outputs say."""
    commands: list[list[str]] = []

    def fake_cdk(args: list[str], **_: Any):
        commands.append(args)
        if args[0] == "synth":
            assembly = Path(args[args.index("--output") + 1])
            assembly.mkdir(parents=True)
            (assembly / "integ.json").write_text(json.dumps(
                {"testCases": {"Case": {"stacks": ["T"], "assertionStack": "T-assertions", "assertionStackName": "T-assertions"}}}
            ))
        if args[0] == "deploy" and outputs is not None:
            Path(args[args.index("--outputs-file") + 1]).write_text(json.dumps(outputs))
        return type("Completed", (), {"returncode": deploy_code if args[0] == "deploy" else 0})()

    monkeypatch.setattr(runner, "_cdk", fake_cdk)
    assert runner.run_test(INTEG / "integ_quickstart.py", clean=True) == expected
    assert [c[0] for c in commands] == ["synth", "deploy", "destroy"]
    assert commands[2][-3:] == ["T", "T-assertions", "--force"]
