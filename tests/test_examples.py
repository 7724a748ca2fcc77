"""Example apps: each synthesizes with zero unacknowledged findings; snippets in docs synthesize."""

from __future__ import annotations

import importlib

import pytest
from harness import synthesize, synthesize_app


@pytest.fixture(scope="module")
def quickstart():
    return synthesize_app(importlib.import_module("examples.quickstart.app").build)


def test_quickstart_has_no_unacknowledged_nag_findings(quickstart):
    assert quickstart.nag.clean, "\n".join(map(str, quickstart.nag.findings))


def test_secure_bucket_snippet_synthesizes_clean():
    module = importlib.import_module("examples.snippets.secure_bucket_usage")
    synth = synthesize(module.build)
    # The snippet's reader is a plain iam.Role: its inline DefaultPolicy is the only thing the
    # packs may flag, which is why the library's own functions use customer-managed policies.
    inline = {f.rule for f in synth.nag.findings if "Reader/DefaultPolicy" in f.path}
    others = [f for f in synth.nag.findings if "Reader/DefaultPolicy" not in f.path]
    assert not others, "\n".join(map(str, others))
    assert inline <= {f"{p}-IAMNoInlinePolicy" for p in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")}
