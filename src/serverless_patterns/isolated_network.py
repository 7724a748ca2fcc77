"""IsolatedNetwork: a VPC with no route to the internet, reaching AWS only through endpoints."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import Names, aws_ec2 as ec2, aws_iam as iam, aws_logs as logs
from constructs import Construct

from ._interop import VpcInterface
from ._defaults import DEFAULT_LOG_RETENTION, customer_managed_key, unique_physical_name
from ._log_groups import encrypted_log_group
from ._roles import ManagedPolicyRole
from ._validation import PropErrors, is_token, require_type
from .compliance import acknowledge
from .tagging import apply_tags, validate_tags
from ._kernel import path_of, stack_of

DEFAULT_MAX_AZS = 2

#: Interface endpoints created by default: what Lambda functions of this library call.
DEFAULT_INTERFACE_ENDPOINTS = ("sqs", "sns", "kms", "logs", "xray")

#: Endpoint name -> attribute of ``ec2.InterfaceVpcEndpointAwsService``, looked up only when a
#: network is built: reading one at import costs the jsii kernel about 0.1 s (it loads the
#: class's service list), which apps without a network should not pay.
_INTERFACE_SERVICES: Mapping[str, str] = {
    "sqs": "SQS",
    "sns": "SNS",
    "kms": "KMS",
    "logs": "CLOUDWATCH_LOGS",
    "monitoring": "CLOUDWATCH_MONITORING",
    "xray": "XRAY",
    "execute-api": "APIGATEWAY",
    "secretsmanager": "SECRETS_MANAGER",
    "sts": "STS",
    "events": "EVENTBRIDGE",
    "lambda": "LAMBDA_",
    "states": "STEP_FUNCTIONS",
}

_AZ_NAME = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d[a-z](-[a-z]+-\d[a-z])?$")

RESTRICT_DEFAULT_SG_PROVIDER_REASON = (
    "CDK's own deploy-time provider that removes every rule of the VPC's default security group; it "
    "runs once per deployment, calls only the EC2 API, and has no events to retry or dead-letter."
)


#: Gateway endpoints created by default (free): S3 and DynamoDB.
DEFAULT_GATEWAY_ENDPOINTS = ("s3", "dynamodb")
_GATEWAY_SERVICES: Mapping[str, tuple[str, str]] = {"s3": ("S3", "S3"), "dynamodb": ("DYNAMODB", "DynamoDb")}

#: Default ``cidr`` (the range of the VPC the construct makes).
DEFAULT_CIDR = "10.0.0.0/16"


@jsii.implements(ec2.IVpc)
class IsolatedNetwork(VpcInterface, Construct):
    """A VPC whose subnets have no internet route; AWS APIs are reached through VPC endpoints.

    With ``vpc=`` it wraps an existing VPC instead (a landing-zone VPC, ``ec2.Vpc.from_lookup``,
    ``ec2.Vpc.from_vpc_attributes`` or a VPC of this app): it then creates no VPC, subnets, flow
    log or default-security-group rule, only the endpoints and their security group.

    The construct is an ``ec2.IVpc``: pass it wherever CDK takes a VPC (functions, security
    groups, endpoints); the VPC it holds is :attr:`vpc`.

    Parameters
    ----------
    scope, id
        The construct's parent and id.
    vpc
        An existing VPC to add the endpoints to. Default: None (the construct makes the VPC, with
        isolated subnets, flow logs and a closed default security group). Not with ``max_azs``,
        ``availability_zones``, ``cidr`` or ``flow_log_retention``, which describe a VPC it makes.
        List in ``interface_endpoints`` only services the VPC has no endpoint for: a second
        endpoint with private DNS for the same service fails to deploy.
    vpc_subnets
        The subnets of ``vpc`` the workloads and interface endpoints use (:attr:`subnets`).
        Default: CDK's default selection of ``vpc`` (its private subnets, else its isolated ones).
        Only with ``vpc``.
    gateway_endpoints
        Gateway endpoints to create: ``s3``, ``dynamodb``. Default: both. A wrapped VPC whose route
        tables already route to them (many landing zones) passes ``()``: a route table takes one
        route per gateway service.
    max_azs
        Availability Zones to spread subnets over. Default: 2. Stacks without an explicit
        account and Region know only two AZs, whatever this says. Not with ``availability_zones``.
    availability_zones
        The AZ names to place subnets in, e.g. ``["us-east-1a", "us-east-1b"]``. Default: none (the
        first ``max_azs`` AZs: ``Fn::GetAZs`` for environment-agnostic stacks, CDK's context lookup
        of the account's available AZs for stacks with an account and Region). Lambda and some
        endpoint services are not offered in every AZ (in us-east-1 Lambda does not run VPC
        functions in the AZ with ID ``use1-az3``); AZ names map to different AZ IDs in each account,
        so pick names whose IDs ``aws ec2 describe-availability-zones`` and ``aws ec2
        describe-vpc-endpoint-services`` show as supported.
    cidr
        The VPC's IPv4 range. Default: ``"10.0.0.0/16"``. Not with ``vpc``.
    interface_endpoints
        Interface endpoints to create, by short name (``sqs``, ``sns``, ``kms``, ``logs``,
        ``monitoring``, ``xray``, ``execute-api``, ``secretsmanager``, ``sts``, ``events``,
        ``lambda``).
        Default: :data:`DEFAULT_INTERFACE_ENDPOINTS`. S3 and DynamoDB get (free) gateway
        endpoints: see ``gateway_endpoints``.
    flow_log_retention
        Retention of the VPC flow logs (all traffic, to an encrypted log group). Default: 30 days.
        Not with ``vpc`` (a wrapped VPC's flow logs are its owner's).
    interface_endpoint_azs
        Put the interface endpoints in the subnets of this many AZs only (the first ones of the
        workloads' subnets); workloads in the other AZs reach them across AZs. Each endpoint is
        billed per AZ-hour, so ``1`` halves their idle cost in a two-AZ network, at the price of
        the endpoints' AZ: while it is down, calls through them fail (the pipeline's notifier then
        retries from its stream, and after that parks the records in its failure queue, which
        alarms; documents are not affected: S3 and DynamoDB use gateway endpoints).
        Default: None (every AZ of the workloads' subnets).
    tags
        Tags for every resource. Default: none.

    Notes
    -----
    The default security group is stripped of all rules (CDK's restrict-default-security-group
    provider). Interface endpoints accept HTTPS only from security groups passed to
    :meth:`allow_https_from`, never from a CIDR range.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        max_azs: int | None = None,
        availability_zones: Sequence[str] | None = None,
        cidr: str | None = None,
        interface_endpoints: Sequence[str] = DEFAULT_INTERFACE_ENDPOINTS,
        gateway_endpoints: Sequence[str] = DEFAULT_GATEWAY_ENDPOINTS,
        flow_log_retention: logs.RetentionDays | None = None,
        interface_endpoint_azs: int | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        _validate(vpc=vpc, vpc_subnets=vpc_subnets, max_azs=max_azs, availability_zones=availability_zones, cidr=cidr,
                  interface_endpoints=interface_endpoints, gateway_endpoints=gateway_endpoints,
                  flow_log_retention=flow_log_retention, interface_endpoint_azs=interface_endpoint_azs, tags=tags)
        super().__init__(scope, id)
        self._interface_endpoint_azs = interface_endpoint_azs
        #: Whether the VPC was passed as ``vpc=`` (then it is not this construct's to change).
        self.wraps_existing_vpc: bool = vpc is not None
        self._subnets = vpc_subnets
        if vpc is not None:
            self.vpc: ec2.IVpc = vpc
            #: The flow log of the VPC the construct made; None for a wrapped VPC (its owner's).
            self.flow_log: ec2.FlowLog | None = None
            self._create_endpoints(interface_endpoints, gateway_endpoints, vpc_subnets)
            apply_tags(self, "IsolatedNetwork", tags)
            return
        cidr = cidr or DEFAULT_CIDR
        self.vpc = ec2.Vpc(
            self,
            "Resource",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            max_azs=None if availability_zones else (max_azs or DEFAULT_MAX_AZS),
            availability_zones=list(availability_zones) if availability_zones else None,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22)
            ],
            restrict_default_security_group=True,
        )
        self._acknowledge_default_sg_provider()
        self.flow_log = self._create_flow_log(flow_log_retention or DEFAULT_LOG_RETENTION)
        self._create_endpoints(
            interface_endpoints, gateway_endpoints, ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        )
        apply_tags(self, "IsolatedNetwork", tags)

    def _create_endpoints(
        self, interface_endpoints: Sequence[str], gateway_endpoints: Sequence[str], subnets: ec2.SubnetSelection | None
    ) -> None:
        endpoint_subnets = self._interface_endpoint_subnets(subnets)
        # Endpoints of a wrapped VPC are this construct's children: made through the VPC, they would
        # land in the VPC's stack and refer to this stack's security group (a dependency cycle).
        owner: Construct = self if self.wraps_existing_vpc else self.vpc
        for name in dict.fromkeys(gateway_endpoints):
            service, endpoint_id = _GATEWAY_SERVICES[name]
            ec2.GatewayVpcEndpoint(
                owner,
                endpoint_id,
                vpc=self.vpc,
                service=getattr(ec2.GatewayVpcEndpointAwsService, service),
                subnets=[subnets] if (subnets is not None and self.wraps_existing_vpc) else None,
            )
        self.endpoint_security_group: ec2.SecurityGroup = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="Interface endpoints: HTTPS from workloads of this network only",
            allow_all_outbound=False,
        )
        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {
            name: ec2.InterfaceVpcEndpoint(
                owner,
                _endpoint_id(name),
                vpc=self.vpc,
                service=getattr(ec2.InterfaceVpcEndpointAwsService, _INTERFACE_SERVICES[name]),
                private_dns_enabled=True,
                security_groups=[self.endpoint_security_group],
                open=False,
                subnets=endpoint_subnets,
            )
            for name in dict.fromkeys(interface_endpoints)
        }

    def _interface_endpoint_subnets(self, subnets: ec2.SubnetSelection | None) -> ec2.SubnetSelection | None:
        """``subnets``, or (``interface_endpoint_azs``) its subnets in the first that many AZs."""
        wanted = self._interface_endpoint_azs
        if wanted is None:
            return subnets
        selection = subnets or ec2.SubnetSelection()
        selected = self.vpc.select_subnets(
            availability_zones=selection.availability_zones,
            one_per_az=selection.one_per_az,
            subnet_filters=selection.subnet_filters,
            subnet_group_name=selection.subnet_group_name,
            subnets=selection.subnets,
            subnet_type=selection.subnet_type,
        ).subnets
        if wanted > len(selected):
            raise ValueError(
                f"IsolatedNetwork: interface_endpoint_azs={wanted}: the workloads' subnets span only "
                f"{len(selected)} AZ(s)"
            )
        return ec2.SubnetSelection(subnets=list(selected[:wanted]))

    @property
    def subnets(self) -> ec2.SubnetSelection:
        """The workloads' subnets, for ``vpc_subnets=`` props: the isolated subnets of the VPC the
        construct made, or ``vpc_subnets`` of a wrapped VPC (default: its default selection)."""
        if self.wraps_existing_vpc:
            return self._subnets or ec2.SubnetSelection()
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

    def allow_https_from(self, security_group: ec2.ISecurityGroup, description: str | None = None) -> None:
        """Let ``security_group`` reach the interface endpoints on port 443."""
        self.endpoint_security_group.add_ingress_rule(
            ec2.Peer.security_group_id(security_group.security_group_id),
            ec2.Port.tcp(443),
            description or "HTTPS to AWS APIs through interface endpoints",
        )

    def _create_flow_log(self, retention: logs.RetentionDays) -> ec2.FlowLog:
        key = customer_managed_key(self, "FlowLogKey", description=f"Encrypts VPC flow logs of {path_of(self)}")
        group_name = unique_physical_name(
            self, f"/vpc-flow-logs/{stack_of(self).stack_name}/{Names.unique_id(self)}", max_length=512
        )
        group = encrypted_log_group(self, "FlowLogGroup", name=group_name, key=key, retention=retention)
        role = ManagedPolicyRole(
            self, "FlowLogRole", assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"),
            description="Delivers this VPC's flow logs to its log group",
        )
        return ec2.FlowLog(
            self,
            "FlowLog",
            resource_type=ec2.FlowLogResourceType.from_vpc(self.vpc),
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(group, role),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

    def _acknowledge_default_sg_provider(self) -> None:
        stack = stack_of(self)
        provider = stack.node.try_find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
        if provider is None:
            return
        handler = provider.node.try_find_child("Handler")
        for check in ("CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117"):
            acknowledge(handler, check, RESTRICT_DEFAULT_SG_PROVIDER_REASON)
        handler.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})


