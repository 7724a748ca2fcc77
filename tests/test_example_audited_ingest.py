"""Reference system 002 (examples/audited_ingest): each requirement, a snapshot, and compliance."""

from __future__ import annotations

import importlib
import importlib.util
import json
from pathlib import Path

import pytest
from aws_cdk import App, CfnElement
from deploy_readiness import STACK_INSTANCE_ID, render_name
from harness import Synthesized, acknowledged_rules, assert_compliant, synthesize_app
from tag_coverage import missing_tags

from serverless_patterns.alerting_function import POWERTOOLS_LAYER_VERSION

ROOT = Path(__file__).resolve().parent.parent
APP = importlib.import_module("examples.audited_ingest.app")
REGION = "us-west-2"


def _synthesize(tmp_path_factory, context=None) -> Synthesized:
    return synthesize_app(APP.build, context=context)


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    return _synthesize(tmp_path_factory)


@pytest.fixture(scope="module")
def prod(tmp_path_factory):
    return _synthesize(tmp_path_factory, {"env": "prod", "alert_email": "ops@example.com"})


def _id(synth, construct):
    """The logical id of ``construct``'s CloudFormation resource (or of the resource itself)."""
    stack = synth.extra["built"]
    element = construct if isinstance(construct, CfnElement) else construct.node.default_child
    return stack.resolve(stack.get_logical_id(element))


def _props(synth, logical_id):
    return synth.template["Resources"][logical_id]["Properties"]


def _ids(synth):
    """Logical ids of the resources the requirements name, looked up once per synthesis."""
    if "ids" not in synth.extra:
        synth.extra["ids"] = _lookup_ids(synth)
    return synth.extra["ids"]


def _lookup_ids(synth):
    stack = synth.extra["built"]
    return {
        "ingest": _id(synth, stack.bucket.bucket),
        "log_bucket": _id(synth, stack.bucket.log_bucket),
        "bucket_key": _id(synth, stack.bucket.encryption_key),
        "table": _id(synth, stack.table.table),
        "table_key": _id(synth, stack.table.encryption_key),
        "queue": _id(synth, stack.queue.queue),
        "dead_letters": _id(synth, stack.queue.dead_letter_queue),
        "queue_key": _id(synth, stack.queue.encryption_key),
        "rule": _id(synth, stack.rule),
        "function": _id(synth, stack.writer.function),
        "role": _id(synth, stack.writer.role),
        "function_key": _id(synth, stack.writer.encryption_key),
        "log_group": _id(synth, stack.writer.log_group),
        "trail": _id(synth, stack.trail.trail),
    }


def _names(synth):
    ids = _ids(synth)
    names = [
        _props(synth, ids["table"])["TableName"],
        _props(synth, ids["function"])["FunctionName"],
        _props(synth, ids["queue"])["QueueName"],
        _props(synth, ids["dead_letters"])["QueueName"],
        _props(synth, ids["rule"])["Name"],
        _props(synth, ids["trail"])["TrailName"],
    ]
    return [render_name(name) for name in names]


def _as_list(value):
    return value if isinstance(value, list) else [value]


# ---- region and environment -------------------------------------------------------------------


def test_the_stack_is_in_us_west_2(dev):
    stack = dev.extra["built"]
    assert stack.region == REGION
    assert stack.account.startswith("${Token")  # the account is the deploying one
    layer = _props(dev, _ids(dev)["function"])["Layers"]
    assert layer == [
        f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:{POWERTOOLS_LAYER_VERSION}"
    ]
    assert "us-east-1" not in json.dumps(dev.template)


def test_names_carry_the_dev_suffix_by_default(dev):
    assert dev.extra["built"].stack_name == "AuditedIngest-dev"
    assert _names(dev) == [
        # Table and queues are kept on delete: their names carry the stack instance's id.
        "audited-ingest-objects-<stack-instance-id>-dev",
        "audited-ingest-metadata-writer-dev",
        "audited-ingest-object-events-<stack-instance-id>-dev",
        "audited-ingest-object-events-<stack-instance-id>-dev-dlq",
        "audited-ingest-object-created-dev",
        "audited-ingest-trail-dev",
    ]


def test_the_environment_comes_from_context(prod):
    assert prod.extra["built"].stack_name == "AuditedIngest-prod"
    assert all(name.endswith(("-prod", "-prod-dlq")) for name in _names(prod))
    assert not missing_tags(prod.template, {"Environment": "prod"}, REGION)


