"""DocumentPipeline's status events: the notifier's bus, permission and environment, user
statuses it announces, the consumer rule helper, and the schema shipped in the package."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import jsonschema
import pytest
from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk.assertions import Template
from harness import assert_compliant, synthesize

from serverless_patterns import IsolatedNetwork
from serverless_patterns.document_pipeline import (
    BUILT_IN_STATUSES,
    STATUS_EVENT_DETAIL_TYPE,
    STATUS_EVENT_SOURCE,
    VPC_INTERFACE_ENDPOINTS,
    DocumentPipeline,
)
from serverless_patterns.schemas import DOCUMENT_STATUS_EVENT_V1, document_status_event_schema

DOCS_SCHEMA = Path(__file__).resolve().parent.parent / "docs" / "schemas" / DOCUMENT_STATUS_EVENT_V1


def _default(stack):
    return DocumentPipeline(stack, "Docs")


#: The docs' example (docs/status_events.md includes it): a bus of its own, two user statuses,
#: two consumer rules.
_own_bus = importlib.import_module("examples.snippets.status_events_usage").build


@pytest.fixture(scope="module")
def default():
    return synthesize(_default)


@pytest.fixture(scope="module")
def own_bus():
    return synthesize(_own_bus)


def _notifier(synth):
    (found,) = [
        (logical_id, r["Properties"])
        for logical_id, r in synth.resources("AWS::Lambda::Function").items()
        if r["Properties"].get("Handler") == "document_notifier.index.handler"
    ]
    return found


def _statements(synth, function_logical_id):
    """The statements of the customer-managed policies of the function's role."""
    role = synth.template["Resources"][function_logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    attached = synth.template["Resources"][role]["Properties"].get("ManagedPolicyArns", [])
    return [
        statement
        for logical_id, policy in synth.resources("AWS::IAM::ManagedPolicy").items()
        if {"Ref": logical_id} in attached or {"Ref": role} in policy["Properties"].get("Roles", [])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _put_events(synth):
    """(statement, owner function logical id) of every statement in the template allowing PutEvents."""
    found = []
    for function_id in synth.resources("AWS::Lambda::Function"):
        if "Role" not in synth.template["Resources"][function_id]["Properties"]:
            continue
        for statement in _statements(synth, function_id):
            actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            if any(a.startswith("events:") for a in actions):
                found.append((statement, function_id))
    return found


def test_by_default_the_notifier_puts_events_on_the_accounts_default_bus_only(default):
    notifier_id, props = _notifier(default)
    env = props["Environment"]["Variables"]
    default_bus = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":events:", {"Ref": "AWS::Region"}, ":",
                                     {"Ref": "AWS::AccountId"}, ":event-bus/default"]]}
    assert env["STATUS_EVENT_BUS"] == default_bus
    assert env["ANNOUNCED_STATUSES"] == ""
    ((statement, owner),) = _put_events(default)
    assert owner == notifier_id
    assert statement == {"Action": "events:PutEvents", "Effect": "Allow", "Resource": default_bus}
    assert not default.resources("AWS::Events::EventBus")


def test_the_notifier_puts_events_on_exactly_the_bus_it_is_given(own_bus):
    notifier_id, props = _notifier(own_bus)
    (bus_id,) = own_bus.resources("AWS::Events::EventBus")
    assert props["Environment"]["Variables"]["STATUS_EVENT_BUS"] == {"Fn::GetAtt": [bus_id, "Arn"]}
    ((statement, owner),) = _put_events(own_bus)
    assert owner == notifier_id
    assert statement["Action"] == "events:PutEvents" and statement["Resource"] == {"Fn::GetAtt": [bus_id, "Arn"]}


def test_announced_statuses_reach_the_notifier(own_bus):
    _, props = _notifier(own_bus)
    assert props["Environment"]["Variables"]["ANNOUNCED_STATUSES"] == "REVIEWED,ARCHIVED"
    assert own_bus.extra["built"].announced_statuses == ("REVIEWED", "ARCHIVED")


def test_statuses_announced_again_or_later_are_kept_once_in_order():
    pipeline = DocumentPipeline(Stack(), "Docs")
    pipeline.announce_statuses(["REVIEWED", "ARCHIVED"])
    pipeline.announce_statuses(("REVIEWED", "EXPORTED"))
    pipeline.announce_statuses(iter(["ARCHIVED"]))
    assert pipeline.announced_statuses == ("REVIEWED", "ARCHIVED", "EXPORTED")
    functions = Template.from_stack(Stack.of(pipeline)).find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "document_notifier.index.handler"}}
    )
    ((_, notifier),) = functions.items()
    assert notifier["Properties"]["Environment"]["Variables"]["ANNOUNCED_STATUSES"] == "REVIEWED,ARCHIVED,EXPORTED"


