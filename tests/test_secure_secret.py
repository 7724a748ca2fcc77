"""SecureSecret: defaults, rotation, grants, options, snapshots, compliance and validation."""

from __future__ import annotations

import importlib
import json

import pytest
from aws_cdk import App, CfnParameter, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template
from harness import acknowledged_rules, assert_compliant, synthesize

from serverless_patterns.alert_topic import AlertTopic
from serverless_patterns.alerting_function import AlertingFunction
from serverless_patterns.handlers import handler_code, handler_entry
from serverless_patterns.secure_secret import SecureSecret

OPT_OUT_REASON = "Issued by a partner who rotates it; replaced by the on-call runbook."


def _reader(stack, id="Reader"):
    return AlertingFunction(
        stack, id, code=handler_code("example_echo"), handler=handler_entry("example_echo")
    )


def _default(stack):
    return SecureSecret(stack, "Signing")


def _maximal(stack):
    alerts = AlertTopic(stack, "Alerts")
    key = kms.Key(stack, "OwnKey", enable_key_rotation=True)
    secret = SecureSecret(
        stack,
        "Signing",
        description="Signs tokens",
        secret_name="prod/signing-key",
        encryption_key=key,
        length=100,
        exclude_punctuation=False,
        exclude_characters="\"'\\",
        rotation_schedule=Duration.days(7),
        alert_topic=alerts,
        removal_policy=RemovalPolicy.DESTROY,
        tags={"Owner": "platform"},
    )
    reader = _reader(stack)
    AlertingFunction(
        stack,
        "EnvReader",
        code=handler_code("example_echo"),
        handler=handler_entry("example_echo"),
        secrets={"SIGNING_KEY": secret.secret},
        alert_topic=alerts,
    )
    secret.grant_read(reader)
    return secret


def _alternatives(stack):
    custom = AlertingFunction(
        stack,
        "CustomRotation",
        code=handler_code("example_echo"),
        handler=handler_entry("example_echo"),
    )
    rotated = SecureSecret(stack, "PartnerPassword", rotation_function=custom)
    fixed = SecureSecret(stack, "PartnerToken", rotation_opt_out_reason=OPT_OUT_REASON)
    return rotated, fixed, custom


@pytest.fixture(scope="module")
def default():
    return synthesize(_default)


@pytest.fixture(scope="module")
def maximal():
    return synthesize(_maximal)


@pytest.fixture(scope="module")
def alternatives():
    return synthesize(_alternatives)


def _id(synth, construct):
    stack = Stack.of(construct)
    element = construct.node.default_child or construct
    return stack.resolve(stack.get_logical_id(element))


def _props(synth, logical_id):
    return synth.template["Resources"][logical_id]["Properties"]


def _statements(synth, role_construct):
    policy = _id(synth, role_construct.policy)
    return _props(synth, policy)["PolicyDocument"]["Statement"]


def _as_list(value):
    return value if isinstance(value, list) else [value]


# ---- the secret -------------------------------------------------------------------------------


def test_default_value_is_generated_by_secrets_manager_never_written(default):
    secret = default.only("AWS::SecretsManager::Secret")
    assert secret["GenerateSecretString"] == {
        "ExcludePunctuation": True,
        "IncludeSpace": False,
        "PasswordLength": 64,
        "RequireEachIncludedType": True,
    }
    assert "SecretString" not in secret and "Name" not in secret
    assert '"SecretString"' not in json.dumps(default.template)


def test_default_is_encrypted_with_a_rotating_customer_managed_key_and_retained(default):
    built = default.extra["built"]
    secret_id = _id(default, built.secret)
    props = _props(default, secret_id)
    key_id = props["KmsKeyId"]["Fn::GetAtt"][0]
    assert key_id == _id(default, built.encryption_key)
    assert _props(default, key_id)["EnableKeyRotation"] is True
    assert default.template["Resources"][secret_id]["DeletionPolicy"] == "RetainExceptOnCreate"
    assert default.template["Resources"][key_id]["DeletionPolicy"] == "RetainExceptOnCreate"


# ---- rotation ---------------------------------------------------------------------------------


