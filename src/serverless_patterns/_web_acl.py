"""An AWS WAF web ACL of AWS managed rule groups and a per-IP rate limit, with encrypted logs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Names
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from ._defaults import unique_physical_name
from ._log_groups import encrypted_log_group, log_group_arn

if TYPE_CHECKING:
    from aws_cdk import aws_wafv2 as wafv2

#: (priority, name): AWS managed rule groups every public endpoint benefits from.
MANAGED_RULE_GROUPS = (
    (1, "AWSManagedRulesAmazonIpReputationList"),
    (2, "AWSManagedRulesCommonRuleSet"),
    (3, "AWSManagedRulesKnownBadInputsRuleSet"),  # includes the Log4j (CVE-2021-44228) rules
)
RATE_LIMIT_RULE = "RateLimitPerIp"
#: The window WAF counts requests per IP in, for the rate-based rule.
RATE_LIMIT_WINDOW_SECONDS = 300


def managed_web_acl(
    scope: Construct,
    *,
    waf_scope: str,
    rate_limit: int,
    log_key: kms.IKey,
    log_retention: logs.RetentionDays,
) -> tuple[wafv2.CfnWebACL, logs.LogGroup]:
    """A web ACL (``WebAcl``) that allows by default, runs the managed rule groups and blocks an
    IP that sends more than ``rate_limit`` requests in 5 minutes, logging to an encrypted log
    group (``WebAclLogs``, named ``aws-waf-logs-...`` as WAF requires).

    ``waf_scope`` is ``"REGIONAL"`` (API Gateway, ALB) or ``"CLOUDFRONT"`` (us-east-1 only).
    """
    from aws_cdk import aws_wafv2 as wafv2  # here: loading the module costs apps without a web ACL

    rules = [
        wafv2.CfnWebACL.RuleProperty(
            name=name,
            priority=priority,
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name=name
                )
            ),
            visibility_config=_visibility(name),
        )
        for priority, name in MANAGED_RULE_GROUPS
    ]
    rules.append(
        wafv2.CfnWebACL.RuleProperty(
            name=RATE_LIMIT_RULE,
            priority=len(rules) + 1,
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=rate_limit, aggregate_key_type="IP", evaluation_window_sec=RATE_LIMIT_WINDOW_SECONDS
                )
            ),
            visibility_config=_visibility(RATE_LIMIT_RULE),
        )
    )
    web_acl = wafv2.CfnWebACL(
        scope,
        "WebAcl",
        scope=waf_scope,
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        visibility_config=_visibility(Names.unique_id(scope)[-128:]),
        rules=rules,
    )
    # WAF requires log group names that start with "aws-waf-logs-"; unique per stack instance
    # because the group outlives the stack.
    group_name = unique_physical_name(
        scope, f"aws-waf-logs-{Names.unique_resource_name(scope, max_length=400, separator='-')}", max_length=512
    )
    log_group = encrypted_log_group(scope, "WebAclLogs", name=group_name, key=log_key, retention=log_retention)
    logging = wafv2.CfnLoggingConfiguration(
        scope, "WebAclLogging", resource_arn=web_acl.attr_arn, log_destination_configs=[log_group_arn(scope, group_name)]
    )
    logging.node.add_dependency(log_group)
    return web_acl, log_group


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    from aws_cdk import aws_wafv2 as wafv2

    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )
