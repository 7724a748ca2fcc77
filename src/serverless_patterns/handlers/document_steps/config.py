"""Settings of the step coordinator, read from the environment on every invocation.

``PIPELINE_STEPS`` is a JSON list of ``{"name", "function" or "state_machine", "statuses",
"failure_queue"}`` in the order the steps run; ``PIPELINE_VALIDATORS`` a JSON object of content
type -> ``{"name", "function", "failure_queue"}``. ``function`` is a Lambda function's ARN,
``state_machine`` the ARN of the step's runner state machine, ``failure_queue`` a queue URL.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Stage:
    """A processing step or a validator: what the coordinator starts and where failures go.

    ``function`` is invoked asynchronously; a step of a state machine has ``state_machine`` (its
    runner's ARN) instead and an empty ``function``.
    """

    name: str
    function: str
    failure_queue: str
    statuses: tuple[str, ...] = ()
    state_machine: str = ""


@dataclass(frozen=True)
class Config:
    bucket: str
    table: str
    steps: tuple[Stage, ...] = ()
    validators: Mapping[str, Stage] | None = None

    def stage(self, name: Any) -> tuple[Stage, int | None] | None:
        """The stage named ``name`` and its step index (None for a validator)."""
        for index, step in enumerate(self.steps):
            if step.name == name:
                return step, index
        for validator in (self.validators or {}).values():
            if validator.name == name:
                return validator, None
        return None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """Raises ValueError naming the variable that is unset or not valid JSON of that shape."""
        env = os.environ if env is None else env
        missing = [name for name in ("DOCUMENTS_BUCKET", "DOCUMENTS_TABLE") if not env.get(name)]
        if missing:
            raise ValueError(f"environment variable(s) not set: {', '.join(missing)}")
        try:
            steps = tuple(_stage(entry) for entry in json.loads(env.get("PIPELINE_STEPS") or "[]"))
        except (ValueError, TypeError, KeyError) as error:
            raise ValueError(f"environment variable PIPELINE_STEPS is not a list of steps: {error}") from None
        try:
            raw = json.loads(env.get("PIPELINE_VALIDATORS") or "{}")
            validators = {str(content_type).lower(): _stage(entry) for content_type, entry in raw.items()}
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise ValueError(f"environment variable PIPELINE_VALIDATORS is not a map of validators: {error}") from None
        return cls(bucket=env["DOCUMENTS_BUCKET"], table=env["DOCUMENTS_TABLE"], steps=steps, validators=validators)


def _stage(entry: Mapping[str, Any]) -> Stage:
    function, state_machine = str(entry.get("function") or ""), str(entry.get("state_machine") or "")
    if bool(function) == bool(state_machine):
        raise ValueError(f"stage {entry.get('name')!r} needs exactly one of function and state_machine")
    return Stage(
        name=str(entry["name"]),
        function=function,
        failure_queue=str(entry["failure_queue"]),
        statuses=tuple(str(s) for s in entry.get("statuses", ())),
        state_machine=state_machine,
    )
