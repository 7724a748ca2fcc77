"""serverless-patterns: secure-by-default AWS CDK L3 constructs for serverless systems.

Exports are imported lazily, so that command-line tools of the package (which need only
boto3) do not start the jsii runtime that ``aws_cdk`` brings up on import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .__about__ import __version__

#: Public name -> module that defines it.
_EXPORTS = {
    "AccessLogDelivery": "bucket_distribution",
    "AlarmOptions": "alerting_function",
    "ApiGatewayAccount": "api_gateway_account",
    "ApiWithKeyedUsagePlan": "keyed_api",
    "DEFAULT_TIERS": "keyed_api",
    "DeployPreflightChecks": "preflight",
    "DocumentPipeline": "document_pipeline",
    "SecureHttpApi": "secure_http_api",
    "SecureQueue": "secure_queue",
    "SecureSecret": "secure_secret",
    "alert_email_parameter": "conventions",
    "apply_required_tags": "conventions",
    "environment_suffix": "conventions",
    "resource_name": "conventions",
    "resource_prefix_parameter": "conventions",
    "stack_instance_id": "conventions",
    "UsagePlanTier": "keyed_api",
    "AlertTopic": "alert_topic",
    "AlertingFunction": "alerting_function",
    "Invocation": "alerting_function",
    "AuditTrail": "audit_trail",
    "AuditedTable": "audited_table",
    "BucketDistribution": "bucket_distribution",
    "IsolatedNetwork": "isolated_network",
    "POWERTOOLS_LAYER_VERSION": "alerting_function",
    "ProcessingStep": "processing_step",
    "SUPPORTED_RUNTIMES": "alerting_function",
    "SecureBucket": "secure_bucket",
    "capacity_parameters": "audited_table",
    "dynamodb_data_event_selector": "audited_table",
    "powertools_layer": "alerting_function",
    "require_tags": "tagging",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'serverless_patterns' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # for type checkers and IDEs
    from .alert_topic import AlertTopic as AlertTopic
    from .alerting_function import (
        POWERTOOLS_LAYER_VERSION as POWERTOOLS_LAYER_VERSION,
        SUPPORTED_RUNTIMES as SUPPORTED_RUNTIMES,
        AlarmOptions as AlarmOptions,
        AlertingFunction as AlertingFunction,
        Invocation as Invocation,
        powertools_layer as powertools_layer,
    )
    from .api_gateway_account import ApiGatewayAccount as ApiGatewayAccount
    from .audit_trail import AuditTrail as AuditTrail
    from .audited_table import (
        AuditedTable as AuditedTable,
        capacity_parameters as capacity_parameters,
        dynamodb_data_event_selector as dynamodb_data_event_selector,
    )
    from .bucket_distribution import (
        AccessLogDelivery as AccessLogDelivery,
        BucketDistribution as BucketDistribution,
    )
    from .conventions import (
        alert_email_parameter as alert_email_parameter,
        apply_required_tags as apply_required_tags,
        environment_suffix as environment_suffix,
        resource_name as resource_name,
        resource_prefix_parameter as resource_prefix_parameter,
        stack_instance_id as stack_instance_id,
    )
    from .document_pipeline import DocumentPipeline as DocumentPipeline
    from .preflight import DeployPreflightChecks as DeployPreflightChecks
    from .isolated_network import IsolatedNetwork as IsolatedNetwork
    from .processing_step import ProcessingStep as ProcessingStep
    from .keyed_api import (
        DEFAULT_TIERS as DEFAULT_TIERS,
        ApiWithKeyedUsagePlan as ApiWithKeyedUsagePlan,
        UsagePlanTier as UsagePlanTier,
    )
    from .secure_http_api import SecureHttpApi as SecureHttpApi
    from .secure_queue import SecureQueue as SecureQueue
    from .secure_secret import SecureSecret as SecureSecret
    from .secure_bucket import SecureBucket as SecureBucket
    from .tagging import require_tags as require_tags