def test_default_rotates_every_30_days_with_the_built_in_function(default):
    built = default.extra["built"]
    schedule = default.only("AWS::SecretsManager::RotationSchedule")
    function_id = _id(default, built.rotation_function.function)
    assert schedule == {
        "SecretId": {"Ref": _id(default, built.secret)},
        "RotationLambdaARN": {"Fn::GetAtt": [function_id, "Arn"]},
        "RotationRules": {"AutomaticallyAfterDays": 30},
    }
    function = _props(default, function_id)
    assert function["Handler"] == "secret_rotation.index.handler"
    assert function["Timeout"] == 30
    assert function["Environment"]["Variables"] == {
        "SECRET_LENGTH": "64",
        "SECRET_EXCLUDE_PUNCTUATION": "true",
        "POWERTOOLS_SERVICE_NAME": "RotationFunction",
    }


def test_only_secrets_manager_of_this_account_may_invoke_the_rotation_function(default):
    built = default.extra["built"]
    permission = default.only("AWS::Lambda::Permission")
    assert permission == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Fn::GetAtt": [_id(default, built.rotation_function.function), "Arn"]},
        "Principal": "secretsmanager.amazonaws.com",
        "SourceAccount": {"Ref": "AWS::AccountId"},
    }


def test_the_schedule_waits_for_the_permission_and_the_role_policy(default):
    # Secrets Manager invokes the function as soon as the schedule exists.
    built = default.extra["built"]
    (schedule,) = default.resources("AWS::SecretsManager::RotationSchedule").values()
    permission = _id(default, built.node.find_child("RotationPermission"))
    assert {permission, _id(default, built.rotation_function.role.policy)} <= set(
        schedule["DependsOn"]
    )


