"""IsolatedNetwork: no internet route, endpoints for AWS APIs, flow logs, closed default SG."""

from __future__ import annotations

import pytest
from aws_cdk import App, Environment, Stack, aws_ec2 as ec2, aws_logs as logs
from aws_cdk.assertions import Template

from harness import acknowledged_rules, assert_compliant, synthesize
from serverless_patterns import IsolatedNetwork


def _default(stack):
    return IsolatedNetwork(stack, "Network")


def _maximal(stack):
    network = IsolatedNetwork(
        stack,
        "Network",
        max_azs=3,
        cidr="10.20.0.0/16",
        interface_endpoints=["sqs", "sns", "kms", "logs", "xray", "execute-api", "secretsmanager"],
        flow_log_retention=logs.RetentionDays.ONE_YEAR,
        tags={"Owner": "network-team"},
    )
    workload = ec2.SecurityGroup(stack, "Workload", vpc=network.vpc, allow_all_outbound=False)
    network.allow_https_from(workload)
    return network


@pytest.fixture(scope="module")
def default():
    return synthesize(_default)


@pytest.fixture(scope="module")
def maximal():
    return synthesize(_maximal)


def test_subnets_are_isolated_without_nat_or_internet_gateway(default):
    assert not default.resources("AWS::EC2::NatGateway")
    assert not default.resources("AWS::EC2::InternetGateway")
    assert not default.resources("AWS::EC2::EIP")
    for subnet in default.resources("AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
    routes = default.resources("AWS::EC2::Route")
    assert not [r for r in routes.values() if "GatewayId" in r["Properties"] or "NatGatewayId" in r["Properties"]]
    assert len(default.resources("AWS::EC2::Subnet")) == 2


def test_gateway_endpoints_for_s3_and_dynamodb(default):
    endpoints = default.resources("AWS::EC2::VPCEndpoint").values()
    gateways = [e["Properties"]["ServiceName"] for e in endpoints if e["Properties"].get("VpcEndpointType") == "Gateway"]
    assert len(gateways) == 2
    assert any("s3" in str(name) for name in gateways) and any("dynamodb" in str(name) for name in gateways)


def test_default_interface_endpoints_use_private_dns_and_a_closed_security_group(default):
    interface = [
        e["Properties"] for e in default.resources("AWS::EC2::VPCEndpoint").values()
        if e["Properties"].get("VpcEndpointType") == "Interface"
    ]
    services = sorted(str(e["ServiceName"]).split(".")[-1].rstrip("\"}]'") for e in interface)
    assert len(interface) == 5
    assert all(e["PrivateDnsEnabled"] is True for e in interface)
    for group in default.resources("AWS::EC2::SecurityGroup").values():
        assert "SecurityGroupIngress" not in group["Properties"], "no CIDR-based ingress"
    assert services


def test_flow_logs_capture_all_traffic_into_an_encrypted_log_group(default):
    flow_log = default.only("AWS::EC2::FlowLog")
    assert flow_log["TrafficType"] == "ALL"
    assert flow_log["LogDestinationType"] == "cloud-watch-logs"
    group = default.only("AWS::Logs::LogGroup")
    assert "KmsKeyId" in group and group["RetentionInDays"] == 30
    assert not default.resources("AWS::IAM::Policy"), "flow-log role uses a customer-managed policy"


def test_default_security_group_is_restricted(default):
    assert default.resources("Custom::VpcRestrictDefaultSG")


def test_maximal_endpoints_ingress_from_the_workload_group_only(maximal):
    (endpoint_group,) = [
        g["Properties"] for i, g in maximal.resources("AWS::EC2::SecurityGroup").items() if i.startswith("NetworkEndpoint")
    ]
    (rule,) = endpoint_group["SecurityGroupIngress"]
    assert rule["FromPort"] == 443 and rule["ToPort"] == 443
    workload_id = [i for i in maximal.resources("AWS::EC2::SecurityGroup") if i.startswith("Workload")][0]
    assert rule["SourceSecurityGroupId"] == {"Fn::GetAtt": [workload_id, "GroupId"]}
    assert "CidrIp" not in rule
    interface = [e for e in maximal.resources("AWS::EC2::VPCEndpoint").values() if e["Properties"].get("VpcEndpointType") == "Interface"]
    assert len(interface) == 7
    # An environment-agnostic stack knows only two AZs (Fn::GetAZs), whatever max_azs says.
    assert len(maximal.resources("AWS::EC2::Subnet")) == 2
    assert maximal.only("AWS::Logs::LogGroup")["RetentionInDays"] == 365


def test_default_snapshot(default, snapshot_json):
    assert default.normalised() == snapshot_json


def test_maximal_snapshot(maximal, snapshot_json):
    assert maximal.normalised() == snapshot_json


@pytest.mark.parametrize("configuration", ["default", "maximal"])
def test_compliance(configuration, request):
    assert_compliant(request.getfixturevalue(configuration))


def test_only_cdks_provider_function_is_acknowledged(default):
    acks = acknowledged_rules(default)
    assert set().union(*acks.values()) <= {"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117"}
    assert all("VpcRestrictDefaultSG" in path for path in acks)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"max_azs": 0}, "max_azs=0: must be at least 1"),
        ({"cidr": "10.0.0.0/8"}, "cidr='10.0.0.0/8': must be an IPv4 CIDR block with a prefix length from /16 to /20"),
        ({"interface_endpoints": ["sqs", "ftp"]}, "interface_endpoints=['sqs', 'ftp']: must be a list of: sqs"),
        ({"interface_endpoints": "sqs"}, "interface_endpoints='sqs'"),
        ({"availability_zones": ["us-east-1a", "us-east-1a"]}, "must be 1-6 distinct AZ names such as 'us-east-1a'"),
        ({"availability_zones": ["use1-az3"]}, "availability_zones=['use1-az3']: must be 1-6 distinct AZ names"),
        ({"availability_zones": []}, "availability_zones=[]: must be 1-6 distinct AZ names"),
        ({"availability_zones": ["us-east-1a"], "max_azs": 2}, "max_azs=2: give either max_azs or availability_zones"),
        ({"interface_endpoint_azs": 0}, "interface_endpoint_azs=0: must be at least 1"),
        ({"interface_endpoint_azs": 3}, "interface_endpoint_azs=3: the workloads' subnets span only 2 AZ(s)"),
    ],
)
def test_invalid_props(props, message):
    with pytest.raises(ValueError) as error:
        IsolatedNetwork(Stack(App(), "V"), "Bad", **props)
    assert message in str(error.value)


