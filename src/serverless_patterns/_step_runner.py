"""StepRunner: the Standard state machine that runs a user's state machine as a processing step.

The step coordinator starts one runner execution per document and status version (the name makes
a replayed start a no-op). The runner starts the user's state machine and waits for it
(``startExecution.sync:2``), retrying a failed or timed-out execution, then sends a record shaped
like Lambda's invocation record to the pipeline's step-results queue, so the coordinator reads one
format for both kinds of step:

- success: ``requestContext.condition = "Success"``, ``responsePayload`` = the execution's output;
- failure: ``condition = "RetriesExhausted"``, ``responsePayload = {"errorType", "errorMessage"}``
  (the last attempt's ``Error`` and ``Cause``).

``requestPayload`` is the step input, ``requestContext.requestId`` the runner execution's ARN.
A runner that cannot send its record fails; the alarm on its failed executions says so.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Arn, ArnFormat, Aws, Duration, Names
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from . import _actions
from ._defaults import DEFAULT_LOG_RETENTION, unique_physical_name
from ._kernel import account_of, path_of, stack_of
from ._log_groups import encrypted_log_group
from ._roles import ManagedPolicyRole, service_policy
from ._validation import is_token
from .alerting_function import _grant_send
from .compliance import nag_resource

#: What the runner's role needs for X-Ray tracing and for delivering its logs to CloudWatch Logs
#: (Step Functions developer guide, "IAM policies for logging to CloudWatch Logs"; X-Ray tracing).
LOG_DELIVERY_ACTIONS = [
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
]
XRAY_ACTIONS = [*_actions.XRAY_WRITE, "xray:GetSamplingRules", "xray:GetSamplingTargets"]
SERVICE_POLICY_REASON = (
    "Step Functions' log delivery actions (logs:*LogDelivery*, logs:PutResourcePolicy, "
    "logs:DescribeResourcePolicies, logs:DescribeLogGroups) and X-Ray tracing have no resource-level "
    "permissions, so their resource is '*'. They sit in a policy of their own so that no other "
    "statement shares this acknowledgement."
)
CHILD_EXECUTIONS_REASON = (
    "A runner waits for the step's state machine with startExecution.sync:2, which describes and, on "
    "timeout, stops the execution it started; executions are named at run time, so the resource is "
    "every execution of exactly that state machine (execution:<name>:*), as Step Functions documents."
)
#: The EventBridge rule Step Functions manages in the account to learn that a child execution ended.
SYNC_EVENTS_RULE = "StepFunctionsGetEventsForStepFunctionsExecutionRule"
#: How the runner retries a failed attempt of the step: as Lambda spaces asynchronous retries.
RETRY_INTERVAL_SECONDS = 60
RETRY_BACKOFF_RATE = 2
#: Sends of the record to the step-results queue: retried quickly before the runner fails.
SEND_RETRIES = 6


def runner_definition(*, state_machine_arn: str, results_queue_url: str, retries: int, timeout_seconds: int) -> dict[str, Any]:
    """The runner's Amazon States Language definition (JSONPath), with tokens left as they are."""
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp.$": "$$.State.EnteredTime",
        "requestPayload.$": "$$.Execution.Input",
    }

    def send(condition: str, response: dict[str, str], attempts: int | None) -> dict[str, Any]:
        context: dict[str, Any] = {"requestId.$": "$$.Execution.Id", "functionArn": state_machine_arn, "condition": condition}
        if attempts is not None:
            context["approximateInvokeCount"] = attempts
        return {
            "Type": "Task",
            "Resource": f"arn:{Aws.PARTITION}:states:::sqs:sendMessage",
            "Parameters": {"QueueUrl": results_queue_url, "MessageBody": {**record, "requestContext": context, **response}},
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": SEND_RETRIES, "BackoffRate": 2}],
            "End": True,
        }

    run: dict[str, Any] = {
        "Type": "Task",
        "Resource": f"arn:{Aws.PARTITION}:states:::states:startExecution.sync:2",
        "Parameters": {
            "StateMachineArn": state_machine_arn,
            "Input.$": "$",
            "Name.$": "States.Format('{}-{}', $$.Execution.Name, $$.State.RetryCount)",
        },
        "TimeoutSeconds": timeout_seconds,
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$", "Next": "SendFailure"}],
        "Next": "SendSuccess",
    }
    if retries:
        run["Retry"] = [{
            "ErrorEquals": ["States.ALL"], "IntervalSeconds": RETRY_INTERVAL_SECONDS, "MaxAttempts": retries,
            "BackoffRate": RETRY_BACKOFF_RATE,
        }]
    return {
        "Comment": "Runs a processing step's state machine for one document and records its result",
        "StartAt": "RunStep",
        "States": {
            "RunStep": run,
            "SendSuccess": send("Success", {"responsePayload.$": "$.Output"}, None),
            "SendFailure": send(
                "RetriesExhausted", {"responsePayload": {"errorType.$": "$.Error", "errorMessage.$": "$.Cause"}}, retries + 1
            ),
        },
    }


