"""Which function answers a request: the routing of Powertools' ``APIGatewayRestResolver``.

The API has four routes, so it routes them itself: importing Powertools' event handler costs
about a fifth of ``import boto3`` on every cold start (it imports every resolver, ``asyncio`` and
a data class for every event source). The rules are the resolver's, for the features the API
uses: static routes are tried before routes with a ``<name>`` segment, each in the order they were
registered; a ``<name>`` segment matches one or more of the characters the resolver accepts and
trailing slashes are ignored; an unmatched request goes to the :meth:`Router.not_found` function
(as a :class:`NotFound` exception); an exception goes to the function registered for the nearest
class in its MRO, and propagates if there is none. Answers are REST proxy responses with ``multiValueHeaders``, as the resolver's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

#: A ``<name>`` segment: word characters and RFC 3986's unreserved, sub-delimiter and unsafe ones.
_SEGMENT = r"(?P<\1>[-._~()'!*:@,;=+&$%<> \[\]{}|^\\w]+)"  # a re.sub template

Route = Callable[..., dict[str, Any]]


def rest_response(status: int, body: str, headers: dict[str, str]) -> dict[str, Any]:
    """A REST proxy integration's answer, headers in the multi-value form."""
    return {
        "statusCode": status,
        "body": body,
        "isBase64Encoded": False,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
    }


class NotFound(Exception):
    """No route serves the request's method and path (what :meth:`Router.not_found` receives)."""


class Router:
    """Routes canonical REST proxy events (see ``request.normalise_event``) to functions."""

    def __init__(self) -> None:
        self._static: list[tuple[str, re.Pattern[str], Route]] = []
        self._dynamic: list[tuple[str, re.Pattern[str], Route]] = []
        self._handlers: dict[type[BaseException], Callable[[Exception], dict[str, Any]]] = {}
        #: The event and the Lambda context of the request being answered.
        self.current_event: dict[str, Any] = {}
        self.lambda_context: Any = None

    def route(self, method: str, rule: str) -> Callable[[Route], Route]:
        rule = rule.rstrip("/")
        pattern = re.compile("^{}/*$".format(re.sub(r"<(\w+)>", _SEGMENT, rule)))
        routes = self._dynamic if "<" in rule else self._static

        def register(function: Route) -> Route:
            routes.append((method, pattern, function))
            return function

        return register

    def get(self, rule: str) -> Callable[[Route], Route]:
        return self.route("GET", rule)

    def post(self, rule: str) -> Callable[[Route], Route]:
        return self.route("POST", rule)

    def delete(self, rule: str) -> Callable[[Route], Route]:
        return self.route("DELETE", rule)

    def exception_handler(self, error: type[Exception]) -> Callable[[Callable], Callable]:
        def register(function: Callable[[Exception], dict[str, Any]]) -> Callable:
            self._handlers[error] = function
            return function

        return register

    def not_found(self, function: Callable[[Exception], dict[str, Any]]) -> Callable:
        return self.exception_handler(NotFound)(function)

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """The answer of the route that matches ``event``, or of the exception handlers."""
        self.current_event, self.lambda_context = event, context
        try:
            return self._call(*self._match(event["httpMethod"].upper(), event["path"]))
        finally:
            self.current_event, self.lambda_context = {}, None

    def _match(self, method: str, path: str) -> tuple[Callable[..., dict[str, Any]], dict[str, str]]:
        for route_method, pattern, function in self._static + self._dynamic:
            if route_method == method and (match := pattern.match(path)):
                return function, match.groupdict()
        return self._not_found, {}

    def _not_found(self) -> dict[str, Any]:
        raise NotFound()

    def _call(self, function: Callable[..., dict[str, Any]], arguments: dict[str, str]) -> dict[str, Any]:
        try:
            return function(**arguments)
        except Exception as error:
            handler = self._handler_of(type(error))
            if handler is None:
                raise
            return handler(error)

    def _handler_of(self, error: type[BaseException]) -> Callable[[Exception], dict[str, Any]] | None:
        return next((self._handlers[cls] for cls in error.__mro__ if cls in self._handlers), None)
