"""DocumentPipeline: wiring, least privilege, alarms, snapshots and compliance (default and VPC)."""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack, aws_kms as kms

from harness import assert_compliant, synthesize
from serverless_patterns import AuditTrail, IsolatedNetwork
from serverless_patterns.document_pipeline import NO_WEB_ACL_REASON, UPLOAD_REQUEST_SCHEMA, VPC_INTERFACE_ENDPOINTS, DocumentPipeline


def _default(stack):
    return DocumentPipeline(stack, "Docs")


def _vpc(stack):
    network = IsolatedNetwork(stack, "Network", interface_endpoints=[*VPC_INTERFACE_ENDPOINTS, "execute-api"])
    trail = AuditTrail(stack, "Trail")
    return DocumentPipeline(
        stack, "Docs", network=network, private_api=True, audit_trail=trail, alert_emails=["ops@example.com"],
        max_document_bytes=10 * 1024**3, cors_origins=["https://app.example.com"], tags={"Owner": "docs"},
        web_acl=True, dashboard=True,
    )


@pytest.fixture(scope="module")
def default():
    return synthesize(_default)


@pytest.fixture(scope="module")
def vpc():
    return synthesize(_vpc)


#: What holds data or keys: with removal_policy=DESTROY, all of it goes with the stack.
STATEFUL_TYPES = (
    "AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::SQS::Queue", "AWS::Logs::LogGroup",
    "AWS::SecretsManager::Secret",
)


@pytest.fixture(scope="module")
def destroy():
    return synthesize(lambda stack: DocumentPipeline(stack, "Docs", removal_policy=RemovalPolicy.DESTROY))


def test_destroy_deletes_every_stateful_resource_and_unprotects_the_tables(destroy):
    stateful = {i: r for i, r in destroy.template["Resources"].items() if r["Type"] in STATEFUL_TYPES}
    assert {r["Type"] for r in stateful.values()} >= {
        "AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::SQS::Queue", "AWS::Logs::LogGroup"
    }
    kept = {i: (r.get("DeletionPolicy"), r.get("UpdateReplacePolicy")) for i, r in stateful.items()
            if (r.get("DeletionPolicy"), r.get("UpdateReplacePolicy")) != ("Delete", "Delete")}
    assert not kept
    tables = destroy.resources("AWS::DynamoDB::Table")
    assert len(tables) == 3  # metadata, notification ledger, the API's permissions
    assert all(t["Properties"]["DeletionProtectionEnabled"] is False for t in tables.values())
    assert_compliant(destroy)


def test_default_keeps_every_stateful_resource_and_protects_the_tables(default):
    stateful = [r for r in default.template["Resources"].values() if r["Type"] in STATEFUL_TYPES]
    assert stateful and all(r["DeletionPolicy"] in ("RetainExceptOnCreate", "Retain") for r in stateful)
    assert all(t["Properties"]["DeletionProtectionEnabled"] is True for t in default.resources("AWS::DynamoDB::Table").values())


def test_deletion_protection_with_destroy_is_refused_naming_both_props():
    with pytest.raises(ValueError) as error:
        DocumentPipeline(
            Stack(App(), "P"), "Docs", removal_policy=RemovalPolicy.DESTROY, deletion_protection=True
        )
    message = str(error.value)
    assert "DocumentPipeline" in message and "deletion_protection=True" in message
    assert "removal_policy=RemovalPolicy.DESTROY" in message


def _functions(synth):
    return {
        props["Handler"].split(".")[0]: (logical_id, props)
        for logical_id, resource in synth.resources("AWS::Lambda::Function").items()
        if (props := resource["Properties"]).get("Handler", "").endswith(".index.handler")
    }


