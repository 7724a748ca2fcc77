"""Lambda settings that an account refuses, or that can never take effect."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from ._registry import ERROR, WARNING, rule
from ._template import Template, render
from .key_policies import s3_notifications
from .messaging import event_targets, sns_subscriptions

#: Lambda quota: all environment variables of a function together (keys and values).
ENVIRONMENT_LIMIT_BYTES = 4096
#: Lambda keeps this much of the account's concurrency unreserved.
UNRESERVED_MINIMUM = 100

#: Service principals that invoke a function only synchronously (event type RequestResponse).
#: Any other principal (EventBridge, S3, SNS, CloudWatch Logs, an account...) may invoke it
#: asynchronously.
SYNC_PRINCIPALS = re.compile(r"(apigateway|elasticloadbalancing|cognito-idp|lex|vpc-lattice)\.amazonaws\.com(\.cn)?")


def _function_aliases(t: Template) -> dict[str, str]:
    """``{alias or version logical id: function logical id}``."""
    found = {}
    for logical_id, _ in t.of_type("AWS::Lambda::Alias", "AWS::Lambda::Version"):
        function = t.target(t.props(logical_id).get("FunctionName"))
        if t.type_of(function) == "AWS::Lambda::Function":
            found[logical_id] = function
    return found


def _function(t: Template, value: object, aliases: dict[str, str]) -> str | None:
    target = t.target(value)
    target = aliases.get(target, target) if target else None
    return target if t.type_of(target) == "AWS::Lambda::Function" else None


def invokers(t: Template) -> dict[str, dict[str, list[str]]]:
    """``{function: {"async": [...], "sync": [...]}}``: how the template's resources invoke each function."""
    aliases = _function_aliases(t)
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"async": [], "sync": []})
    for logical_id, _ in t.of_type("AWS::Lambda::Permission"):
        props = t.props(logical_id)
        function = _function(t, props.get("FunctionName"), aliases)
        if function:
            principal = render(props.get("Principal"))
            kind = "sync" if SYNC_PRINCIPALS.fullmatch(principal) else "async"
            found[function][kind].append(f"{logical_id} ({principal})")
    for rule_id, _, target in event_targets(t):
        function = _function(t, target.get("Arn"), aliases)
        if function:
            found[function]["async"].append(rule_id)
    for source, kind, arn in s3_notifications(t):
        function = _function(t, arn, aliases)
        if kind == "Function" and function:
            found[function]["async"].append(source)
    for source, _, protocol, endpoint in sns_subscriptions(t):
        function = _function(t, endpoint, aliases)
        if protocol == "lambda" and function:
            found[function]["async"].append(source)
    for logical_id, _ in t.of_type("AWS::Logs::SubscriptionFilter"):
        function = _function(t, t.props(logical_id).get("DestinationArn"), aliases)
        if function:
            found[function]["async"].append(logical_id)
    for logical_id, _ in t.of_type("AWS::Lambda::EventSourceMapping"):
        function = _function(t, t.props(logical_id).get("FunctionName"), aliases)
        if function:
            found[function]["sync"].append(logical_id)
    for logical_id, _ in t.of_type("AWS::ApiGateway::Authorizer", "AWS::ApiGatewayV2::Authorizer",
                                   "AWS::ApiGatewayV2::Integration", "AWS::ApiGateway::Method"):
        for function in {aliases.get(r, r) for r in t.referenced(t.props(logical_id))}:
            if t.type_of(function) == "AWS::Lambda::Function":
                found[function]["sync"].append(logical_id)
    return found


@rule(
    id="ReservedConcurrency",
    severity=WARNING,
    summary="A function sets reserved concurrency, which accounts with a low concurrency quota refuse.",
    fix="Check the account's Lambda concurrency quota (it must exceed the reservations plus 100) or drop the "
        "reservation; acknowledge with the quota you deploy to.",
    source="AWS Lambda Developer Guide: Configuring reserved concurrency for a function; Lambda quotas",
)
def reserved_concurrency(t: Template) -> Iterator[tuple[str, str, str]]:
    """"You can reserve up to the Unreserved account concurrency value ... minus 100 for
    functions that don't have reserved concurrency" (Lambda Developer Guide, "Configuring
    reserved concurrency for a function"). New accounts often start with a concurrency quota
    far below the default 1,000, and then the function's CREATE fails with
    "Specified ReservedConcurrentExecutions ... decreases account's
    UnreservedConcurrentExecution below its minimum value". A reservation behind a condition
    with an ``AWS::NoValue`` branch is the deployer's choice at deploy time and is not flagged."""
    functions = [(lid, t.props(lid).get("ReservedConcurrentExecutions")) for lid, _ in t.of_type("AWS::Lambda::Function")]
    reserved = [(lid, value) for lid, value in functions if value is not None and not _optional(value)]
    total = sum(int(v) for _, v in reserved if isinstance(v, int))
    for logical_id, value in reserved:
        amount = f"{value} concurrent executions" if isinstance(value, int) else f"concurrency from {render(value)}"
        yield (logical_id, (f"reserves {amount} (the template reserves {total} in literals): the account's quota must "
                            f"exceed the reservations by {UNRESERVED_MINIMUM}"), "Properties.ReservedConcurrentExecutions")


