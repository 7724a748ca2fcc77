"""Fixed monthly cost while idle: what the resources of a template cost with no traffic at all."""

from __future__ import annotations

import json
import math
from typing import Any

from .model import CostLine, Notes
from .prices import PriceTable
from .templates import Stack

#: KMS key age (days) at which the three idle columns are priced: year 1, year 2, year 3 and later.
KEY_AGE_DAYS = (0, 365, 730)
DEFAULT_ROTATION_DAYS = 365
#: Interface endpoints whose subnets cannot be counted from the template are priced in this many AZs.
ASSUMED_ENDPOINT_AZS = 2
#: Lambda's SQS event source mapping long-polls an empty queue (20 s waits); requests a month,
#: assumed: 5 pollers x 3 ReceiveMessage a minute x 43,800 minutes.
IDLE_SQS_POLLER_REQUESTS_PER_MONTH = 5 * 3 * 43_800
PAID_RULE_GROUPS = ("AWSManagedRulesBotControlRuleSet", "AWSManagedRulesATPRuleSet", "AWSManagedRulesACFPRuleSet")
SECONDS_PER_HOUR = 3600

#: Resource types that cost nothing by themselves (usage of the service they configure is priced
#: in the per-document table where the usage profile reaches it).
NO_CHARGE_TYPES = frozenset({
    "AWS::ApiGateway::Account", "AWS::ApiGateway::ApiKey", "AWS::ApiGateway::Authorizer", "AWS::ApiGateway::BasePathMapping",
    "AWS::ApiGateway::Deployment", "AWS::ApiGateway::GatewayResponse", "AWS::ApiGateway::Method", "AWS::ApiGateway::Model",
    "AWS::ApiGateway::RequestValidator", "AWS::ApiGateway::Resource", "AWS::ApiGateway::RestApi", "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::UsagePlan", "AWS::ApiGateway::UsagePlanKey", "AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Authorizer",
    "AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Stage",
    "AWS::ApplicationAutoScaling::ScalableTarget", "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::CDK::Metadata", "AWS::CloudFront::CachePolicy", "AWS::CloudFront::Distribution", "AWS::CloudFront::Function",
    "AWS::CloudFront::OriginAccessControl", "AWS::CloudFront::OriginRequestPolicy", "AWS::CloudFront::ResponseHeadersPolicy",
    "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::EC2::FlowLog", "AWS::EC2::InternetGateway", "AWS::EC2::Route",
    "AWS::EC2::RouteTable", "AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupEgress", "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::Subnet", "AWS::EC2::SubnetRouteTableAssociation", "AWS::EC2::VPC", "AWS::EC2::VPCGatewayAttachment",
    "AWS::EC2::VPCEndpoint", "AWS::Events::Rule", "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::IAM::Role",
    "AWS::KMS::Alias", "AWS::Lambda::EventInvokeConfig", "AWS::Lambda::EventSourceMapping", "AWS::Lambda::Function",
    "AWS::Lambda::LayerVersion", "AWS::Lambda::Permission", "AWS::Lambda::Version", "AWS::Lambda::Alias", "AWS::Lambda::Url",
    "AWS::Logs::Delivery", "AWS::Logs::DeliveryDestination", "AWS::Logs::DeliverySource", "AWS::Logs::LogGroup",
    "AWS::Logs::MetricFilter", "AWS::Logs::ResourcePolicy", "AWS::Logs::SubscriptionFilter",
    "AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::SNS::Subscription", "AWS::SNS::Topic", "AWS::SNS::TopicPolicy",
    "AWS::SQS::Queue", "AWS::SQS::QueuePolicy", "AWS::SSM::Parameter", "AWS::SecretsManager::ResourcePolicy",
    "AWS::StepFunctions::StateMachine",
    "AWS::SecretsManager::RotationSchedule", "AWS::WAFv2::LoggingConfiguration", "AWS::WAFv2::WebACLAssociation",
    "AWS::CloudTrail::Trail",
})
PRICED_TYPES = frozenset({
    "AWS::KMS::Key", "AWS::KMS::ReplicaKey", "AWS::EC2::VPCEndpoint", "AWS::EC2::NatGateway", "AWS::WAFv2::WebACL",
    "AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm", "AWS::CloudWatch::Dashboard", "AWS::SecretsManager::Secret",
    "AWS::CloudTrail::Trail", "AWS::DynamoDB::Table", "AWS::Lambda::Function", "AWS::Lambda::Alias", "AWS::Lambda::Version",
    "AWS::ApiGateway::Stage", "AWS::Route53::HostedZone", "AWS::Route53::HealthCheck", "AWS::Lambda::EventSourceMapping",
})


