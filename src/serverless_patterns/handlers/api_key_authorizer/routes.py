"""Permission levels, the route table (``ROUTE_PERMISSIONS``) and execute-api ARN patterns.

Pure functions only: nothing here talks to AWS.

``ROUTE_PERMISSIONS`` is a JSON list of objects with exactly three keys::

    [{"method": "GET", "path": "/documents/{id}", "level": "read-only"},
     {"method": "PUT", "path": "/documents/{id}", "level": "read-write"},
     {"method": "DELETE", "path": "/documents/{id}", "level": "admin"}]

``method`` is an HTTP method or ``ANY``; ``path`` is the API Gateway resource path, where a
``{param}`` or a final ``{proxy+}`` segment becomes ``*`` in the execute-api ARN; ``level`` is
the lowest permission level that may call the route.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

#: Permission levels, from least to most privileged. A level grants every route at or below it.
LEVELS: tuple[str, ...] = ("read-only", "read-write", "admin")
_RANK = {level: rank for rank, level in enumerate(LEVELS)}

#: Methods a route may name; ``ANY`` becomes ``*`` in the ARN, as API Gateway does.
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"})

_ROUTE_KEYS = frozenset({"method", "path", "level"})
# A literal segment: RFC 3986 path characters without "*" (an ARN wildcard).
_LITERAL = re.compile(r"[A-Za-z0-9._~!$&'()+,;=:@%-]+")
_PARAM = re.compile(r"\{[A-Za-z0-9._-]+\}")
_GREEDY = re.compile(r"\{[A-Za-z0-9._-]+\+\}")


class RouteConfigError(ValueError):
    """``ROUTE_PERMISSIONS`` is missing or malformed."""


def grants(held: str, required: str) -> bool:
    """Return True when a key of level ``held`` may call a route that requires ``required``."""
    return _RANK[held] >= _RANK[required]


@dataclass(frozen=True)
class Route:
    """One API method and the lowest level that may call it."""

    method: str
    path: str
    level: str

    @property
    def resource_pattern(self) -> str:
        """The route's part of an execute-api ARN, e.g. ``GET/documents/*``."""
        method = "*" if self.method == "ANY" else self.method
        if self.path == "/":
            return f"{method}/"
        segments = ("*" if segment.startswith("{") else segment for segment in self.path.split("/")[1:])
        return method + "/" + "/".join(segments)


def _path_problem(path: str) -> str | None:
    if path == "/":
        return None
    if not path.startswith("/"):
        return "must start with '/'"
    segments = path.split("/")[1:]
    for position, segment in enumerate(segments, start=1):
        if _GREEDY.fullmatch(segment):
            if position != len(segments):
                return f"greedy segment {segment!r} must be the last one"
        elif not (_PARAM.fullmatch(segment) or _LITERAL.fullmatch(segment)):
            return f"segment {segment!r} is neither a literal nor a {{param}}"
    return None


def _parse_route(index: int, entry: object) -> Route:
    where = f"ROUTE_PERMISSIONS[{index}]"
    if not isinstance(entry, dict):
        raise RouteConfigError(f"{where} must be an object, got {entry!r}")
    if set(entry) != _ROUTE_KEYS:
        raise RouteConfigError(f"{where} must have exactly the keys method, path, level; got {sorted(entry)}")
    method, path, level = entry["method"], entry["path"], entry["level"]
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise RouteConfigError(f"{where}.method={method!r}: expected one of {sorted(METHODS)}")
    if not isinstance(level, str) or level not in _RANK:
        raise RouteConfigError(f"{where}.level={level!r}: expected one of {list(LEVELS)}")
    if not isinstance(path, str) or (problem := _path_problem(path)) is not None:
        reason = problem if isinstance(path, str) else "must be a string"
        raise RouteConfigError(f"{where}.path={path!r}: {reason}")
    return Route(method=method.upper(), path=path, level=level)


