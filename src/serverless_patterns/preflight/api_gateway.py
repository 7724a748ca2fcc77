"""REST API stages that CloudFormation cannot create."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._registry import ERROR, rule
from ._template import Template, as_list, render

_LOGGING_LEVELS = {"ERROR", "INFO"}


def _logs(settings: dict[str, Any]) -> bool:
    return render(settings.get("LoggingLevel")).upper() in _LOGGING_LEVELS or render(settings.get("DataTraceEnabled")) == "true"


def _stage_logging(props: dict[str, Any]) -> str | None:
    """Why a stage (or a deployment's StageDescription) needs the account's CloudWatch role, if it does."""
    if props.get("AccessLogSetting"):
        return "access logging"
    if _logs(props):
        return "execution logging"
    if any(_logs(settings) for settings in as_list(props.get("MethodSettings")) if isinstance(settings, dict)):
        return "execution logging (MethodSettings)"
    return None


@rule(
    id="RestApiLoggingWithoutAccountRole",
    severity=ERROR,
    summary="A REST API stage logs to CloudWatch but the template sets no AWS::ApiGateway::Account "
            "(or creates the stage before it).",
    fix="Add an AWS::ApiGateway::Account with a CloudWatch role (CDK: RestApi cloudWatchRole=True) and make the "
        "stage depend on it, or acknowledge when the account and Region already have the role.",
    source="Amazon API Gateway Developer Guide: Set up CloudWatch logging for REST APIs in API Gateway",
)
def rest_api_logging_without_account(t: Template) -> Iterator[tuple[str, str, str]]:
    """Access logging and execution logging of a REST API stage need the account-level
    CloudWatch Logs role of API Gateway, one per account and Region. Without it the stage's
    CREATE fails with "CloudWatch Logs role ARN must be set in account settings to enable
    logging" (API Gateway Developer Guide, "Set up CloudWatch logging for REST APIs in API
    Gateway"). The account may already have it: acknowledge the finding then."""
    accounts = [lid for lid, _ in t.of_type("AWS::ApiGateway::Account")]
    candidates: list[tuple[str, str, str]] = []
    for logical_id, _ in t.of_type("AWS::ApiGateway::Stage"):
        why = _stage_logging(t.props(logical_id))
        if why:
            candidates.append((logical_id, why, "Properties"))
    for logical_id, _ in t.of_type("AWS::ApiGateway::Deployment"):
        why = _stage_logging(t.props(logical_id).get("StageDescription") or {})
        if why:
            candidates.append((logical_id, why, "Properties.StageDescription"))
    for logical_id, why, location in candidates:
        if not accounts:
            yield (logical_id, (f"enables {why} but the template has no AWS::ApiGateway::Account: the stage fails "
                               "to create unless the account and Region already have an API Gateway CloudWatch role"),
                   location)
        elif not any(t.depends_on(logical_id, account) for account in accounts):
            yield (logical_id, (f"enables {why} but does not depend on {accounts[0]} (AWS::ApiGateway::Account): "
                               "CloudFormation may create the stage first"), "DependsOn")


@rule(
    id="ApiStageNameCollision",
    severity=ERROR,
    summary="Two stages of one REST API have the same stage name.",
    fix="Give every stage of a REST API its own StageName (a Deployment's StageName creates a stage too).",
    source="AWS CloudFormation User Guide: AWS::ApiGateway::Deployment (StageName) and AWS::ApiGateway::Stage",
)
def api_stage_name_collision(t: Template) -> Iterator[tuple[str, str, str]]:
    """A Deployment with ``StageName`` creates that stage; an ``AWS::ApiGateway::Stage`` of
    the same name on the same API then fails with "Stage already exists"."""
    seen: dict[tuple[str, str], str] = {}
    stages = [(lid, t.props(lid)) for lid, _ in t.of_type("AWS::ApiGateway::Deployment")]
    stages += [(lid, t.props(lid)) for lid, _ in t.of_type("AWS::ApiGateway::Stage")]
    for logical_id, props in stages:
        name = props.get("StageName")
        if name is None:
            continue
        key = (t.target(props.get("RestApiId")) or render(props.get("RestApiId")), render(name))
        if key in seen:
            yield logical_id, f"stage {key[1]!r} of {key[0]} is also created by {seen[key]}", "Properties.StageName"
        else:
            seen[key] = logical_id
