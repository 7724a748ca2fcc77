"""Reference system 001 (examples/secure_data_api): each requirement, a snapshot, and compliance."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from aws_cdk import App, CfnElement
from harness import Synthesized, acknowledged_rules, assert_compliant, synthesize_app
from tag_coverage import missing_tags

from serverless_patterns.alerting_function import DEPLOY_TIME_RESERVED_CONCURRENCY_REASON, POWERTOOLS_LAYER_VERSION

ROOT = Path(__file__).resolve().parent.parent
APP = importlib.import_module("examples.secure_data_api.app")
ORIGINS = ["https://app.example.com", "https://admin.example.com"]


def _synthesize(tmp_path_factory, context=None) -> Synthesized:
    return synthesize_app(APP.build, context=context)


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return _synthesize(tmp_path_factory)


@pytest.fixture(scope="module")
def configured(tmp_path_factory):
    return _synthesize(
        tmp_path_factory, {"cors_origins": ",".join(ORIGINS), "alert_email": "ops@example.com"}
    )


def _id(synth, construct):
    stack = synth.extra["built"]
    element = construct if isinstance(construct, CfnElement) else construct.node.default_child
    return stack.resolve(stack.get_logical_id(element))


def _props(synth, logical_id):
    return synth.template["Resources"][logical_id]["Properties"]


def _ids(synth):
    stack = synth.extra["built"]
    return {
        "function": _id(synth, stack.function.function),
        "role_policy": _id(synth, stack.function.role.policy),
        "log_group": _id(synth, stack.function.log_group),
        "dead_letter_queue": _id(synth, stack.function.dead_letter_queue),
        "failed_invocations": _id(synth, stack.failed_invocations.queue),
        "bucket": _id(synth, stack.bucket.bucket),
        "bucket_key": _id(synth, stack.bucket.encryption_key),
        "secret": _id(synth, stack.cursor_key.secret),
        "secret_key": _id(synth, stack.cursor_key.encryption_key),
        "topic": _id(synth, stack.alerts.topic),
        "api": _id(synth, stack.api.api),
    }


def _statements(synth):
    return _props(synth, _ids(synth)["role_policy"])["PolicyDocument"]["Statement"]


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _routes(synth):
    return {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in synth.resources("AWS::ApiGatewayV2::Route").values()
    }


# ---- API --------------------------------------------------------------------------------------


def test_a_python_function_serves_every_route_of_an_http_api(synth):
    ids = _ids(synth)
    assert _props(synth, ids["api"])["ProtocolType"] == "HTTP"
    function = _props(synth, ids["function"])
    assert function["Runtime"] == "python3.14"  # the seed's python3.8 is deprecated
    assert function["Handler"] == "data_api.index.handler"
    routes = _routes(synth)
    assert set(routes) == {
        "GET /api/health",
        "GET /api/data",
        "GET /api/data/{key}",
        "PUT /api/data/{key}",
    }
    integrations = synth.resources("AWS::ApiGatewayV2::Integration")
    for route in routes.values():
        integration = integrations[route["Target"]["Fn::Join"][1][1]["Ref"]]["Properties"]
        assert integration["IntegrationUri"] == {"Fn::GetAtt": [ids["function"], "Arn"]}
        assert (integration["IntegrationType"], integration["PayloadFormatVersion"]) == (
            "AWS_PROXY",
            "2.0",
        )


def test_data_routes_need_iam_signatures_and_only_health_is_public(synth):
    routes = _routes(synth)
    assert {key: route["AuthorizationType"] for key, route in routes.items()} == {
        "GET /api/health": "NONE",
        "GET /api/data": "AWS_IAM",
        "GET /api/data/{key}": "AWS_IAM",
        "PUT /api/data/{key}": "AWS_IAM",
    }
    public = {
        path for path, rules in acknowledged_rules(synth).items() if "AwsSolutions-APIG4" in rules
    }
    assert public == {"SecureDataApi/Api/Resource/GET--api--health/Resource"}
    (reason,) = {f.reason for f in synth.nag.acknowledged if f.rule == "AwsSolutions-APIG4"}
    assert reason == APP.HEALTH_REASON


def test_callers_get_policies_for_exactly_the_routes_they_need(synth):
    stack = synth.extra["built"]
    api = _ids(synth)["api"]

    def resources(policy):
        (statement,) = _props(synth, _id(synth, policy))["PolicyDocument"]["Statement"]
        assert statement["Action"] == "execute-api:Invoke"
        return [
            part["Fn::Join"][1][-1]
            for part in statement["Resource"]
            if part["Fn::Join"][1][-2] == {"Ref": api}
        ]

    assert resources(stack.reader_policy) == ["/$default/GET/api/data", "/$default/GET/api/data/*"]
    assert resources(stack.writer_policy) == [
        "/$default/GET/api/data",
        "/$default/GET/api/data/*",
        "/$default/PUT/api/data/*",
    ]


def test_cors_allows_named_origins_only(synth, configured):
    cors = _props(synth, _ids(synth)["api"])["CorsConfiguration"]
    assert cors["AllowOrigins"] == list(APP.DEFAULT_CORS_ORIGINS)
    assert cors["AllowHeaders"] == list(APP.CORS_HEADERS)  # SigV4 headers browsers must send
    assert cors["AllowCredentials"] is False
    assert (
        _props(configured, _ids(configured)["api"])["CorsConfiguration"]["AllowOrigins"] == ORIGINS
    )


def test_a_wildcard_origin_is_refused():
    with pytest.raises(ValueError, match=r"cors_origins='\*': must be an https origin"):
        APP.build(App(context={"cors_origins": "*"}))


def test_the_stage_logs_access_and_throttles_in_line_with_the_reserved_concurrency(synth):
    stage = synth.only("AWS::ApiGatewayV2::Stage")
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == APP.RATE_LIMIT
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == APP.BURST_LIMIT
    assert "$context.routeKey" in stage["AccessLogSettings"]["Format"]
    assert (
        "$context.resourcePath" not in stage["AccessLogSettings"]["Format"]
    )  # a REST API variable


# ---- bucket -----------------------------------------------------------------------------------


def test_the_data_bucket_is_versioned_encrypted_tls_only_and_expires_old_versions(synth):
    ids = _ids(synth)
    props = _props(synth, ids["bucket"])
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (sse,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": [ids["bucket_key"], "Arn"]},
    }
    assert all(props["PublicAccessBlockConfiguration"].values())
    (rule,) = [r for r in props["LifecycleConfiguration"]["Rules"] if r["Status"] == "Enabled"]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert "ExpirationInDays" not in rule  # current data never expires
    (policy,) = [
        p["Properties"]
        for p in synth.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": ids["bucket"]}
    ]
    denies = [
        s["Condition"] for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"
    ]
    assert {"Bool": {"aws:SecureTransport": "false"}} in denies
    assert "BucketName" not in props
    assert synth.template["Resources"][ids["bucket"]]["DeletionPolicy"] == "RetainExceptOnCreate"


def test_the_function_reaches_objects_under_the_data_prefix_only(synth):
    bucket = _ids(synth)["bucket"]
    object_arn = {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/data/*"]]}
    s3 = [s for s in _statements(synth) if any(a.startswith("s3:") for a in _as_list(s["Action"]))]
    for statement in s3:
        if statement["Action"] == "s3:ListBucket":
            assert statement["Resource"] == {"Fn::GetAtt": [bucket, "Arn"]}
            assert statement["Condition"] == {"StringLike": {"s3:prefix": ["data/*"]}}
        else:
            assert statement["Resource"] == object_arn
    actions = {a for s in s3 for a in _as_list(s["Action"])}
    assert {"s3:GetObject", "s3:PutObject", "s3:ListBucket"} <= actions
    variables = _props(synth, _ids(synth)["function"])["Environment"]["Variables"]
    assert variables["BUCKET_NAME"] == {"Ref": bucket}
    assert variables["KEY_PREFIX"] == "data/"
    assert variables["MAX_OBJECT_BYTES"] == str(APP.MAX_OBJECT_BYTES)


# ---- secret -----------------------------------------------------------------------------------


def test_the_secret_is_generated_kms_encrypted_and_rotated(synth):
    ids = _ids(synth)
    secret = _props(synth, ids["secret"])
    assert secret["GenerateSecretString"]["PasswordLength"] == 64
    assert secret["KmsKeyId"] == {"Fn::GetAtt": [ids["secret_key"], "Arn"]}
    schedule = synth.only("AWS::SecretsManager::RotationSchedule")
    assert schedule["SecretId"] == {"Ref": ids["secret"]}
    assert schedule["RotationRules"] == {"AutomaticallyAfterDays": 30}


def test_no_secret_value_is_in_the_template_the_function_gets_the_arn(synth):
    text = json.dumps(synth.template)
    assert '"SecretString"' not in text and "{{resolve:" not in text
    variables = _props(synth, _ids(synth)["function"])["Environment"]["Variables"]
    assert variables["CURSOR_KEY_ARN"] == {"Ref": _ids(synth)["secret"]}


def test_the_function_may_read_the_secret_and_decrypt_it_for_that_secret_only(synth):
    ids = _ids(synth)
    statements = _statements(synth)
    assert {
        "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        "Effect": "Allow",
        "Resource": {"Ref": ids["secret"]},
    } in statements
    assert {
        "Action": "kms:Decrypt",
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [ids["secret_key"], "Arn"]},
        "Condition": {"StringEquals": {"kms:EncryptionContext:SecretARN": {"Ref": ids["secret"]}}},
    } in statements
    secret_actions = {
        a for s in statements for a in _as_list(s["Action"]) if a.startswith("secretsmanager:")
    }
    assert secret_actions == {
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
    }  # no writes


# ---- tracing, logs, concurrency ---------------------------------------------------------------


def test_tracing_logs_and_reserved_concurrency(synth):
    ids = _ids(synth)
    function = _props(synth, ids["function"])
    assert function["TracingConfig"] == {"Mode": "Active"}
    # Deployable in any account: the reservation is the ReservedConcurrency parameter, none at 0.
    condition = "HasReservedConcurrency"
    assert function["ReservedConcurrentExecutions"] == {
        "Fn::If": [condition, {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    parameter = synth.template["Parameters"]["ReservedConcurrency"]
    assert (parameter["Type"], parameter["Default"], parameter["MinValue"]) == ("Number", 0, 0)
    assert str(APP.RESERVED_CONCURRENCY) in parameter["Description"]
    assert synth.template["Conditions"][condition] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ReservedConcurrency"}, 0]}]
    }
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": ids["log_group"]}}
    log_group = _props(synth, ids["log_group"])
    assert log_group["RetentionInDays"] == 30
    assert "KmsKeyId" in log_group
    assert function["Layers"] == [
        {
            "Fn::Sub": "arn:aws:lambda:${AWS::Region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:"
            f"{POWERTOOLS_LAYER_VERSION}"
        }
    ]
    # X-Ray's '*' statement sits in a policy of its own, the only one acknowledged for '*'.
    assert not [s for s in _statements(synth) if s["Resource"] == "*"]
    assert _props(synth, _id(synth, synth.extra["built"].function.xray_policy))["PolicyDocument"]["Statement"] == [
        {"Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Effect": "Allow", "Resource": "*"}
    ]


# ---- failure path -----------------------------------------------------------------------------


def test_failed_async_invocations_go_to_a_destination_and_a_dead_letter_queue(synth):
    ids = _ids(synth)
    function = _props(synth, ids["function"])
    assert function["DeadLetterConfig"] == {
        "TargetArn": {"Fn::GetAtt": [ids["dead_letter_queue"], "Arn"]}
    }
    (config,) = [
        c["Properties"]
        for c in synth.resources("AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": ids["function"]}
    ]
    assert config["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": [ids["failed_invocations"], "Arn"]}}
    }
    assert config["MaximumRetryAttempts"] == 2
    for queue in (ids["dead_letter_queue"], ids["failed_invocations"]):
        assert "KmsMasterKeyId" in _props(synth, queue)
    assert {
        "Action": "sqs:SendMessage",
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [ids["failed_invocations"], "Arn"]},
    } in _statements(synth)


def _alarms(synth):
    return {k: r["Properties"] for k, r in synth.resources("AWS::CloudWatch::Alarm").items()}


def test_failures_notify_the_encrypted_alert_topic(synth, configured):
    ids = _ids(synth)
    assert "KmsMasterKeyId" in _props(synth, ids["topic"])
    watched = {
        (a["Namespace"], a["MetricName"], json.dumps(a["Dimensions"][0]["Value"])): a
        for a in _alarms(synth).values()
    }
    for queue in (ids["dead_letter_queue"], ids["failed_invocations"]):
        metric = (
            "ApproximateNumberOfMessagesVisible"
            if queue == ids["dead_letter_queue"]
            else "ApproximateAgeOfOldestMessage"
        )
        alarm = watched[("AWS/SQS", metric, json.dumps({"Fn::GetAtt": [queue, "QueueName"]}))]
        assert alarm["AlarmActions"] == [{"Ref": ids["topic"]}]
    assert not synth.resources("AWS::SNS::Subscription")
    (subscription,) = configured.resources("AWS::SNS::Subscription").values()
    assert (subscription["Properties"]["Protocol"], subscription["Properties"]["Endpoint"]) == (
        "email",
        "ops@example.com",
    )


# ---- alarms and dashboard ---------------------------------------------------------------------


def test_errors_duration_and_throttles_alarm_to_the_topic(synth):
    ids = _ids(synth)
    function_alarms = {
        a["MetricName"]: a
        for a in _alarms(synth).values()
        if a.get("Dimensions") == [{"Name": "FunctionName", "Value": {"Ref": ids["function"]}}]
    }
    assert set(function_alarms) == {"Errors", "Duration", "Throttles"}
    for alarm in function_alarms.values():
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": ids["topic"]}]
    assert function_alarms["Errors"]["Threshold"] == 1
    assert function_alarms["Throttles"]["Threshold"] == 1
    assert function_alarms["Duration"]["ExtendedStatistic"] == "p99"
    assert function_alarms["Duration"]["Threshold"] == 8000  # 80 % of the 10-second timeout


def test_the_dashboard_shows_invocations_errors_duration_and_concurrency(synth):
    ids = _ids(synth)
    (dashboard,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    body = "".join(part if isinstance(part, str) else f"<{json.dumps(part)}>" for part in parts)
    function_ref = f"<{json.dumps({'Ref': ids['function']})}>"
    for metric in ("Invocations", "Errors", "Duration", "ConcurrentExecutions"):
        assert f'"AWS/Lambda","{metric}","FunctionName","{function_ref}"' in body, metric
    assert synth.template["Outputs"]["DashboardName"]["Value"] == {
        "Ref": _id(synth, synth.extra["built"].function.dashboard)
    }


# ---- tags and outputs -------------------------------------------------------------------------


def test_every_taggable_resource_carries_the_system_tag(synth):
    assert not missing_tags(synth.template, {"System": APP.SYSTEM}, "us-east-1")


def test_outputs_name_the_api_bucket_secret_arn_function_and_failure_queues(synth):
    outputs = synth.template["Outputs"]
    ids = _ids(synth)
    assert outputs["BucketName"]["Value"] == {"Ref": ids["bucket"]}
    assert outputs["SecretArn"]["Value"] == {"Ref": ids["secret"]}
    assert outputs["FunctionName"]["Value"] == {"Ref": ids["function"]}
    assert outputs["FailedInvocationsQueueUrl"]["Value"] == {"Ref": ids["failed_invocations"]}
    assert any(name.startswith("ApiUrl") for name in outputs)


# ---- snapshot, compliance, README -------------------------------------------------------------


def test_snapshot(synth, snapshot_json):
    assert synth.normalised() == snapshot_json


def test_compliance(synth):
    assert_compliant(synth)


def test_acknowledgements_are_the_libraries_known_ones(synth):
    acknowledged = set().union(*acknowledged_rules(synth).values())
    wildcards = {rule for rule in acknowledged if rule.startswith("AwsSolutions-IAM5")}
    api = _ids(synth)["api"]
    route_pattern = "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<{}>/$default/{}/api/data/*]"
    assert (
        wildcards
        == {
            "AwsSolutions-IAM5[Resource::*]",  # X-Ray has no resource-level permissions
            f"AwsSolutions-IAM5[Resource::<{_ids(synth)['bucket']}.Arn>/data/*]",  # objects under the prefix
            route_pattern.format(api, "GET"),  # callers' policies: keys are chosen by the callers
            route_pattern.format(api, "PUT"),
        }
    )
    known = {
        *(
            f"{pack}-{rule}"
            for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
            for rule in ("S3BucketReplicationEnabled", "LambdaInsideVPC", "LambdaConcurrency", "S3DefaultEncryptionKMS")
        ),
        "Serverless-SQSRedrivePolicy",
        "Serverless-LambdaAsyncFailureDestination",
        "AwsSolutions-APIG4",
        "CKV_AWS_18",
        "CKV_AWS_115",
        "CKV_AWS_117",
        # Reference system 001 keeps the asynchronous failure path; no -c alert_email=... given.
        "AsyncDestinationNeverInvoked",
        "AlarmTopicWithoutSubscription",
    }
    assert acknowledged - wildcards <= known, sorted(acknowledged - wildcards - known)
    # The data function's reservation is a deploy-time choice (ReservedConcurrency, default none),
    # acknowledged with that reason; it has an on-failure destination.
    function_path = "SecureDataApi/DataFunction/Resource/Resource"
    reasons = {f.rule: f.reason for f in synth.nag.acknowledged if f.path == function_path and "LambdaConcurrency" in f.rule}
    assert set(reasons) == {"HIPAA.Security-LambdaConcurrency", "NIST.800.53.R5-LambdaConcurrency"}
    assert set(reasons.values()) == {DEPLOY_TIME_RESERVED_CONCURRENCY_REASON}


def test_the_readme_maps_every_route_and_deviation():
    readme = (ROOT / "examples" / "secure_data_api" / "README.md").read_text()
    for text in (
        "GET /api/health",
        "PUT /api/data/{key}",
        "GET /api/data/{key}",
        "GET /api/data",
        "python3.8",
        "X-Ray",
        "reserved concurrency",
        "CORS",
        "dead-letter queue",
        "dashboard",
    ):
        assert text in readme, text
