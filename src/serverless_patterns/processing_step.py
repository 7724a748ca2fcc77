"""ProcessingStep: one user function or state machine a DocumentPipeline runs after validation.

A step (or a content-type validator) is the user's Lambda function. The pipeline's step
coordinator invokes it asynchronously with the step input; Lambda retries a failed invocation
``retries`` times and sends its invocation record (success or failure) to the pipeline's
step-results queue, where the coordinator records the status the function returned, or marks the
document ``FAILED`` and forwards the record to this step's failure queue, which alarms.

A step may instead be the user's (Standard) state machine: the coordinator starts the step's
:class:`~serverless_patterns._step_runner.StepRunner`, which runs the state machine, retries it
and sends the same kind of record to the same queue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ._alarms import notify
from ._validation import PropErrors, is_token
from .alert_topic import AlertTopic
from .alerting_function import Invocation, _AsyncFailureDestination
from .secure_queue import SecureQueue
from ._kernel import path_of

if TYPE_CHECKING:  # Step Functions is imported only by apps with a state-machine step
    from aws_cdk import aws_stepfunctions as sfn

    from ._step_runner import StepRunner

#: Lambda's limits for EventInvokeConfig: retries and the age of an event.
MAX_RETRIES = 2
MIN_TIMEOUT = Duration.seconds(60)
MAX_TIMEOUT = Duration.hours(6)
#: A status a step may return: what the notifier and the status index accept.
STATUS_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{0,39}$")
#: Statuses the pipeline itself sets; a step returns statuses of its own.
BUILT_IN_STATUSES = ("AWAITING_UPLOAD", "VALIDATED", "PROCESSED", "REJECTED", "FAILED", "DELETED")
#: How long a failure queue keeps the records of failed documents (its dead-letter queue: 14 days).
FAILURE_RETENTION = Duration.days(7)
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,63}$")


class ProcessingStep(Construct):
    """A step of a :class:`~serverless_patterns.DocumentPipeline` (made by ``add_processing_step``).

    ``results_queue``, ``encryption_key`` (of the failure queue), ``log_key`` (of a runner's log)
    and ``alert_topic`` are the pipeline's. For a ``function``, creates its ``EventInvokeConfig``
    (``retries``, maximum event age ``timeout``, success and failure records to the pipeline's
    step-results queue); for a ``state_machine``, a :class:`StepRunner` (``retries``, ``timeout``
    of each attempt) whose failed executions alarm. Both get the step's failure queue (a
    :class:`SecureQueue` under the documents key, 7 days) and an alarm on it.

    Attributes
    ----------
    function
        The user's function (None for a state-machine step).
    state_machine
        The user's state machine (None for a function step).
    runner
        The :class:`StepRunner` of a state-machine step (else None).
    target_arn
        What the coordinator starts: the function's ARN, or the runner's.
    statuses
        The statuses the step may return (empty for a validator: VALIDATED or REJECTED).
    failure_queue
        Invocation records of the documents this step failed.
    failure_alarm
        In ALARM while the failure queue holds a record.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: lambda_.IFunction | None = None,
        state_machine: sfn.IStateMachine | None = None,
        statuses: Sequence[str],
        results_queue: sqs.IQueue,
        encryption_key: kms.IKey,
        alert_topic: AlertTopic | sns.ITopic,
        log_key: kms.IKey | None = None,
        retries: int = MAX_RETRIES,
        timeout: Duration | None = None,
        description: str,
    ) -> None:
        super().__init__(scope, id)
        if (function is None) == (state_machine is None):
            raise ValueError(f"ProcessingStep {id!r}: pass exactly one of function and state_machine")
        self.function = function
        self.state_machine = state_machine
        self.statuses: tuple[str, ...] = tuple(statuses)
        self.retries = retries
        self.timeout: Duration = timeout or MAX_TIMEOUT
        self.failure_queue: SecureQueue = SecureQueue(
            self,
            "Failures",
            encryption_key=encryption_key,
            retention_period=FAILURE_RETENTION,
            alarm_topic=alert_topic,
            oldest_message_age_alarm_threshold=None,
        )
        self.failure_alarm: cloudwatch.Alarm = self.failure_queue.metric_visible_messages(period=Duration.minutes(1), statistic="Maximum").create_alarm(
            self,
            "FailuresAlarm",
            alarm_description=f"{description} failed a document: its invocation record waits in {path_of(self.failure_queue)}",
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        notify(self, self.failure_alarm, alert_topic)
        self.runner: StepRunner | None = None
        self.invoke_config: lambda_.EventInvokeConfig | None = None
        if state_machine is not None:
            from ._step_runner import StepRunner

            self.runner = StepRunner(
                self,
                "Runner",
                state_machine=state_machine,
                results_queue=results_queue,
                log_key=log_key or encryption_key,
                retries=retries,
                timeout=self.timeout,
                description=description,
            )
            notify(self, self.runner.failed_alarm, alert_topic)
            self.target_arn: str = self.runner.state_machine.state_machine_arn
            return
        assert function is not None
        self.target_arn = function.function_arn
        self.invoke_config = lambda_.EventInvokeConfig(
            self,
            "InvokeConfig",
            function=function,
            qualifier="$LATEST",
            retry_attempts=retries,
            max_event_age=self.timeout,
            on_success=_AsyncFailureDestination(results_queue),
            on_failure=_AsyncFailureDestination(results_queue),
        )


def check_step(
    errors: PropErrors,
    *,
    id: object,
    function: object,
    state_machine: object = None,
    statuses: object,
    retries: object,
    timeout: object,
    existing: Sequence[str],
) -> None:
    """Record what is wrong with the arguments of ``add_processing_step``."""
    errors.check(isinstance(id, str) and bool(_ID.match(id)), "id", id, "must be a construct id of letters and digits, starting with a letter")
    errors.check(id not in existing, "id", id, "a processing step of that id exists already")
    if function is None and state_machine is None:
        errors.add("function", None, "pass a lambda_.IFunction as function, or a sfn.IStateMachine as state_machine")
    elif function is not None and state_machine is not None:
        errors.add("state_machine", state_machine, "pass function or state_machine, not both")
    elif function is not None:
        errors.check(hasattr(function, "function_arn"), "function", function, "must be a lambda_.IFunction")
    else:
        errors.check(hasattr(state_machine, "state_machine_arn"), "state_machine", state_machine, "must be a sfn.IStateMachine")
        kind = _state_machine_type(state_machine)
        errors.check(
            kind in (None, "STANDARD"),
            "state_machine",
            state_machine,
            f"is an {kind} state machine; a step must be a Standard one (its runner waits for it with "
            "startExecution.sync:2 and names each execution): wrap an Express workflow in a Standard one",
        )
    listed = list(statuses) if isinstance(statuses, (list, tuple)) else None
    errors.check(bool(listed), "statuses", statuses, "must be a non-empty list of status names")
    for status in listed or ():
        errors.check(
            isinstance(status, str) and bool(STATUS_PATTERN.match(status)),
            "statuses",
            status,
            "a status is 1-40 upper-case letters, digits or underscores, starting with a letter",
        )
        errors.check(status not in BUILT_IN_STATUSES, "statuses", status, f"is a built-in status ({', '.join(BUILT_IN_STATUSES)})")
    errors.check(
        isinstance(retries, int) and not isinstance(retries, bool) and 0 <= retries <= MAX_RETRIES,
        "retries",
        retries,
        f"must be 0-{MAX_RETRIES} (Lambda's retries of an asynchronous invocation)",
    )
    if timeout is not None:
        if not isinstance(timeout, Duration):
            errors.add("timeout", timeout, "must be a Duration")
        elif not is_token(timeout):
            seconds = timeout.to_seconds(integral=False)
            errors.check(
                MIN_TIMEOUT.to_seconds() <= seconds <= MAX_TIMEOUT.to_seconds() and seconds == int(seconds),
                "timeout",
                f"{seconds:g} seconds",
                "must be whole seconds from 1 minute to 6 hours (Lambda's maximum event age; for a state "
                "machine, the limit of each attempt)",
            )


def _state_machine_type(state_machine: object) -> str | None:
    """``STANDARD`` or ``EXPRESS`` for a state machine of this app, None when unknown (imported)."""
    from aws_cdk import aws_stepfunctions as sfn

    child = getattr(getattr(state_machine, "node", None), "default_child", None)
    if not isinstance(child, sfn.CfnStateMachine):
        return None
    kind = child.state_machine_type
    if kind is None:
        return "STANDARD"
    return None if is_token(kind) else kind


def wrong_invocation(function: object) -> str | None:
    """Why an :class:`AlertingFunction` cannot be a step as configured; None when it can (or is not one).

    A step invokes its function asynchronously and owns its ``EventInvokeConfig``: an
    AlertingFunction must say so (``Invocation.CALLER_CONFIGURED_ASYNC``), both so that it makes no
    configuration of its own and so that its compliance record names the real failure path.
    """
    invocation = getattr(function, "invocation", None)
    if invocation is None or invocation is Invocation.CALLER_CONFIGURED_ASYNC:
        return None
    return (
        f"is an AlertingFunction with invocation={invocation}; a step invokes it asynchronously and "
        "configures its retries and destinations: use invocation=Invocation.CALLER_CONFIGURED_ASYNC"
    )


def existing_invoke_config(function: object) -> bool:
    """Whether the function already has an EventInvokeConfig (CDK's, or an AlertingFunction's)."""
    for candidate in (function, getattr(function, "function", None)):
        node = getattr(candidate, "node", None)
        if node is not None and node.try_find_child("EventInvokeConfig") is not None:
            return True
    return False