def _policy_statements(synth, function_logical_id):
    role = synth.template["Resources"][function_logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    attached = synth.template["Resources"][role]["Properties"].get("ManagedPolicyArns", [])
    statements = []
    for logical_id, policy in synth.resources("AWS::IAM::ManagedPolicy").items():
        if {"Ref": logical_id} in attached or {"Ref": role} in policy["Properties"].get("Roles", []):
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    assert statements, f"no customer-managed policy found for {function_logical_id}"
    return statements


def _actions(statements):
    return {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


def test_four_handlers_are_deployed_with_the_documented_environment(default):
    functions = _functions(default)
    assert set(functions) == {"documents_api", "document_processor", "document_notifier", "api_key_authorizer"}
    api_env = functions["documents_api"][1]["Environment"]["Variables"]
    assert api_env["STATUS_INDEX"] == "by-status"
    assert api_env["MAX_DOCUMENT_BYTES"] == str(100 * 1024**2)
    assert api_env["UPLOAD_URL_EXPIRY_SECONDS"] == "900" and api_env["DOWNLOAD_URL_EXPIRY_SECONDS"] == "300"
    assert "application/pdf" in api_env["ALLOWED_CONTENT_TYPES"].split(",")
    assert set(functions["document_processor"][1]["Environment"]["Variables"]) >= {"DOCUMENTS_BUCKET", "DOCUMENTS_TABLE"}
    assert set(functions["document_notifier"][1]["Environment"]["Variables"]) >= {"STATUS_TOPIC_ARN", "IDEMPOTENCY_TABLE"}


def test_every_function_uses_the_newest_python_and_the_powertools_layer(default):
    for name, (_, props) in _functions(default).items():
        assert props["Runtime"] == "python3.14", name
        assert any("AWSLambdaPowertoolsPythonV3" in json.dumps(layer) for layer in props.get("Layers", [])), name
        assert props["TracingConfig"] == {"Mode": "Active"}


def test_object_created_events_reach_the_processor_through_an_encrypted_queue(default):
    (rule,) = default.resources("AWS::Events::Rule").values()
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "documents/"}]
    target = rule["Properties"]["Targets"][0]
    assert "DeadLetterConfig" in target
    mappings = default.resources("AWS::Lambda::EventSourceMapping")
    processor_id = _functions(default)["document_processor"][0]
    (sqs_mapping,) = [m["Properties"] for m in mappings.values() if m["Properties"]["FunctionName"] == {"Ref": processor_id}]
    assert sqs_mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queues = default.resources("AWS::SQS::Queue")
    assert all("KmsMasterKeyId" in q["Properties"] for q in queues.values())


