"""Construction-time validation shared by every construct.

Constructs collect every broken rule first and raise once, so a user sees all
problems with their props in a single ``ValueError``. Values that are still
CloudFormation tokens (parameters, imports) are never judged: they are only
known at deploy time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from aws_cdk import Duration, Token
from jsii._reference_map import InterfaceDynamicProxy
from jsii.errors import JSIIError

from ._kernel import remembered

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
        # The one question duration_seconds asks (once per object): CDK converts a token amount
        # only within its own unit (and raises otherwise), returning it as a number token.
        try:
            return not abs(duration_seconds(value)) < _LARGEST_PLAIN_INT
        except (JSIIError, RuntimeError):  # jsii raises the kernel's errors as RuntimeError
            return True
    return Token.is_unresolved(value)


class InvalidProps(ValueError, TypeError):
    """Props of a composite construct that break its rules or those of a construct it builds.

    Both a ``ValueError`` and a ``TypeError``: it collects wrong values and wrong types together.
    ``violations`` holds ``(prop, value, reason)`` per problem, ``prop`` as the user passed it.
    """

    def __init__(self, construct_name: str, violations: list[tuple[str, str, str]]) -> None:
        self.construct_name, self.violations = construct_name, violations
        lines = "\n".join(f"  - {prop}={value}: {reason}" for prop, value, reason in violations)
        super().__init__(f"{construct_name}: invalid props:\n{lines}")


class PropTypeError(TypeError):
    """One prop of the wrong type; ``prop``, ``expected`` and ``value`` say which (see :func:`require_type`)."""

    def __init__(self, construct_name: str, prop: str, expected: str, value: Any) -> None:
        self.construct_name, self.prop, self.expected, self.value = construct_name, prop, expected, value
        super().__init__(f"{construct_name}: {prop} must be {expected}, got {type_name(value)} ({describe(value)})")


class PropValueError(ValueError):
    """Props that break a construct's rules; ``violations`` holds ``(prop, value, reason)`` for each."""

    def __init__(self, construct_name: str, violations: list[tuple[str, str, str]]) -> None:
        self.construct_name, self.violations = construct_name, violations
        lines = "\n".join(f"  - {prop}={value}: {reason}" for prop, value, reason in violations)
        super().__init__(f"{construct_name}: invalid props:\n{lines}")


def duration_seconds(value: Duration) -> float:
    """``value.to_seconds(integral=False)``, asked of the kernel once per ``Duration`` object.

    A ``Duration`` never changes, and the defaults are shared objects that several props and
    constructs read.
    """
    return remembered(value, "_serverless_patterns_seconds", lambda: value.to_seconds(integral=False))


class PropErrors:
    """Collects prop violations for one construct and raises them together.

    A composite construct checks the props it hands to the constructs it builds with
    :meth:`nested` before building anything: their problems are recorded here under the prop the
    user passed, so that one error lists everything.

    Examples
    --------
    >>> errors = PropErrors("SecureBucket")
    >>> errors.check(False, "versioned", False, "versioning protects against overwrites")
    >>> errors.raise_if_any()
    Traceback (most recent call last):
    ...
    serverless_patterns._validation.PropValueError: SecureBucket: invalid props:
      - versioned=False: versioning protects against overwrites
    """

    def __init__(self, construct_name: str) -> None:
        self.construct_name = construct_name
        self._violations: list[tuple[str, str, str]] = []
        self._type_errors = False

    @property
    def _messages(self) -> list[str]:
        return [f"{prop}={value}: {reason}" for prop, value, reason in self._violations]

    def add(self, prop: str, value: Any, reason: str) -> None:
        """Record that ``prop`` was given ``value``, which breaks ``reason``."""
        self._record(prop, describe(value), reason)

    def _record(self, prop: str, value: str, reason: str) -> None:
        if (prop, value, reason) not in self._violations:  # a nested check may repeat an outer one
            self._violations.append((prop, value, reason))

    def has(self, prop: str) -> bool:
        """Whether a violation of ``prop`` is recorded (to skip checks that build on it)."""
        return any(recorded == prop for recorded, _, _ in self._violations)

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

    @contextlib.contextmanager
    def nested(self, props: Mapping[str, str]) -> Iterator[None]:
        """Record the problems a nested construct's validation raises as problems of these props.

        ``props`` maps each prop of the nested construct to the prop of this construct the user
        passed it as (``{"throttle_rate_limit": "api_rate_limit"}``; same names map to themselves).
        The nested validation runs inside the block; its ``TypeError`` or ``ValueError`` is recorded
        here, named by this construct and the user's prop, and the block ends without raising.
        A prop missing from ``props`` was set by this construct itself and keeps the nested name.

        >>> errors = PropErrors("DocumentPipeline")
        >>> with errors.nested({"cors_origins": "cors_origins"}):
        ...     inner = PropErrors("ApiWithKeyedUsagePlan")
        ...     inner.add("cors_origins[]", "http://example.com", "must be https://")
        ...     inner.raise_if_any()
        >>> errors.raise_if_any()
        Traceback (most recent call last):
        ...
        serverless_patterns._validation.PropValueError: DocumentPipeline: invalid props:
          - cors_origins[]='http://example.com': must be https://
        """
        try:
            yield
        except PropTypeError as error:
            self._type_errors = True
            self._record(_outer_prop(error.prop, props, error.construct_name), describe(error.value), f"must be {error.expected}")
        except (PropValueError, InvalidProps) as error:
            self._type_errors = self._type_errors or isinstance(error, InvalidProps)
            for prop, value, reason in error.violations:
                self._record(_outer_prop(prop, props, error.construct_name), value, reason)

    def raise_if_any(self) -> None:
        """Raise one ``ValueError`` listing every recorded violation.

        When nested validations reported a wrong type too, the error is an :class:`InvalidProps`
        (both ``ValueError`` and ``TypeError``).
        """
        if self._violations:
            if self._type_errors:
                raise InvalidProps(self.construct_name, list(self._violations))
            raise PropValueError(self.construct_name, list(self._violations))


