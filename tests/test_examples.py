"""Example apps: each synthesizes with zero unacknowledged findings; snippets in docs synthesize."""

from __future__ import annotations

import importlib

import pytest
from aws_cdk import App

from harness import assert_compliant, synthesize
from serverless_patterns.compliance import COLLECT_FINDINGS_CONTEXT, add_nag_packs, read_nag_report


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("quickstart")
    module = importlib.import_module("examples.quickstart.app")
    app = App(outdir=str(outdir), context=dict(COLLECT_FINDINGS_CONTEXT))
    stacks = module.build(app)
    add_nag_packs(app)
    app.synth()
    return outdir, stacks


def test_quickstart_has_no_unacknowledged_nag_findings(quickstart):
    outdir, _ = quickstart
    report = read_nag_report(outdir)
    assert report.clean, "\n".join(map(str, report.findings))


def test_secure_bucket_snippet_synthesizes_clean():
    module = importlib.import_module("examples.snippets.secure_bucket_usage")
    synth = synthesize(module.build)
    # The snippet's reader is a plain iam.Role: its inline DefaultPolicy is the only thing the
    # packs may flag, which is why the library's own functions use customer-managed policies.
    inline = {f.rule for f in synth.nag.findings if "Reader/DefaultPolicy" in f.path}
    others = [f for f in synth.nag.findings if "Reader/DefaultPolicy" not in f.path]
    assert not others, "\n".join(map(str, others))
    assert inline <= {f"{p}-IAMNoInlinePolicy" for p in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")}
