"""secret_rotation: the generation rules, the version checks, and whole rotations on moto's Secrets Manager."""

from __future__ import annotations

import json
import random
import string
import time
import uuid
from dataclasses import dataclass

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.secretsmanager.models import secretsmanager_backends

from serverless_patterns.handlers import handler_entry
from serverless_patterns.handlers.secret_rotation import index
from serverless_patterns.handlers.secret_rotation.logic import (
    MAX_LENGTH,
    MIN_LENGTH,
    GenerationRules,
    Progress,
    RotationError,
    check_version,
    current_version,
    generate,
    parse_event,
    problems,
)

REGION = "us-east-1"
INITIAL = "A1" + "b" * 62  # what CloudFormation generated: 64 letters and digits


@dataclass
class LambdaContext:
    function_name: str = "rotation"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:rotation"
    aws_request_id: str = "1f0e0000-0000-4000-8000-000000000002"


# ---- generation rules -------------------------------------------------------------------------


@given(
    st.integers(min_value=MIN_LENGTH, max_value=200),
    st.booleans(),
    st.text(alphabet=string.ascii_letters + string.digits + string.punctuation, max_size=20),
)
def test_generated_values_follow_their_rules(length, exclude_punctuation, exclude):
    rules = GenerationRules(length, exclude_punctuation, exclude)
    if not rules.kinds():
        return
    value = generate(rules)
    assert problems(value, rules) == []
    assert len(value) == length and not set(value) & set(exclude)
    assert any(c in string.punctuation for c in value) is (
        not exclude_punctuation and bool(set(string.punctuation) - set(exclude))
    )


def test_values_differ_between_rotations():
    rules = GenerationRules()
    assert len({generate(rules) for _ in range(50)}) == 50


def test_generation_uses_the_random_source_it_is_given():
    rules = GenerationRules(length=32)
    assert generate(rules, rng=random.Random(7)) == generate(rules, rng=random.Random(7))


@pytest.mark.parametrize(
    ("value", "found"),
    [
        (
            "a" * 10,
            ["the value has 10 characters, not 64", "2 required kind(s) of character missing"],
        ),
        ("A1" + "b" * 61 + "!", ["1 character(s) outside the allowed alphabet"]),
        ("a" * 64, ["2 required kind(s) of character missing"]),
        (None, ["the value is not a string"]),
    ],
)
def test_problems_are_described_without_quoting_the_value(value, found):
    assert problems(value, GenerationRules()) == found


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_LENGTH must be a whole number from 20 to 4096, got ''"),
        ({"SECRET_LENGTH": "19"}, "SECRET_LENGTH must be a whole number from 20 to 4096, got '19'"),
        ({"SECRET_LENGTH": str(MAX_LENGTH + 1)}, "got '4097'"),
        (
            {"SECRET_LENGTH": "٣٢"},
            "SECRET_LENGTH must be a whole number",
        ),  # Unicode digits are not accepted
        ({"SECRET_LENGTH": "64"}, "SECRET_EXCLUDE_PUNCTUATION must be 'true' or 'false', got ''"),
        (
            {
                "SECRET_LENGTH": "64",
                "SECRET_EXCLUDE_PUNCTUATION": "true",
                "SECRET_EXCLUDE_CHARACTERS": string.ascii_letters + string.digits,
            },
            "leaves no character to generate from",
        ),
    ],
)
def test_rules_from_a_broken_environment_are_refused(env, message):
    with pytest.raises(RotationError) as raised:
        GenerationRules.from_env(env)
    assert message in str(raised.value)


def test_rules_from_the_environment():
    rules = GenerationRules.from_env(
        {
            "SECRET_LENGTH": "40",
            "SECRET_EXCLUDE_PUNCTUATION": "false",
            "SECRET_EXCLUDE_CHARACTERS": "\"'\\",
        }
    )
    assert rules == GenerationRules(40, False, "\"'\\")
    assert "'" not in rules.alphabet() and "!" in rules.alphabet()


