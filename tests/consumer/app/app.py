"""A platform team's document service, built on serverless-patterns from its documentation.

Two stacks per stage: the platform's shared resources (the landing-zone VPC, the data key, the
documents bucket, the ops alert topic) and the documents service, which brings those into a
``DocumentPipeline`` and extends it with two processing steps and status-event consumers.

    cdk synth --strict              # the dev stage (cdk.json: "stage": "dev")
    cdk synth --strict -c stage=prod
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import App, Environment, RemovalPolicy
from documents_stack import DocumentsStack
from platform_stack import PlatformStack

from serverless_patterns.compliance import add_nag_packs, add_preflight_checks


@dataclass(frozen=True)
class Stage:
    """What differs between the dev and prod deployments of the service."""

    name: str
    removal_policy: RemovalPolicy
    web_acl: bool
    ops_email: str


STAGES = {
    # dev stacks are torn down with `cdk destroy`: nothing is retained.
    "dev": Stage("dev", RemovalPolicy.DESTROY, web_acl=False, ops_email="docs-dev-alerts@example.com"),
    "prod": Stage("prod", RemovalPolicy.RETAIN, web_acl=True, ops_email="docs-oncall@example.com"),
}


def build(app: App) -> tuple[PlatformStack, DocumentsStack]:
    """The stage named by context ``stage``: its platform stack and its documents stack."""
    name = app.node.try_get_context("stage") or "dev"
    if name not in STAGES:
        raise ValueError(f"context stage={name!r}: must be one of {', '.join(STAGES)}")
    stage = STAGES[name]
    env = Environment(region="us-east-1")
    platform = PlatformStack(
        app, f"{name}-platform", removal_policy=stage.removal_policy, ops_email=stage.ops_email, env=env
    )
    documents = DocumentsStack(
        app,
        f"{name}-documents",
        platform=platform,
        stage=name,
        removal_policy=stage.removal_policy,
        web_acl=stage.web_acl,
        env=env,
    )
    return platform, documents


if __name__ == "__main__":
    app = App()
    build(app)
    add_nag_packs(app)  # the five cdk-nag packs run on every synth
    add_preflight_checks(app)  # and the deploy preflight pack
    app.synth()
