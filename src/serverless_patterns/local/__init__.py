"""Run a synthesized serverless stack on moto, the embedded AWS emulator.

Needs the ``local`` extra (``pip install serverless-patterns[local]``). Lambda functions
are not emulated by moto; :class:`EmulatedStack` imports each function's handler from its
synthesized asset and calls it in-process with the environment from the template, so a run
proves that the template and the code agree. ``on_call`` reports every AWS call made with a
function's role (:class:`AwsCall`), for least-privilege checks and fault injection. S3 events
for the stack's EventBridge-enabled buckets are sent in the shape S3 sends them
(:func:`s3_eventbridge_event`: key URL-encoded, ``etag``, ISO time, increasing sequencers).
"""

from .emulator import (
    ASYNC_INVOKE,
    EVENT_SOURCE,
    HANDLER,
    PRESIGNED,
    AwsCall,
    EmulatedStack,
    LambdaInvocationError,
    s3_eventbridge_event,
)
from .rest_api import ApiResponse, EmulatedRestApi

__all__ = [
    "ASYNC_INVOKE", "EVENT_SOURCE", "HANDLER", "PRESIGNED", "ApiResponse", "AwsCall", "EmulatedRestApi", "EmulatedStack",
    "LambdaInvocationError", "s3_eventbridge_event",
]
