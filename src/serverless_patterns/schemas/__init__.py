"""JSON schemas of what the library's handlers publish, shipped for consumers to validate against.

``document-status-event.v1.json`` is the status event of :class:`~serverless_patterns.DocumentPipeline`
(the SNS message body and the EventBridge ``detail``); ``docs/schemas/`` holds the same file.

Examples
--------
>>> from serverless_patterns.schemas import document_status_event_schema
>>> document_status_event_schema()["properties"]["schema_version"]
{'description': 'The version of this schema.', 'const': '1'}
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

#: File name of version 1 of the document status event schema.
DOCUMENT_STATUS_EVENT_V1 = "document-status-event.v1.json"


def document_status_event_schema(version: str = "1") -> dict[str, Any]:
    """The JSON schema (draft 2020-12) of the document status event of that ``version``."""
    if version != "1":
        raise ValueError(f"version: no document status event schema {version!r} (known: '1')")
    text = resources.files(__name__).joinpath(DOCUMENT_STATUS_EVENT_V1).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
