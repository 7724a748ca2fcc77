"""Environment for handler tests: no tracing, a metric namespace, a Region and fake credentials."""

from __future__ import annotations

import os

os.environ["POWERTOOLS_TRACE_DISABLED"] = "true"
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ServerlessPatternsTests")
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_SESSION_TOKEN"] = "testing"
os.environ.pop("AWS_PROFILE", None)