def _endpoint_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-")) + "Endpoint"


def _validate(
    *,
    vpc: ec2.IVpc | None,
    vpc_subnets: ec2.SubnetSelection | None,
    max_azs: int | None,
    availability_zones: Sequence[str] | None,
    cidr: str | None,
    interface_endpoints: Sequence[str],
    gateway_endpoints: Sequence[str],
    flow_log_retention: logs.RetentionDays | None,
    interface_endpoint_azs: int | None,
    tags: Mapping[str, str] | None,
) -> None:
    name = "IsolatedNetwork"
    require_type(name, "vpc", vpc, ec2.IVpc)
    require_type(name, "vpc_subnets", vpc_subnets, ec2.SubnetSelection)
    require_type(name, "max_azs", max_azs, int)
    require_type(name, "cidr", cidr, str)
    require_type(name, "flow_log_retention", flow_log_retention, logs.RetentionDays)
    validate_tags(name, tags)
    require_type(name, "interface_endpoint_azs", interface_endpoint_azs, int)
    errors = PropErrors(name)
    errors.check_range("interface_endpoint_azs", interface_endpoint_azs, minimum=1, maximum=6)
    unknown_gateways = [e for e in gateway_endpoints if e not in _GATEWAY_SERVICES]
    errors.check(
        not unknown_gateways and not isinstance(gateway_endpoints, str),
        "gateway_endpoints",
        list(gateway_endpoints) if not isinstance(gateway_endpoints, str) else gateway_endpoints,
        f"must be a list of: {', '.join(_GATEWAY_SERVICES)}",
    )
    if vpc is not None:
        errors.check(
            not isinstance(vpc, IsolatedNetwork), "vpc", getattr(getattr(vpc, "node", None), "path", vpc),
            "is already an IsolatedNetwork: use it directly",
        )
        for prop, value in (("max_azs", max_azs), ("availability_zones", availability_zones), ("cidr", cidr),
                            ("flow_log_retention", flow_log_retention)):
            errors.check(
                value is None, prop, value,
                "describes the VPC the construct makes; with vpc= the VPC is yours (set it there)",
            )
        _check_interface_endpoints(errors, interface_endpoints)
        errors.raise_if_any()
        return
    errors.check(vpc_subnets is None, "vpc_subnets", vpc_subnets, "only with vpc= (the construct's own subnets are isolated)")
    cidr = DEFAULT_CIDR if cidr is None else cidr
    errors.check_range("max_azs", max_azs, minimum=1, maximum=6)
    if availability_zones is not None:
        zones = list(availability_zones) if not isinstance(availability_zones, str) else availability_zones
        errors.check(
            isinstance(zones, list) and 1 <= len(zones) <= 6 and len(set(zones)) == len(zones)
            and all(isinstance(z, str) and (is_token(z) or bool(_AZ_NAME.match(z))) for z in zones),
            "availability_zones",
            zones,
            "must be 1-6 distinct AZ names such as 'us-east-1a'",
        )
        errors.check(
            max_azs is None, "max_azs", max_azs, "give either max_azs or availability_zones (their number)"
        )
    prefix = cidr.rsplit("/", 1)[-1] if "/" in cidr else ""
    errors.check(
        prefix.isdigit() and 16 <= int(prefix) <= 20,
        "cidr",
        cidr,
        "must be an IPv4 CIDR block with a prefix length from /16 to /20 (each subnet is a /22)",
    )
    _check_interface_endpoints(errors, interface_endpoints)
    errors.raise_if_any()


def _check_interface_endpoints(errors: PropErrors, interface_endpoints: Sequence[str]) -> None:
    unknown = [e for e in interface_endpoints if e not in _INTERFACE_SERVICES]
    errors.check(
        not unknown and not isinstance(interface_endpoints, str),
        "interface_endpoints",
        list(interface_endpoints) if not isinstance(interface_endpoints, str) else interface_endpoints,
        f"must be a list of: {', '.join(_INTERFACE_SERVICES)}",
    )