def test_the_rotation_function_may_rotate_this_secret_and_nothing_else(default):
    built = default.extra["built"]
    secret_id = _id(default, built.secret)
    key_id = _id(default, built.encryption_key)
    statements = _statements(default, built.rotation_function.role)
    rotation = [
        s for s in statements if any(a.startswith("secretsmanager:") for a in _as_list(s["Action"]))
    ]
    assert rotation == [
        {
            "Action": [
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecretVersionStage",
            ],
            "Effect": "Allow",
            "Resource": {"Ref": secret_id},
        }
    ]
    (key_use,) = [s for s in statements if s["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}]
    assert key_use["Action"] == ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]
    assert key_use["Condition"] == {
        "StringEquals": {"kms:EncryptionContext:SecretARN": {"Ref": secret_id}}
    }
    assert "secretsmanager:GetRandomPassword" not in json.dumps(
        default.template
    )  # values are generated in the function


def test_a_custom_rotation_function_gets_the_same_permissions_and_no_built_in_one_is_made(
    alternatives,
):
    rotated, _, custom = alternatives.extra["built"]
    assert rotated.rotation_function is custom
    assert rotated.node.try_find_child("RotationFunction") is None
    (schedule,) = [
        s["Properties"]
        for s in alternatives.resources("AWS::SecretsManager::RotationSchedule").values()
    ]
    assert schedule["RotationLambdaARN"] == {
        "Fn::GetAtt": [_id(alternatives, custom.function), "Arn"]
    }
    actions = {a for s in _statements(alternatives, custom.role) for a in _as_list(s["Action"])}
    assert {
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
        "kms:GenerateDataKey",
    } <= actions


def test_opting_out_of_rotation_records_the_reason(alternatives):
    _, fixed, _ = alternatives.extra["built"]
    assert fixed.rotation_function is None and fixed.rotation_schedule is None
    acknowledged = acknowledged_rules(alternatives)[fixed.secret.node.default_child.node.path]
    assert acknowledged == {
        "AwsSolutions-SMG4",
        "HIPAA.Security-SecretsManagerRotationEnabled",
        "NIST.800.53.R5-SecretsManagerRotationEnabled",
    }
    reasons = {
        f.reason
        for f in alternatives.nag.acknowledged
        if f.path == fixed.secret.node.default_child.node.path
    }
    assert reasons == {OPT_OUT_REASON}


# ---- grants -----------------------------------------------------------------------------------


def test_readers_get_exact_actions_on_this_secret_and_its_key(maximal):
    built = maximal.extra["built"]
    stack = Stack.of(built)
    secret_id = _id(maximal, built.secret)
    key_arn = stack.resolve(built.encryption_key.key_arn)
    for reader in ("Reader", "EnvReader"):
        function = stack.node.find_child(reader)
        statements = _statements(maximal, function.role)
        assert {
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Effect": "Allow",
            "Resource": {"Ref": secret_id},
        } in statements
        assert {
            "Action": "kms:Decrypt",
            "Effect": "Allow",
            "Resource": key_arn,
            "Condition": {"StringEquals": {"kms:EncryptionContext:SecretARN": {"Ref": secret_id}}},
        } in statements
    env = _props(maximal, _id(maximal, stack.node.find_child("EnvReader").function))["Environment"][
        "Variables"
    ]
    assert env["SIGNING_KEY_ARN"] == {"Ref": secret_id}  # the ARN, never the value


def test_grants_do_not_name_readers_in_the_key_policy(maximal, default):
    # Naming a reader in the key's policy would make the key depend on the role that depends on the key.
    built = maximal.extra["built"]
    key_policy = json.dumps(_props(maximal, _id(maximal, built.encryption_key))["KeyPolicy"])
    assert "Reader" not in key_policy
    assert not [f for f in maximal.cfn_lint.findings if "E3004" in f.rule]


def test_grant_write_names_exact_key_actions():
    app = App()
    stack = Stack(app, "Write")
    secret = SecureSecret(stack, "Signing", rotation_opt_out_reason=OPT_OUT_REASON)
    role = iam.Role(stack, "Writer", assumed_by=iam.AccountRootPrincipal())
    secret.secret.grant_write(role)
    statements = stack.resolve(role.node.find_child("DefaultPolicy").document.to_json())[
        "Statement"
    ]
    assert [s["Action"] for s in statements] == [
        ["secretsmanager:PutSecretValue", "secretsmanager:UpdateSecret"],
        ["kms:Decrypt", "kms:GenerateDataKey"],
    ]


# ---- options ----------------------------------------------------------------------------------


def test_maximal_options_reach_the_template(maximal):
    built = maximal.extra["built"]
    secret_id = _id(maximal, built.secret)
    props = _props(maximal, secret_id)
    assert props["Name"] == "prod/signing-key"
    assert props["Description"] == "Signs tokens"
    assert props["GenerateSecretString"] == {
        "ExcludeCharacters": "\"'\\",
        "ExcludePunctuation": False,
        "IncludeSpace": False,
        "PasswordLength": 100,
        "RequireEachIncludedType": True,
    }
    assert props["KmsKeyId"] == {
        "Fn::GetAtt": [_id(maximal, Stack.of(built).node.find_child("OwnKey")), "Arn"]
    }
    assert built.node.try_find_child("Key") is None
    assert maximal.template["Resources"][secret_id]["DeletionPolicy"] == "Delete"
    assert {"Key": "Owner", "Value": "platform"} in props["Tags"]
    schedule = maximal.only("AWS::SecretsManager::RotationSchedule")
    assert schedule["RotationRules"] == {"AutomaticallyAfterDays": 7}
    function = _props(maximal, _id(maximal, built.rotation_function.function))
    assert function["Environment"]["Variables"]["SECRET_EXCLUDE_CHARACTERS"] == "\"'\\"
    assert function["Environment"]["Variables"]["SECRET_EXCLUDE_PUNCTUATION"] == "false"
    # The rotation function's alarms go to the given topic: no topic of its own.
    assert built.rotation_function.node.try_find_child("AlertTopic") is None


def test_parameters_are_not_judged_and_reach_the_rotation_function():
    stack = Stack(App(), "Param")
    days = CfnParameter(stack, "RotationDays", type="Number")
    length = CfnParameter(stack, "SecretLength", type="Number")
    secret = SecureSecret(
        stack,
        "Signing",
        rotation_schedule=Duration.days(days.value_as_number),
        length=length.value_as_number,
    )
    rules = stack.resolve(secret.rotation_schedule.rotation_rules)
    assert rules == {"automaticallyAfterDays": {"Ref": "RotationDays"}}
    generator = stack.resolve(secret.secret.node.default_child.generate_secret_string)
    assert generator["passwordLength"] == {"Ref": "SecretLength"}
    function = Template.from_stack(stack).to_json()["Resources"][
        _id(None, secret.rotation_function.function)
    ]
    assert function["Properties"]["Environment"]["Variables"]["SECRET_LENGTH"] == {
        "Ref": "SecretLength"
    }


# ---- snapshots and compliance -----------------------------------------------------------------


def test_default_snapshot(default, snapshot_json):
    assert default.normalised() == snapshot_json


def test_maximal_snapshot(maximal, snapshot_json):
    assert maximal.normalised() == snapshot_json


@pytest.mark.parametrize("configuration", ["default", "maximal", "alternatives"])
def test_compliance(configuration, request):
    assert_compliant(request.getfixturevalue(configuration))


def test_default_acknowledgements_are_only_those_of_the_rotation_function(default):
    acknowledged = acknowledged_rules(default)
    assert acknowledged and all("RotationFunction" in path for path in acknowledged), sorted(
        acknowledged
    )


def test_snippet_synthesizes_clean():
    module = importlib.import_module("examples.snippets.secure_secret_usage")
    synth = synthesize(module.build)
    assert_compliant(synth)
    assert len(synth.resources("AWS::SecretsManager::Secret")) == 2
    assert len(synth.resources("AWS::SecretsManager::RotationSchedule")) == 1


# ---- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"length": 19}, "length=19: must be at least 20 characters"),
        ({"length": 5000}, "length=5000: must be at most 4096 characters"),
        (
            {
                "exclude_characters": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
            },
            "leaves no character to generate from",
        ),
        ({"secret_name": "bad name!"}, "secret_name='bad name!': must be 1-512 letters"),
        ({"secret_name": "prod/key-abcdef"}, "must not end with a hyphen and six characters"),
        (
            {"rotation_schedule": Duration.hours(36)},
            "rotation_schedule='1.5 days': must be a whole number of days from 1 to 1000",
        ),
        ({"rotation_schedule": Duration.days(1001)}, "rotation_schedule='1001 days'"),
        ({"rotation_opt_out_reason": "  "}, "say why the value is never rotated"),
        (
            {"rotation_opt_out_reason": "fixed", "rotation_schedule": Duration.days(7)},
            "rotation_schedule='7 days': cannot be combined with rotation_opt_out_reason",
        ),
        (
            {"description": "d" * 2049},
            "description='" + "d" * 2049 + "': must be at most 2048 characters",
        ),
        (
            {"removal_policy": RemovalPolicy.SNAPSHOT},
            "removal_policy=<RemovalPolicy.SNAPSHOT: 'SNAPSHOT'>: must be RETAIN, DESTROY",
        ),
    ],
)
def test_invalid_props_raise_value_error_naming_prop_and_value(props, message):
    stack = Stack(App(), "Invalid")
    with pytest.raises(ValueError) as raised:
        SecureSecret(stack, "Secret", **props)
    assert str(raised.value).startswith("SecureSecret: invalid props:")
    assert message in str(raised.value)


