"""SecureBucket: defaults, options, snapshots, compliance and validation."""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, CfnParameter, Duration, RemovalPolicy, Stack, aws_iam as iam, aws_kms as kms, aws_s3 as s3
from aws_cdk.assertions import Match

from harness import acknowledged_rules, assert_compliant, synthesize
from serverless_patterns import SecureBucket
from serverless_patterns._defaults import SERVER_ACCESS_LOGS_SSE_S3_REASON
from serverless_patterns._roles import ManagedPolicyRole
from serverless_patterns.compliance import acknowledge_all, in_every_pack


def _default(stack):
    return SecureBucket(stack, "Docs")


def _maximal(stack):
    key = kms.Key(stack, "OwnKey", enable_key_rotation=True)
    bucket = SecureBucket(
        stack,
        "Archive",
        encryption_key=key,
        object_lock_enabled=True,
        object_lock_default_retention=s3.ObjectLockRetention.governance(Duration.days(30)),
        server_access_logs_prefix="archive/",
        log_retention=Duration.days(400),
        noncurrent_version_expiration=Duration.days(30),
        abort_incomplete_multipart_upload_after=Duration.days(2),
        transitions=[s3.Transition(storage_class=s3.StorageClass.INFREQUENT_ACCESS, transition_after=Duration.days(60))],
        event_bridge_enabled=True,
        cors=[s3.CorsRule(allowed_methods=[s3.HttpMethods.PUT], allowed_origins=["https://app.example.com"])],
        minimum_tls_version=1.3,
        tags={"Owner": "docs-team"},
    )
    reader = ManagedPolicyRole(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    bucket.grant_read(reader, "incoming/*")
    bucket.grant_write(reader, "processed/*")
    return bucket


@pytest.fixture(scope="module")
def default():
    return synthesize(_default)


@pytest.fixture(scope="module")
def maximal():
    return synthesize(_maximal)


def _data_bucket(synth):
    buckets = synth.resources("AWS::S3::Bucket")
    (logical_id,) = [i for i, r in buckets.items() if "LoggingConfiguration" in r["Properties"]]
    return logical_id, buckets[logical_id]


# ---- defaults ---------------------------------------------------------------------------------


def test_default_encrypts_with_a_rotating_customer_managed_key_and_bucket_key(default):
    _, bucket = _data_bucket(default)
    (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["BucketKeyEnabled"] is True
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert "KMSMasterKeyID" in rule["ServerSideEncryptionByDefault"]
    default.assertions.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_default_blocks_public_access_and_disables_acls(default):
    for bucket in default.resources("AWS::S3::Bucket").values():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def test_default_denies_plain_http_and_tls_below_1_2_on_both_buckets(default):
    policies = default.resources("AWS::S3::BucketPolicy")
    assert len(policies) == 2
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        conditions = [s["Condition"] for s in statements if s["Effect"] == "Deny"]
        assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
        assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions


def test_default_versions_and_retains_both_buckets(default):
    for bucket in default.resources("AWS::S3::Bucket").values():
        assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
        assert bucket["DeletionPolicy"] == "RetainExceptOnCreate"
        assert bucket["UpdateReplacePolicy"] == "Retain"


def test_default_lifecycle_aborts_uploads_and_expires_old_versions(default):
    _, bucket = _data_bucket(default)
    (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    assert rule["Status"] == "Enabled"


def test_default_logs_to_a_hardened_log_bucket_it_creates(default):
    logical_id, bucket = _data_bucket(default)
    logging = bucket["Properties"]["LoggingConfiguration"]
    assert logging["LogFilePrefix"] == "access-logs/"
    (log_id,) = [i for i in default.resources("AWS::S3::Bucket") if i != logical_id]
    assert logging["DestinationBucketName"] == {"Ref": log_id}
    log_rules = default.template["Resources"][log_id]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert log_rules[0]["ExpirationInDays"] == 365


def test_log_delivery_is_granted_by_bucket_policy_scoped_to_the_source_bucket(default):
    logical_id, _ = _data_bucket(default)
    default.assertions.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Principal": {"Service": "logging.s3.amazonaws.com"},
                                "Action": "s3:PutObject",
                                "Condition": {
                                    "ArnLike": {"aws:SourceArn": {"Fn::GetAtt": [logical_id, "Arn"]}},
                                    "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                                },
                            }
                        )
                    ]
                )
            }
        },
    )


def test_default_tags_resources_with_the_construct_name(default):
    for bucket in default.resources("AWS::S3::Bucket").values():
        assert {"Key": "serverless-patterns:construct", "Value": "SecureBucket"} in bucket["Properties"]["Tags"]


