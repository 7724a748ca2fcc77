"""Compliance on your own app: report-only mode first, then fix in code and acknowledge the rest.

Used by docs/compliance.md; tests/test_docs.py runs both functions.
"""

from __future__ import annotations

from aws_cdk import App, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs

from serverless_patterns.compliance import (
    COLLECT_FINDINGS_CONTEXT,
    ComplianceReport,
    acknowledge,
    add_nag_packs,
    read_nag_report,
)


# --8<-- [start:report_only]
def report_only(outdir: str) -> ComplianceReport:
    """Report-only mode: synthesis collects every finding instead of failing on the first one."""
    app = App(outdir=outdir, context=dict(COLLECT_FINDINGS_CONTEXT))
    stack = Stack(app, "Jobs")
    sqs.Queue(stack, "DeadLetters", enforce_ssl=True, encryption=sqs.QueueEncryption.KMS)
    add_nag_packs(app)
    app.synth()
    return read_nag_report(outdir)  # .findings: open; .acknowledged: with their reasons
# --8<-- [end:report_only]


# --8<-- [start:enforced]
def enforced(outdir: str) -> ComplianceReport:
    """The same queue fixed in code where it can be, acknowledged where it cannot; synth enforces."""
    app = App(outdir=outdir)  # default: synthesis fails on any unacknowledged finding
    stack = Stack(app, "Jobs")
    key = kms.Key(stack, "Key", enable_key_rotation=True)  # fixes AwsSolutions-KMS5 and the rotation rules
    dead_letters = sqs.Queue(
        stack, "DeadLetters", enforce_ssl=True, encryption=sqs.QueueEncryption.KMS, encryption_master_key=key
    )
    # AwsSolutions-SQS3 stops firing once Work names this queue as its DLQ; this rule does not.
    acknowledge(
        dead_letters,
        "Serverless-SQSRedrivePolicy",
        "This queue is the dead-letter queue of Jobs/Work; a dead-letter queue has no dead-letter queue.",
    )
    sqs.Queue(
        stack, "Work", enforce_ssl=True, encryption=sqs.QueueEncryption.KMS, encryption_master_key=key,
        dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=5, queue=dead_letters),
    )
    add_nag_packs(app)
    app.synth()
    return read_nag_report(outdir)
# --8<-- [end:enforced]
