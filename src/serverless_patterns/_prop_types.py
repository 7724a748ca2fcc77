"""Construction-time type checks of every prop, read from the constructor's own annotations.

A wrong-typed prop would otherwise slip through: ``None`` for a ``bool`` that defaults to True
(an unversioned bucket), ``0`` for a ``Duration`` swallowed by ``value or default``, a ``str``
where a list is expected (iterated character by character), or a value that only jsii rejects at
synth time with a trace that does not name the prop. Infinite and NaN numbers are refused too:
no AWS property takes them, and jsii cannot even pass them to its kernel (JSON has no such
numbers).

Constructs call :func:`check_prop_types` first, with their arguments as given; their own
validation follows with the value rules: ranges, whole numbers (``int`` and ``float`` both take
any finite number here, so that ``2.5`` is told "must be a whole number"), combinations, and the
"is required" message of a required prop given ``None``. ``tags`` are left to
:func:`~serverless_patterns.tagging.validate_tags`.
"""

from __future__ import annotations

import collections.abc
import functools
import inspect
import math
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from ._validation import PropTypeError, PropValueError, _is_instance, describe

#: Props every construct checks with a dedicated validator.
_CHECKED_ELSEWHERE = frozenset({"tags"})


class _Refused(Exception):
    def __init__(self, where: str, expected: str, value: Any) -> None:
        super().__init__(where)
        self.where, self.expected, self.value = where, expected, value


def check_prop_types(construct_name: str, constructor: Callable[..., Any], values: Mapping[str, Any]) -> None:
    """Raise ``TypeError`` naming the first prop in ``values`` (or its element) whose value its
    annotation refuses, or ``ValueError`` for an infinite or NaN number.

    ``values`` are the constructor's keyword arguments (``locals()`` at its start is fine: names
    without an annotation, such as ``self`` and ``scope``, are ignored).

    Examples
    --------
    >>> def build(*, versioned: bool = True, layers: list[str] = ()) -> None: ...
    >>> check_prop_types("SecureBucket", build, {"versioned": None})
    Traceback (most recent call last):
    ...
    serverless_patterns._validation.PropTypeError: SecureBucket: versioned must be bool, got NoneType (None)
    >>> check_prop_types("SecureBucket", build, {"layers": ["a", 1]})
    Traceback (most recent call last):
    ...
    serverless_patterns._validation.PropTypeError: SecureBucket: layers[] must be str, got int (1)
    """
    annotations, required = _annotations(constructor)
    for prop, value in values.items():
        annotation = annotations.get(prop)
        if annotation is None or prop in _CHECKED_ELSEWHERE or (value is None and prop in required):
            continue
        try:
            _check(annotation, value, prop)
        except _Refused as refused:
            raise PropTypeError(construct_name, refused.where, refused.expected, refused.value) from None
        if isinstance(value, float) and not math.isfinite(value):
            raise PropValueError(construct_name, [(prop, describe(value), "must be a finite number")])


def constructor_defaults(constructor: Callable[..., Any]) -> dict[str, Any]:
    """The default of every keyword prop of ``constructor`` that has one (for validating props
    of a nested construct before building it)."""
    return {
        name: parameter.default
        for name, parameter in inspect.signature(constructor).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and parameter.default is not inspect.Parameter.empty
    }


@functools.cache
def _annotations(constructor: Callable[..., Any]) -> tuple[dict[str, Any], frozenset[str]]:
    """The annotated props, and those without a default (required)."""
    hints = typing.get_type_hints(constructor)
    parameters = inspect.signature(constructor).parameters
    annotations = {name: hint for name, hint in hints.items() if name not in ("return", "scope", "id")}
    required = frozenset(name for name in annotations if parameters[name].default is inspect.Parameter.empty)
    return annotations, required


def _check(annotation: Any, value: Any, where: str) -> None:
    """Raise :class:`_Refused` for the value, or the first element of it, that does not fit."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        if _accepts(annotation, value):
            return
        containers = [o for o in typing.get_args(annotation) if _container_of(o, value)]
        if len(containers) == 1:  # say which element does not fit
            _check(containers[0], value, where)
        raise _Refused(where, _describe(annotation), value)
    if origin in (collections.abc.Mapping, dict) and isinstance(value, collections.abc.Mapping):
        key_type, item_type = typing.get_args(annotation)
        for key, item in value.items():
            if not _accepts(key_type, key):
                raise _Refused(f"{where} keys", _describe(key_type), key)
            _check(item_type, item, f"{where}[{key!r}]")
        return
    if origin in (collections.abc.Sequence, list, tuple) and isinstance(value, (list, tuple)):
        (item_type,) = typing.get_args(annotation)[:1]
        for item in value:
            _check(item_type, item, f"{where}[]")
        return
    if not _accepts(annotation, value):
        raise _Refused(where, _describe(annotation), value)


def _container_of(annotation: Any, value: Any) -> bool:
    """Whether ``annotation`` is a mapping or sequence type of the same kind as ``value``."""
    origin = typing.get_origin(annotation)
    if origin in (collections.abc.Mapping, dict):
        return isinstance(value, collections.abc.Mapping)
    return origin in (collections.abc.Sequence, list, tuple) and isinstance(value, (list, tuple))


def _accepts(annotation: Any, value: Any) -> bool:
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_accepts(option, value) for option in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation in (int, float):  # whole numbers are a value rule; parameters are float tokens
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if origin in (collections.abc.Mapping, dict, collections.abc.Sequence, list, tuple):
        if not _container_of(annotation, value):
            return False
        try:
            _check(annotation, value, "")
        except _Refused:
            return False
        return True
    if isinstance(annotation, type):
        # An import of the class's resource (its interfaces, e.g. IKey for Key) passes: the
        # construct's own rules say why it wants one of this app.
        interfaces = getattr(annotation, "__jsii_ifaces__", ())
        return _is_instance(value, annotation) or (
            bool(interfaces) and all(_is_instance(value, interface) for interface in interfaces)
        )
    raise NotImplementedError(f"no type check for the annotation {annotation!r}")


def _describe(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(option) for option in typing.get_args(annotation) if option is not type(None))
    if origin in (collections.abc.Mapping, dict):
        key, item = typing.get_args(annotation)
        return f"a mapping of {_describe(key)} to {_describe(item)}"
    if origin in (collections.abc.Sequence, list, tuple):
        return f"a sequence of {_describe(typing.get_args(annotation)[0])}"
    return getattr(annotation, "__name__", str(annotation))