def test_every_broken_rule_is_reported_at_once():
    stack = Stack(App(), "Invalid")
    with pytest.raises(ValueError) as raised:
        SecureSecret(
            stack, "Secret", length=1, secret_name="a b", rotation_schedule=Duration.days(0)
        )
    assert str(raised.value).count("\n  - ") == 3


def test_alert_topic_with_a_custom_rotation_function_is_refused():
    stack = Stack(App(), "Invalid")
    custom = _reader(stack, "Custom")
    with pytest.raises(
        ValueError,
        match="alert_topic='Invalid/Alerts': notifies the alarms of the built-in rotation function",
    ):
        SecureSecret(
            stack, "Secret", rotation_function=custom, alert_topic=AlertTopic(stack, "Alerts")
        )


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"length": "64"}, "SecureSecret: length must be int, got str ('64')"),
        ({"length": True}, "SecureSecret: length must be int, got bool (True)"),
        (
            {"encryption_key": "alias/mine"},
            "SecureSecret: encryption_key must be IKey, got str ('alias/mine')",
        ),
        (
            {"rotation_schedule": 30},
            "SecureSecret: rotation_schedule must be Duration, got int (30)",
        ),
        (
            {"rotation_function": "arn:aws:lambda:us-east-1:1:function:f"},
            "SecureSecret: rotation_function must be AlertingFunction",
        ),
        (
            {"exclude_punctuation": "yes"},
            "SecureSecret: exclude_punctuation must be bool, got str ('yes')",
        ),
    ],
)
def test_wrong_types_raise_type_error(props, message):
    stack = Stack(App(), "Invalid")
    with pytest.raises(TypeError) as raised:
        SecureSecret(stack, "Secret", **props)
    assert message in str(raised.value)