def _outer_prop(prop: str, props: Mapping[str, str], inner: str) -> str:
    """The user's prop for ``prop`` of the nested construct ``inner`` (elements keep their suffix)."""
    for name in sorted(props, key=len, reverse=True):
        if prop == name or prop.startswith((f"{name}[", f"{name}.", f"{name} ")):
            return props[name] + prop[len(name):]
    return f"{prop} (of the nested {inner})"


def describe(value: Any) -> str:
    """``value`` as error messages show it: ``repr`` for plain values, construct path and ARN for resources.

    An imported resource prints as ``<path> (<ARN>)`` (the ARN when it is known at synth time), a
    construct of this app as its path, a ``Duration`` as its human form; never as the
    ``<jsii._reference_map.InterfaceDynamicProxy object at ...>`` of its Python object.
    """
    if isinstance(value, Duration):
        return "Duration of " + (value.to_human_string() if not is_token(value) else "a token")
    if isinstance(value, (list, tuple)) and any(_is_jsii(item) for item in value):
        return "[" + ", ".join(describe(item) for item in value) + "]"
    if not _is_jsii(value):
        return repr(value)
    node = _try(lambda: value.node)
    path = _try(lambda: node.path) if node is not None else None
    arn = _known_arn(value)
    if path is not None:
        return f"{path} ({arn})" if arn else str(path)
    return arn or type_name(value)


#: Attributes that name an imported resource, most specific first.
_ARN_ATTRIBUTES = (
    "key_arn", "topic_arn", "bucket_arn", "function_arn", "queue_arn", "table_arn", "secret_arn",
    "certificate_arn", "role_arn", "state_machine_arn", "event_bus_arn", "vpc_id",
)


def _known_arn(value: Any) -> str | None:
    for attribute in _ARN_ATTRIBUTES:
        arn = _try(lambda attribute=attribute: getattr(value, attribute))
        if isinstance(arn, str):
            return None if _TOKEN_STRING_MARKER in arn else arn
    return None


def _try(get: Any) -> Any:
    try:
        return get()
    except (AttributeError, RuntimeError, TypeError, JSIIError):  # a member it lacks, or jsii cannot read
        return None


def _is_jsii(value: Any) -> bool:
    """Whether ``value`` is an object of the jsii kernel (not a struct, enum member or plain value)."""
    return type(value) is InterfaceDynamicProxy or "__jsii_ref__" in getattr(value, "__dict__", {})


def type_name(value: Any) -> str:
    """The type of ``value`` for messages: the interfaces of an object made in JavaScript (``IKey``)."""
    if type(value) is InterfaceDynamicProxy:
        ref = _try(lambda: value.__jsii_ref__)
        interfaces = getattr(ref, "interfaces", None) or []
        if interfaces:
            return "+".join(name.rsplit(".", 1)[-1] for name in interfaces)
    name = type(value).__name__
    if name.startswith("_") and name.endswith("Proxy"):  # jsii's concrete class of an abstract base
        name = name[1:-len("Proxy")]
    return name


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
    raise PropTypeError(construct_name, prop, names, value)


def _is_instance(value: Any, expected: type) -> bool:
    """``isinstance`` that also understands jsii interfaces (``IBucket``, ``IKey``, ...).

    jsii interfaces are ``typing.Protocol`` classes that are not runtime-checkable. An object
    implements one when its class (or a base) declares it or an interface extending it in
    ``__jsii_ifaces__`` (CDK's classes, and the library's constructs through ``@jsii.implements``),
    or when it is, or is made in JavaScript as (``InterfaceDynamicProxy``), jsii's proxy of it
    (``_IKeyProxy`` for an imported key).
    """
    if not getattr(expected, "_is_protocol", False):
        return isinstance(value, expected)
    return implements(value, expected)


def implements(value: Any, interface: type) -> bool:
    """Whether ``value`` implements the jsii interface ``interface`` (see :func:`_is_instance`)."""
    if type(value) is InterfaceDynamicProxy:
        delegates = object.__getattribute__(value, "_delegates")
    else:
        delegates = [value]
    return any(_declares(type(delegate), interface) for delegate in delegates)


def _declares(cls: type, interface: type) -> bool:
    proxy_of = getattr(interface, "__jsii_proxy_class__", None)
    if proxy_of is not None and issubclass(cls, proxy_of()):
        return True
    for klass in cls.__mro__:
        for declared in getattr(klass, "__jsii_ifaces__", None) or ():
            if declared is interface or interface in getattr(declared, "__mro__", ()):
                return True
    return False


def duration_in_days(value: Duration | None) -> float | None:
    """Days in ``value``, or ``None`` for ``None`` and tokens."""
    if value is None or is_token(value):
        return None
    return value.to_seconds(integral=False) / 86400
