"""The rotation function against any sequence of rotation events, on moto's Secrets Manager.

Steps arrive in any order, repeated, for the pending token, the current one or an unknown one,
after someone stored a pending value that breaks the rules, or as events that are no rotation
event. Invariants: the function fails only with ``RotationError`` or an AWS error (never another
exception); the current value is always readable and follows the generation rules, so a value
refused by ``testSecret`` (or none at all) never becomes current; the current version changes only
through a ``finishSecret`` that returned; no error message quotes a secret value.
"""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError
from hostile_events import HANDLER_EVENTS, json_values
from hypothesis import given, settings
from hypothesis import strategies as st
from test_secret_rotation import LambdaContext, _current, _start_rotation, secrets  # noqa: F401 - the fixture

from serverless_patterns.handlers.secret_rotation import index
from serverless_patterns.handlers.secret_rotation.logic import (
    STEPS,
    GenerationRules,
    RotationError,
    generate,
    problems,
)

RULES = GenerationRules()  # the fixture's environment: 64 characters, no punctuation
steps = st.tuples(
    st.sampled_from([*STEPS, "createsecret", ""]) | json_values,
    st.sampled_from(["pending", "current", "unknown", "not-a-string"]),
)
tampering = st.sampled_from([None, "short", "x" * 64, "valid"])


@settings(parent=HANDLER_EVENTS, max_examples=3 * HANDLER_EVENTS.max_examples)  # cheap on moto
@given(tampering, st.lists(steps, min_size=1, max_size=8), st.lists(json_values, max_size=2))
def test_any_order_of_steps_never_makes_a_bad_value_current(secrets, tamper, sequence, junk_events):  # noqa: F811
    client, arn = secrets
    token = _start_rotation(client, arn)
    if tamper is not None:
        value = generate(RULES) if tamper == "valid" else tamper
        client.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=value, VersionStages=["AWSPENDING"])
    secret_values = {_current(client, arn)["SecretString"]}
    for event in junk_events:
        with pytest.raises(RotationError):
            index.handler(event, LambdaContext())
    for step, which in sequence:
        before = _current(client, arn)["VersionId"]
        chosen = {"pending": token, "current": before, "unknown": str(uuid.uuid4()), "not-a-string": 7}[which]
        finished = False
        try:
            index.handler({"Step": step, "SecretId": arn, "ClientRequestToken": chosen}, LambdaContext())
            finished = step == "finishSecret"
        except RotationError as error:
            assert not any(value in str(error) for value in secret_values | {tamper or "\0"} if len(value) > 4)
        except ClientError:
            pass
        current = _current(client, arn)
        secret_values.add(current["SecretString"])
        assert problems(current["SecretString"], RULES) == []
        if current["VersionId"] != before:
            assert finished and current["VersionId"] == token