def parse_route_permissions(raw: str | None) -> tuple[Route, ...]:
    """Parse and validate the ``ROUTE_PERMISSIONS`` JSON text.

    Raises
    ------
    RouteConfigError
        When the text is missing, not JSON, not a non-empty list of routes, names an unknown
        method or level, has a path API Gateway would not accept, or lists the same ARN pattern
        twice (``GET /a/{id}`` and ``GET /a/{name}`` are the same method to API Gateway).

    Examples
    --------
    >>> parse_route_permissions('[{"method": "GET", "path": "/documents/{id}", "level": "read-only"}]')
    (Route(method='GET', path='/documents/{id}', level='read-only'),)
    """
    if not raw:
        raise RouteConfigError("ROUTE_PERMISSIONS is not set")
    try:
        entries = json.loads(raw)
    except ValueError as error:
        raise RouteConfigError(f"ROUTE_PERMISSIONS is not valid JSON: {error}") from None
    if not isinstance(entries, list) or not entries:
        raise RouteConfigError("ROUTE_PERMISSIONS must be a non-empty JSON list of routes")
    routes = tuple(_parse_route(index, entry) for index, entry in enumerate(entries))
    seen: dict[str, Route] = {}
    for route in routes:
        earlier = seen.setdefault(route.resource_pattern, route)
        if earlier is not route:
            raise RouteConfigError(
                f"ROUTE_PERMISSIONS lists {route.method} {route.path} and {earlier.method} {earlier.path}, "
                f"which are the same method ARN {route.resource_pattern!r}"
            )
    return routes


@lru_cache(maxsize=8)
def load_routes(raw: str | None) -> tuple[Route, ...]:
    """:func:`parse_route_permissions`, cached per text (the environment does not change)."""
    return parse_route_permissions(raw)


@lru_cache(maxsize=4096)
def _glob(pattern: str) -> re.Pattern[str]:
    parts = (".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile("".join(parts), re.DOTALL)


def arn_matches(pattern: str, arn: str) -> bool:
    """Match ``arn`` against an IAM resource pattern (``*`` any run of characters, ``?`` one)."""
    return _glob(pattern).fullmatch(arn) is not None


def _instances(route: Route, routes: Sequence[Route], longest: int) -> Iterable[str]:
    """Method-ARN tails of requests ``route`` may serve, with a value no literal can equal."""
    value = "\x00"
    resource = route.resource_pattern.partition("/")[2]
    if route.method == "ANY":  # methods the resource defines themselves go to those routes
        taken = {other.method for other in routes if other.resource_pattern.partition("/")[2] == resource}
        methods = sorted(METHODS - taken - {"ANY"})
    else:
        methods = [route.method]
    segments = [] if route.path == "/" else route.path.split("/")[1:]
    greedy = bool(segments) and segments[-1].endswith("+}")
    for method in methods:
        for repeat in range(1, longest + 2) if greedy else [1]:
            parts = [value if segment.startswith("{") else segment for segment in segments]
            if greedy:
                parts[-1] = "/".join([value] * repeat)
            yield method + "/" + "/".join(parts)


def shadowed_routes(routes: Iterable[Route]) -> list[tuple[Route, Route]]:
    """Pairs ``(route, stricter)`` where ``stricter``'s Deny pattern also covers requests of ``route``.

    A key's policy explicitly denies the routes its level does not grant, and an explicit Deny
    wins over an Allow. ``GET /documents/{id}`` at ``admin`` denies ``GET/documents/*``, which
    also covers ``GET /documents/public`` and ``GET /documents/{id}/summary``: if those are
    ``read-only``, read-only keys are denied them too. Such a table is never too permissive, only
    too strict; this function finds it (erring on the side of reporting) so it can be rejected.
    """
    routes = list(routes)
    pairs = []
    for route in routes:
        for stricter in routes:
            if _RANK[stricter.level] <= _RANK[route.level]:
                continue
            longest = stricter.resource_pattern.count("/")
            if any(arn_matches(stricter.resource_pattern, tail) for tail in _instances(route, routes, longest)):
                pairs.append((route, stricter))
    return pairs


def route_arns(prefix: str, routes: Sequence[Route]) -> list[str]:
    """Full execute-api ARN patterns for ``routes`` under ``prefix`` (``arn:...:api-id/stage``)."""
    return sorted({f"{prefix}/{route.resource_pattern}" for route in routes})
