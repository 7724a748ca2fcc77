"""DocumentPipeline with the user's own bucket, key, alert topic, VPC and API, or no API at all."""

from __future__ import annotations

import hashlib
import importlib
import json

import pytest
from aws_cdk import App, Stack, aws_ec2 as ec2, aws_iam as iam, aws_kms as kms, aws_s3 as s3, aws_sns as sns
from moto import mock_aws

from harness import assert_compliant, synthesize
from serverless_patterns import ApiWithKeyedUsagePlan, IsolatedNetwork, SecureBucket
from serverless_patterns._alarms import IMPORTED_ALARM_TOPIC_WARNING
from serverless_patterns.document_pipeline import (
    BUCKET_EVENTS_WARNING,
    KEY_POLICY_WARNING,
    VPC_INTERFACE_ENDPOINTS,
    DocumentPipeline,
)
from serverless_patterns.local import EmulatedStack, s3_eventbridge_event

local_flow = importlib.import_module("examples.document_pipeline.local_flow")
least_privilege = importlib.import_module("test_least_privilege")  # its model of each call's IAM permissions

ACCOUNT = "111111111111"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:ops-alerts"
BUCKET_NAME = "landing-zone-documents"
VPC_ID = "vpc-0123456789abcdef0"
SUBNETS = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]


def _landing_zone_vpc(stack: Stack) -> ec2.IVpc:
    return ec2.Vpc.from_vpc_attributes(
        stack, "LandingZoneVpc", vpc_id=VPC_ID, availability_zones=["us-east-1a", "us-east-1b"],
        private_subnet_ids=SUBNETS, private_subnet_route_table_ids=["rtb-0aaaaaaaaaaaaaaa1", "rtb-0aaaaaaaaaaaaaaa2"],
    )


def _imported(stack):
    """Everything the user's: an imported bucket, topic and VPC, their key and their keyed API."""
    key = kms.Key(stack, "UserKey", enable_key_rotation=True)
    bucket = s3.Bucket.from_bucket_attributes(stack, "UserBucket", bucket_name=BUCKET_NAME, encryption_key=key)
    topic = sns.Topic.from_topic_arn(stack, "UserTopic", TOPIC_ARN)
    api = ApiWithKeyedUsagePlan(stack, "UserApi", alert_topic=topic, cloud_watch_role=False)
    return DocumentPipeline(stack, "Docs", bucket=bucket, key=key, alert_topic=topic, network=_landing_zone_vpc(stack), api=api)


def _imported_key(stack):
    key = kms.Key.from_key_arn(stack, "ImportedKey", KEY_ARN)
    return DocumentPipeline(stack, "Docs", key=key)


def _own_buckets(stack):
    """A SecureBucket and a plain s3.Bucket of the same app, each behind a pipeline."""
    secure = SecureBucket(stack, "Shared")
    plain = s3.Bucket(stack, "Plain", enforce_ssl=True)
    DocumentPipeline(stack, "FromSecure", bucket=secure, cors_origins=["https://app.example.com"])
    pipeline = DocumentPipeline(stack, "FromPlain", bucket=plain, api=False)
    uploader = iam.Role(stack, "Uploader", assumed_by=iam.AccountRootPrincipal())
    pipeline.grant_upload(uploader)


def _wrapped_network(stack):
    network = IsolatedNetwork(stack, "Wrapped", vpc=_landing_zone_vpc(stack), interface_endpoints=VPC_INTERFACE_ENDPOINTS)
    return DocumentPipeline(stack, "Docs", network=network)


@pytest.fixture(scope="module")
def imported():
    return synthesize(_imported)


@pytest.fixture(scope="module")
def imported_key():
    return synthesize(_imported_key)


@pytest.fixture(scope="module")
def own_buckets():
    return synthesize(_own_buckets)


@pytest.fixture(scope="module")
def wrapped():
    return synthesize(_wrapped_network)


def _warnings(synth) -> list[str]:
    """The CDK warnings of the synthesized stack (messages, with their ids)."""
    artifact = json.loads((synth.outdir / "manifest.json").read_text())["artifacts"][synth.stack_name]
    entries = artifact.get("metadata") or json.loads((synth.outdir / artifact["additionalMetadataFile"]).read_text())
    return [str(e["data"]) for values in entries.values() for e in values if e["type"] == "aws:cdk:warning"]


