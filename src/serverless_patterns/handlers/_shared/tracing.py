"""X-Ray tracing for Powertools' ``Tracer`` without the X-Ray SDK: the same trace, a lighter import.

Lambda's active tracing records the function's own segment (initialization, invocation,
overhead). What the X-Ray SDK adds under it, and what this module sends instead, in the same
segment-document format and to the same daemon (``AWS_XRAY_DAEMON_ADDRESS``, UDP):

- one subsegment per handler invocation (Powertools' ``capture_lambda_handler``: ``## handler``
  with the ``ColdStart`` and ``Service`` annotations, the response or the exception as metadata);
- one subsegment per AWS call made through botocore or boto3 (``namespace: aws``, the
  operation, Region, request id, HTTP status, the bucket, key, table, topic or queue it named,
  error/throttle/fault flags and the exception), the X-Ray SDK's ``botocore`` patch;
- the ``X-Amzn-Trace-Id`` header of each AWS request names that subsegment as parent, so the
  trace continues through SNS, SQS and the other services that propagate it (``Lineage`` kept).

It imports nothing beyond the standard library (the X-Ray SDK imports ``asyncio``, its
sampling client and a patcher for thirteen libraries: a fifth of ``import boto3`` on a cold
start). What it does not do: patch other libraries (``requests``, ``sqlite3``, ``httpx``...:
the handlers use none), centralized sampling rules (in Lambda the sampling decision is the
``Sampled`` flag of the trace header, which is honoured), and the SDK's plugins and
recorder API. Nothing is sent when the header says ``Sampled=0`` or the tracer is disabled.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import socket
import time
import traceback
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

log = logging.getLogger(__name__)

TRACE_HEADER_ENV = "_X_AMZN_TRACE_ID"
DAEMON_ADDRESS_ENV = "AWS_XRAY_DAEMON_ADDRESS"
DEFAULT_DAEMON_ADDRESS = ("127.0.0.1", 2000)
#: What precedes every segment document sent to the daemon.
PROTOCOL_HEADER = b'{"format": "json", "version": 1}\n'
TRACE_HEADER = "X-Amzn-Trace-Id"
#: Request parameters recorded on AWS subsegments (those of the X-Ray SDK's list the handlers use).
RECORDED_PARAMETERS = {
    "Bucket": "bucket_name",
    "Key": "key",
    "TableName": "table_name",
    "TopicArn": "topic_arn",
    "QueueUrl": "queue_url",
    "SecretId": "secret_id",
}

_current: contextvars.ContextVar[tuple[Subsegment, ...]] = contextvars.ContextVar("xray_subsegments", default=())


def parse_trace_header(value: str | None) -> dict[str, str]:
    """``Root=1-...;Parent=...;Sampled=1;Lineage=...`` as a dict (empty for no header)."""
    fields: dict[str, str] = {}
    for part in (value or "").split(";"):
        name, sep, field = part.strip().partition("=")
        if sep and name:
            fields[name] = field
    return fields


def daemon_address(value: str | None) -> tuple[str, int]:
    """The UDP address in ``AWS_XRAY_DAEMON_ADDRESS`` (``host:port`` or ``tcp:h:p udp:h:p``)."""
    if not value:
        return DEFAULT_DAEMON_ADDRESS
    parts = value.split()
    chosen = next((p[4:] for p in parts if p.startswith("udp:")), parts[0])
    host, _, port = chosen.rpartition(":")
    return host, int(port)


class Subsegment(BaseSegment):
    """One subsegment, serialised as the X-Ray SDK serialises it."""

    def __init__(self, name: str, *, trace_id: str, parent_id: str, sampled: bool, namespace: str | None = None) -> None:
        self.name = name
        self.id = os.urandom(8).hex()
        self.trace_id = trace_id
        self.parent_id = parent_id
        self.sampled = sampled
        self.namespace = namespace
        self.start_time = time.time()
        self.end_time: float | None = None
        self.annotations: dict[str, Any] = {}
        self.metadata: dict[str, dict[str, Any]] = {}
        self.aws: dict[str, Any] = {}
        self.http: dict[str, Any] = {}
        self.cause: dict[str, Any] | None = None
        self.error = self.fault = self.throttle = False

    def close(self, end_time: int | None = None) -> None:
        self.end_time = end_time or time.time()

    def add_subsegment(self, subsegment: Any) -> None:  # children are sent on their own
        return None

    def remove_subsegment(self, subsegment: Any) -> None:
        return None

    def put_annotation(self, key: str, value: str | float | bool) -> None:
        if isinstance(value, (str, int, float, bool)):
            self.annotations[key] = value

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.metadata.setdefault(namespace, {})[key] = value

    def put_http_status(self, status: int | None) -> None:
        if not status:
            return
        self.http = {"response": {"status": status}}
        if status == 429:
            self.error = self.throttle = True
        elif 400 <= status < 500:
            self.error = True
        elif status >= 500:
            self.fault = True

    def add_exception(self, exception: BaseException, stack: Any = None, remote: bool = False) -> None:
        if not (self.error or self.throttle):
            self.fault = True
        frames = traceback.extract_tb(exception.__traceback__) if stack is None else stack
        self.cause = {
            "working_directory": os.getcwd(),
            "exceptions": [
                {
                    "id": os.urandom(8).hex(),
                    "message": str(exception),
                    "type": type(exception).__name__,
                    "remote": remote,
                    "stack": [{"path": f.filename, "line": f.lineno, "label": f.name} for f in list(frames)[-20:]],
                }
            ],
        }

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": self.name,
            "id": self.id,
            "trace_id": self.trace_id,
            "parent_id": self.parent_id,
            "type": "subsegment",
            "start_time": self.start_time,
            "end_time": self.end_time,
        }
        for key in ("namespace", "annotations", "metadata", "aws", "http", "cause"):
            if getattr(self, key):
                doc[key] = getattr(self, key)
        for flag in ("error", "fault", "throttle"):
            if getattr(self, flag):
                doc[flag] = True
        return doc


class XRayProvider(BaseProvider):
    """A Powertools tracing provider that sends subsegments to the X-Ray daemon.

    ``enabled`` is set by :func:`xray_tracer` from Powertools' own decision (disabled outside
    Lambda and with ``POWERTOOLS_TRACE_DISABLED``); when False, subsegments are made and dropped.
    """

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._socket: socket.socket | None = None
        self._address: tuple[str, int] | None = None

    # ---- subsegments ------------------------------------------------------------------------

    def begin(self, name: str, namespace: str | None = None) -> Subsegment:
        stack = _current.get()
        if stack:
            parent = stack[-1]
            segment = Subsegment(
                name, trace_id=parent.trace_id, parent_id=parent.id, sampled=parent.sampled, namespace=namespace
            )
        else:
            header = parse_trace_header(os.environ.get(TRACE_HEADER_ENV))
            segment = Subsegment(
                name,
                trace_id=header.get("Root", ""),
                parent_id=header.get("Parent", ""),
                sampled=self.enabled and header.get("Sampled") == "1" and bool(header.get("Root")),
                namespace=namespace,
            )
        _current.set((*stack, segment))
        return segment

    def end(self, segment: Subsegment) -> None:
        segment.close()
        stack = _current.get()
        if segment in stack:
            _current.set(stack[: stack.index(segment)])
        if segment.sampled:
            self._send(segment.document())

    @contextlib.contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[Subsegment]:
        segment = self.begin(name or "subsegment", kwargs.get("namespace", "local"))  # the SDK's default
        try:
            yield segment
        except BaseException as error:
            segment.add_exception(error)
            raise
        finally:
            self.end(segment)

    @contextlib.asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncIterator[Subsegment]:
        with self.in_subsegment(name, **kwargs) as segment:
            yield segment

    def current(self) -> Subsegment | None:
        stack = _current.get()
        return stack[-1] if stack else None

    def put_annotation(self, key: str, value: str | float | bool) -> None:
        if (segment := self.current()) is not None:
            segment.put_annotation(key, value)

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        if (segment := self.current()) is not None:
            segment.put_metadata(key, value, namespace)

    # ---- instrumentation --------------------------------------------------------------------

    def patch(self, modules: Sequence[str]) -> None:
        unsupported = sorted(set(modules) - {"botocore", "boto3"})
        if unsupported:
            raise ValueError(f"XRayProvider traces botocore and boto3 only, not {', '.join(unsupported)}")
        if modules:
            instrument_botocore(self)

    def patch_all(self) -> None:
        instrument_botocore(self)

    # ---- sending ----------------------------------------------------------------------------

    def _send(self, document: dict[str, Any]) -> None:
        """One UDP datagram per subsegment; a failure to send never fails the function."""
        try:
            if self._socket is None:
                self._address = daemon_address(os.environ.get(DAEMON_ADDRESS_ENV))
                self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            payload = PROTOCOL_HEADER + json.dumps(document, default=str).encode()
            self._socket.sendto(payload, self._address)
        except (OSError, ValueError, TypeError) as error:
            log.warning("X-Ray subsegment %s not sent: %s", document.get("name"), error)


def instrument_botocore(provider: XRayProvider) -> None:
    """Wrap every botocore client call in an ``aws`` subsegment (once per process)."""
    import botocore.client
    import botocore.endpoint
    from botocore.exceptions import ClientError

    client_class = botocore.client.BaseClient
    if getattr(client_class, "_sp_xray_provider", None) is not None:
        client_class._sp_xray_provider = provider
        return
    client_class._sp_xray_provider = provider
    make_api_call = client_class._make_api_call
    prepare_request = botocore.endpoint.Endpoint.prepare_request

    def traced_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        tracer: XRayProvider = client_class._sp_xray_provider
        segment = tracer.begin(client.meta.service_model.metadata["endpointPrefix"], namespace="aws")
        aws = {"operation": operation_name, "region": client.meta.region_name}
        aws.update({name: api_params[param] for param, name in RECORDED_PARAMETERS.items() if param in api_params})
        try:
            response = make_api_call(client, operation_name, api_params)
        except ClientError as error:
            metadata = error.response.get("ResponseMetadata", {})
            aws["request_id"] = metadata.get("RequestId")
            segment.put_http_status(metadata.get("HTTPStatusCode"))
            segment.add_exception(error, remote=True)
            raise
        except Exception as error:
            segment.add_exception(error)
            raise
        else:
            metadata = response.get("ResponseMetadata", {}) if isinstance(response, dict) else {}
            aws["request_id"] = metadata.get("RequestId")
            segment.put_http_status(metadata.get("HTTPStatusCode"))
            return response
        finally:
            segment.aws = {k: v for k, v in aws.items() if v is not None}
            tracer.end(segment)

    def traced_prepare(endpoint: Any, request: Any) -> Any:
        segment = client_class._sp_xray_provider.current()
        if segment is not None and segment.sampled and segment.namespace == "aws":
            header = parse_trace_header(os.environ.get(TRACE_HEADER_ENV))
            extra = [f"{k}={v}" for k, v in header.items() if k not in ("Root", "Parent", "Sampled")]
            del request.headers[TRACE_HEADER]
            request.headers[TRACE_HEADER] = ";".join(
                [f"Root={segment.trace_id}", f"Parent={segment.id}", "Sampled=1", *extra]
            )
        return prepare_request(endpoint, request)

    client_class._make_api_call = traced_call
    botocore.endpoint.Endpoint.prepare_request = traced_prepare


def xray_tracer(service: str | None = None) -> Tracer:
    """Powertools' ``Tracer`` on :class:`XRayProvider`, tracing botocore calls.

    Powertools decides whether tracing is on (it is in Lambda unless ``POWERTOOLS_TRACE_DISABLED``
    says otherwise) and patches botocore only then.
    """
    provider = XRayProvider(enabled=False)
    tracer = Tracer(service=service, provider=provider, auto_patch=False)
    provider.enabled = not tracer.disabled
    tracer.patch(["botocore"])
    return tracer
