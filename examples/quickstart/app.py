"""Quickstart: one SecureBucket with no arguments, checked by the five cdk-nag packs.

Run with ``cdk synth`` (through the pinned CLI) or ``python examples/quickstart/app.py``.
"""

from __future__ import annotations

from aws_cdk import App, Stack
from constructs import Construct

from serverless_patterns import SecureBucket
from serverless_patterns.compliance import add_nag_packs


class QuickstartStack(Stack):
    """A stack holding one secure-by-default bucket."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id, description="serverless-patterns quickstart: one SecureBucket")
        self.documents = SecureBucket(self, "Documents")


def build(app: App) -> list[Stack]:
    """Add the example's stacks to ``app``."""
    return [QuickstartStack(app, "Quickstart")]


if __name__ == "__main__":
    app = App()
    build(app)
    add_nag_packs(app)
    app.synth()