def test_wrong_types():
    with pytest.raises(TypeError, match="IsolatedNetwork: max_azs must be int, got str"):
        IsolatedNetwork(Stack(App(), "V"), "Bad", max_azs="2")


def _subnet_zones(stack):
    template = Template.from_stack(stack).to_json()
    return sorted(
        r["Properties"]["AvailabilityZone"] for r in template["Resources"].values() if r["Type"] == "AWS::EC2::Subnet"
    )


def test_subnets_go_to_the_availability_zones_given_not_to_fn_getazs_indexes():
    """Lambda and some endpoint services are not offered in every AZ: the user picks the AZs."""
    stack = Stack(App(), "Zones", env=Environment(account="123456789012", region="us-east-1"))
    IsolatedNetwork(stack, "Network", availability_zones=["us-east-1b", "us-east-1c", "us-east-1d"])
    assert _subnet_zones(stack) == ["us-east-1b", "us-east-1c", "us-east-1d"]


def test_environment_agnostic_stacks_take_fn_getazs_without_availability_zones(default):
    zones = [r["Properties"]["AvailabilityZone"] for r in default.resources("AWS::EC2::Subnet").values()]
    assert zones == [{"Fn::Select": [i, {"Fn::GetAZs": ""}]} for i in (0, 1)]


def test_interface_endpoints_in_one_az_sit_in_one_isolated_subnet_and_serve_the_whole_network():
    """``interface_endpoint_azs=1``: billed for one AZ; every workload subnet still reaches them."""
    stack = Stack(App(), "OneAz")
    network = IsolatedNetwork(stack, "Network", interface_endpoints=["sns", "events"], interface_endpoint_azs=1)
    template = Template.from_stack(stack).to_json()["Resources"]
    subnets = {k for k, r in template.items() if r["Type"] == "AWS::EC2::Subnet"}
    interface = [r["Properties"] for r in template.values()
                 if r["Type"] == "AWS::EC2::VPCEndpoint" and r["Properties"].get("VpcEndpointType") == "Interface"]
    assert len(subnets) == 2 and len(interface) == 2
    first = network.vpc.isolated_subnets[0].node.default_child.logical_id
    for endpoint in interface:
        assert [Stack.of(network).resolve(s) for s in endpoint["SubnetIds"]] == [{"Ref": Stack.of(network).resolve(first)}]
        assert endpoint["PrivateDnsEnabled"] is True  # the name resolves to it from either AZ
    assert network.subnets.subnet_type == ec2.SubnetType.PRIVATE_ISOLATED  # workloads keep both AZs


def test_every_interface_endpoint_name_is_a_cdk_endpoint_service():
    from serverless_patterns.isolated_network import _INTERFACE_SERVICES

    for name, attribute in _INTERFACE_SERVICES.items():
        assert isinstance(getattr(ec2.InterfaceVpcEndpointAwsService, attribute), ec2.InterfaceVpcEndpointAwsService), name