def _optional(value: object) -> bool:
    """A ``Fn::If`` with an ``AWS::NoValue`` branch: the deployer chooses, by a parameter, whether to reserve."""
    if isinstance(value, dict) and isinstance(value.get("Fn::If"), list) and len(value["Fn::If"]) == 3:
        return any(branch == {"Ref": "AWS::NoValue"} for branch in value["Fn::If"][1:])
    return False


@rule(
    id="AsyncDestinationNeverInvoked",
    severity=WARNING,
    summary="A function has an async failure destination (DLQ or OnFailure) but is only invoked synchronously.",
    fix="Remove the dead-letter queue / EventInvokeConfig from functions that only API Gateway or event source "
        "mappings invoke (configure the failure destination on the event source mapping instead).",
    source="AWS Lambda Developer Guide: Invoking a Lambda function asynchronously; Capturing records of Lambda "
           "asynchronous invocations",
)
def async_destination_never_invoked(t: Template) -> Iterator[tuple[str, str, str]]:
    """Dead-letter queues and ``EventInvokeConfig`` destinations receive only failed
    asynchronous invocations ("Capturing records of Lambda asynchronous invocations"). API
    Gateway invokes synchronously and event source mappings have their own failure
    destinations, so on a function invoked only that way the queue stays empty and its alarm
    suggests coverage that does not exist. Functions with no invoker in the template are
    left alone: they may be invoked from outside."""
    found = invokers(t)
    aliases = _function_aliases(t)
    destinations: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for logical_id, _ in t.of_type("AWS::Lambda::Function"):
        if (t.props(logical_id).get("DeadLetterConfig") or {}).get("TargetArn") is not None:
            destinations[logical_id].append((logical_id, "Properties.DeadLetterConfig"))
    for logical_id, _ in t.of_type("AWS::Lambda::EventInvokeConfig"):
        props = t.props(logical_id)
        function = _function(t, props.get("FunctionName"), aliases)
        if function and ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination") is not None:
            destinations[function].append((logical_id, "Properties.DestinationConfig.OnFailure"))
    for function, configured in destinations.items():
        calls = found.get(function, {"async": [], "sync": []})
        if calls["sync"] and not calls["async"]:
            for logical_id, location in configured:
                yield (logical_id, (f"configures an asynchronous failure destination for {function}, which is invoked only "
                                   f"synchronously (by {', '.join(sorted(calls['sync'])[:3])})"), location)


@rule(
    id="LambdaEnvironmentTooLarge",
    severity=ERROR,
    summary="A function's environment variables exceed Lambda's 4 KB limit.",
    fix="Move large values to SSM Parameter Store or Secrets Manager and pass their names.",
    source="AWS Lambda Developer Guide: Lambda quotas (Function environment variables, 4 KB)",
)
def environment_too_large(t: Template) -> Iterator[tuple[str, str, str]]:
    """All environment variables of a function together may not exceed 4 KB ("Lambda
    quotas"). Unresolved references count as empty, so the size is a lower bound."""
    for logical_id, _ in t.of_type("AWS::Lambda::Function"):
        variables = ((t.props(logical_id).get("Environment") or {}).get("Variables")) or {}
        size = sum(len(k.encode()) + len(re.sub(r"\$\{[^}]*\}", "", render(v)).encode()) for k, v in variables.items())
        if size > ENVIRONMENT_LIMIT_BYTES:
            yield logical_id, f"has at least {size} bytes of environment variables (limit {ENVIRONMENT_LIMIT_BYTES})", "Properties.Environment"



#: CloudFormation defaults when the property is not set.
DEFAULT_VISIBILITY_TIMEOUT = 30
DEFAULT_FUNCTION_TIMEOUT = 3


@rule(
    id="SqsVisibilityTimeoutBelowFunctionTimeout",
    severity=ERROR,
    summary="An SQS event source mapping's queue has a visibility timeout shorter than the function's timeout.",
    fix="Set the queue's visibility timeout to at least six times the function timeout (plus the batching window).",
    source="AWS Lambda Developer Guide: Using Lambda with Amazon SQS (queue visibility timeout)",
)
def sqs_visibility_below_timeout(t: Template) -> Iterator[tuple[str, str, str]]:
    """Lambda refuses to create an SQS event source mapping when the queue's visibility
    timeout is shorter than the function's timeout ("Queue visibility timeout: 30 seconds is
    less than Function timeout"); the Lambda Developer Guide ("Using Lambda with Amazon SQS")
    recommends at least six times the function timeout."""
    aliases = _function_aliases(t)
    for logical_id, _ in t.of_type("AWS::Lambda::EventSourceMapping"):
        props = t.props(logical_id)
        queue = t.target(props.get("EventSourceArn"))
        function = _function(t, props.get("FunctionName"), aliases)
        if t.type_of(queue) != "AWS::SQS::Queue" or function is None:
            continue
        visibility = t.props(queue).get("VisibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT)
        timeout = t.props(function).get("Timeout", DEFAULT_FUNCTION_TIMEOUT)
        if isinstance(visibility, int) and isinstance(timeout, int) and visibility < timeout:
            yield (logical_id, (f"reads {queue} (visibility timeout {visibility} s) into {function} (timeout {timeout} s): "
                               "Lambda refuses the mapping"), "Properties.EventSourceArn")