def test_status_event_rules_match_this_pipelines_events_on_its_bus(own_bus):
    (bus_id,) = own_bus.resources("AWS::Events::EventBus")
    rules = {
        logical_id: r["Properties"]
        for logical_id, r in own_bus.resources("AWS::Events::Rule").items()
        if r["Properties"].get("EventBusName") == {"Ref": bus_id}
    }
    assert len(rules) == 2
    by_statuses = {json.dumps(p["EventPattern"].get("detail")): p for p in rules.values()}
    filtered = by_statuses[json.dumps({"status": ["REVIEWED", "REJECTED"]})]
    everything = by_statuses["null"]
    for rule in (filtered, everything):
        pattern = rule["EventPattern"]
        assert pattern["source"] == [STATUS_EVENT_SOURCE] and pattern["detail-type"] == [STATUS_EVENT_DETAIL_TYPE]
        (table,) = pattern["resources"]  # the metadata table: this pipeline's events, not another's
        assert own_bus.template["Resources"][table["Fn::GetAtt"][0]]["Type"] == "AWS::DynamoDB::Table"
    assert len(filtered["Targets"]) == 1 and len(everything["Targets"]) == 1


def test_the_own_bus_configuration_is_compliant(own_bus):
    assert_compliant(own_bus)


@pytest.mark.parametrize(
    ("statuses", "message"),
    [
        (["reviewed"], r"statuses='reviewed': a status is 1 to 40 upper-case letters"),
        (["REVIEWED", "X" * 41], r"statuses='X{41}'"),
        (["1ST"], r"statuses='1ST'"),
        (["PROCESSED"], r"statuses='PROCESSED': is a built-in status"),
        (["VALIDATED"], r"statuses='VALIDATED': is a built-in status"),
        ([7], r"statuses=7"),
        ("REVIEWED,ARCHIVED", r"statuses='REVIEWED,ARCHIVED'"),
    ],
)
def test_invalid_statuses_are_refused_naming_the_value(statuses, message):
    pipeline = DocumentPipeline(Stack(), "Docs")
    with pytest.raises(ValueError, match=r"(?s)DocumentPipeline.announce_statuses: .*" + message):
        pipeline.announce_statuses(statuses)
    assert pipeline.announced_statuses == ()  # nothing of a refused call is announced


def test_statuses_that_are_not_a_list_are_refused_naming_the_prop():
    with pytest.raises(TypeError, match="announce_statuses: statuses must be an iterable of str, got int"):
        DocumentPipeline(Stack(), "Docs").announce_statuses(5)


def test_a_rule_for_statuses_nobody_announced_is_refused():
    pipeline = DocumentPipeline(Stack(), "Docs")
    with pytest.raises(ValueError, match=r"statuses='REVIEWED': is neither a built-in status nor announced"):
        pipeline.status_events_rule("Rule", statuses=["REVIEWED"])
    with pytest.raises(ValueError, match=r"statuses=\[\]: must name at least one status"):
        pipeline.status_events_rule("Rule", statuses=[])


def test_a_bus_of_the_wrong_type_is_refused():
    with pytest.raises(TypeError, match="status_event_bus"):
        DocumentPipeline(Stack(), "Docs", status_event_bus="default")


def test_an_imported_bus_is_accepted():
    stack = Stack()
    bus = events.EventBus.from_event_bus_arn(stack, "Shared", "arn:aws:events:us-east-1:111122223333:event-bus/shared")
    pipeline = DocumentPipeline(stack, "Docs", status_event_bus=bus)
    assert pipeline.status_event_bus is bus


def test_a_network_needs_an_eventbridge_endpoint_for_the_notifier():
    assert "events" in VPC_INTERFACE_ENDPOINTS
    stack = Stack()
    network = IsolatedNetwork(stack, "Network", interface_endpoints=["sns"])
    with pytest.raises(ValueError, match="IsolatedNetwork without events endpoints"):
        DocumentPipeline(stack, "Docs", network=network)


def test_the_package_ships_the_schema_the_docs_publish():
    schema = document_status_event_schema()
    assert schema == json.loads(DOCS_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["required"]) >= {
        "schema_version", "document_id", "status", "previous_status", "occurred_at", "object", "reason",
    }
    assert set(schema["properties"]["object"]["required"]) == {"key", "version_id", "size", "content_type"}
    for status in BUILT_IN_STATUSES:
        assert status in schema["properties"]["status"]["description"]
    with pytest.raises(ValueError, match="version: no document status event schema '2'"):
        document_status_event_schema("2")
