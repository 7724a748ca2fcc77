"""serverless-patterns: secure-by-default AWS CDK L3 constructs for serverless systems."""

from .__about__ import __version__
from .secure_bucket import SecureBucket
from .tagging import require_tags

__all__ = [
    "SecureBucket",
    "__version__",
    "require_tags",
]