def test_default_has_no_physical_name_and_no_eventbridge(default):
    _, bucket = _data_bucket(default)
    assert "BucketName" not in bucket["Properties"]
    assert "NotificationConfiguration" not in bucket["Properties"]


# ---- options ----------------------------------------------------------------------------------


def test_maximal_uses_the_given_key_and_object_lock(maximal):
    _, bucket = _data_bucket(maximal)
    props = bucket["Properties"]
    assert props["ObjectLockEnabled"] is True
    assert props["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}},
    }
    key_ref = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    own_key_id = [i for i in maximal.resources("AWS::KMS::Key") if i.startswith("OwnKey")][0]
    assert key_ref["KMSMasterKeyID"] == {"Fn::GetAtt": [own_key_id, "Arn"]}


def test_maximal_lifecycle_transitions_and_custom_periods(maximal):
    _, bucket = _data_bucket(maximal)
    (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 2}
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert rule["Transitions"] == [{"StorageClass": "STANDARD_IA", "TransitionInDays": 60}]


def test_maximal_eventbridge_cors_prefix_tls13_and_user_tags(maximal):
    _, bucket = _data_bucket(maximal)
    props = bucket["Properties"]
    assert props["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    assert props["CorsConfiguration"]["CorsRules"][0]["AllowedOrigins"] == ["https://app.example.com"]
    assert props["LoggingConfiguration"]["LogFilePrefix"] == "archive/"
    assert {"Key": "Owner", "Value": "docs-team"} in props["Tags"]
    maximal.assertions.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {"PolicyDocument": {"Statement": Match.array_with([Match.object_like({"Condition": {"NumericLessThan": {"s3:TlsVersion": 1.3}}})])}},
    )


