"""Lambda entry point of the rotation function (``secret_rotation.index.handler``).

Secrets Manager invokes it four times per rotation. ``createSecret`` stores a freshly generated
value as the pending version, ``setSecret`` has nothing to do (the value is used only by the
secret's readers, no other system holds a copy), ``testSecret`` checks the pending value follows
the generation rules, and ``finishSecret`` checks it once more and makes it current (a step invoked
out of order never makes a missing or refused value current); the old value stays readable as
``AWSPREVIOUS`` until the next rotation. Every step is idempotent: Secrets Manager retries.

Unlike an API handler, this function reports failure by raising: that is how Secrets Manager
learns that a step failed (the rotation then stops, and the secret keeps its current value).
Values are never logged.

Environment: ``SECRET_LENGTH``, ``SECRET_EXCLUDE_PUNCTUATION`` (``true``/``false``),
``SECRET_EXCLUDE_CHARACTERS`` (the settings of the secret's generated value).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config

from .logic import (
    GenerationRules,
    Progress,
    RotationError,
    check_version,
    current_version,
    generate,
    parse_event,
    problems,
)
from .store import SecretStore

logger: Logger = Logger()


@cache
def client() -> Any:
    """The Secrets Manager client, made once per execution environment."""
    return boto3.client("secretsmanager", config=Config(retries={"mode": "standard"}))


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> None:
    """Run one rotation step; raise :class:`RotationError` (or an AWS error) when it fails."""
    try:
        request = parse_event(event)
    except RotationError as error:
        logger.error("not a rotation event", extra={"reason": str(error)})
        raise
    logger.append_keys(step=request.step, secret_id=request.secret_id, version=request.token)
    rules = GenerationRules.from_env(os.environ)
    store = SecretStore(client(), request.secret_id)
    description = store.describe()
    if check_version(description, request.token) is Progress.DONE:
        logger.info("version is current already; nothing to do")
        return
    if request.step == "createSecret":
        store.current_value()  # the secret must have a current value to rotate from
        if store.pending_value(request.token) is None:
            store.put_pending(request.token, generate(rules))
            logger.info("pending value generated")
        else:
            logger.info("pending value exists already")
    elif request.step == "setSecret":
        logger.info("nothing to set: no other system holds the value")
    elif request.step == "testSecret":
        _check_pending(store, request.token, rules)
        logger.info("pending value follows the generation rules")
    else:  # finishSecret
        # Checked again: a step may be invoked out of order, or after testSecret failed; only a
        # value that passes the test ever becomes current.
        _check_pending(store, request.token, rules)
        previous = current_version(description)
        store.make_current(request.token, previous)
        logger.info("rotation finished", extra={"previous_version": previous})


def _check_pending(store: SecretStore, token: str, rules: GenerationRules) -> None:
    """Raise :class:`RotationError` unless version ``token`` has a value that follows ``rules``."""
    value = store.pending_value(token)
    if value is None:
        raise RotationError("the pending version has no value yet: createSecret has not run")
    found = problems(value, rules)
    if found:
        raise RotationError(
            "the pending value does not follow the generation rules: " + "; ".join(found)
        )
