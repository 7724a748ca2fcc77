"""Construction-time validation shared by every construct.

Constructs collect every broken rule first and raise once, so a user sees all
problems with their props in a single ``ValueError``. Values that are still
CloudFormation tokens (parameters, imports) are never judged: they are only
known at deploy time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aws_cdk import Duration, Token


#: Markers CDK puts in the string form of every token (``${Token[...]}``, ``#{Token[...]}``).
_TOKEN_STRING_MARKER = "{Token["

#: CDK encodes number tokens as doubles of magnitude about 1.9e289; every integer below this
#: bound is a plain number.
_LARGEST_PLAIN_INT = 2**53


def is_token(value: Any) -> bool:
    """Return True when ``value`` is (or contains) an unresolved CDK token.

    Plain ``bool``, ``int`` and ``str`` values are judged here without asking the jsii kernel
    (a round trip to Node per call): a string token always contains ``{Token[``.
    """
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, int):
        if abs(value) < _LARGEST_PLAIN_INT:
            return False
    elif isinstance(value, str):
        if _TOKEN_STRING_MARKER not in value:
            return False
    elif isinstance(value, Duration):
        # A Duration never changes: ask the kernel once per object (defaults are shared ones).
        unresolved = getattr(value, "_serverless_patterns_unresolved", None)
        if unresolved is None:
            unresolved = value.is_unresolved()
            try:
                value._serverless_patterns_unresolved = unresolved
            except AttributeError:
                pass
        return unresolved
    return Token.is_unresolved(value)


def duration_seconds(value: Duration) -> float:
    """``value.to_seconds(integral=False)``, asked of the kernel once per ``Duration`` object.

    A ``Duration`` never changes, and the defaults are shared objects that several props and
    constructs read.
    """
    seconds = getattr(value, "_serverless_patterns_seconds", None)
    if seconds is None:
        seconds = value.to_seconds(integral=False)
        try:
            value._serverless_patterns_seconds = seconds
        except AttributeError:
            pass
    return seconds


class PropErrors:
    """Collects prop violations for one construct and raises them together.

    Examples
    --------
    >>> errors = PropErrors("SecureBucket")
    >>> errors.check(False, "versioned", False, "versioning protects against overwrites")
    >>> errors.raise_if_any()
    Traceback (most recent call last):
    ...
    ValueError: SecureBucket: invalid props:
      - versioned=False: versioning protects against overwrites
    """

    def __init__(self, construct_name: str) -> None:
        self.construct_name = construct_name
        self._messages: list[str] = []

    def add(self, prop: str, value: Any, reason: str) -> None:
        """Record that ``prop`` was given ``value``, which breaks ``reason``."""
        self._messages.append(f"{prop}={value!r}: {reason}")

    def check(self, ok: bool, prop: str, value: Any, reason: str) -> None:
        """Record a violation unless ``ok``."""
        if not ok:
            self.add(prop, value, reason)

    def check_range(
        self,
        prop: str,
        value: float | int | None,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        unit: str = "",
    ) -> None:
        """Check ``minimum <= value <= maximum``; ``None`` and tokens pass."""
        if value is None or is_token(value):
            return
        suffix = f" {unit}" if unit else ""
        if minimum is not None and value < minimum:
            self.add(prop, value, f"must be at least {minimum}{suffix}")
        elif maximum is not None and value > maximum:
            self.add(prop, value, f"must be at most {maximum}{suffix}")

    def check_one_of(self, prop: str, value: Any, allowed: Iterable[Any]) -> None:
        """Check that ``value`` is one of ``allowed`` (tokens pass)."""
        allowed = list(allowed)
        if value is None or is_token(value) or value in allowed:
            return
        self.add(prop, value, f"must be one of {', '.join(map(str, allowed))}")

    def raise_if_any(self) -> None:
        """Raise one ``ValueError`` listing every recorded violation."""
        if self._messages:
            lines = "\n".join(f"  - {message}" for message in self._messages)
            raise ValueError(f"{self.construct_name}: invalid props:\n{lines}")


def require_type(construct_name: str, prop: str, value: Any, expected: type | tuple[type, ...]) -> None:
    """Raise ``TypeError`` unless ``value`` is ``None`` or an instance of ``expected``.

    jsii would otherwise reject the value at synth time with a stack trace that
    does not name the prop.
    """
    if value is None or any(_is_instance(value, t) for t in (expected if isinstance(expected, tuple) else (expected,))):
        return
    names = (
        " or ".join(t.__name__ for t in expected) if isinstance(expected, tuple) else expected.__name__
    )
    raise TypeError(
        f"{construct_name}: {prop} must be {names}, got {type(value).__name__} ({value!r})"
    )


def _is_instance(value: Any, expected: type) -> bool:
    """``isinstance`` that also understands jsii interfaces (``IBucket``, ``IKey``, ...)."""
    if not getattr(expected, "_is_protocol", False):
        return isinstance(value, expected)
    if type(value).__name__ == "InterfaceDynamicProxy":  # an object made on the JavaScript side
        return hasattr(value, "__jsii_ref__")
    for cls in type(value).__mro__:
        for declared in getattr(cls, "__jsii_ifaces__", ()):
            if declared is expected or expected in getattr(declared, "__mro__", ()):
                return True
    return False


def duration_in_days(value: Duration | None) -> float | None:
    """Days in ``value``, or ``None`` for ``None`` and tokens."""
    if value is None or is_token(value):
        return None
    return value.to_seconds(integral=False) / 86400