def test_grants_are_explicit_actions_on_prefixed_objects_and_include_the_key(maximal):
    assert not maximal.resources("AWS::IAM::Policy"), "grants must not create inline policies"
    (policy,) = maximal.resources("AWS::IAM::ManagedPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"s3:GetObject", "s3:PutObject", "s3:ListBucket", "kms:Decrypt", "kms:GenerateDataKey"} <= actions
    assert not [a for a in actions if "*" in a], "grants must not use wildcard actions"
    resources = str([s["Resource"] for s in statements])
    assert "/incoming/*" in resources and "/processed/*" in resources
    (list_statement,) = [s for s in statements if s["Action"] == "s3:ListBucket"]
    assert list_statement["Condition"] == {"StringLike": {"s3:prefix": ["incoming/*"]}}


@pytest.mark.parametrize("configuration", ["default", "maximal"])
def test_the_log_bucket_is_sse_s3_because_s3_delivers_access_logs_into_no_other(configuration, request):
    synth = request.getfixturevalue(configuration)
    logical_id, _ = _data_bucket(synth)
    (log_id, log_bucket) = [(i, r) for i, r in synth.resources("AWS::S3::Bucket").items() if i != logical_id][0]
    (sse,) = log_bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse == {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    assert "logging.s3.amazonaws.com" not in json.dumps(synth.resources("AWS::KMS::Key"))
    acknowledged = acknowledged_rules(synth)
    on_log_bucket = set().union(*(rules for path, rules in acknowledged.items() if "AccessLogs" in path))
    assert {f"{p}-S3DefaultEncryptionKMS" for p in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")} <= on_log_bucket
    reasons = {a.reason for a in synth.nag.acknowledged if "S3DefaultEncryptionKMS" in a.rule}
    assert reasons == {SERVER_ACCESS_LOGS_SSE_S3_REASON}
    # Only the log bucket: the data bucket keeps SSE-KMS and no acknowledgement.
    assert not any(
        "S3DefaultEncryptionKMS" in r
        for path, rules in acknowledged.items()
        if "AccessLogs" not in path
        for r in rules
    )


def test_a_kms_encrypted_log_bucket_of_yours_is_refused():
    app = App()
    stack = Stack(app, "S")
    sink = s3.Bucket(stack, "Sink", encryption=s3.BucketEncryption.KMS)
    with pytest.raises(ValueError, match=r"server_access_logs_bucket='S/Sink': is encrypted with aws:kms; S3 delivers"):
        SecureBucket(stack, "Data", server_access_logs_bucket=sink)
    with pytest.raises(ValueError, match="server_access_logs_bucket='S/Other/Resource'"):
        SecureBucket(stack, "Data2", server_access_logs_bucket=SecureBucket(stack, "Other").bucket)


def test_an_imported_key_leaves_the_log_bucket_on_sse_s3_with_an_acknowledgement():
    def build(stack):
        key = kms.Key.from_key_arn(stack, "Imported", "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666")
        return SecureBucket(stack, "Data", encryption_key=key)

    synth = synthesize(build)
    logical_id, _ = _data_bucket(synth)
    (log_bucket,) = [r for i, r in synth.resources("AWS::S3::Bucket").items() if i != logical_id]
    sse = log_bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert {a.rule for a in synth.nag.acknowledged} >= {"HIPAA.Security-S3DefaultEncryptionKMS"}
    assert_compliant(synth)


def test_sse_s3_only_when_asked_for():
    synth = synthesize(lambda stack: SecureBucket(stack, "Plain", encryption=s3.BucketEncryption.S3_MANAGED))
    _, bucket = _data_bucket(synth)
    sse = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert not synth.resources("AWS::KMS::Key")


def test_access_log_opt_out_records_the_reason_and_creates_no_log_bucket():
    reason = "Scratch bucket for load tests; CloudTrail data events cover access."
    synth = synthesize(lambda stack: SecureBucket(stack, "Scratch", access_logs_opt_out_reason=reason))
    (bucket,) = synth.resources("AWS::S3::Bucket").values()
    assert "LoggingConfiguration" not in bucket["Properties"]
    s1 = [a for a in synth.nag.acknowledged if a.rule == "AwsSolutions-S1"]
    assert s1 and s1[0].reason == reason
    assert not synth.nag.findings


def test_existing_log_bucket_is_used_and_no_second_one_is_created():
    def build(stack):
        # A sink of your own must be SSE-S3 too; the KMS rules are then yours to acknowledge.
        sink = SecureBucket(stack, "Sink", encryption=s3.BucketEncryption.S3_MANAGED)
        acknowledge_all(sink.bucket, in_every_pack("S3DefaultEncryptionKMS"), SERVER_ACCESS_LOGS_SSE_S3_REASON)
        SecureBucket(stack, "Data", server_access_logs_bucket=sink.bucket)
        return sink

    synth = synthesize(build)
    assert len(synth.resources("AWS::S3::Bucket")) == 3  # Sink, Sink's log bucket, Data
    assert not synth.nag.findings


def test_removal_policy_destroy_is_an_explicit_opt_in():
    synth = synthesize(lambda stack: SecureBucket(stack, "Tmp", removal_policy=RemovalPolicy.DESTROY))
    _, bucket = _data_bucket(synth)
    assert bucket["DeletionPolicy"] == "Delete"
    # A dev stack's bucket goes with its key and access-log bucket (CloudFormation still deletes a
    # bucket only when it is empty: docs/secure_bucket.md).
    stateful = [r for r in synth.template["Resources"].values() if r["Type"] in ("AWS::S3::Bucket", "AWS::KMS::Key")]
    assert len(stateful) == 3
    assert {(r["DeletionPolicy"], r["UpdateReplacePolicy"]) for r in stateful} == {("Delete", "Delete")}
    assert_compliant(synth)


# ---- snapshots --------------------------------------------------------------------------------


def test_default_snapshot(default, snapshot_json):
    assert default.normalised() == snapshot_json


def test_maximal_snapshot(maximal, snapshot_json):
    assert maximal.normalised() == snapshot_json


def test_logical_id_of_the_bucket_is_stable(default):
    # Changing it replaces the bucket in deployed stacks: a breaking change (see CHANGELOG policy).
    logical_id, _ = _data_bucket(default)
    assert logical_id.startswith("Docs") and "Resource" not in logical_id


# ---- compliance -------------------------------------------------------------------------------


@pytest.mark.parametrize("configuration", ["default", "maximal"])
def test_compliance(configuration, request):
    assert_compliant(request.getfixturevalue(configuration))


def test_acknowledgements_are_the_expected_narrow_ones(default):
    acks = acknowledged_rules(default)
    allowed = {
        "AwsSolutions-S1",
        "HIPAA.Security-S3BucketLoggingEnabled",
        "NIST.800.53.R5-S3BucketLoggingEnabled",
        "PCI.DSS.321-S3BucketLoggingEnabled",
        "HIPAA.Security-S3BucketReplicationEnabled",
        "NIST.800.53.R5-S3BucketReplicationEnabled",
        "PCI.DSS.321-S3BucketReplicationEnabled",
        "CKV_AWS_18",
        "CKV_AWS_144",
        # The log sink is SSE-S3: S3 delivers server access logs into no other (log bucket only).
        "HIPAA.Security-S3DefaultEncryptionKMS",
        "NIST.800.53.R5-S3DefaultEncryptionKMS",
        "PCI.DSS.321-S3DefaultEncryptionKMS",
    }
    assert set().union(*acks.values()) <= allowed
    log_sink_rules = set().union(*(r for p, r in acks.items() if "AccessLogs" in p))
    assert "CKV_AWS_18" in log_sink_rules, "the log sink's own logging acknowledgement is expected"
    data_bucket_rules = set().union(*(r for p, r in acks.items() if "AccessLogs" not in p))
    assert not data_bucket_rules & {"AwsSolutions-S1", "CKV_AWS_18"}, "the data bucket must really log"


# ---- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"encryption": s3.BucketEncryption.UNENCRYPTED}, "encryption=<BucketEncryption.UNENCRYPTED"),
        ({"encryption": s3.BucketEncryption.KMS_MANAGED}, "use KMS (default), or ask for S3_MANAGED or DSSE"),
        ({"versioned": False, "object_lock_enabled": True}, "object_lock_enabled=True: Object Lock requires versioned=True"),
        (
            {"object_lock_default_retention": s3.ObjectLockRetention.governance(Duration.days(1))},
            "a default retention requires object_lock_enabled=True",
        ),
        ({"enforce_ssl": False}, "enforce_ssl=False: requests without TLS"),
        ({"minimum_tls_version": 1.0}, "minimum_tls_version=1.0: TLS 1.0 and 1.1 are deprecated"),
        ({"block_public_access": s3.BlockPublicAccess.BLOCK_ACLS}, "block_public_access="),
        ({"object_ownership": s3.ObjectOwnership.OBJECT_WRITER}, "ACLs stay disabled"),
        ({"bucket_name": "Bad_Name"}, "bucket_name='Bad_Name': must be 3-63 lowercase"),
        ({"access_logs_opt_out_reason": "  "}, "say why access logs are not needed"),
        ({"noncurrent_version_expiration": Duration.hours(5)}, "noncurrent_version_expiration='0.20833333333333334 days'"),
        ({"server_access_logs_prefix": "/logs"}, "server_access_logs_prefix='/logs': must not start with '/'"),
        ({"tags": {"aws:owner": "x"}}, "tags key 'aws:owner'"),
    ],
)
def test_invalid_props_raise_value_error_naming_the_prop(props, message):
    from aws_cdk import App, Stack

    with pytest.raises(ValueError) as error:
        SecureBucket(Stack(App(), "V"), "Bad", **props)
    assert message in str(error.value)
    assert str(error.value).startswith("SecureBucket: ")


def test_several_violations_are_reported_together():
    from aws_cdk import App, Stack

    with pytest.raises(ValueError) as error:
        SecureBucket(Stack(App(), "V"), "Bad", enforce_ssl=False, minimum_tls_version=1.1)
    assert "enforce_ssl=False" in str(error.value) and "minimum_tls_version=1.1" in str(error.value)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"encryption": "aws:kms"}, "encryption must be BucketEncryption, got str"),
        ({"versioned": "yes"}, "versioned must be bool, got str"),
        ({"noncurrent_version_expiration": 30}, "noncurrent_version_expiration must be Duration, got int"),
        ({"encryption_key": "arn:aws:kms:..."}, "encryption_key must be IKey, got str"),
    ],
)
def test_wrong_types_raise_type_error_naming_the_prop(props, message):
    from aws_cdk import App, Stack

    with pytest.raises(TypeError, match=message):
        SecureBucket(Stack(App(), "V"), "Bad", **props)


def test_grant_key_prefix_is_validated():
    from aws_cdk import App, Stack

    stack = Stack(App(), "V")
    bucket = SecureBucket(stack, "B")
    role = iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    with pytest.raises(ValueError, match="objects_key_pattern='/abs\\*': must be a key pattern"):
        bucket.grant_read(role, "/abs*")
    with pytest.raises(TypeError, match="objects_key_pattern must be str"):
        bucket.grant_write(role, 42)
    with pytest.raises(ValueError, match="key_prefix='/abs': must not start with '/'"):
        bucket.grant_list(role, key_prefix="/abs")


def test_parameter_tokens_are_not_judged():
    def build(stack):
        name = CfnParameter(stack, "BucketName", type="String")
        days = CfnParameter(stack, "Days", type="Number", min_value=1)
        return SecureBucket(
            stack, "P", bucket_name=name.value_as_string, noncurrent_version_expiration=Duration.days(days.value_as_number)
        )

    synth = synthesize(build)
    _, bucket = _data_bucket(synth)
    assert bucket["Properties"]["BucketName"] == {"Ref": "BucketName"}