def _only_id(synth, resource_type: str, prefix: str) -> str:
    """The logical id of the one ``resource_type`` whose id starts with ``prefix`` (ids follow construct paths)."""
    [found] = [lid for lid in synth.resources(resource_type) if lid.startswith(prefix)]
    return found


def _of(synth, resource_type: str, prefix: str) -> dict:
    return {lid: r for lid, r in synth.resources(resource_type).items() if lid.startswith(prefix)}


def _functions(synth):
    return {
        props["Handler"].split(".")[0]: props
        for resource in synth.resources("AWS::Lambda::Function").values()
        if (props := resource["Properties"]).get("Handler", "").endswith(".index.handler")
    }


def _statements(synth):
    return [
        statement
        for policy in synth.resources("AWS::IAM::ManagedPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


# ---- imported bucket, topic, VPC; the user's key and API ------------------------------------


def test_the_pipeline_creates_no_bucket_topic_vpc_or_key_of_its_own(imported):
    assert not imported.resources("AWS::S3::Bucket")
    assert not imported.resources("AWS::EC2::VPC") and not imported.resources("AWS::EC2::Subnet")
    keys = sorted(imported.resources("AWS::KMS::Key"))
    assert keys and not [k for k in keys if k.startswith("Docs")], keys
    assert [k for k in imported.resources("AWS::SNS::Topic")] == [_only_id(imported, "AWS::SNS::Topic", "DocsStatusTopic")]
    assert [k for k in imported.resources("AWS::ApiGateway::RestApi")] == [_only_id(imported, "AWS::ApiGateway::RestApi", "UserApi")]


def test_functions_and_rule_use_the_imported_bucket(imported):
    functions = _functions(imported)
    for name in ("documents_api", "document_processor"):
        assert functions[name]["Environment"]["Variables"]["DOCUMENTS_BUCKET"] == BUCKET_NAME
    rule = imported.only("AWS::Events::Rule")
    assert rule["EventPattern"]["detail"]["bucket"]["name"] == [BUCKET_NAME]
    object_arns = {json.dumps(s["Resource"]) for s in _statements(imported) if "s3:GetObject" in json.dumps(s["Action"])}
    assert object_arns and all(f"{BUCKET_NAME}/documents/*" in arn for arn in object_arns)


def test_every_encrypted_resource_of_the_pipeline_uses_the_users_key(imported):
    reference = {"Fn::GetAtt": [_only_id(imported, "AWS::KMS::Key", "UserKey"), "Arn"]}
    tables, queues = _of(imported, "AWS::DynamoDB::Table", "Docs"), _of(imported, "AWS::SQS::Queue", "Docs")
    assert len(tables) == 2 and len(queues) == 4
    for logical_id, table in tables.items():
        assert table["Properties"]["SSESpecification"]["KMSMasterKeyId"] == reference, logical_id
    for logical_id, queue in queues.items():
        assert queue["Properties"]["KmsMasterKeyId"] == reference, logical_id
    status_topic = imported.only("AWS::SNS::Topic")
    assert status_topic["KmsMasterKeyId"] == reference
    for name, function in _functions(imported).items():
        if name != "api_key_authorizer":
            assert function["KmsKeyArn"] == reference, name


def test_every_alarm_notifies_the_users_topic(imported):
    alarms = imported.resources("AWS::CloudWatch::Alarm")
    assert alarms
    for logical_id, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [TOPIC_ARN], logical_id
    assert any(IMPORTED_ALARM_TOPIC_WARNING in w and "Test/Docs/Processor notify the topic Test/UserTopic" in w for w in _warnings(imported))


def test_functions_run_in_the_given_subnets_of_the_landing_zone_vpc(imported):
    for name, function in _functions(imported).items():
        if name == "api_key_authorizer":
            continue  # the user's API places its authorizer itself
        assert function["VpcConfig"]["SubnetIds"] == SUBNETS, name
    groups = _of(imported, "AWS::EC2::SecurityGroup", "Docs").values()
    assert len(groups) == 3 and all(g["Properties"]["VpcId"] == VPC_ID for g in groups)


def test_the_routes_join_the_users_api(imported):
    api = _only_id(imported, "AWS::ApiGateway::RestApi", "UserApi")
    methods = imported.resources("AWS::ApiGateway::Method").values()
    routes = sorted(m["Properties"]["HttpMethod"] for m in methods if m["Properties"]["RestApiId"] == {"Ref": api})
    assert routes == ["DELETE", "GET", "GET", "POST"]
    assert not _of(imported, "AWS::ApiGateway::Method", "Docs")


def test_an_imported_bucket_says_exactly_what_to_turn_on(imported):
    [warning] = [w for w in _warnings(imported) if BUCKET_NAME in w and "EventBridge" in w]
    assert BUCKET_EVENTS_WARNING in warning and "EventBridgeConfiguration" in warning and "AWAITING_UPLOAD" in warning


def test_imported_resources_compliance(imported):
    assert_compliant(imported)


# ---- an imported key ------------------------------------------------------------------------


def test_an_imported_key_encrypts_everything_and_its_policy_needs_are_named(imported_key):
    keys = sorted(imported_key.resources("AWS::KMS::Key"))
    assert [k for k in keys if not k.startswith("DocsApiPermissions")] == [], "only the API's permissions table keeps its own key"
    for logical_id, table in imported_key.resources("AWS::DynamoDB::Table").items():
        if not logical_id.startswith("DocsApiPermissions"):
            assert table["Properties"]["SSESpecification"]["KMSMasterKeyId"] == KEY_ARN, logical_id
    [bucket] = [r["Properties"] for lid, r in _of(imported_key, "AWS::S3::Bucket", "DocsDocuments").items() if "AccessLogs" not in lid]
    encryption = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert encryption["KMSMasterKeyID"] == KEY_ARN
    [warning] = [w for w in _warnings(imported_key) if KEY_POLICY_WARNING in w]
    assert KEY_ARN in warning
    for needed in ("iam::", "logs.", "events.amazonaws.com", "cloudwatch.amazonaws.com", "kms:EncryptionContext:aws:logs:arn"):
        assert needed in warning, needed


def test_imported_key_compliance(imported_key):
    assert_compliant(imported_key)


# ---- buckets of the same app ----------------------------------------------------------------


def test_buckets_of_the_app_get_eventbridge_notifications_on_their_own_resource(own_buckets):
    buckets = {lid: r["Properties"] for lid, r in own_buckets.resources("AWS::S3::Bucket").items()}
    shared, plain = _only_id(own_buckets, "AWS::S3::Bucket", "Shared1"), _only_id(own_buckets, "AWS::S3::Bucket", "Plain")
    for logical_id in (shared, plain):
        assert buckets[logical_id]["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"] is True
    assert buckets[shared]["CorsConfiguration"]["CorsRules"][0]["AllowedOrigins"] == ["https://app.example.com"]
    assert not [lid for lid in buckets if lid.startswith("From")], "no bucket of the pipelines"
    assert not own_buckets.resources("Custom::S3BucketNotifications")
    assert not [w for w in _warnings(own_buckets) if "EventBridge" in w]


def test_without_an_api_the_processor_registers_uploads_and_may_put_items(own_buckets):
    plain = {lid: r["Properties"] for lid, r in _of(own_buckets, "AWS::Lambda::Function", "FromPlain").items()}
    assert len(plain) == 2, "processor and notifier only: no API handler, no authorizer"
    processor = next(f for f in plain.values() if f["Handler"].startswith("document_processor."))
    env = processor["Environment"]["Variables"]
    assert env["REGISTER_UPLOADS"] == "true" and "application/pdf" in env["ALLOWED_CONTENT_TYPES"]
    assert not _of(own_buckets, "AWS::ApiGateway::RestApi", "FromPlain")


def test_grant_upload_allows_putting_objects_under_documents_only(own_buckets):
    [policy] = _of(own_buckets, "AWS::IAM::Policy", "UploaderDefaultPolicy").values()
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "s3:PutObject"
    plain = _only_id(own_buckets, "AWS::S3::Bucket", "Plain")
    assert statement["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [plain, "Arn"]}, "/documents/*"]]}


# ---- a wrapped VPC --------------------------------------------------------------------------


def test_a_wrapped_vpc_gets_endpoints_and_security_groups_only(wrapped):
    assert not wrapped.resources("AWS::EC2::VPC") and not wrapped.resources("AWS::EC2::Subnet")
    assert not wrapped.resources("AWS::EC2::FlowLog") and not wrapped.resources("Custom::VpcRestrictDefaultSG")
    endpoints = [e["Properties"] for e in wrapped.resources("AWS::EC2::VPCEndpoint").values()]
    assert all(e["VpcId"] == VPC_ID for e in endpoints)
    interface = [e for e in endpoints if e.get("VpcEndpointType") == "Interface"]
    assert len(interface) == len(VPC_INTERFACE_ENDPOINTS) and all(e["SubnetIds"] == SUBNETS for e in interface)
    gateway = [e for e in endpoints if e.get("VpcEndpointType") == "Gateway"]
    assert len(gateway) == 2 and all(e["RouteTableIds"] == ["rtb-0aaaaaaaaaaaaaaa1", "rtb-0aaaaaaaaaaaaaaa2"] for e in gateway)
    for name, function in _functions(wrapped).items():
        assert function["VpcConfig"]["SubnetIds"] == SUBNETS, name


def test_wrapped_vpc_compliance(wrapped):
    assert_compliant(wrapped)


# ---- refused combinations -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"alert_topic": "topic", "alert_emails": ["ops@example.com"]}, "alert_emails=.*subscribe addresses to the alert_topic"),
        ({"vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)}, "vpc_subnets=.*needs network="),
        ({"network": "vpc", "private_api": True}, "network=.*a private API needs an IsolatedNetwork"),
        ({"api": False, "web_acl": True}, "web_acl=True: configures the pipeline's own API: api=False makes no API"),
        ({"api": False, "cors_origins": ["https://app.example.com"]}, "cors_origins=.*api=False serves no API"),
        ({"api": "user", "authorizer_cache_ttl": "ttl"}, "authorizer_cache_ttl=.*your ApiWithKeyedUsagePlan sets it"),
    ],
)
def test_invalid_combinations_are_refused_naming_the_prop(props, message):
    from aws_cdk import Duration

    stack = Stack(App(), "V")
    resolved = dict(props)
    if resolved.get("alert_topic") == "topic":
        resolved["alert_topic"] = sns.Topic.from_topic_arn(stack, "T", TOPIC_ARN)
    if resolved.get("network") == "vpc":
        resolved["network"] = _landing_zone_vpc(stack)
    if resolved.get("api") == "user":
        resolved["api"] = ApiWithKeyedUsagePlan(stack, "UserApi")
    if resolved.get("authorizer_cache_ttl") == "ttl":
        resolved["authorizer_cache_ttl"] = Duration.minutes(1)
    with pytest.raises(ValueError, match=message):
        DocumentPipeline(stack, "Bad", **resolved)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"cidr": "10.1.0.0/16"}, "cidr='10.1.0.0/16': describes the VPC the construct makes"),
        ({"max_azs": 3}, "max_azs=3: describes the VPC the construct makes"),
        ({"vpc": None, "vpc_subnets": ec2.SubnetSelection()}, "vpc_subnets=.*only with vpc="),
        ({"gateway_endpoints": ["sqs"]}, "gateway_endpoints=.*must be a list of: s3, dynamodb"),
    ],
)
def test_isolated_network_refuses_props_of_a_vpc_it_does_not_make(props, message):
    stack = Stack(App(), "V")
    resolved = {"vpc": _landing_zone_vpc(stack), **props}
    if resolved["vpc"] is None:
        del resolved["vpc"]
    with pytest.raises(ValueError, match=message):
        IsolatedNetwork(stack, "Net", **resolved)


# ---- no API: uploads straight to the bucket, end to end on moto -----------------------------

#: Key under documents/ -> (Content-Type the uploader sets, body, final status, reason fragment).
DIRECT_UPLOADS = {
    "documents/reports/q3.pdf": ("application/pdf", local_flow.minimal_pdf(), "PROCESSED", None),
    "documents/diagram.png": ("image/png", local_flow.minimal_png(), "PROCESSED", None),
    "documents/Résumé final + notes.txt": ("text/plain; charset=utf-8", "Curriculum vitæ\n".encode(), "PROCESSED", None),
    "documents/invoice.pdf": ("application/pdf", local_flow.minimal_png(), "REJECTED", "image/png"),
    "documents/tool.bin": ("application/x-foo", b"\x00\x01binary", "REJECTED", "'application/x-foo' is not accepted"),
    "documents/big.txt": ("text/plain", b"a" * 2048 + b"\n", "REJECTED", "more than the 1024 accepted"),
}


def _no_api(stack):
    return DocumentPipeline(stack, "Docs", api=False, max_document_bytes=1024)


@pytest.fixture(scope="module")
def direct_flow():
    synth = synthesize(_no_api)
    calls = []
    with mock_aws():
        stack = EmulatedStack(synth.template, synth.outdir, quiet=True, on_call=calls.append).start()
        processor = stack.function("document_processor.")
        notifier = stack.function("document_notifier.")
        bucket = processor.environment["DOCUMENTS_BUCKET"]
        table = processor.environment["DOCUMENTS_TABLE"]
        watch = local_flow._subscribe_capture_queue(stack, notifier.environment["STATUS_TOPIC_ARN"])
        s3_client = stack.client("s3")
        for key, (content_type, body, _, _) in DIRECT_UPLOADS.items():
            s3_client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
        s3_client.put_object(Bucket=bucket, Key="elsewhere/ignored.pdf", Body=local_flow.minimal_pdf())
        stack.pump()
        # At-least-once delivery: the first object's event arrives again; then a second upload
        # to a processed key (the same document, already closed).
        head = s3_client.head_object(Bucket=bucket, Key="documents/reports/q3.pdf")
        event = s3_eventbridge_event(
            bucket, "documents/reports/q3.pdf", size=head["ContentLength"], etag=head["ETag"],
            version_id=head.get("VersionId"), region=stack.region,
        )
        stack.client("events").put_events(
            Entries=[{"Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(event["detail"]),
                      "Resources": event["resources"]}]
        )
        s3_client.put_object(Bucket=bucket, Key="documents/diagram.png", Body=b"not a png any more", ContentType="image/png")
        stack.pump()
        items = stack.client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
        statements = least_privilege.policies(stack)
        denied = [
            f"{permission.action} on {permission.resource} ({permission.call})"
            for call in calls
            for permission in least_privilege.required_permissions(stack, call)
            if not any(least_privilege._allows(s, permission) for s in statements[permission.function])
        ]
        yield {
            "denied": denied,
            "operations": {(stack.functions[c.function].handler.split(".")[0], c.operation) for c in calls},
            "items": {i["document_id"]["S"]: {k: next(iter(v.values())) for k, v in i.items()} for i in items},
            "notifications": local_flow._drain_notifications(stack, watch),
            "dead_letters": local_flow._dead_letter_count(stack),
            "processor_invocations": processor.invocations,
        }


def _id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def test_every_direct_upload_ends_exactly_as_expected(direct_flow):
    items = direct_flow["items"]
    assert set(items) == {_id(key) for key in DIRECT_UPLOADS}, "one document per key under documents/, nothing else"
    for key, (_, body, status, reason) in DIRECT_UPLOADS.items():
        item = items[_id(key)]
        assert (item["object_key"], item["status"]) == (key, status), key
        assert int(item["status_version"]) == 2, key
        assert int(item["size"]) == len(body), key
        if reason:
            assert reason in item["reason"], (key, item["reason"])
        else:
            assert "reason" not in item, key


def test_each_document_is_registered_and_closed_once_despite_redelivery_and_reupload(direct_flow):
    transitions = [(n["document_id"], n["status"]) for n in direct_flow["notifications"]]
    assert len(transitions) == len(set(transitions)) == 2 * len(DIRECT_UPLOADS)
    for key, (_, _, status, _) in DIRECT_UPLOADS.items():
        assert sorted(s for d, s in transitions if d == _id(key)) == sorted(["AWAITING_UPLOAD", status]), key
    assert direct_flow["dead_letters"] == 0


def test_every_call_of_the_direct_flow_is_allowed_by_the_functions_own_policies(direct_flow):
    assert ("document_processor", "PutItem") in direct_flow["operations"], "the registration ran"
    assert direct_flow["denied"] == []


def test_acknowledged_warnings_leave_nothing_for_cdk_synth_strict():
    from aws_cdk import Annotations

    from serverless_patterns.document_pipeline import BUCKET_KEY_WARNING

    def build(stack):
        pipeline = _imported(stack)
        for warning in (IMPORTED_ALARM_TOPIC_WARNING, BUCKET_EVENTS_WARNING, BUCKET_KEY_WARNING):
            Annotations.of(stack).acknowledge_warning(warning, "the platform team's topic and bucket allow it")
        return pipeline

    assert _warnings(synthesize(build)) == []


# ---- another stack's buckets, passed as objects -------------------------------------------------


@pytest.fixture(scope="module")
def other_stacks_buckets(tmp_path_factory):
    """A SecureBucket and a plain s3.Bucket of a platform stack, each behind a pipeline of another stack."""
    from aws_cdk import App

    from serverless_patterns.compliance import COLLECT_FINDINGS_CONTEXT, add_nag_packs, read_nag_report

    outdir = tmp_path_factory.mktemp("cross-stack")
    app = App(outdir=str(outdir), context=COLLECT_FINDINGS_CONTEXT)
    platform = Stack(app, "Platform")
    secure = SecureBucket(platform, "Shared")
    plain = s3.Bucket(platform, "Plain", enforce_ssl=True)
    documents = Stack(app, "Documents")
    DocumentPipeline(documents, "FromSecure", bucket=secure, api=False)
    pipeline = DocumentPipeline(documents, "FromPlain", bucket=plain, api=False)
    reader = iam.Role(documents, "Reader", assumed_by=iam.AccountRootPrincipal())
    secure.grant_read(reader)
    # the user's own wildcard on a pipeline role must still be reported
    pipeline.processor.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    add_nag_packs(app)
    assembly = app.synth()
    return read_nag_report(outdir), assembly


def test_another_stacks_bucket_objects_are_acknowledged_exactly_as_imported(other_stacks_buckets):
    report, assembly = other_stacks_buckets
    findings = [f for f in report.findings if f.path.startswith("Documents/")]
    # the user's plain role keeps CDK's inline policy: reported, as for any role of theirs
    assert {f.path for f in findings if f.rule.endswith("IAMNoInlinePolicy")} == {"Documents/Reader/DefaultPolicy/Resource"}
    wildcards = [f for f in findings if not f.rule.endswith("IAMNoInlinePolicy")]
    assert [f.rule for f in wildcards] == ["AwsSolutions-IAM5[Resource::*]"], wildcards  # the user's statement only
    assert wildcards[0].path.startswith("Documents/FromPlain/Processor/")
    acknowledged = {f.rule for f in report.acknowledged if f.path.startswith("Documents/")}
    for bucket in ("Shared", "Plain"):
        assert any(r.startswith("AwsSolutions-IAM5[Resource::Platform:ExportsOutputFnGetAtt" + bucket) and r.endswith("/documents/*]")
                   for r in acknowledged), sorted(acknowledged)
    whole_bucket = [r for r in acknowledged if r.startswith("AwsSolutions-IAM5[Resource::Platform:ExportsOutputFnGetAttShared")
                    and r.endswith("/*]") and "/documents/" not in r]
    assert whole_bucket, sorted(acknowledged)  # grant_read of every object, by the Reader
    # one export per attribute: the statements use the export CDK itself makes for the reference
    outputs = assembly.get_stack_by_name("Platform").template["Outputs"]
    values = [json.dumps(o["Value"], sort_keys=True) for o in outputs.values()]
    assert len(values) == len(set(values)), outputs