class StepRunner(Construct):
    """Runs ``state_machine`` for the documents of one processing step (see the module docstring).

    Creates a Standard state machine with its own role (trusted by Step Functions of this account
    only), logging ``ALL`` events to a log group encrypted with ``log_key`` and X-Ray tracing, and an
    alarm on its failed executions (notified by the caller). ``timeout`` bounds each attempt.

    Attributes
    ----------
    state_machine
        The runner (``sfn.StateMachine``).
    log_group
        Its execution log.
    failed_alarm
        In ALARM when an execution failed: a step's result could not be recorded.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        state_machine: sfn.IStateMachine,
        results_queue: sqs.IQueue,
        log_key: kms.IKey,
        retries: int,
        timeout: Duration,
        description: str,
    ) -> None:
        super().__init__(scope, id)
        stack = stack_of(self)
        self.role = ManagedPolicyRole(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "states.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": account_of(self)},
                    "ArnLike": {"aws:SourceArn": stack.format_arn(
                        service="states", resource="stateMachine", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
                    )},
                },
            ),
            description=f"Role of {description}",
        )
        # Step Functions documents /aws/vendedlogs/ names (they keep the log group's resource policy
        # small); the name is unique per stack instance because the group outlives the stack.
        log_group_name = unique_physical_name(
            self, f"/aws/vendedlogs/states/{Names.unique_resource_name(self, max_length=200, separator='-')}", max_length=512
        )
        self.log_group: logs.LogGroup = encrypted_log_group(
            self, "Logs", name=log_group_name, key=log_key, retention=DEFAULT_LOG_RETENTION
        )
        policies = [
            service_policy(
                self,
                "ServicePolicy",
                role=self.role,
                statements=[
                    iam.PolicyStatement(actions=LOG_DELIVERY_ACTIONS, resources=["*"]),
                    iam.PolicyStatement(actions=XRAY_ACTIONS, resources=["*"]),
                ],
                description=f"Lets {description} deliver its logs and traces",
                findings=["AwsSolutions-IAM5[Resource::*]"],
                reason=SERVICE_POLICY_REASON,
            ),
            self._child_execution_policy(state_machine),
        ]
        iam.Grant.add_to_principal(grantee=self.role, actions=["states:StartExecution"], resource_arns=[state_machine.state_machine_arn])
        iam.Grant.add_to_principal(
            grantee=self.role,
            actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            resource_arns=[stack.format_arn(service="events", resource="rule", resource_name=SYNC_EVENTS_RULE)],
        )
        _grant_send(results_queue, self.role)
        definition = runner_definition(
            state_machine_arn=state_machine.state_machine_arn,
            results_queue_url=results_queue.queue_url,
            retries=retries,
            timeout_seconds=int(timeout.to_seconds()),
        )
        self.state_machine: sfn.StateMachine = sfn.StateMachine(
            self,
            "Resource",
            definition_body=sfn.DefinitionBody.from_string(stack.to_json_string(definition)),
            state_machine_type=sfn.StateMachineType.STANDARD,
            role=self.role,
            comment=f"Runs {description}",
        )
        # Logging and tracing set here rather than through the L2's props, which would put their
        # '*' statements in the role's general policy; the state machine waits for every policy
        # (CreateStateMachine checks the log delivery permissions).
        cfn = self.state_machine.node.default_child
        assert isinstance(cfn, sfn.CfnStateMachine)
        cfn.logging_configuration = sfn.CfnStateMachine.LoggingConfigurationProperty(
            level="ALL",
            include_execution_data=False,
            destinations=[sfn.CfnStateMachine.LogDestinationProperty(
                cloud_watch_logs_log_group=sfn.CfnStateMachine.CloudWatchLogsLogGroupProperty(log_group_arn=self.log_group.log_group_arn)
            )],
        )
        cfn.tracing_configuration = sfn.CfnStateMachine.TracingConfigurationProperty(enabled=True)
        for policy in (*policies, self.role.policy):
            self.state_machine.node.add_dependency(policy)
        self.failed_alarm: cloudwatch.Alarm = self.state_machine.metric_failed(
            period=Duration.minutes(1), statistic="Sum"
        ).create_alarm(
            self,
            "FailedAlarm",
            alarm_description=(
                f"{description} could not record a step result: a document waits at its status until the execution "
                f"of {path_of(self.state_machine)} is redriven"
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _child_execution_policy(self, state_machine: sfn.IStateMachine) -> iam.ManagedPolicy:
        """DescribeExecution and StopExecution on the executions of ``state_machine`` alone."""
        stack = stack_of(self)
        arn = state_machine.state_machine_arn
        if is_token(arn):  # a state machine of this app: its name, in this stack's account and Region
            name = getattr(state_machine, "state_machine_name", None) or stack.split_arn(arn, ArnFormat.COLON_RESOURCE_NAME).resource_name
            executions = stack.format_arn(
                service="states", resource="execution", resource_name=f"{name}:*", arn_format=ArnFormat.COLON_RESOURCE_NAME
            )
        else:  # an imported ARN: the same account, Region and partition as the state machine's
            parts = Arn.split(arn, ArnFormat.COLON_RESOURCE_NAME)
            executions = f"arn:{parts.partition}:states:{parts.region}:{parts.account}:execution:{parts.resource_name}:*"
        return service_policy(
            self,
            "ChildExecutionsPolicy",
            role=self.role,
            statements=[iam.PolicyStatement(actions=["states:DescribeExecution", "states:StopExecution"], resources=[executions])],
            description=f"Lets {path_of(self)} follow the executions it starts",
            findings=[f"AwsSolutions-IAM5[Resource::{nag_resource(self, executions)}]"],
            reason=CHILD_EXECUTIONS_REASON,
        )
