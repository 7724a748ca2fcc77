"""Lambda entry point: wires the pure decision to DynamoDB, Powertools logging and metrics.

A missing, malformed, unknown or revoked key gets an explicit Deny (HTTP 403) rather than
``raise Exception("Unauthorized")`` (HTTP 401): API Gateway already answers 401 itself, without
invoking the authorizer, when the ``x-api-key`` identity source is absent, and a raised exception
would count as a Lambda error on every bad key. A failure that is not the caller's (the table
throttles or cannot be read, the configuration or an item is broken, a bug) is logged and counted
like a Deny and then raised as :class:`~.decision.AuthorizerUnavailable`: API Gateway answers 500
and caches nothing, where a returned Deny would refuse a valid key for the whole cache TTL. The
function's error alarm fires on these.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from .decision import OPERATIONAL_REASONS, AuthorizerUnavailable, Decision, Reason, authorize, deny
from .store import PermissionsTable

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "api-key-authorizer"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ServerlessPatterns"

logger: Logger = Logger(service=SERVICE)
metrics: Metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
_tables: dict[str | None, PermissionsTable] = {}


def _table() -> PermissionsTable:
    name = os.environ.get("PERMISSIONS_TABLE")
    if name not in _tables:
        _tables[name] = PermissionsTable(name)
    return _tables[name]


def _record(decision: Decision) -> None:
    fields = decision.log_fields()
    if decision.allowed:
        logger.info("authorization allowed", extra=fields)
    elif decision.reason in OPERATIONAL_REASONS:
        logger.error("authorization denied", extra=fields)
    else:
        logger.warning("authorization denied", extra=fields)
    try:
        if decision.allowed:
            metrics.add_metric(name="AuthorizationAllowed", unit=MetricUnit.Count, value=1)
            metrics.add_dimensions(service=SERVICE, level=decision.level or "unknown")
        else:
            metrics.add_metric(name="AuthorizationDenied", unit=MetricUnit.Count, value=1)
            metrics.add_dimensions(service=SERVICE, reason=decision.reason)
        metrics.flush_metrics()
    except Exception:  # metrics must never turn a decision into an error
        logger.exception("could not publish authorization metrics")
        metrics.clear_metrics()


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway REST REQUEST authorizer. Never logs the event (it carries the API key).

    Returns the policy of a cacheable decision; raises :class:`AuthorizerUnavailable` otherwise.
    """
    try:
        decision = authorize(event, route_permissions=os.environ.get("ROUTE_PERMISSIONS"), lookup=_table().get)
    except Exception:  # fail closed on any bug: never an Allow
        logger.exception("authorizer failed")
        decision = deny(Reason.INTERNAL_ERROR)
    _record(decision)
    if not decision.cacheable:
        raise AuthorizerUnavailable(decision.reason)
    return decision.response
