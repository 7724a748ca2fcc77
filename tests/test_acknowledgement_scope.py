"""The library's acknowledgements cover only what the library made, never the user's statements.

Every construct that creates a role gets the user's own ``Resource: *`` statements added to that
role, the way users do (``role.add_to_principal_policy``): the packs must report each of them,
while the library's own service-required statements (X-Ray, network interfaces, ListStreams, the
log-delivery patterns) stay acknowledged, each in a policy of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import IConstruct
from harness import synthesize

from serverless_patterns import (
    AlertingFunction,
    ApiWithKeyedUsagePlan,
    AuditedTable,
    AuditTrail,
    DocumentPipeline,
    IsolatedNetwork,
    SecureBucket,
    SecureSecret,
)
from serverless_patterns.alerting_function import Invocation
from serverless_patterns.api_gateway_account import ApiGatewayAccount
from serverless_patterns.handlers import handler_code, handler_entry

#: The user's own wildcard statements (the ones issue 12 found silenced).
USER_WILDCARDS = ("s3:GetObject", "dynamodb:DeleteItem", "kms:Decrypt")
#: What checkov reports for them: data exfiltration (s3:GetObject, kms:Decrypt), unconstrained write.
USER_WILDCARD_CHECKS = {"CKV_AWS_108", "CKV_AWS_111"}
WILDCARD = "AwsSolutions-IAM5[Resource::*]"
#: The one acknowledgement a grant leaves in the grantee's policy: the object ARNs of one library
#: bucket (``<Bucket.Arn>/<prefix>*``), a pattern only a statement on that bucket's objects matches.
_OBJECT_PATTERN = re.compile(r"AwsSolutions-IAM5\[Resource::<[A-Za-z0-9]+\.Arn>/[^*\]]*\*\]")


@dataclass
class Built:
    stack: Stack
    roles: dict[str, iam.IRole]  # name -> a role the library made (or the user's, granted by the library)
    user_policies: dict[str, IConstruct]  # name -> the policy the user's statements landed in


def _function(stack: Stack, id: str, **props) -> AlertingFunction:
    return AlertingFunction(
        stack, id, code=handler_code("example_echo"), handler=handler_entry("example_echo"), **props
    )


def _build(stack: Stack) -> Built:
    table = AuditedTable(
        stack,
        "Table",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    )
    bucket = SecureBucket(stack, "Bucket")
    function = _function(stack, "Fn")
    network = IsolatedNetwork(stack, "Network", max_azs=2)
    in_vpc = _function(stack, "VpcFn", vpc=network.vpc)
    in_vpc.add_dynamodb_stream_source(table.table)
    secret = SecureSecret(stack, "Secret")
    api = ApiWithKeyedUsagePlan(stack, "Api")
    api.add_route("GET", "/items", _function(stack, "Items", invocation=Invocation.SYNCHRONOUS), level="read-only")
    trail = AuditTrail(stack, "Trail")
    pipeline = DocumentPipeline(stack, "Docs")
    ocr = sfn.StateMachine.from_state_machine_arn(stack, "Ocr", "arn:aws:states:us-east-1:123456789012:stateMachine:ocr")
    step = pipeline.add_processing_step("Ocr", state_machine=ocr, statuses=["READ"])
    assert step.runner is not None and pipeline.step_coordinator is not None
    # The user's own role, given permissions through the library's grants.
    consumer = iam.Role(stack, "Consumer", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    table.grant_stream_read(consumer)
    bucket.grant_read(consumer)

    assert secret.rotation_function is not None
    roles: dict[str, iam.IRole] = {
        "AlertingFunction": function.role,
        "AlertingFunction in a VPC with a stream source": in_vpc.role,
        "SecureSecret rotation": secret.rotation_function.role,
        "ApiWithKeyedUsagePlan authorizer": api.authorizer_function.role,
        "ApiGatewayAccount": ApiGatewayAccount.of(stack).role,
        "AuditTrail logs role": trail.logs_role,
        "IsolatedNetwork flow log role": network.flow_log.iam_role,
        "DocumentPipeline API handler": pipeline.api_handler.role,
        "DocumentPipeline processor": pipeline.processor.role,
        "DocumentPipeline notifier": pipeline.notifier.role,
        "DocumentPipeline step coordinator": pipeline.step_coordinator.role,
        "DocumentPipeline state-machine step runner": step.runner.role,
        "the user's role with grant_stream_read and grant_read": consumer,
    }
    for role in roles.values():
        for action in USER_WILDCARDS:
            role.add_to_principal_policy(iam.PolicyStatement(actions=[action], resources=["*"]))
    policies = {
        name: getattr(role, "policy", None) or role.node.find_child("DefaultPolicy") for name, role in roles.items()
    }
    return Built(stack, roles, policies)


@pytest.fixture(scope="module")
def synth():
    return synthesize(_build)


@pytest.fixture(scope="module")
def built(synth) -> Built:
    return synth.extra["built"]


def _resource_path(construct: IConstruct) -> str:
    return f"{construct.node.path}/Resource"


def test_the_packs_report_the_users_wildcards_on_every_role_the_library_makes(synth, built):
    open_wildcards = {f.path for f in synth.nag.findings if f.rule == WILDCARD}
    missing = {name for name, policy in built.user_policies.items() if _resource_path(policy) not in open_wildcards}
    assert not missing, f"the user's Resource '*' statements are silenced on: {sorted(missing)}"
    # ...and nothing the library made is among the open findings.
    assert open_wildcards == {_resource_path(p) for p in built.user_policies.values()}


def test_checkov_reports_the_users_wildcards_too(synth, built):
    failed: dict[str, set[str]] = {}
    for finding in synth.checkov.findings:
        failed.setdefault(finding.path.split(".", 1)[1], set()).add(finding.rule.split(" ")[0])
    for name, policy in built.user_policies.items():
        logical_id = built.stack.get_logical_id(policy.node.default_child)
        assert USER_WILDCARD_CHECKS <= failed.get(logical_id, set()), name


def test_no_acknowledgement_covers_a_policy_the_user_adds_to(synth, built):
    user_paths = {_resource_path(p) for p in built.user_policies.values()}
    covering = [
        f
        for f in [*synth.nag.acknowledged, *synth.checkov.acknowledged]
        if f.path in user_paths and not _OBJECT_PATTERN.fullmatch(f.rule)
    ]
    assert not covering, "\n".join(map(str, covering))
    # The checkov form of the same question: no skip on a user policy's logical id.
    user_ids = {built.stack.get_logical_id(p.node.default_child) for p in built.user_policies.values()}
    assert not [f for f in synth.checkov.acknowledged if f.path.split(".", 1)[1] in user_ids]


def test_the_librarys_own_wildcards_stay_acknowledged_each_in_a_policy_of_its_own(synth, built):
    acknowledged = {f.path: f.reason for f in synth.nag.acknowledged if f.rule == WILDCARD}
    own = {path.rsplit("/", 2)[-2] for path in acknowledged}
    assert own == {"XRayPolicy", "NetworkInterfacePolicy", "ListStreamsPolicy", "ServicePolicy"}
    for path, reason in acknowledged.items():
        if path.endswith("/XRayPolicy/Resource"):
            assert "xray:PutTraceSegments" in reason
        elif path.endswith("/Runner/ServicePolicy/Resource"):
            assert "log delivery" in reason and "X-Ray" in reason
        elif path.endswith("/NetworkInterfacePolicy/Resource"):
            assert "network interfaces" in reason
        else:
            assert "dynamodb:ListStreams" in reason
    # Each acknowledged policy holds exactly the service's statement and nothing of the user's.
    by_path = {c.node.path: c for c in built.stack.node.find_all()}
    for path in acknowledged:
        logical_id = built.stack.get_logical_id(by_path[path])
        statements = synth.template["Resources"][logical_id]["Properties"]["PolicyDocument"]["Statement"]
        actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
        assert not actions & set(USER_WILDCARDS), path
        assert all(s["Resource"] == "*" for s in statements), path


def test_every_function_traces_and_its_xray_policy_is_attached_to_its_role(synth):
    functions = synth.resources("AWS::Lambda::Function")
    library = {k: v for k, v in functions.items() if "TracingConfig" in v["Properties"]}
    assert library and all(v["Properties"]["TracingConfig"] == {"Mode": "Active"} for v in library.values())
    xray = {
        logical_id
        for logical_id, resource in synth.resources("AWS::IAM::ManagedPolicy").items()
        if any("xray:PutTraceSegments" in str(s["Action"]) for s in resource["Properties"]["PolicyDocument"]["Statement"])
    }
    for function in library.values():
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        attached = synth.template["Resources"][role_id]["Properties"]["ManagedPolicyArns"]
        assert any({"Ref": x} in attached for x in xray), role_id


def test_the_account_and_trail_log_patterns_are_acknowledged_on_their_own_policies(synth, built):
    narrow = {f.path for f in synth.nag.acknowledged if f.rule.startswith("AwsSolutions-IAM5[Resource::arn")}
    narrow_names = {path.rsplit("/", 2)[-2] for path in narrow}
    assert {"LogsPolicy", "DeliveryPolicy", "ChildExecutionsPolicy"} <= narrow_names
    for name in ("ApiGatewayAccount", "AuditTrail logs role", "DocumentPipeline state-machine step runner"):
        assert not [p for p in narrow if p == _resource_path(built.user_policies[name])], name
