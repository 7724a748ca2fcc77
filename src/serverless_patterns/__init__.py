"""serverless-patterns: secure-by-default AWS CDK L3 constructs for serverless systems."""

from .__about__ import __version__
from .alert_topic import AlertTopic
from .alerting_function import POWERTOOLS_LAYER_VERSION, SUPPORTED_RUNTIMES, AlarmOptions, AlertingFunction, powertools_layer
from .audit_trail import AuditTrail
from .audited_table import AuditedTable, capacity_parameters, dynamodb_data_event_selector
from .bucket_distribution import AccessLogDelivery, BucketDistribution
from .secure_bucket import SecureBucket
from .tagging import require_tags

__all__ = [
    "POWERTOOLS_LAYER_VERSION",
    "SUPPORTED_RUNTIMES",
    "AccessLogDelivery",
    "AlarmOptions",
    "AlertTopic",
    "AlertingFunction",
    "AuditTrail",
    "AuditedTable",
    "BucketDistribution",
    "SecureBucket",
    "__version__",
    "capacity_parameters",
    "dynamodb_data_event_selector",
    "powertools_layer",
    "require_tags",
]