def test_the_bucket_sends_eventbridge_events_without_a_notification_lambda(default):
    buckets = [b["Properties"] for b in default.resources("AWS::S3::Bucket").values() if "NotificationConfiguration" in b["Properties"]]
    assert buckets[0]["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    assert not default.resources("Custom::S3BucketNotifications")


def test_the_metadata_table_streams_changes_and_indexes_by_status(default):
    tables = [t["Properties"] for t in default.resources("AWS::DynamoDB::Table").values()]
    (metadata,) = [t for t in tables if t["KeySchema"][0]["AttributeName"] == "document_id"]
    assert metadata["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    (index,) = metadata["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by-status" and index["Projection"] == {"ProjectionType": "ALL"}
    assert metadata["BillingMode"] == "PAY_PER_REQUEST"


def test_the_api_routes_declare_their_minimum_levels(default):
    authorizer = _functions(default)["api_key_authorizer"][1]
    routes = json.loads(authorizer["Environment"]["Variables"]["ROUTE_PERMISSIONS"])
    assert sorted((r["method"], r["path"], r["level"]) for r in routes) == [
        ("DELETE", "/documents/{id}", "admin"),
        ("GET", "/documents", "read-only"),
        ("GET", "/documents/{id}", "read-only"),
        ("POST", "/documents", "read-write"),
    ]


def test_upload_requests_are_validated_against_the_schema(default):
    models = [m["Properties"] for m in default.resources("AWS::ApiGateway::Model").values()]
    assert any(m["Schema"].get("required") == UPLOAD_REQUEST_SCHEMA["required"] for m in models)


def test_each_function_gets_only_what_its_handler_calls(default):
    functions = _functions(default)
    processor = _actions(_policy_statements(default, functions["document_processor"][0]))
    assert "s3:PutObject" not in processor and "s3:DeleteObject" not in processor
    assert {"s3:GetObject", "dynamodb:GetItem", "dynamodb:UpdateItem"} <= processor
    notifier = _actions(_policy_statements(default, functions["document_notifier"][0]))
    assert "sns:Publish" in notifier and not {a for a in notifier if a.startswith("s3:")}
    api = _actions(_policy_statements(default, functions["documents_api"][0]))
    assert {"s3:PutObject", "s3:GetObjectVersion", "s3:DeleteObject", "dynamodb:PutItem", "dynamodb:Query"} <= api
    assert not {"s3:ListBucket", "s3:AbortMultipartUpload", "dynamodb:Scan", "dynamodb:BatchWriteItem"} & api
    assert not {"s3:AbortMultipartUpload", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:Query"} & processor
    assert "sns:Publish" not in api
    for name, (logical_id, _) in functions.items():
        wildcard_actions = {a for a in _actions(_policy_statements(default, logical_id)) if "*" in a}
        assert not wildcard_actions, (name, wildcard_actions)
    assert not default.resources("AWS::IAM::Policy"), "no inline policies"


def test_alarms_cover_the_whole_pipeline(default, vpc):
    descriptions = " ".join(a["Properties"].get("AlarmDescription", "") for a in default.resources("AWS::CloudWatch::Alarm").values())
    assert len(default.resources("AWS::CloudWatch::Alarm")) >= 12
    assert "5xx" in descriptions
    assert len(vpc.resources("AWS::CloudWatch::Alarm")) == len(default.resources("AWS::CloudWatch::Alarm"))
    topics = default.resources("AWS::SNS::Topic")
    assert all("KmsMasterKeyId" in t["Properties"] for t in topics.values())


def test_vpc_mode_puts_every_function_in_isolated_subnets(vpc):
    for name, (_, props) in _functions(vpc).items():
        assert "VpcConfig" in props, name
    assert not vpc.resources("AWS::EC2::NatGateway")
    (api,) = vpc.resources("AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["EndpointConfiguration"]["Types"] == ["PRIVATE"]


def test_vpc_mode_records_data_events_for_the_bucket_and_tables(vpc):
    (trail,) = vpc.resources("AWS::CloudTrail::Trail").values()
    selectors = json.dumps(trail["Properties"]["AdvancedEventSelectors"])
    assert "AWS::S3::Object" in selectors and "AWS::DynamoDB::Table" in selectors


def test_default_snapshot(default, snapshot_json):
    assert default.normalised() == snapshot_json


def test_vpc_snapshot(vpc, snapshot_json):
    assert vpc.normalised() == snapshot_json


@pytest.mark.parametrize("configuration", ["default", "vpc"])
def test_compliance(configuration, request):
    assert_compliant(request.getfixturevalue(configuration))


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"max_document_bytes": 0}, "max_document_bytes=0: must be at least 1"),
        ({"max_document_bytes": 6 * 1024**4}, "must be at most 5497558138880 bytes"),
        ({"allowed_content_types": []}, "allowed_content_types=[]: must be a non-empty list of MIME types"),
        ({"allowed_content_types": ["pdf"]}, "allowed_content_types=['pdf']"),
        ({"upload_url_expiry": Duration.seconds(10)}, "upload_url_expiry='10 seconds': must be whole seconds from 1 minute to 7 days"),
        ({"download_url_expiry": Duration.days(8)}, "download_url_expiry='691200 seconds'"),
        ({"private_api": True}, "private_api=True: a private API needs network="),
        ({"processor_memory_size": 64}, "processor_memory_size=64: must be at least 128 MB"),
    ],
)
def test_invalid_props(props, message):
    with pytest.raises(ValueError) as error:
        DocumentPipeline(Stack(App(), "V"), "Bad", **props)
    assert message in str(error.value)


def test_private_api_needs_an_execute_api_endpoint():
    stack = Stack(App(), "V")
    network = IsolatedNetwork(stack, "Net")
    with pytest.raises(ValueError, match="a private API needs interface_endpoints to include 'execute-api'"):
        DocumentPipeline(stack, "Bad", network=network, private_api=True)


def test_wrong_types():
    with pytest.raises(TypeError, match="DocumentPipeline: max_document_bytes must be int, got str"):
        DocumentPipeline(Stack(App(), "V"), "Bad", max_document_bytes="100")


# ---- idle cost: keys per data domain, opt-in WAF and dashboard ----------------------------------


