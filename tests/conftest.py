"""Test-wide configuration."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

ROOT = Path(__file__).resolve().parent.parent

# The jsii runtime must use the project's Node 22, not the machine's end-of-life Node.
_PINNED_NODE = ROOT / "node_modules" / ".bin" / "node"
if "JSII_NODE" not in os.environ and _PINNED_NODE.exists():
    os.environ["JSII_NODE"] = str(_PINNED_NODE)


@pytest.fixture
def snapshot_json(snapshot):
    """A syrupy snapshot stored as one readable JSON file per test."""
    return snapshot.use_extension(JSONSnapshotExtension)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``docs_last`` run after everything else (they read the session's results)."""
    items.sort(key=lambda item: item.get_closest_marker("docs_last") is not None)