# ---- events and version checks ----------------------------------------------------------------


def test_a_rotation_event_is_parsed():
    request = parse_event(
        {"Step": "createSecret", "SecretId": "arn:s", "ClientRequestToken": "t-1"}
    )
    assert (request.step, request.secret_id, request.token) == ("createSecret", "arn:s", "t-1")


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ([], "not a Secrets Manager rotation event"),
        (
            {"Step": "deleteSecret", "SecretId": "s", "ClientRequestToken": "t"},
            "Step must be one of createSecret, setSecret",
        ),
        (
            {"Step": "setSecret", "ClientRequestToken": "t"},
            "SecretId must be a non-empty string, got None",
        ),
        (
            {"Step": "setSecret", "SecretId": "s", "ClientRequestToken": " "},
            "ClientRequestToken must be a non-empty string",
        ),
    ],
)
def test_malformed_rotation_events_are_refused(event, message):
    with pytest.raises(RotationError) as raised:
        parse_event(event)
    assert message in str(raised.value)


def _description(stages, enabled=True):
    return {"Name": "key", "RotationEnabled": enabled, "VersionIdsToStages": stages}


def test_version_checks():
    assert (
        check_version(_description({"t": ["AWSPENDING"], "c": ["AWSCURRENT"]}), "t")
        is Progress.PENDING
    )
    assert check_version(_description({"t": ["AWSCURRENT", "AWSPENDING"]}), "t") is Progress.DONE
    for description, message in (
        (_description({"t": ["AWSPENDING"]}, enabled=False), "rotation is not enabled for key"),
        (_description({"c": ["AWSCURRENT"]}), "version t of key has no stage for rotation"),
        (_description({"t": ["AWSPREVIOUS"]}), "version t of key is not AWSPENDING"),
    ):
        with pytest.raises(RotationError, match=message):
            check_version(description, "t")
    assert current_version(_description({"t": ["AWSPENDING"], "c": ["AWSCURRENT"]})) == "c"
    with pytest.raises(RotationError, match="key has no AWSCURRENT version"):
        current_version(_description({"t": ["AWSPENDING"]}))


# ---- whole rotations on moto ------------------------------------------------------------------


@pytest.fixture
def secrets(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("SECRET_LENGTH", "64")
    monkeypatch.setenv("SECRET_EXCLUDE_PUNCTUATION", "true")
    with mock_aws():
        index.client.cache_clear()
        client = boto3.client("secretsmanager", region_name=REGION)
        arn = client.create_secret(Name="cursor-key", SecretString=INITIAL)["ARN"]
        yield client, arn
    index.client.cache_clear()


def _start_rotation(client, arn):
    """What RotateSecret does on AWS before it invokes the function: rotation on, and a new version
    without a value, labelled AWSPENDING. (moto's RotateSecret without a function to invoke makes
    the new version current at once, so its backend is set up directly.)"""
    secret = secretsmanager_backends[DEFAULT_ACCOUNT_ID][REGION].secrets[arn]
    token = str(uuid.uuid4())
    secret.rotation_requested = secret.rotation_enabled = True
    secret.auto_rotate_after_days = 30
    secret.remove_version_stages_from_old_versions(["AWSPENDING"])
    secret.versions[token] = {
        "createdate": int(time.time()),
        "version_id": token,
        "version_stages": ["AWSPENDING"],
    }
    return token


def _current(client, arn):
    # By its label, as readers ask for it (moto's answer without a label ignores moved labels).
    return client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")


def _step(step, arn, token):
    return index.handler(
        {"Step": step, "SecretId": arn, "ClientRequestToken": token}, LambdaContext()
    )


def _rotate(client, arn):
    token = _start_rotation(client, arn)
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        _step(step, arn, token)
    return token


def test_a_rotation_makes_a_fresh_value_current_and_keeps_the_old_one_previous(secrets):
    client, arn = secrets
    token = _rotate(client, arn)
    current = _current(client, arn)
    assert current["VersionId"] == token
    assert current["SecretString"] != INITIAL
    assert problems(current["SecretString"], GenerationRules()) == []
    assert (
        client.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")["SecretString"] == INITIAL
    )
    stages = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    assert not any("AWSPENDING" in s and "AWSCURRENT" not in s for s in stages.values())


def test_two_rotations_leave_the_first_value_unlabelled(secrets):
    client, arn = secrets
    _rotate(client, arn)
    second = _current(client, arn)["SecretString"]
    _rotate(client, arn)
    assert (
        client.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")["SecretString"] == second
    )
    assert _current(client, arn)["SecretString"] not in (INITIAL, second)


def test_every_step_is_idempotent(secrets):
    client, arn = secrets
    token = _start_rotation(client, arn)
    _step("createSecret", arn, token)
    pending = client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")[
        "SecretString"
    ]
    _step("createSecret", arn, token)  # Secrets Manager retries: the pending value is kept
    assert (
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")[
            "SecretString"
        ]
        == pending
    )
    for step in ("setSecret", "testSecret", "finishSecret", "finishSecret", "testSecret"):
        _step(step, arn, token)  # once current, every step is a no-op
    assert _current(client, arn)["SecretString"] == pending


