"""The processing-step coordinator of a document pipeline with steps or validators.

Two event sources feed it: the metadata table's stream (a document reached a stage: the coordinator
invokes the validator of its content type, or the next processing step, asynchronously; after the
last step it records ``PROCESSED``) and the step-results queue (Lambda's invocation records of
those asynchronous invocations: it records the status a step or validator returned, or ``FAILED``
and forwards the record to that step's failure queue). Every write is conditional on the
document's ``status_version``, so replays and duplicate deliveries change nothing.
Entry point: ``document_steps.index.handler``.
"""

from pathlib import Path

__path__.append(str(Path(__file__).resolve().parent.parent / "_shared"))  # see serverless_patterns.handlers
