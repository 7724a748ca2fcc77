"""Pure logic of the rotation function: the event, the version checks, and the generated value.

No AWS calls here. Secrets Manager calls a rotation function four times per rotation, with the
steps ``createSecret``, ``setSecret``, ``testSecret`` and ``finishSecret``, each carrying the
secret's ARN and the token (version id) of the version being created.
"""

from __future__ import annotations

import enum
import re
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"

#: The punctuation CloudFormation's ``GenerateSecretString`` draws from (ASCII 33-126, not alphanumeric).
PUNCTUATION = string.punctuation
#: Lengths the construct accepts for a generated value (Secrets Manager generates at most 4096).
MIN_LENGTH = 20
MAX_LENGTH = 4096


class RotationError(ValueError):
    """The rotation cannot go on; raised so that Secrets Manager records the step as failed."""


@dataclass(frozen=True)
class RotationRequest:
    """One invocation by Secrets Manager."""

    step: str
    secret_id: str
    token: str


def parse_event(event: Any) -> RotationRequest:
    """The step, secret and token of a rotation event.

    Raises
    ------
    RotationError
        When the event is not a Secrets Manager rotation event; the message names the field.
    """
    if not isinstance(event, Mapping):
        raise RotationError("the event is not a Secrets Manager rotation event (a JSON object)")
    step = event.get("Step")
    if step not in STEPS:
        raise RotationError(f"Step must be one of {', '.join(STEPS)}, got {_show(step)}")
    fields = {}
    for name in ("SecretId", "ClientRequestToken"):
        value = event.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > 2048:
            raise RotationError(f"{name} must be a non-empty string, got {_show(value)}")
        fields[name] = value
    return RotationRequest(
        step=step, secret_id=fields["SecretId"], token=fields["ClientRequestToken"]
    )


class Progress(enum.Enum):
    """Where the version of a rotation stands."""

    PENDING = "pending"  # the version is being rotated in: run the step
    DONE = "done"  # the version is current already: a repeated invocation, nothing to do


def check_version(description: Mapping[str, Any], token: str) -> Progress:
    """Judge ``DescribeSecret``'s answer for the version ``token`` (the checks AWS's templates make).

    Raises
    ------
    RotationError
        When rotation is not enabled, the version is unknown, or it is neither pending nor current.
    """
    name = description.get("Name") or description.get("ARN") or "the secret"
    if not description.get("RotationEnabled"):
        raise RotationError(f"rotation is not enabled for {name}")
    stages = (description.get("VersionIdsToStages") or {}).get(token)
    if stages is None:
        raise RotationError(f"version {token} of {name} has no stage for rotation")
    if CURRENT in stages:
        return Progress.DONE
    if PENDING not in stages:
        raise RotationError(f"version {token} of {name} is not {PENDING}")
    return Progress.PENDING


def current_version(description: Mapping[str, Any]) -> str:
    """The id of the version labelled ``AWSCURRENT``.

    Raises
    ------
    RotationError
        When no version is current (the secret has no value yet).
    """
    for version, stages in (description.get("VersionIdsToStages") or {}).items():
        if CURRENT in stages:
            return version
    raise RotationError(f"{description.get('Name') or 'the secret'} has no {CURRENT} version")


@dataclass(frozen=True)
class GenerationRules:
    """How a value is generated: the settings of the secret's ``GenerateSecretString``.

    Letters, digits and (unless excluded) punctuation, minus ``exclude_characters``, with at least
    one character of each included kind, as CloudFormation generates the first value.
    """

    length: int = 64
    exclude_punctuation: bool = True
    exclude_characters: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GenerationRules:
        """Read ``SECRET_LENGTH``, ``SECRET_EXCLUDE_PUNCTUATION`` and ``SECRET_EXCLUDE_CHARACTERS``.

        Raises
        ------
        RotationError
            When a setting is missing or out of range: a deployment error.
        """
        raw_length = env.get("SECRET_LENGTH", "")
        if (
            not re.fullmatch(r"[0-9]{1,5}", raw_length)
            or not MIN_LENGTH <= int(raw_length) <= MAX_LENGTH
        ):
            raise RotationError(
                f"SECRET_LENGTH must be a whole number from {MIN_LENGTH} to {MAX_LENGTH}, got {raw_length!r}"
            )
        flag = env.get("SECRET_EXCLUDE_PUNCTUATION", "")
        if flag not in ("true", "false"):
            raise RotationError(
                f"SECRET_EXCLUDE_PUNCTUATION must be 'true' or 'false', got {flag!r}"
            )
        rules = cls(int(raw_length), flag == "true", env.get("SECRET_EXCLUDE_CHARACTERS", ""))
        if not rules.kinds():
            raise RotationError("SECRET_EXCLUDE_CHARACTERS leaves no character to generate from")
        return rules

    def kinds(self) -> list[str]:
        """The kinds of character a value must include, each minus the excluded characters."""
        kinds = [string.ascii_lowercase, string.ascii_uppercase, string.digits]
        if not self.exclude_punctuation:
            kinds.append(PUNCTUATION)
        kept = ["".join(c for c in kind if c not in self.exclude_characters) for kind in kinds]
        return [kind for kind in kept if kind]

    def alphabet(self) -> str:
        return "".join(self.kinds())


def generate(rules: GenerationRules, *, rng: secrets.SystemRandom | None = None) -> str:
    """A fresh value following ``rules``, from the operating system's random source."""
    rng = rng or secrets.SystemRandom()
    kinds = rules.kinds()
    alphabet = "".join(kinds)
    chars = [rng.choice(kind) for kind in kinds]  # at least one of each kind
    chars += [rng.choice(alphabet) for _ in range(rules.length - len(chars))]
    rng.shuffle(chars)
    return "".join(chars)


def problems(value: object, rules: GenerationRules) -> list[str]:
    """Why ``value`` does not follow ``rules`` (empty when it does). Never quotes the value."""
    if not isinstance(value, str):
        return ["the value is not a string"]
    found = []
    if len(value) != rules.length:
        found.append(f"the value has {len(value)} characters, not {rules.length}")
    alphabet = set(rules.alphabet())
    outside = sum(1 for c in value if c not in alphabet)
    if outside:
        found.append(f"{outside} character(s) outside the allowed alphabet")
    missing = sum(1 for kind in rules.kinds() if not set(kind) & set(value))
    if missing:
        found.append(f"{missing} required kind(s) of character missing")
    return found


def _show(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