def idle_lines(stack: Stack, prices: PriceTable, notes: Notes) -> list[CostLine]:
    """Every fixed monthly charge of ``stack``, one line per resource and charge."""
    lines: list[CostLine] = []
    hours = prices.hours_per_month

    def add(logical_id: str, item: str, quantity: float, unit: str, key: str, by_year: tuple[float, float, float] | None = None) -> None:
        price = prices.per_unit(key)
        monthly = quantity * price
        lines.append(CostLine(
            stack=stack.name, logical_id=logical_id, resource_type=stack.type_of(logical_id) or "", item=item,
            quantity=quantity, unit=unit, unit_price=price, price_key=key, cost=monthly,
            cost_by_year=by_year if by_year is not None else (monthly, monthly, monthly),
        ))

    for logical_id, props in stack.of_type("AWS::KMS::Key", "AWS::KMS::ReplicaKey"):
        by_year = tuple(_kms_month(stack, props, days, prices) for days in KEY_AGE_DAYS)
        rotates = stack.value(props.get("EnableKeyRotation")) in (True, "true")
        period = stack.number(props.get("RotationPeriodInDays"), DEFAULT_ROTATION_DAYS)
        item = f"customer managed key, rotated every {period:g} days" if rotates else "customer managed key (no rotation)"
        add(logical_id, item, 1, "key", "kms.key_month", by_year)  # type: ignore[arg-type]

    for logical_id, props in stack.of_type("AWS::EC2::VPCEndpoint"):
        kind = stack.value(props.get("VpcEndpointType")) or "Gateway"
        service = _service_name(props.get("ServiceName"))
        if kind == "Interface":
            azs, counted = _endpoint_azs(stack, props)
            if not counted:
                notes.assume(f"{stack.name}/{logical_id}: subnets not countable from the template; priced in {azs} AZs")
            add(logical_id, f"interface endpoint {service} in {azs} AZs", azs * hours, "endpoint-AZ-hours", "vpce.interface_az_hour")
        elif kind == "Gateway":
            notes.note(f"{stack.name}/{logical_id}: gateway endpoint ({service}) has no charge")

    for logical_id, _props in stack.of_type("AWS::EC2::NatGateway"):
        add(logical_id, "NAT gateway", hours, "hours", "nat.hour")

    for logical_id, props in stack.of_type("AWS::WAFv2::WebACL"):
        add(logical_id, "web ACL", 1, "web ACL", "waf.web_acl_month")
        rules = props.get("Rules") or []
        if rules:
            add(logical_id, "rules and rule groups of the web ACL", len(rules), "rules", "waf.rule_month")
        paid = sorted(name for name in PAID_RULE_GROUPS if name in json.dumps(rules))
        if paid:
            add(logical_id, f"paid managed rule groups ({', '.join(paid)})", len(paid), "subscriptions", "waf.paid_rule_group_month")

    for logical_id, props in stack.of_type("AWS::CloudWatch::Alarm"):
        metrics, high_resolution, kind = _alarm_metrics(stack, props)
        key = "cloudwatch.high_res_alarm_metric_month" if high_resolution else "cloudwatch.alarm_metric_month"
        resolution = "high-resolution" if high_resolution else "standard"
        add(logical_id, f"{kind} alarm, {resolution} ({metrics} alarm metric{'s' if metrics != 1 else ''})", metrics, "alarm metrics", key)

    for logical_id, _props in stack.of_type("AWS::CloudWatch::CompositeAlarm"):
        add(logical_id, "composite alarm", 1, "alarm", "cloudwatch.composite_alarm_month")

    for logical_id, _props in stack.of_type("AWS::CloudWatch::Dashboard"):
        add(logical_id, "dashboard", 1, "dashboard", "cloudwatch.dashboard_month")

    for logical_id, props in stack.of_type("AWS::SecretsManager::Secret"):
        replicas = len(props.get("ReplicaRegions") or [])
        add(logical_id, "secret" + (f" and {replicas} replicas" if replicas else ""), 1 + replicas, "secrets", "secretsmanager.secret_month")

    trails_with_management = 0
    for logical_id, props in stack.of_type("AWS::CloudTrail::Trail"):
        if _records_management_events(props):
            trails_with_management += 1
            notes.note(f"{stack.name}/{logical_id}: a trail has no fixed charge; data events are priced per document")
    if trails_with_management:
        notes.assume(
            "CloudTrail management events are free only for the first copy in each Region: priced as the account's only "
            "trail; a second trail recording them costs $2.00 per 100,000 events"
        )

    lines += _dynamodb_provisioned(stack, prices, hours)
    lines += _lambda_fixed(stack, prices, hours)

    for logical_id, props in stack.of_type("AWS::ApiGateway::Stage"):
        if stack.value(props.get("CacheClusterEnabled")) in (True, "true"):
            size = str(stack.value(props.get("CacheClusterSize")) or "0.5")
            if size == "0.5":
                add(logical_id, "API cache, 0.5 GB", hours, "cache-hours", "apigateway.cache_0_5gb_hour")
            else:
                notes.unpriced(f"{stack.name}/{logical_id}: API cache of {size} GB (only 0.5 GB is in the price table)")

    for logical_id, _props in stack.of_type("AWS::Route53::HostedZone"):
        add(logical_id, "hosted zone", 1, "zone", "route53.hosted_zone_month")
    for logical_id, _props in stack.of_type("AWS::Route53::HealthCheck"):
        add(logical_id, "health check", 1, "check", "route53.health_check_month")

    for logical_id, props in stack.of_type("AWS::Lambda::EventSourceMapping"):
        source = stack.refs(props.get("EventSourceArn"))
        if any(stack.type_of(s) == "AWS::SQS::Queue" for s in source):
            add(logical_id, "Lambda polling an empty SQS queue (long polls)", IDLE_SQS_POLLER_REQUESTS_PER_MONTH, "requests", "sqs.requests_1m")
    if any(line.price_key == "sqs.requests_1m" for line in lines):
        notes.assume(
            f"an SQS event source mapping long-polls an empty queue: {IDLE_SQS_POLLER_REQUESTS_PER_MONTH:,} "
            "ReceiveMessage requests a month (5 pollers, 20 s waits); not read on an AWS page"
        )

    for logical_id, resource in stack.resources.items():
        kind = resource.get("Type", "")
        if kind not in NO_CHARGE_TYPES and kind not in PRICED_TYPES and not kind.startswith("Custom::"):
            notes.unpriced(f"{kind} (e.g. {stack.name}/{logical_id}) is not in the cost model")
    return lines