def test_an_unknown_environment_is_refused():
    with pytest.raises(ValueError, match=r"context env='qa': must be one of dev, staging, prod"):
        APP.build(App(context={"env": "qa"}))


def test_prod_alarms_notify_the_required_alert_email_parameter_defaulting_to_the_context_address(dev, prod):
    assert not dev.resources("AWS::SNS::Subscription")
    assert "AlertEmail" not in dev.template.get("Parameters", {})
    (subscription,) = prod.resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlertEmail"}
    assert subscription["Properties"]["Protocol"] == "email"
    assert prod.template["Parameters"]["AlertEmail"]["Default"] == "ops@example.com"


def test_every_taggable_resource_carries_the_environment_and_system_tags(dev):
    assert not missing_tags(dev.template, {"Environment": "dev", "System": "audited-ingest"}, REGION)


# ---- buckets ----------------------------------------------------------------------------------


def test_the_ingest_bucket_is_versioned_encrypted_and_private(dev):
    props = _props(dev, _ids(dev)["ingest"])
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    key_id = rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0]
    assert _props(dev, key_id)["EnableKeyRotation"] is True
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert "BucketName" not in props  # bucket names are global: generated, never fixed
    assert dev.template["Resources"][_ids(dev)["ingest"]]["DeletionPolicy"] == "RetainExceptOnCreate"


def test_the_ingest_bucket_refuses_plain_http(dev):
    ingest = _ids(dev)["ingest"]
    (policy,) = [
        p["Properties"] for p in dev.resources("AWS::S3::BucketPolicy").values() if p["Properties"]["Bucket"] == {"Ref": ingest}
    ]
    denies = [s["Condition"] for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert {"Bool": {"aws:SecureTransport": "false"}} in denies


def test_access_logs_go_to_a_separate_log_bucket(dev):
    ingest = _ids(dev)["ingest"]
    logging = _props(dev, ingest)["LoggingConfiguration"]
    log_bucket = logging["DestinationBucketName"]["Ref"]
    assert log_bucket == _ids(dev)["log_bucket"] != ingest
    trail_bucket = _props(dev, _ids(dev)["trail"])["S3BucketName"]["Ref"]
    assert log_bucket != trail_bucket
    (policy,) = [
        p["Properties"] for p in dev.resources("AWS::S3::BucketPolicy").values() if p["Properties"]["Bucket"] == {"Ref": log_bucket}
    ]
    (delivery,) = [s for s in policy["PolicyDocument"]["Statement"] if s.get("Principal") == {"Service": "logging.s3.amazonaws.com"}]
    assert delivery["Condition"]["ArnLike"] == {"aws:SourceArn": {"Fn::GetAtt": [ingest, "Arn"]}}


# ---- trigger ----------------------------------------------------------------------------------


def test_object_created_events_go_through_eventbridge_to_an_encrypted_queue(dev):
    ingest = _ids(dev)["ingest"]
    assert _props(dev, ingest)["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    rule_id = _ids(dev)["rule"]
    rule = _props(dev, rule_id)
    assert rule["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [{"Ref": ingest}]}},
    }
    queue = _ids(dev)["queue"]
    dead_letters = _ids(dev)["dead_letters"]
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [queue, "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dead_letters, "Arn"]}}
    queue_props = _props(dev, queue)
    assert queue_props["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dead_letters, "Arn"]}, "maxReceiveCount": 3}
    assert "KmsMasterKeyId" in queue_props and "KmsMasterKeyId" in _props(dev, dead_letters)
    (allow,) = [
        s
        for p in dev.resources("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": queue}]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow"
    ]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Condition"]["ArnEquals"] == {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}


def test_the_queue_feeds_the_function_with_partial_batch_failures(dev):
    function = _ids(dev)["function"]
    queue = _ids(dev)["queue"]
    (mapping,) = dev.resources("AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert props["EventSourceArn"] == {"Fn::GetAtt": [queue, "Arn"]}
    assert props["FunctionName"] == {"Ref": function}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert _props(dev, queue)["VisibilityTimeout"] == 6 * _props(dev, function)["Timeout"]


def test_no_notification_helper_lambda_is_deployed(dev):
    # CDK's S3 notification custom resource would add an unhardened function of its own.
    assert len(dev.resources("AWS::Lambda::Function")) == 1
    assert not [r for r in dev.template["Resources"].values() if r["Type"].startswith("Custom::")]


def test_the_function_runs_the_packaged_handler(dev):
    props = _props(dev, _ids(dev)["function"])
    assert props["Handler"] == "object_metadata_writer.index.handler"
    assert props["Runtime"] == "python3.14"
    variables = props["Environment"]["Variables"]
    assert variables["TABLE_NAME"] == {"Ref": _ids(dev)["table"]}
    assert variables["BUCKET_NAME"] == {"Ref": _ids(dev)["ingest"]}


# ---- table ------------------------------------------------------------------------------------


def test_the_table_has_the_composite_key_pitr_insights_and_on_demand_billing(dev):
    props = _props(dev, _ids(dev)["table"])
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert props["AttributeDefinitions"] == [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["ContributorInsightsSpecification"]["Enabled"] is True
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["SSESpecification"]["SSEEnabled"] is True and "KMSMasterKeyId" in props["SSESpecification"]
    assert props["DeletionProtectionEnabled"] is True


# ---- the function's role ----------------------------------------------------------------------


def _role_statements(synth, role):
    """Every statement of every policy the role has: attached managed ones and ones naming it."""
    attached = {arn["Ref"] for arn in _props(synth, role).get("ManagedPolicyArns", []) if "Ref" in arn}
    policies = [
        resource["Properties"]
        for logical_id, resource in synth.template["Resources"].items()
        if resource["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
        and (logical_id in attached or {"Ref": role} in resource["Properties"].get("Roles", []))
    ]
    assert policies, f"no policy found for {role}"
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def _pairs(actions, resource):
    """``(action, resource as JSON)`` pairs; a logical id stands for its resource's ARN."""
    if isinstance(resource, str) and resource != "*":
        resource = {"Fn::GetAtt": [resource, "Arn"]}
    return {(action, json.dumps(resource)) for action in actions}


def test_the_function_role_reads_the_bucket_writes_the_table_and_nothing_else(dev):
    ids = _ids(dev)
    role = _props(dev, ids["function"])["Role"]["Fn::GetAtt"][0]
    assert role == ids["role"]
    assert not dev.resources("AWS::IAM::Policy"), "no inline policies"
    managed = _props(dev, role).get("ManagedPolicyArns", [])
    assert managed and all("Ref" in arn for arn in managed), "customer-managed policies only"
    objects = {"Fn::Join": ["", [{"Fn::GetAtt": [ids["ingest"], "Arn"]}, "/*"]]}
    data_access = (
        # read the ingest bucket
        _pairs(["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAttributes"], objects)
        | _pairs(["s3:ListBucket"], ids["ingest"])
        | _pairs(["kms:Decrypt"], ids["bucket_key"])
        # write the table
        | _pairs(["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], ids["table"])
        | _pairs(["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], ids["table_key"])
    )
    plumbing = (
        # the function's event queue, its own logs and key, and X-Ray (fed only by the queue's
        # event source mapping, it has no dead-letter queue of its own: the queue redrives)
        _pairs(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], ids["queue"])
        | _pairs(["kms:Decrypt"], ids["queue_key"])
        | _pairs(["logs:CreateLogStream", "logs:PutLogEvents"], ids["log_group"])
        | _pairs(["kms:Decrypt"], ids["function_key"])
        | _pairs(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*")
    )
    granted = set()
    for statement in _role_statements(dev, role):
        assert statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
        assert "Condition" not in statement
        for action in _as_list(statement["Action"]):
            assert "*" not in action, f"wildcard action {action}"
            granted |= {(action, json.dumps(resource)) for resource in _as_list(statement["Resource"])}
    assert granted == data_access | plumbing


# ---- trail ------------------------------------------------------------------------------------


def test_the_trail_is_multi_region_validated_and_encrypted_into_its_own_bucket(dev):
    trail = _props(dev, _ids(dev)["trail"])
    assert trail["IsMultiRegionTrail"] is True
    assert trail["EnableLogFileValidation"] is True
    assert trail["IncludeGlobalServiceEvents"] is True
    key = trail["KMSKeyId"]["Fn::GetAtt"][0]
    assert dev.template["Resources"][key]["Type"] == "AWS::KMS::Key"
    bucket = trail["S3BucketName"]["Ref"]
    assert bucket.startswith("AuditTrailBucket") and bucket != _ids(dev)["ingest"]
    sse = _props(dev, bucket)["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert sse == {"KMSMasterKeyID": {"Fn::GetAtt": [key, "Arn"]}, "SSEAlgorithm": "aws:kms"}


def test_the_trail_records_writes_to_the_ingest_bucket(dev):
    trail = _props(dev, _ids(dev)["trail"])
    (data,) = [s for s in trail["AdvancedEventSelectors"] if {"Field": "eventCategory", "Equals": ["Data"]} in s["FieldSelectors"]]
    assert {"Field": "resources.ARN", "StartsWith": [{"Fn::Join": ["", [{"Fn::GetAtt": [_ids(dev)["ingest"], "Arn"]}, "/"]]}]} in data["FieldSelectors"]
    assert {"Field": "readOnly", "Equals": ["false"]} in data["FieldSelectors"]


# ---- outputs ----------------------------------------------------------------------------------


def test_outputs_name_the_bucket_table_function_and_role(dev):
    outputs = {name: output["Value"] for name, output in dev.template["Outputs"].items()}
    function = _ids(dev)["function"]
    role = _props(dev, function)["Role"]["Fn::GetAtt"][0]
    table = _ids(dev)["table"]
    ingest = _ids(dev)["ingest"]
    assert {name: outputs[name] for name in (
        "BucketName", "BucketArn", "TableName", "TableArn", "FunctionName", "FunctionArn", "FunctionRoleName", "FunctionRoleArn",
    )} == {
        "BucketName": {"Ref": ingest},
        "BucketArn": {"Fn::GetAtt": [ingest, "Arn"]},
        "TableName": {"Ref": table},
        "TableArn": {"Fn::GetAtt": [table, "Arn"]},
        "FunctionName": {"Ref": function},
        "FunctionArn": {"Fn::GetAtt": [function, "Arn"]},
        "FunctionRoleName": {"Ref": role},
        "FunctionRoleArn": {"Fn::GetAtt": [role, "Arn"]},
    }
    assert not any("Export" in output for output in dev.template["Outputs"].values())


# ---- snapshot and compliance ------------------------------------------------------------------


def test_snapshot(dev, snapshot_json):
    assert dev.normalised() == snapshot_json


@pytest.mark.parametrize("configuration", ["dev", "prod"])
def test_compliance(configuration, request):
    assert_compliant(request.getfixturevalue(configuration))


def test_acknowledgements_are_the_libraries_known_ones(dev):
    acknowledged = set().union(*acknowledged_rules(dev).values())
    wildcards = {rule for rule in acknowledged if rule.startswith("AwsSolutions-IAM5")}
    assert wildcards == {
        "AwsSolutions-IAM5[Resource::*]",  # X-Ray has no resource-level permissions
        f"AwsSolutions-IAM5[Resource::<{_ids(dev)['ingest']}.Arn>/*]",  # the ingest bucket's objects
        # CloudTrail's log streams of this trail's log group, one per Region
        (
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:us-west-2:<AWS::AccountId>:log-group:"
            f"/aws/cloudtrail/audited-ingest-trail-dev-{json.dumps(STACK_INSTANCE_ID, separators=(',', ':'))}"
            ":log-stream:<AWS::AccountId>_CloudTrail_*]"
        ),
    }
    known = {
        *(f"{pack}-{rule}" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321") for rule in (
            "S3BucketReplicationEnabled", "LambdaInsideVPC", "LambdaConcurrency", "DynamoDBInBackupPlan",
            "S3DefaultEncryptionKMS",  # the SSE-S3 server-access-log sinks
        )),
        "AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy",
        "Serverless-LambdaAsyncFailureDestination", "Serverless-LambdaEventSourceMappingDestination",
        "CKV_AWS_18", "CKV_AWS_115", "CKV_AWS_117",
        # The writer is fed only by its SQS mapping: no function dead-letter queue.
        *(f"{pack}-LambdaDLQ" for pack in ("Serverless", "HIPAA.Security", "NIST.800.53.R5")), "CKV_AWS_116",
        # The dev stack without -c alert_email=... (prod requires AlertEmail).
        "AlarmTopicWithoutSubscription",
    }
    assert acknowledged - wildcards <= known, sorted(acknowledged - wildcards - known)


def test_the_main_job_synthesizes_this_example():
    spec = importlib.util.spec_from_file_location("main_job", ROOT / "scripts" / "main_job.py")
    main_job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(main_job)
    assert ("audited_ingest", "examples.audited_ingest.app") in main_job.EXAMPLES
