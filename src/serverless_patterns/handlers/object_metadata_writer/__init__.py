"""Records the metadata of every object created in a bucket in DynamoDB, idempotently.

An SQS batch handler for S3 object-created events, delivered either by EventBridge (an
``Object Created`` event per message) or by S3 event notifications (``{"Records": [...]}``).
``logic`` parses and decides without AWS calls; ``store`` talks to S3 and DynamoDB.
"""

from pathlib import Path

__path__.append(str(Path(__file__).resolve().parent.parent / "_shared"))  # see serverless_patterns.handlers