def _key_of(synth, props):
    key = (
        props.get("KmsMasterKeyId")
        or props.get("KmsKeyId")
        or props.get("KmsKeyArn")
        or props.get("SSESpecification", {}).get("KMSMasterKeyId")
        or next((r["ServerSideEncryptionByDefault"].get("KMSMasterKeyID") for r in props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])), None)
    )
    if key is None:
        return None
    return key["Fn::GetAtt"][0] if "Fn::GetAtt" in key else key["Ref"]


def _keys_by_resource(synth):
    return {
        logical_id: key
        for logical_id, resource in synth.template["Resources"].items()
        if (key := _key_of(synth, resource.get("Properties", {}))) is not None
    }


def test_one_key_per_data_domain(default):
    pipeline = default.extra["built"]
    keys = _keys_by_resource(default)
    stack = Stack.of(pipeline)

    def key_id(key):
        return stack.get_logical_id(key.node.default_child)

    def ids(*constructs):
        return {stack.get_logical_id(c.node.default_child) for c in constructs}

    assert set(default.resources("AWS::KMS::Key")) == {key_id(pipeline.documents_key), key_id(pipeline.notifications_key),
                                                         key_id(pipeline.operations_key), key_id(pipeline.api.permissions_table.encryption_key)}
    domains = {
        pipeline.documents_key: ids(pipeline.documents.bucket, pipeline.metadata.table, pipeline.upload_events.queue),
        pipeline.notifications_key: ids(pipeline.status_topic.topic, pipeline.notification_ledger.table, pipeline.notification_failures.queue),
        pipeline.operations_key: ids(pipeline.alert_topic.topic, pipeline.api_handler.function, pipeline.processor.function,
                                     pipeline.notifier.function, pipeline.api.authorizer_function.function, pipeline.api.access_log_group),
    }
    for key, members in domains.items():
        assert {m: keys[m] for m in members} == dict.fromkeys(members, key_id(key))
    # Each key's users are named one by one: no key policy statement for a service lacks a condition.
    for logical_id, resource in default.resources("AWS::KMS::Key").items():
        for statement in resource["Properties"]["KeyPolicy"]["Statement"]:
            if "Service" in statement["Principal"]:
                assert statement.get("Condition"), (logical_id, statement)


def test_one_key_for_the_whole_pipeline():
    def build(stack):
        key = kms.Key(stack, "PipelineKey", enable_key_rotation=True)
        return DocumentPipeline(stack, "Docs", key=key)

    synth = synthesize(build)
    keys = set(synth.resources("AWS::KMS::Key"))
    pipeline = synth.extra["built"]
    permissions = Stack.of(pipeline).get_logical_id(pipeline.api.permissions_table.encryption_key.node.default_child)
    (pipeline_key,) = keys - {permissions}
    used = set(_keys_by_resource(synth).values())
    assert used == {pipeline_key, permissions}
    assert_compliant(synth)


def test_web_acl_and_dashboard_are_opt_in(default, vpc):
    assert not default.resources("AWS::WAFv2::WebACL") and not default.resources("AWS::CloudWatch::Dashboard")
    assert default.extra["built"].dashboard is None and default.extra["built"].api.web_acl is None
    waf_rules = {(f.rule, f.reason) for f in default.nag.acknowledged if "WAF" in f.rule or f.rule.endswith("APIG3")}
    assert {reason for _, reason in waf_rules} == {NO_WEB_ACL_REASON} and len(waf_rules) == 3  # APIG3, NIST and PCI
    assert not any("WAF" in f.rule or f.rule.endswith("APIG3") for f in vpc.nag.acknowledged)
    assert len(vpc.resources("AWS::WAFv2::WebACL")) == 1 and len(vpc.resources("AWS::CloudWatch::Dashboard")) == 1
    assert vpc.resources("AWS::WAFv2::WebACLAssociation")


def test_a_network_without_the_endpoints_the_handlers_call_is_refused():
    stack = Stack(App(), "V")
    network = IsolatedNetwork(stack, "Net", interface_endpoints=["sqs"])
    with pytest.raises(ValueError, match="network=.*without sns, events endpoints.*include them in interface_endpoints"):
        DocumentPipeline(stack, "Bad", network=network)
