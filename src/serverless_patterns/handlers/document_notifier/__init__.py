"""The document notifier: one SNS message per status transition, read from DynamoDB Streams.

Replays of the stream (retries, partial-batch reprocessing) do not publish twice: each
transition is published through Powertools Idempotency keyed on ``document_id`` and
``status_version``. Entry point: ``document_notifier.index.handler``.
"""

from pathlib import Path

__path__.append(str(Path(__file__).resolve().parent.parent / "_shared"))  # see serverless_patterns.handlers
