"""The document processor: checks each uploaded document and records PROCESSED or REJECTED.

It reads S3 object-created events from SQS (EventBridge events or classic S3 notifications),
reads at most the first 64 KiB of the object, detects its format from the bytes and compares it
with what was declared at registration. Entry point: ``document_processor.index.handler``.
"""

from pathlib import Path

__path__.append(str(Path(__file__).resolve().parent.parent / "_shared"))  # see serverless_patterns.handlers