def _kms_month(stack: Stack, props: dict[str, Any], age_days: int, prices: PriceTable) -> float:
    rotates = stack.value(props.get("EnableKeyRotation")) in (True, "true")
    period = stack.number(props.get("RotationPeriodInDays"), DEFAULT_ROTATION_DAYS) or DEFAULT_ROTATION_DAYS
    rotations = min(int(prices["kms.max_charged_rotations"]), math.floor(age_days / period)) if rotates else 0
    return prices["kms.key_month"] + rotations * prices["kms.rotation_month"]


def _service_name(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text.rsplit(".", 1)[-1].strip('"]} ')


def _endpoint_azs(stack: Stack, props: dict[str, Any]) -> tuple[int, bool]:
    subnets = props.get("SubnetIds")
    if not isinstance(subnets, list) or not subnets:
        return ASSUMED_ENDPOINT_AZS, False
    zones = set()
    for subnet in subnets:
        ids = stack.refs(subnet)
        subnet_props = stack.properties(next(iter(ids))) if len(ids) == 1 else {}
        zone = subnet_props.get("AvailabilityZone")
        zones.add(json.dumps(zone, sort_keys=True) if zone is not None else json.dumps(subnet, sort_keys=True))
    return len(zones), True


def _alarm_metrics(stack: Stack, props: dict[str, Any]) -> tuple[int, bool, str]:
    """(alarm metrics billed, high resolution, kind): metric-math alarms are billed per metric they read."""
    metrics = props.get("Metrics")
    if not metrics:
        period = stack.number(props.get("Period"), 60) or 60
        anomaly = "ThresholdMetricId" in props
        return (3 if anomaly else 1), period < 60, "anomaly-detection" if anomaly else "metric"
    stats = [m for m in metrics if isinstance(m, dict) and "MetricStat" in m]
    expressions = [str(m.get("Expression", "")) for m in metrics if isinstance(m, dict) and "Expression" in m]
    bands = sum(e.count("ANOMALY_DETECTION_BAND") for e in expressions)
    periods = [stack.number(m["MetricStat"].get("Period"), 60) or 60 for m in stats]
    count = max(1, len(stats)) + 2 * bands
    kind = "metric-math" if expressions else "metric"
    if any("SELECT" in e.upper() for e in expressions):
        kind = "Metrics Insights"
    return count, bool(periods) and min(periods) < 60, kind


def _records_management_events(props: dict[str, Any]) -> bool:
    advanced = props.get("AdvancedEventSelectors")
    if advanced:
        return "Management" in json.dumps(advanced)
    selectors = props.get("EventSelectors")
    if selectors:
        return any(s.get("IncludeManagementEvents", True) not in (False, "false") for s in selectors)
    return True


def _dynamodb_provisioned(stack: Stack, prices: PriceTable, hours: int) -> list[CostLine]:
    """Provisioned capacity, at the auto-scaling minimum where a scalable target governs it."""
    minimums: dict[tuple[str, str], float] = {}
    for _target_id, props in stack.of_type("AWS::ApplicationAutoScaling::ScalableTarget"):
        dimension = str(stack.value(props.get("ScalableDimension")) or "")
        if not dimension.startswith("dynamodb:table:"):
            continue
        for table in stack.refs(props.get("ResourceId")):
            minimum = stack.number(props.get("MinCapacity"))
            if minimum is not None:
                minimums[(table, dimension.rsplit(":", 1)[-1])] = minimum
    lines = []
    for logical_id, props in stack.of_type("AWS::DynamoDB::Table"):
        if (stack.value(props.get("BillingMode")) or "PROVISIONED") != "PROVISIONED":
            continue
        throughput = props.get("ProvisionedThroughput") or {}
        for dimension, key, label in (("ReadCapacityUnits", "dynamodb.rcu_hour", "RCU"), ("WriteCapacityUnits", "dynamodb.wcu_hour", "WCU")):
            units = minimums.get((logical_id, dimension), stack.number(throughput.get(dimension), 0) or 0)
            units += sum(stack.number((gsi.get("ProvisionedThroughput") or {}).get(dimension), 0) or 0 for gsi in props.get("GlobalSecondaryIndexes") or [])
            if units:
                scaled = " (auto-scaling minimum)" if (logical_id, dimension) in minimums else ""
                cost = units * hours * prices[key]
                lines.append(CostLine(
                    stack=stack.name, logical_id=logical_id, resource_type="AWS::DynamoDB::Table",
                    item=f"provisioned {label}: {units:g}{scaled}", quantity=units * hours, unit=f"{label}-hours",
                    unit_price=prices[key], price_key=key, cost=cost, cost_by_year=(cost, cost, cost),
                ))
    return lines


def _lambda_fixed(stack: Stack, prices: PriceTable, hours: int) -> list[CostLine]:
    """SnapStart snapshot caching and provisioned concurrency."""
    lines = []
    seconds = hours * SECONDS_PER_HOUR
    for logical_id, props in stack.of_type("AWS::Lambda::Function"):
        memory_gb = (stack.number(props.get("MemorySize"), 128) or 128) / 1024
        if (props.get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions":
            versions = sum(1 for _, v in stack.of_type("AWS::Lambda::Version") if logical_id in stack.refs(v.get("FunctionName"))) or 1
            quantity = versions * memory_gb * seconds
            cost = quantity * prices["lambda.snapstart_cache_gb_second"]
            lines.append(CostLine(
                stack=stack.name, logical_id=logical_id, resource_type="AWS::Lambda::Function",
                item=f"SnapStart snapshot cache, {versions} version(s) x {memory_gb * 1024:g} MB", quantity=quantity,
                unit="GB-seconds", unit_price=prices["lambda.snapstart_cache_gb_second"], price_key="lambda.snapstart_cache_gb_second",
                cost=cost, cost_by_year=(cost, cost, cost),
            ))
    for logical_id, props in stack.of_type("AWS::Lambda::Alias", "AWS::Lambda::Version"):
        executions = stack.number((props.get("ProvisionedConcurrencyConfig") or {}).get("ProvisionedConcurrentExecutions"), 0) or 0
        if not executions:
            continue
        functions = [f for f in stack.refs(props.get("FunctionName")) if stack.type_of(f) == "AWS::Lambda::Function"]
        function = stack.properties(functions[0]) if functions else {}
        memory_gb = (stack.number(function.get("MemorySize"), 128) or 128) / 1024
        architecture = (function.get("Architectures") or ["x86_64"])[0]
        key = f"lambda.provisioned_gb_second_{'arm64' if architecture == 'arm64' else 'x86_64'}"
        quantity = executions * memory_gb * seconds
        cost = quantity * prices[key]
        lines.append(CostLine(
            stack=stack.name, logical_id=logical_id, resource_type=stack.type_of(logical_id) or "",
            item=f"provisioned concurrency {executions:g} x {memory_gb * 1024:g} MB", quantity=quantity, unit="GB-seconds",
            unit_price=prices[key], price_key=key, cost=cost, cost_by_year=(cost, cost, cost),
        ))
    return lines