def test_a_pending_value_that_breaks_the_rules_fails_the_test_step_and_is_not_made_current(secrets):
    client, arn = secrets
    token = _start_rotation(client, arn)
    client.put_secret_value(
        SecretId=arn, ClientRequestToken=token, SecretString="short", VersionStages=["AWSPENDING"]
    )
    with pytest.raises(RotationError) as raised:
        _step("testSecret", arn, token)
    assert "the value has 5 characters, not 64" in str(raised.value)
    assert "short" not in str(raised.value)
    assert _current(client, arn)["SecretString"] == INITIAL


def test_a_token_that_is_not_pending_is_refused(secrets):
    client, arn = secrets
    _start_rotation(client, arn)
    with pytest.raises(RotationError, match="has no stage for rotation"):
        _step("createSecret", arn, "00000000-0000-4000-8000-000000000000")


def test_a_secret_without_rotation_is_refused(secrets):
    client, arn = secrets
    current = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    (token,) = current
    with pytest.raises(RotationError, match="rotation is not enabled"):
        _step("createSecret", arn, token)


def test_values_are_never_logged(secrets, caplog):
    client, arn = secrets
    caplog.set_level("DEBUG", logger=index.logger.name)
    _rotate(client, arn)
    with pytest.raises(RotationError):
        index.handler({"Step": "bogus"}, LambdaContext())
    records = [r for r in caplog.records if r.name == index.logger.name]
    logged = json.dumps([index.logger.registered_formatter.format(r) for r in records])
    assert (
        "pending value generated" in logged
        and "rotation finished" in logged
        and "not a rotation event" in logged
    )
    for value in (INITIAL, _current(client, arn)["SecretString"]):
        assert value not in logged


def test_the_entry_point_is_the_asset_handler():
    assert handler_entry("secret_rotation") == "secret_rotation.index.handler"


# ---- steps out of order (issue 14) --------------------------------------------------------------


def test_finish_before_create_is_refused_and_the_current_value_stays_readable(secrets):
    client, arn = secrets
    token = _start_rotation(client, arn)
    with pytest.raises(RotationError, match="no value"):
        _step("finishSecret", arn, token)
    assert _current(client, arn)["SecretString"] == INITIAL


def test_a_value_refused_by_the_test_step_is_never_made_current_by_finish(secrets):
    client, arn = secrets
    token = _start_rotation(client, arn)
    client.put_secret_value(
        SecretId=arn, ClientRequestToken=token, SecretString="short", VersionStages=["AWSPENDING"]
    )
    with pytest.raises(RotationError):
        _step("testSecret", arn, token)
    with pytest.raises(RotationError, match="generation rules") as raised:
        _step("finishSecret", arn, token)
    assert "short" not in str(raised.value)
    assert _current(client, arn)["SecretString"] == INITIAL
