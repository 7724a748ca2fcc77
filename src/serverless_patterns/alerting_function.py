"""AlertingFunction: a Lambda function that tells someone when it fails."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import jsii
from aws_cdk import Annotations, ArnFormat, Duration, Fn, RemovalPolicy, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import _actions
from ._alarms import threshold_alarm
from ._interop import FunctionInterface
from ._defaults import DEFAULT_LOG_RETENTION, STATEFUL_REMOVAL_POLICY, customer_managed_key
from ._prop_types import check_prop_types, constructor_defaults
from ._resource_policies import check_key_region, require_key_statement
from ._roles import LIST_STREAMS_POLICY_ID, ManagedPolicyRole, allow_list_streams, service_policy
from ._validation import PropErrors, duration_seconds, is_token, require_type
from .alert_topic import AlertTopic, check_email
from .compliance import acknowledge, acknowledge_all, in_every_pack
from .tagging import apply_tags, validate_tags
from ._kernel import child_of, default_child_of, name_of, path_of, region_of, runtime_is_variable, stack_of

#: Runtimes accepted, newest first, with the date Lambda deprecates each (end of standard support).
#: Older runtimes (python3.10 and earlier, nodejs20.x and earlier) are deprecated and refused.
SUPPORTED_RUNTIMES: Mapping[str, str] = {
    "python3.14": "2029-06-30",
    "python3.13": "2029-06-30",
    "python3.12": "2028-10-31",
    "python3.11": "2027-06-30",
    "nodejs24.x": "2028-04-30",
    "nodejs22.x": "2027-04-30",
}

class Invocation(enum.Enum):
    """How a function is invoked, which decides where its failures can go.

    Only asynchronous invocations (S3, SNS, EventBridge, ``InvocationType=Event``) have a failure
    path of their own: retries, then the dead-letter queue or an on-failure destination. A
    synchronous caller (API Gateway, a load balancer, an SDK ``RequestResponse`` call) receives the
    error itself, and an event source mapping retries and discards by its own settings (an SQS
    queue's redrive policy, a stream mapping's on-failure destination); a dead-letter queue or an
    ``EventInvokeConfig`` on such a function never receives anything while its alarm suggests
    coverage.
    """

    #: Invoked asynchronously (also, or only): dead-letter queue, retries, EventInvokeConfig, alarm.
    ASYNCHRONOUS = "asynchronous"
    #: Invoked only synchronously: no dead-letter queue, no EventInvokeConfig.
    SYNCHRONOUS = "synchronous"
    #: Invoked only by event source mappings (SQS, DynamoDB streams): failures follow the mapping;
    #: a stream mapping without ``on_failure`` gets the dead-letter queue as its destination.
    EVENT_SOURCE = "event-source"
    #: Invoked asynchronously by a caller that owns the function's ``EventInvokeConfig`` (retries,
    #: event age, success and failure destinations), e.g. a ``DocumentPipeline`` processing step:
    #: no dead-letter queue or ``EventInvokeConfig`` of the function's own.
    CALLER_CONFIGURED_ASYNC = "caller-configured-async"


_DEFAULT_CALLERS = {
    Invocation.SYNCHRONOUS: "a synchronous caller (API Gateway or an SDK RequestResponse call)",
    Invocation.EVENT_SOURCE: "its event source mappings",
    Invocation.CALLER_CONFIGURED_ASYNC: "a caller that configures its EventInvokeConfig",
}


def no_async_path_reason(invocation: Invocation, invoked_by: str | None) -> str:
    """The acknowledgement reason for a function without a dead-letter queue (CKV_AWS_116, LambdaDLQ)."""
    caller = invoked_by or _DEFAULT_CALLERS[invocation]
    if invocation is Invocation.SYNCHRONOUS:
        return (
            f"Invoked only synchronously by {caller}; the caller receives the error. A dead-letter queue "
            "or on-failure destination receives only failed asynchronous invocations, of which there are none."
        )
    if invocation is Invocation.CALLER_CONFIGURED_ASYNC:
        return (
            f"Invoked asynchronously by {caller}, whose EventInvokeConfig sends every failed invocation, after "
            "its retries, to an on-failure destination that alarms; a dead-letter queue of the function's own "
            "would never receive one."
        )
    return (
        f"Invoked only by {caller}; failed records follow the mapping (the source queue's redrive policy, "
        "a stream mapping's on-failure destination). A function dead-letter queue receives only failed "
        "asynchronous invocations, of which there are none."
    )


#: Why the queue of a stream mapping's failed batches has no dead-letter queue of its own.
STREAM_FAILURES_QUEUE_REASON = (
    "This queue is itself the dead-letter queue: the on-failure destination of the function's stream "
    "event source mappings (records of failed batches), alarmed when it holds a message."
)


#: Defaults of the function itself.
DEFAULT_MEMORY_SIZE = 256
DEFAULT_TIMEOUT = Duration.seconds(10)
DEFAULT_RETRY_ATTEMPTS = 2
#: How long the dead-letter queue keeps failed events (the SQS maximum).
DEAD_LETTER_RETENTION = Duration.days(14)

#: The Powertools for AWS Lambda (Python) layer published by AWS in every commercial Region.
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
POWERTOOLS_LAYER_VERSION = 38
_POWERTOOLS_PYTHON = ("python3.10", "python3.11", "python3.12", "python3.13", "python3.14")
#: The runtimes of :data:`SUPPORTED_RUNTIMES` that Lambda SnapStart supports (Python 3.12 and later).
SNAP_START_RUNTIMES = ("python3.12", "python3.13", "python3.14")
#: The alias that event sources and API integrations invoke when SnapStart is on.
SNAP_START_ALIAS = "live"

NO_VPC_REASON = (
    "The function reaches only AWS service APIs, over TLS with IAM-signed requests, and no private "
    "network resources; a VPC would add network interfaces, NAT or endpoint cost and cold-start "
    "latency without reducing its exposure. Pass vpc= when it must reach private resources."
)
NO_RESERVED_CONCURRENCY_REASON = (
    "No reserved concurrency by default: a reservation is carved out of the account's regional pool "
    "and fails to deploy when it would leave less than the minimum unreserved concurrency (10 in new "
    "accounts, 100 otherwise). Throttles are alarmed instead; set reserved_concurrent_executions to "
    "cap or guarantee capacity."
)
DEPLOY_TIME_RESERVED_CONCURRENCY_REASON = (
    "Reserved concurrency is chosen at deploy time (a CloudFormation parameter or condition) and may be "
    "none: a reservation fails to deploy when it would leave less than the minimum unreserved "
    "concurrency (10 in new accounts, 100 otherwise). Throttles are alarmed either way."
)
DLQ_REASON = "This queue is the function's dead-letter queue; a dead-letter queue has no dead-letter queue of its own."
ASYNC_FAILURES_TO_DLQ_REASON = (
    "Failed asynchronous invocations go to the function's dead-letter queue (DeadLetterConfig); an "
    "on-failure destination would deliver each failure a second time. Pass on_failure to add one."
)
SQS_SOURCE_FAILURES_REASON = (
    "Event source mappings for SQS accept no on-failure destination; messages that keep failing move "
    "to the source queue's own dead-letter queue through its redrive policy."
)
XRAY_REASON = (
    "X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) has no resource-level permissions, "
    "so the actions are allowed on '*' as in AWSXrayWriteOnlyAccess. They sit in a policy of their own "
    "so that no other statement shares this acknowledgement."
)

NETWORK_INTERFACES_REASON = (
    "Lambda creates, describes and deletes the network interfaces of a function in a VPC with the "
    "execution role; these are the actions of AWSLambdaVPCAccessExecutionRole, on '*' as there: "
    "ec2:Describe* takes no resource, and the interfaces do not exist before Lambda creates them. "
    "They sit in a policy of their own so that no other statement shares this acknowledgement."
)

_ENV_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]+$")  # Lambda's own pattern: at least two characters
_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_RESERVED_ENV = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    }
)
_SECRET_REFERENCE = re.compile(r"\{\{resolve:(secretsmanager|ssm-secure):")


@dataclass(frozen=True)
class AlarmOptions:
    """Thresholds of the alarms an :class:`AlertingFunction` creates.

    Set a threshold to ``None`` to switch that alarm off. Every alarm treats missing data as
    not breaching (no invocations is not a failure).

    Parameters
    ----------
    errors
        Alarm when the function reports at least this many errors (``Errors``, sum) in one period.
        Default: 1.
    throttles
        Alarm when at least this many invocations are throttled (``Throttles``, sum). Default: 1.
    duration_percent_of_timeout
        Alarm when the p99 duration exceeds this percentage of the timeout: the function is about
        to time out. Default: 80.
    dead_letter_messages
        Alarm when the dead-letter queue holds at least this many messages
        (``ApproximateNumberOfMessagesVisible``, maximum). Default: 1.
    iterator_age
        Stream event sources only: alarm when the oldest record a batch read was this old
        (``IteratorAge``, maximum): the function is falling behind the stream. Default: 5 minutes.
    period
        The period of every alarm, a whole number of minutes. Default: 5 minutes.
    evaluation_periods
        How many consecutive breaching periods raise an alarm. Default: 1.
    notify_on_recovery
        Also notify when an alarm returns to OK. Default: True.
    """

    errors: float | None = 1
    throttles: float | None = 1
    duration_percent_of_timeout: float | None = 80
    dead_letter_messages: float | None = 1
    iterator_age: Duration | None = field(default_factory=lambda: Duration.minutes(5))
    period: Duration = field(default_factory=lambda: Duration.minutes(5))
    evaluation_periods: int = 1
    notify_on_recovery: bool = True


#: The alarms every AlertingFunction gets unless told otherwise.
DEFAULT_ALARMS = AlarmOptions()


def powertools_layer(
    scope: Construct,
    runtime: lambda_.Runtime = lambda_.Runtime.PYTHON_3_14,
    architecture: lambda_.Architecture = lambda_.Architecture.ARM_64,
    *,
    version: int = POWERTOOLS_LAYER_VERSION,
) -> lambda_.ILayerVersion:
    """The public Powertools for AWS Lambda (Python) v3 layer for the stack's Region.

    The ARN is ``arn:aws:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-{python3XY}-
    {x86_64|arm64}:{version}``. In an environment-agnostic stack the Region is resolved at deploy
    time (``${AWS::Region}``). The layer is imported once per stack and shared.

    Parameters
    ----------
    scope
        Any construct in the stack that uses the layer.
    runtime
        A Python runtime the layer is built for (3.10-3.14). Default: ``PYTHON_3_14``.
    architecture
        Default: ``ARM_64``.
    version
        The layer version. Default: :data:`POWERTOOLS_LAYER_VERSION`.

    Raises
    ------
    ValueError
        For a runtime without a layer, or a Region outside the commercial partition (China and
        GovCloud publish the layer under other accounts: import it yourself there).
    """
    errors = PropErrors("powertools_layer")
    runtime_name = name_of(runtime)
    architecture_name = name_of(architecture)
    errors.check_one_of("runtime", runtime_name, _POWERTOOLS_PYTHON)
    errors.check_one_of("architecture", architecture_name, ("arm64", "x86_64"))
    errors.check(isinstance(version, int) and version >= 1, "version", version, "must be a positive integer")
    stack = stack_of(scope)
    region = region_of(scope)
    errors.check(
        is_token(region) or not region.startswith(("cn-", "us-gov-")),
        "region",
        region,
        "the public layer is published only in the aws partition; import the layer of your partition",
    )
    errors.raise_if_any()
    layer_name = f"AWSLambdaPowertoolsPythonV3-{runtime_name.replace('.', '')}-{architecture_name}"
    suffix = f":{POWERTOOLS_LAYER_ACCOUNT}:layer:{layer_name}:{version}"
    arn = Fn.sub("arn:aws:lambda:${AWS::Region}" + suffix) if is_token(region) else (
        f"arn:aws:lambda:{region}{suffix}"
    )
    layer_id = f"PowertoolsLayer-{runtime_name}-{architecture_name}-v{version}"
    layer = child_of(stack, layer_id, lambda: lambda_.LayerVersion.from_layer_version_arn(stack, layer_id, arn))
    return cast("lambda_.ILayerVersion", layer)


@jsii.implements(iam.IGrantable)
@jsii.implements(lambda_.IFunction)
class AlertingFunction(FunctionInterface, Construct):
    """A Lambda function that alarms when it fails and cannot be deployed in a sloppy state.

    The construct is a ``lambda_.IFunction``: pass it wherever CDK takes a function (rule
    targets, event sources, subscriptions, integrations). What callers invoke through it is the
    SnapStart alias when ``snap_start`` is on, else the function; the ``lambda_.Function`` it owns
    is :attr:`function`, its metrics are the function's.

    Every function gets its own role whose permissions live in a customer-managed policy (grants
    such as ``bucket.grant_read(fn)`` land there), an encrypted log group with retention, X-Ray
    tracing, environment variables encrypted with a customer-managed key, an encrypted dead-letter
    queue for failed asynchronous invocations, and alarms on errors, throttles, duration near the
    timeout and dead-letter messages that notify an :class:`AlertTopic`.

    Parameters
    ----------
    scope, id
        The construct's parent and id.
    code, handler
        The function's code and entry point, e.g. ``handler_code("example_echo")`` and
        ``handler_entry("example_echo")`` from :mod:`serverless_patterns.handlers` (those
        handlers import Powertools: pass ``powertools=True``).
    runtime
        Default: ``Runtime.PYTHON_3_14``. Python 3.11-3.14 and Node.js 22/24 are accepted;
        deprecated runtimes (``python3.8``, ``nodejs14.x``, ...) are refused. See
        :data:`SUPPORTED_RUNTIMES`.
    architecture
        Default: ``Architecture.ARM_64`` (Graviton: about 20 % cheaper per GB-second). Use
        ``X86_64`` for code with x86-only native dependencies.
    memory_size
        MB, 128-10240. Default: 256.
    timeout
        1-900 seconds, whole seconds. Default: 10 seconds.
    environment
        Environment variables (encrypted at rest with the function's key). Secret values are
        refused: use ``secrets``. Default: none.
    secrets
        ``{"NAME": secret}``: the function may read each secret, and finds its ARN (never its
        value) in the environment variable ``NAME_ARN``. Default: none.
    description, function_name
        Default: none, and a generated name.
    layers
        Further layers. Default: none.
    powertools
        Add the Powertools for AWS Lambda (Python) layer matching runtime and architecture
        (:func:`powertools_layer`) and set ``POWERTOOLS_SERVICE_NAME`` to the construct's id
        unless ``environment`` sets it. Python runtimes only. Default: False.
    log_retention
        Default: ``RetentionDays.ONE_MONTH``. ``INFINITE`` is refused.
    encryption_key
        A KMS key for the log group, the environment and the dead-letter queue; the key policy of a
        ``kms.Key`` of this app gets a statement for CloudWatch Logs. An imported key
        (``kms.Key.from_key_arn``) is used through the role's own policy (environment, dead-letter
        queue); a warning (:data:`~serverless_patterns._resource_policies.KEY_POLICY_WARNING`) names
        the statement its owner must add for CloudWatch Logs. Default: a new customer-managed key.
    reserved_concurrent_executions
        Reserve (and cap) concurrency for this function. Default: none, because a reservation fails
        to deploy in accounts whose unreserved concurrency would drop below the minimum; the
        packs' LambdaConcurrency findings are acknowledged with that reason. A token (e.g.
        ``Fn::If`` on a parameter, see the secure_data_api example) makes it a deploy-time choice,
        acknowledged with :data:`DEPLOY_TIME_RESERVED_CONCURRENCY_REASON`.
    invocation
        How the function is invoked (:class:`Invocation`). ``ASYNCHRONOUS`` creates the dead-letter
        queue, its alarm and the ``EventInvokeConfig`` (retries, event age, ``on_failure``);
        ``SYNCHRONOUS`` and ``EVENT_SOURCE`` create none of them, since they could never receive
        anything, and acknowledge the DLQ rules (CKV_AWS_116, LambdaDLQ) on the function with
        :func:`no_async_path_reason`. Default: ``ASYNCHRONOUS``.
    invoked_by
        Who invokes a ``SYNCHRONOUS`` or ``EVENT_SOURCE`` function, for that reason, e.g.
        ``"API Gateway (the orders API)"``. Default: a generic description.
    retry_attempts
        Retries of a failed asynchronous invocation, 0-2. ``ASYNCHRONOUS`` only. Default: 2.
    max_event_age
        How long an asynchronous event may wait, 60 seconds to 6 hours. ``ASYNCHRONOUS`` only.
        Default: 6 hours.
    on_failure
        An on-failure destination for asynchronous invocations, in addition to the dead-letter
        queue: an SQS queue or SNS topic (granted with exact KMS actions when encrypted), or any
        ``lambda_.IDestination`` such as ``destinations.EventBridgeDestination(bus)``.
        ``ASYNCHRONOUS`` only. Default: none.
    vpc, vpc_subnets
        Run the function in a VPC, in private or isolated subnets (public ones are refused), with a
        security group that has no inbound rules and allows outbound HTTPS only (add more with
        ``fn.connections``). Default: no VPC; subnets default to the private ones with egress, else
        the isolated ones.
    vpc_opt_out_reason
        Why the function needs no VPC; recorded as the reason of the LambdaInsideVPC and
        CKV_AWS_117 acknowledgements. Default: :data:`NO_VPC_REASON`.
    alarms
        Thresholds, or ``None`` for no alarms at all. Default: :data:`DEFAULT_ALARMS`.
    alert_topic
        Where alarms notify: an :class:`AlertTopic` (shareable by many functions) or any
        ``sns.ITopic``. Default: a new :class:`AlertTopic` for this function.
    alert_emails
        Addresses subscribed to the topic the function creates (not with ``alert_topic``).
        Default: none.
    dashboard
        Create a CloudWatch dashboard of invocations, errors, throttles, duration, concurrency and
        dead-letter messages. Default: False.
    snap_start
        Lambda SnapStart (Python 3.12 and later): each deployment publishes a version, Lambda
        snapshots its initialised environment, and new environments resume from the snapshot
        instead of importing the handler again. The function gets an alias ``live`` on that
        version (:attr:`alias`); its event sources and the API integrations of this library invoke
        the alias (so does CDK through the construct as ``IFunction``), as SnapStart applies only to published versions. The
        previous version is deleted on update, so one snapshot is cached at a time. Costs: the
        snapshot cache per GB-second of memory while the version exists, and a restore charge
        per GB on each resumed environment (both priced by ``serverless-patterns cost``).
        Default: False.
    tags
        Tags for every resource the construct creates. Default: none.

    Examples
    --------
    >>> fn = AlertingFunction(stack, "Echo", code=handler_code("example_echo"),
    ...                       handler=handler_entry("example_echo"))  # doctest: +SKIP
    >>> bucket.grant_read(fn)  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        code: lambda_.Code,
        handler: str,
        runtime: lambda_.Runtime = lambda_.Runtime.PYTHON_3_14,
        architecture: lambda_.Architecture = lambda_.Architecture.ARM_64,
        memory_size: float = DEFAULT_MEMORY_SIZE,
        timeout: Duration | None = None,
        environment: Mapping[str, str] | None = None,
        secrets: Mapping[str, secretsmanager.ISecret] | None = None,
        description: str | None = None,
        function_name: str | None = None,
        layers: Sequence[lambda_.ILayerVersion] = (),
        powertools: bool = False,
        log_retention: logs.RetentionDays = DEFAULT_LOG_RETENTION,
        encryption_key: kms.IKey | None = None,
        reserved_concurrent_executions: float | None = None,
        invocation: Invocation = Invocation.ASYNCHRONOUS,
        invoked_by: str | None = None,
        retry_attempts: int | None = None,
        max_event_age: Duration | None = None,
        on_failure: lambda_.IDestination | sqs.IQueue | sns.ITopic | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        vpc_opt_out_reason: str | None = None,
        alarms: AlarmOptions | None = DEFAULT_ALARMS,
        alert_topic: AlertTopic | sns.ITopic | None = None,
        alert_emails: Sequence[str] = (),
        dashboard: bool = False,
        snap_start: bool = False,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        check_prop_types("AlertingFunction", AlertingFunction.__init__, locals())
        timeout = timeout or DEFAULT_TIMEOUT
        _validate(scope, **{k: v for k, v in locals().items() if k not in ("self", "scope", "id", "__class__")})
        region_errors = PropErrors("AlertingFunction")
        check_key_region(region_errors, "encryption_key", encryption_key, scope)
        region_errors.raise_if_any()
        super().__init__(scope, id)
        self._timeout = timeout
        self._alarm_options = alarms
        self.invocation = invocation
        asynchronous = invocation is Invocation.ASYNCHRONOUS

        self.encryption_key: kms.IKey = encryption_key or customer_managed_key(
            self, "Key", description=f"Encrypts the logs, environment and dead-letter queue of {path_of(self)}"
        )
        _allow_cloudwatch_logs(self, self.encryption_key)
        self.log_group: logs.LogGroup = logs.LogGroup(
            self,
            "LogGroup",
            retention=log_retention,
            encryption_key=self.encryption_key,
            removal_policy=STATEFUL_REMOVAL_POLICY,
        )
        self._role = ManagedPolicyRole(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {path_of(self)}",
        )
        self.log_group.grant_write(self._role)
        self.encryption_key.grant_decrypt(self._role)  # environment variables

        #: Failed asynchronous events (``ASYNCHRONOUS``), or a stream mapping's discarded batches;
        #: None for a function without either.
        self.dead_letter_queue: sqs.Queue | None = self._create_dead_letter_queue() if asynchronous else None

        self.security_group: ec2.SecurityGroup | None = None
        subnets = None
        if vpc is not None:
            subnets = vpc_subnets or _default_subnets(vpc)
            self.security_group = ec2.SecurityGroup(
                self,
                "SecurityGroup",
                vpc=vpc,
                allow_all_outbound=False,
                description=f"{path_of(self)}: no inbound, outbound HTTPS only",
            )
            self.security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs")
            service_policy(
                self,
                "NetworkInterfacePolicy",
                role=self._role,
                statements=[iam.PolicyStatement(actions=_actions.EC2_LAMBDA_VPC_ENIS, resources=["*"])],
                description=f"Network interfaces of {path_of(self)} in its VPC",
                findings=["AwsSolutions-IAM5[Resource::*]", "CKV_AWS_111"],
                reason=NETWORK_INTERFACES_REASON,
            )
        #: X-Ray's actions on ``*``, in a policy of their own (the only one acknowledged for ``*``).
        self.xray_policy: iam.ManagedPolicy = service_policy(
            self,
            "XRayPolicy",
            role=self._role,
            statements=[iam.PolicyStatement(actions=_actions.XRAY_WRITE, resources=["*"])],
            description=f"X-Ray tracing of {path_of(self)}",
            findings=["AwsSolutions-IAM5[Resource::*]"],
            reason=XRAY_REASON,
        )

        env = dict(environment or {})
        for name, secret in (secrets or {}).items():
            env[f"{name}_ARN"] = secret.secret_arn
            secret.grant_read(self._role)
        all_layers = list(layers)
        if powertools:
            all_layers.append(powertools_layer(self, runtime, architecture))
            env.setdefault("POWERTOOLS_SERVICE_NAME", id)

        self.function: lambda_.Function = lambda_.Function(
            self,
            "Resource",
            code=code,
            handler=handler,
            runtime=runtime,
            architecture=architecture,
            memory_size=memory_size,
            timeout=timeout,
            environment=env or None,
            environment_encryption=self.encryption_key,
            description=description,
            function_name=function_name,
            layers=all_layers or None,
            role=self._role,
            log_group=self.log_group,
            # Tracing is set on the resource below: the L2 prop would add X-Ray's '*' statement to
            # the role's general policy, where its acknowledgement would cover the user's statements.
            dead_letter_queue=self.dead_letter_queue,
            retry_attempts=(DEFAULT_RETRY_ATTEMPTS if retry_attempts is None else retry_attempts) if asynchronous else None,
            max_event_age=max_event_age,
            on_failure=_async_destination(on_failure),
            reserved_concurrent_executions=reserved_concurrent_executions,
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[self.security_group] if self.security_group else None,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
            current_version_options=(
                lambda_.VersionOptions(removal_policy=RemovalPolicy.DESTROY) if snap_start else None
            ),
        )
        default_child_of(self.function).tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
        #: The alias on the published version when ``snap_start`` is on, else None.
        self.alias: lambda_.Alias | None = _snap_start_alias(self, self.function) if snap_start else None
        if snap_start:
            # CDK warns on every SnapStart function; this one publishes its version (the alias above).
            Annotations.of(self.function).acknowledge_warning(
                "@aws-cdk/aws-lambda:snapStartRequirePublish",
                f"The {SNAP_START_ALIAS!r} alias points at the published current version.",
            )
        self._acknowledge(
            vpc=vpc,
            vpc_opt_out_reason=vpc_opt_out_reason,
            reserved=reserved_concurrent_executions,
            on_failure=on_failure,
            invoked_by=invoked_by,
        )

        self.alert_topic: AlertTopic | sns.ITopic | None = None
        #: The alarms by name: ``errors``, ``throttles``, ``duration``, ``dead_letter_queue``,
        #: ``iterator_age`` (after a stream source is added); switched-off alarms are absent.
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        if alarms is not None:
            self.alert_topic = alert_topic or AlertTopic(self, "AlertTopic", emails=alert_emails)
            self._create_alarms(alarms)
            if self.dead_letter_queue is not None:
                self._add_dead_letter_alarm()
        self.dashboard: cloudwatch.Dashboard | None = self._create_dashboard() if dashboard else None
        apply_tags(self, "AlertingFunction", tags)

    # ---- compliance -------------------------------------------------------------------------

    def _acknowledge(
        self,
        *,
        vpc: ec2.IVpc | None,
        vpc_opt_out_reason: str | None,
        reserved: float | None,
        on_failure: lambda_.IDestination | sqs.IQueue | sns.ITopic | None,
        invoked_by: str | None,
    ) -> None:
        if vpc is None:
            reason = vpc_opt_out_reason or NO_VPC_REASON
            acknowledge_all(self.function, in_every_pack("LambdaInsideVPC"), reason)
            acknowledge(self.function, "CKV_AWS_117", reason)
        if reserved is None or is_token(reserved):
            reason = NO_RESERVED_CONCURRENCY_REASON if reserved is None else DEPLOY_TIME_RESERVED_CONCURRENCY_REASON
            acknowledge_all(
                self.function, in_every_pack("LambdaConcurrency", ("HIPAA.Security", "NIST.800.53.R5")), reason
            )
            acknowledge(self.function, "CKV_AWS_115", reason)
        if self.invocation is not Invocation.ASYNCHRONOUS:
            reason = no_async_path_reason(self.invocation, invoked_by)
            acknowledge_all(self.function, in_every_pack("LambdaDLQ", ("Serverless", "HIPAA.Security", "NIST.800.53.R5")), reason)
            acknowledge(self.function, "CKV_AWS_116", reason)
        elif on_failure is None:
            acknowledge(
                self.function.node.find_child("EventInvokeConfig"),
                "Serverless-LambdaAsyncFailureDestination",
                ASYNC_FAILURES_TO_DLQ_REASON,
            )
        # CDK makes every function depend on its role explicitly although the role's ARN is
        # already referenced; cfn-lint reports that (W3005) for any CDK function.
        default_child_of(self.function).add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})

    # ---- alarms and dashboard ---------------------------------------------------------------

    def _create_alarms(self, options: AlarmOptions) -> None:
        if options.errors is not None:
            self._add_alarm(
                "errors",
                "ErrorsAlarm",
                self.metric_errors(period=options.period),
                options.errors,
                f"{path_of(self)}: {options.errors:g} or more errors in {_minutes(options.period)}.",
            )
        if options.throttles is not None:
            self._add_alarm(
                "throttles",
                "ThrottlesAlarm",
                self.metric_throttles(period=options.period),
                options.throttles,
                f"{path_of(self)}: {options.throttles:g} or more throttled invocations in "
                f"{_minutes(options.period)}.",
            )
        if options.duration_percent_of_timeout is not None:
            self._add_duration_alarm(options)

    def _create_dead_letter_queue(self) -> sqs.Queue:
        queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.encryption_key,
            enforce_ssl=True,
            retention_period=DEAD_LETTER_RETENTION,
        )
        # CDK grants sqs:SendMessage for the dead-letter queue, not the use of its key.
        self.encryption_key.grant(self._role, "kms:GenerateDataKey")
        acknowledge(queue, "Serverless-SQSRedrivePolicy", DLQ_REASON)
        return queue

    def _add_dead_letter_alarm(self) -> None:
        options = self._alarm_options
        if options is not None and options.dead_letter_messages is not None and "dead_letter_queue" not in self.alarms:
            self._add_alarm(
                "dead_letter_queue",
                "DeadLetterQueueAlarm",
                self.metric_dead_letter_messages(period=options.period),
                options.dead_letter_messages,
                f"{path_of(self)}: {options.dead_letter_messages:g} or more failed events wait in the "
                "dead-letter queue.",
            )

    def _add_duration_alarm(self, options: AlarmOptions) -> None:
        percent = options.duration_percent_of_timeout
        duration = self.metric_duration(period=options.period, statistic="p99")
        description = f"{path_of(self)}: p99 duration above {percent:g} % of the timeout."
        timeout_seconds = self._timeout.to_seconds()
        if is_token(self._timeout):
            # A timeout from a parameter: compare in percent with metric math resolved at deploy.
            metric: cloudwatch.IMetric = cloudwatch.MathExpression(
                expression=f"duration / ({Token.as_string(timeout_seconds)} * 10)",
                using_metrics={"duration": duration},
                label="p99 duration, % of timeout",
                period=options.period,
            )
            threshold = percent
        else:
            metric, threshold = duration, timeout_seconds * 1000 * percent / 100
        self._add_alarm(
            "duration", "DurationAlarm", metric, threshold, description,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )

    def _add_alarm(
        self,
        name: str,
        id: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        description: str,
        *,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    ) -> cloudwatch.Alarm:
        options = self._alarm_options
        assert options is not None
        alarm = threshold_alarm(
            self,
            id,
            metric=metric,
            threshold=threshold,
            description=description,
            topic=self.alert_topic,
            evaluation_periods=options.evaluation_periods,
            comparison=comparison,
            notify_on_recovery=options.notify_on_recovery,
        )
        self.alarms[name] = alarm
        return alarm

    def _create_dashboard(self) -> cloudwatch.Dashboard:
        period = self._alarm_options.period if self._alarm_options else Duration.minutes(5)
        dashboard = cloudwatch.Dashboard(self, "Dashboard")
        timeout_ms = None if is_token(self._timeout) else self._timeout.to_milliseconds()
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Invocations, errors and throttles",
                left=[
                    self.metric_invocations(period=period),
                    self.metric_errors(period=period),
                    self.metric_throttles(period=period),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Duration (ms)",
                left=[
                    self.metric_duration(period=period, statistic="p50", label="p50"),
                    self.metric_duration(period=period, statistic="p99", label="p99"),
                    self.metric_duration(period=period, statistic="Maximum", label="max"),
                ],
                left_annotations=(
                    [cloudwatch.HorizontalAnnotation(value=timeout_ms, label="timeout")] if timeout_ms else None
                ),
                width=12,
            ),
        )
        concurrency = cloudwatch.GraphWidget(
            title="Concurrent executions", left=[self.metric_concurrent_executions(period=period)], width=12
        )
        if self.dead_letter_queue is not None:
            dashboard.add_widgets(
                concurrency,
                cloudwatch.GraphWidget(
                    title="Dead-letter queue", left=[self.metric_dead_letter_messages(period=period)], width=12
                ),
            )
        else:
            dashboard.add_widgets(concurrency)
        if self.alarms:
            dashboard.add_widgets(
                cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=24)
            )
        return dashboard

    # ---- event sources ----------------------------------------------------------------------

    def add_sqs_source(
        self,
        queue: sqs.IQueue,
        *,
        batch_size: int = 10,
        max_batching_window: Duration | None = None,
        max_concurrency: int | None = None,
        report_batch_item_failures: bool = True,
    ) -> lambda_.EventSourceMapping:
        """Invoke the function with batches of messages from ``queue``.

        The role gets what the mapping calls: ``sqs:ReceiveMessage``, ``sqs:DeleteMessage`` and
        ``sqs:GetQueueAttributes`` on the queue, and ``kms:Decrypt`` with its key if it has one.

        Parameters
        ----------
        queue
            The source queue. A queue created in this app must have a dead-letter queue (its
            redrive policy is where failing messages end up) and a visibility timeout of at least
            the function's timeout (six times is recommended).
        batch_size
            1-10, or up to 10000 with a ``max_batching_window``. Default: 10.
        max_batching_window
            Wait up to this long (at most 5 minutes) to fill a batch. Default: none.
        max_concurrency
            2-1000 concurrent invocations for this source. Default: no limit.
        report_batch_item_failures
            The handler returns ``{"batchItemFailures": [...]}`` so only failed messages are
            retried (Powertools' ``BatchProcessor`` does this). Default: True.
        """
        errors = PropErrors("AlertingFunction.add_sqs_source")
        require_type(errors.construct_name, "queue", queue, sqs.IQueue)
        require_type(errors.construct_name, "max_batching_window", max_batching_window, Duration)
        source_id = f"SqsSource{_source_id(queue)}"
        errors.check(
            queue is not self.dead_letter_queue,
            "queue",
            "dead_letter_queue",
            "the function must not consume its own dead-letter queue (failures would loop)",
        )
        errors.check(
            self.node.try_find_child(source_id) is None,
            "queue",
            path_of(queue),
            "is already an event source of this function",
        )
        errors.check_range("batch_size", batch_size, minimum=1, maximum=10000 if max_batching_window else 10)
        _check_seconds(errors, "max_batching_window", max_batching_window, 0, 300)
        errors.check_range("max_concurrency", max_concurrency, minimum=2, maximum=1000)
        _check_bool(errors, "report_batch_item_failures", report_batch_item_failures)
        if isinstance(queue, sqs.Queue):
            errors.check(
                queue.dead_letter_queue is not None,
                "queue",
                path_of(queue),
                "needs a dead_letter_queue (redrive policy), or failing messages are retried until they expire",
            )
            visibility = queue.node.default_child.visibility_timeout
            visibility = 30 if visibility is None else visibility  # the SQS default
            timeout = None if is_token(self._timeout) else self._timeout.to_seconds()
            errors.check(
                is_token(visibility) or timeout is None or visibility >= timeout,
                "queue",
                path_of(queue),
                f"its visibility timeout ({visibility} s) must be at least the function's timeout "
                f"({timeout} s); six times is recommended",
            )
        errors.raise_if_any()
        mapping = lambda_.EventSourceMapping(
            self,
            source_id,
            target=self._interop_target,
            event_source_arn=queue.queue_arn,
            batch_size=batch_size,
            max_batching_window=max_batching_window,
            max_concurrency=max_concurrency,
            report_batch_item_failures=report_batch_item_failures,
        )
        # What the mapping calls (receive, delete, read the queue's attributes), not everything a
        # consumer may do: queue.grant_consume_messages adds ChangeMessageVisibility and GetQueueUrl.
        iam.Grant.add_to_principal(grantee=self._role, actions=_actions.SQS_EVENT_SOURCE, resource_arns=[queue.queue_arn])
        if queue.encryption_master_key is not None:
            queue.encryption_master_key.grant(self._role, *_actions.KMS_DECRYPT)
        # Lambda checks the role's permissions when it creates the mapping.
        mapping.node.add_dependency(self._role.policy)
        acknowledge(mapping, "Serverless-LambdaEventSourceMappingDestination", SQS_SOURCE_FAILURES_REASON)
        return mapping

    def add_dynamodb_stream_source(
        self,
        table: dynamodb.ITable,
        *,
        starting_position: lambda_.StartingPosition = lambda_.StartingPosition.TRIM_HORIZON,
        batch_size: int = 100,
        max_batching_window: Duration | None = None,
        bisect_batch_on_error: bool = True,
        retry_attempts: int = 2,
        max_record_age: Duration | None = None,
        parallelization_factor: int = 1,
        report_batch_item_failures: bool = True,
        on_failure: sqs.IQueue | sns.ITopic | None = None,
    ) -> lambda_.EventSourceMapping:
        """Invoke the function with batches of records from the stream of ``table``.

        Adds the ``iterator_age`` alarm (once per function) unless it is switched off.

        Parameters
        ----------
        table
            A table with a stream (``stream=dynamodb.StreamViewType...``).
        starting_position
            ``TRIM_HORIZON`` (default) or ``LATEST``.
        batch_size
            1-10000. Default: 100.
        max_batching_window
            Up to 5 minutes. Default: none.
        bisect_batch_on_error
            Split a failing batch in two and retry the halves, isolating the bad record.
            Default: True.
        retry_attempts
            0-10000 retries of a failing batch before it goes to ``on_failure``. Default: 2 (the
            Lambda default, -1, retries until the record expires and blocks the shard).
        max_record_age
            Skip records older than this, 60 seconds to 7 days. Default: none (stream retention).
        parallelization_factor
            Concurrent batches per shard, 1-10. Default: 1.
        report_batch_item_failures
            The handler returns ``{"batchItemFailures": [...]}``. Default: True.
        on_failure
            Where the metadata of discarded batches goes. Default: the function's dead-letter
            queue (created now, with its alarm, for a function that has none).
        """
        errors = PropErrors("AlertingFunction.add_dynamodb_stream_source")
        require_type(errors.construct_name, "table", table, dynamodb.ITable)
        require_type(errors.construct_name, "on_failure", on_failure, (sqs.IQueue, sns.ITopic))
        require_type(errors.construct_name, "starting_position", starting_position, lambda_.StartingPosition)
        source_id = f"StreamSource{_source_id(table)}"
        errors.check(
            table.table_stream_arn is not None,
            "table",
            path_of(table),
            "has no stream; create it with stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES (or another view)",
        )
        errors.check(
            self.node.try_find_child(source_id) is None,
            "table",
            path_of(table),
            "is already an event source of this function",
        )
        errors.check(
            starting_position in (lambda_.StartingPosition.TRIM_HORIZON, lambda_.StartingPosition.LATEST),
            "starting_position",
            starting_position,
            "must be TRIM_HORIZON or LATEST for DynamoDB streams",
        )
        errors.check_range("batch_size", batch_size, minimum=1, maximum=10000)
        _check_seconds(errors, "max_batching_window", max_batching_window, 0, 300)
        errors.check_range("retry_attempts", retry_attempts, minimum=0, maximum=10000)
        _check_seconds(errors, "max_record_age", max_record_age, 60, 7 * 86400)
        errors.check_range("parallelization_factor", parallelization_factor, minimum=1, maximum=10)
        _check_bool(errors, "bisect_batch_on_error", bisect_batch_on_error)
        _check_bool(errors, "report_batch_item_failures", report_batch_item_failures)
        errors.raise_if_any()
        if on_failure is None and self.dead_letter_queue is None:
            self.dead_letter_queue = self._create_dead_letter_queue()
            # cdk-nag counts a queue as a dead-letter queue only when a function's DeadLetterConfig
            # or a queue's redrive policy names it, not a stream mapping's on-failure destination.
            acknowledge(self.dead_letter_queue, "AwsSolutions-SQS3", STREAM_FAILURES_QUEUE_REASON)
            self._add_dead_letter_alarm()
        destination = on_failure or self.dead_letter_queue
        mapping = lambda_.EventSourceMapping(
            self,
            source_id,
            target=self._interop_target,
            event_source_arn=table.table_stream_arn,
            starting_position=starting_position,
            batch_size=batch_size,
            max_batching_window=max_batching_window,
            bisect_batch_on_error=bisect_batch_on_error,
            retry_attempts=retry_attempts,
            max_record_age=max_record_age,
            parallelization_factor=parallelization_factor,
            report_batch_item_failures=report_batch_item_failures,
            on_failure=_StreamFailureDestination(destination),
        )
        # The stream's records and the key, as CDK's grant_stream_read; ListStreams in its own policy.
        iam.Grant.add_to_principal(
            grantee=self._role, actions=_actions.DYNAMODB_READ_STREAM, resource_arns=[table.table_stream_arn]
        )
        if table.encryption_key is not None:
            table.encryption_key.grant(self._role, *_actions.KMS_DYNAMODB_READ)
        allow_list_streams(self._role)
        # Lambda checks the stream permissions when the mapping is created.
        mapping.node.add_dependency(self._role.policy)
        list_streams = self._role.node.try_find_child(LIST_STREAMS_POLICY_ID)
        if list_streams is not None:
            mapping.node.add_dependency(list_streams)
        options = self._alarm_options
        if options is not None and options.iterator_age is not None and "iterator_age" not in self.alarms:
            self._add_alarm(
                "iterator_age",
                "IteratorAgeAlarm",
                self.metric_iterator_age(period=options.period),
                options.iterator_age.to_milliseconds(),
                f"{path_of(self)}: stream records waited {_minutes(options.iterator_age)} or longer.",
            )
        return mapping

    # ---- metrics ----------------------------------------------------------------------------

    def metric_concurrent_executions(self, **options: object) -> cloudwatch.Metric:
        """``ConcurrentExecutions`` of this function, maximum over 5 minutes."""
        return self.function.metric("ConcurrentExecutions", **{"statistic": "Maximum", **options})

    def metric_iterator_age(self, **options: object) -> cloudwatch.Metric:
        """``IteratorAge`` in milliseconds (stream sources), maximum over 5 minutes."""
        return self.function.metric("IteratorAge", **{"statistic": "Maximum", **options})

    def metric_dead_letter_messages(self, **options: object) -> cloudwatch.Metric:
        if self.dead_letter_queue is None:
            raise ValueError(
                f"AlertingFunction: {path_of(self)} has no dead-letter queue (invocation={self.invocation.value})"
            )
        """``ApproximateNumberOfMessagesVisible`` of the dead-letter queue, maximum over 5 minutes."""
        return self.dead_letter_queue.metric_approximate_number_of_messages_visible(
            **{"statistic": "Maximum", **options}
        )

    # ---- grants and interfaces --------------------------------------------------------------

    @property
    def _interop_target(self) -> lambda_.IFunction:
        """What callers invoke: the SnapStart alias when ``snap_start`` is on, else the function."""
        return getattr(self, "alias", None) or self.function

    @property
    def _interop_metric_target(self) -> lambda_.IFunction:
        """Metrics are the function's (all its versions), as the alarms and the dashboard use."""
        return self.function

    @property
    def role(self) -> iam.IRole:
        """The execution role (a ``ManagedPolicyRole``: its permissions live in a customer-managed
        policy)."""
        return cast(iam.IRole, self._role)

    @property
    def grant_principal(self) -> iam.IPrincipal:
        """The function's role: ``bucket.grant_read(fn)`` adds to its customer-managed policy."""
        return self._role

    @property
    def connections(self) -> ec2.Connections:
        """Security-group rules of a function in a VPC, e.g. ``fn.connections.allow_to(db, port)``."""
        return self.function.connections

    def grant_invoke(self, identity: iam.IGrantable) -> iam.Grant:
        """Allow ``identity`` to invoke the function (and its versions and aliases)."""
        return self.function.grant_invoke(identity)


# ---- helpers ----------------------------------------------------------------------------------


def _snap_start_alias(scope: Construct, function: lambda_.Function) -> lambda_.Alias:
    """The ``live`` alias on the version this deployment publishes (SnapStart snapshots it)."""
    return lambda_.Alias(
        scope,
        "LiveAlias",
        alias_name=SNAP_START_ALIAS,
        version=function.current_version,
        description="Invoked by event sources and API integrations: SnapStart applies to published versions only",
    )


def _grant_send(destination: sqs.IQueue | sns.ITopic, grantee: iam.IGrantable) -> str:
    """Let ``grantee`` send to a queue or publish to a topic, naming the KMS actions exactly.

    CDK's own destinations grant ``kms:GenerateDataKey*`` and ``kms:ReEncrypt*`` on an encrypted
    queue or topic; sending needs only ``kms:GenerateDataKey`` and ``kms:Decrypt``. Returns the ARN.
    """
    if hasattr(destination, "queue_arn"):  # an sqs.IQueue (jsii interfaces are not runtime-checkable)
        arn, action, key = destination.queue_arn, "sqs:SendMessage", destination.encryption_master_key
    else:
        arn, action, key = destination.topic_arn, "sns:Publish", destination.master_key
    iam.Grant.add_to_principal(grantee=grantee, actions=[action], resource_arns=[arn])
    if key is not None:
        key.grant(grantee, *_actions.KMS_FOR_SERVICE_PUBLISHERS)
    return arn


@jsii.implements(lambda_.IEventSourceDlq)
class _StreamFailureDestination:
    """The on-failure destination of a stream event source: a queue or a topic."""

    def __init__(self, destination: sqs.IQueue | sns.ITopic) -> None:
        self._destination = destination

    def bind(self, target: lambda_.IEventSourceMapping, target_handler: lambda_.IFunction) -> lambda_.DlqDestinationConfig:
        return lambda_.DlqDestinationConfig(destination=_grant_send(self._destination, target_handler))


@jsii.implements(lambda_.IDestination)
class _AsyncFailureDestination:
    """The on-failure destination of asynchronous invocations: a queue or a topic."""

    def __init__(self, destination: sqs.IQueue | sns.ITopic) -> None:
        self._destination = destination

    def bind(self, scope: Construct, fn: lambda_.IFunction, *, type: lambda_.DestinationType | None = None) -> lambda_.DestinationConfig:
        return lambda_.DestinationConfig(destination=_grant_send(self._destination, fn))


def _allow_cloudwatch_logs(scope: Construct, key: kms.IKey) -> None:
    """Let CloudWatch Logs use ``key`` for the log groups of this account and Region only.

    CloudWatch Logs uses the key as the service principal ``logs.<region>.amazonaws.com``, which only
    a key policy can allow: for an imported key, a warning on ``scope`` names the statement.
    """
    stack = stack_of(scope)
    require_key_statement(
        scope,
        key,
        iam.PolicyStatement(
            sid="AllowCloudWatchLogs",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=_actions.KMS_FOR_CLOUDWATCH_LOGS,
            resources=["*"],  # in a key policy, "*" means this key
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        ),
        purpose=f"CloudWatch Logs to encrypt the log group of {path_of(scope)}",
    )


def _async_destination(
    on_failure: lambda_.IDestination | sqs.IQueue | sns.ITopic | None,
) -> lambda_.IDestination | None:
    if on_failure is None or not (hasattr(on_failure, "queue_arn") or hasattr(on_failure, "topic_arn")):
        return on_failure
    return _AsyncFailureDestination(on_failure)


def _default_subnets(vpc: ec2.IVpc) -> ec2.SubnetSelection:
    if vpc.private_subnets:
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
    return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)


def _source_id(source: Construct) -> str:
    """A stable id for an event source: the source's own id, unique under this function."""
    return re.sub(r"[^A-Za-z0-9]", "", source.node.id) or "Source"


def _minutes(value: Duration) -> str:
    minutes = duration_seconds(value) / 60
    return f"{minutes:g} minute{'s' if minutes != 1 else ''}"


def _check_seconds(errors: PropErrors, prop: str, value: Duration | None, minimum: float, maximum: float) -> None:
    if value is None or is_token(value):
        return
    seconds = duration_seconds(value)
    errors.check(
        minimum <= seconds <= maximum and seconds == int(seconds),
        prop,
        f"{seconds:g} seconds",
        f"must be whole seconds from {minimum:g} to {maximum:g}",
    )


def _check_bool(errors: PropErrors, prop: str, value: object) -> None:
    errors.check(isinstance(value, bool), prop, value, "must be True or False")


def _names_of_secret_values(scope: Construct | None, environment: Mapping[str, object]) -> list[str]:
    """The names in ``environment`` whose values resolve to a dynamic reference to a secret value
    (the token values resolved in one call)."""
    tokens = {name: value for name, value in environment.items() if is_token(value)}
    if not tokens or scope is None:
        return []
    resolved = stack_of(scope).resolve(tokens)
    return [name for name in tokens if _SECRET_REFERENCE.search(str(resolved.get(name)))]


def validate_props(scope: Construct | None = None, **props: Any) -> None:
    """Run the construction-time checks of :class:`AlertingFunction` on ``props`` (the others at
    their defaults) without building anything: composite constructs call it inside
    :meth:`~serverless_patterns._validation.PropErrors.nested` to report problems up front.
    ``scope`` is needed only to judge token values of ``environment``."""
    values = {**constructor_defaults(AlertingFunction.__init__), **props}
    check_prop_types("AlertingFunction", AlertingFunction.__init__, values)
    values["timeout"] = values.get("timeout") or DEFAULT_TIMEOUT
    _validate(scope, **values)  # type: ignore[arg-type]


def _validate(
    scope: Construct,
    *,
    code: lambda_.Code,
    handler: str,
    runtime: lambda_.Runtime,
    architecture: lambda_.Architecture,
    memory_size: float,
    timeout: Duration,
    environment: Mapping[str, str] | None,
    secrets: Mapping[str, secretsmanager.ISecret] | None,
    description: str | None,
    function_name: str | None,
    layers: Sequence[lambda_.ILayerVersion],
    powertools: bool,
    log_retention: logs.RetentionDays,
    encryption_key: kms.IKey | None,
    reserved_concurrent_executions: float | None,
    invocation: Invocation,
    invoked_by: str | None,
    retry_attempts: int | None,
    max_event_age: Duration | None,
    on_failure: lambda_.IDestination | sqs.IQueue | sns.ITopic | None,
    vpc: ec2.IVpc | None,
    vpc_subnets: ec2.SubnetSelection | None,
    vpc_opt_out_reason: str | None,
    alarms: AlarmOptions | None,
    alert_topic: AlertTopic | sns.ITopic | None,
    alert_emails: Sequence[str],
    dashboard: bool,
    snap_start: bool,
    tags: Mapping[str, str] | None,
) -> None:
    name = "AlertingFunction"
    require_type(name, "code", code, lambda_.Code)
    require_type(name, "handler", handler, str)
    require_type(name, "runtime", runtime, lambda_.Runtime)
    require_type(name, "architecture", architecture, lambda_.Architecture)
    require_type(name, "timeout", timeout, Duration)
    require_type(name, "max_event_age", max_event_age, Duration)
    require_type(name, "log_retention", log_retention, logs.RetentionDays)
    require_type(name, "encryption_key", encryption_key, kms.IKey)
    require_type(name, "on_failure", on_failure, (lambda_.IDestination, sqs.IQueue, sns.ITopic))
    require_type(name, "invocation", invocation, Invocation)
    require_type(name, "invoked_by", invoked_by, str)
    require_type(name, "vpc", vpc, ec2.IVpc)
    require_type(name, "vpc_subnets", vpc_subnets, ec2.SubnetSelection)
    require_type(name, "alarms", alarms, AlarmOptions)
    require_type(name, "alert_topic", alert_topic, (AlertTopic, sns.ITopic))
    for prop, value in (("powertools", powertools), ("dashboard", dashboard), ("snap_start", snap_start)):
        require_type(name, prop, value, bool)
    for prop, value in (("environment", environment), ("secrets", secrets)):
        if value is not None and not isinstance(value, Mapping):
            raise TypeError(f"{name}: {prop} must be a mapping, got {type(value).__name__} ({value!r})")
    for secret_name, secret in (secrets or {}).items():
        if secret is None:
            raise TypeError(f"{name}: secrets[{secret_name!r}] must be ISecret, got NoneType (None)")
        require_type(name, f"secrets[{secret_name!r}]", secret, secretsmanager.ISecret)
    for layer in layers:
        require_type(name, "layers", layer, lambda_.ILayerVersion)
    if isinstance(alert_emails, str):
        raise TypeError(f"{name}: alert_emails must be a list of addresses, got str ({alert_emails!r})")
    validate_tags(name, tags)

    errors = PropErrors(name)
    if code is None:
        errors.add("code", code, "is required")
    runtime_name = name_of(runtime)
    errors.check(
        runtime_name in SUPPORTED_RUNTIMES,
        "runtime",
        runtime_name,
        "is deprecated or not supported; use one of " + ", ".join(SUPPORTED_RUNTIMES),
    )
    errors.check(
        runtime is None or not runtime_is_variable(runtime),
        "runtime",
        runtime_name,
        "a runtime that follows the CDK version (such as NODEJS_LATEST) changes on upgrade; pin one",
    )
    errors.check(
        isinstance(handler, str) and (is_token(handler) or (0 < len(handler) <= 128 and not re.search(r"\s", handler))),
        "handler",
        handler,
        "must be 1-128 characters without spaces, e.g. 'example_echo.index.handler'",
    )
    errors.check(
        architecture is None or name_of(architecture) in ("arm64", "x86_64"), "architecture",
        name_of(architecture), "must be ARM_64 or X86_64",
    )
    errors.check_range("memory_size", memory_size, minimum=128, maximum=10240, unit="MB")
    errors.check(
        is_token(memory_size) or memory_size == int(memory_size), "memory_size", memory_size, "must be a whole number of MB"
    )
    _check_seconds(errors, "timeout", timeout, 1, 900)
    errors.check_range("retry_attempts", retry_attempts, minimum=0, maximum=2)
    if invocation is not Invocation.ASYNCHRONOUS:
        for prop, value in (("retry_attempts", retry_attempts), ("max_event_age", max_event_age), ("on_failure", on_failure)):
            errors.check(
                value is None,
                prop,
                value,
                f"configures asynchronous invocations, which a function with invocation={invocation.value!r} never gets",
            )
    errors.check(
        invoked_by is None or invocation is not Invocation.ASYNCHRONOUS,
        "invoked_by",
        invoked_by,
        "describes the caller of a SYNCHRONOUS or EVENT_SOURCE function",
    )
    _check_seconds(errors, "max_event_age", max_event_age, 60, 6 * 3600)
    errors.check_range("reserved_concurrent_executions", reserved_concurrent_executions, minimum=1)
    for prop, value in (("retry_attempts", retry_attempts), ("reserved_concurrent_executions", reserved_concurrent_executions)):
        errors.check(value is None or is_token(value) or value == int(value), prop, value, "must be a whole number")
    errors.check(
        log_retention is not logs.RetentionDays.INFINITE,
        "log_retention",
        log_retention,
        "logs must expire; choose a retention up to RetentionDays.TEN_YEARS",
    )
    errors.check(
        function_name is None or is_token(function_name) or bool(_FUNCTION_NAME.match(function_name)),
        "function_name",
        function_name,
        "must be 1-64 letters, digits, hyphens or underscores",
    )
    errors.check(
        description is None or is_token(description) or len(description) <= 256,
        "description",
        description,
        "must be at most 256 characters",
    )
    errors.check(
        not snap_start or runtime_name in SNAP_START_RUNTIMES,
        "snap_start",
        snap_start,
        f"Lambda SnapStart supports {', '.join(SNAP_START_RUNTIMES)} among the accepted runtimes, not {runtime_name}",
    )
    errors.check(
        not powertools or runtime_name in _POWERTOOLS_PYTHON,
        "powertools",
        powertools,
        f"the Powertools layer is for Python runtimes, not {runtime_name}",
    )

    # Environment and secrets: valid names, no reserved ones, no secret values.
    env_names = list(environment or {})
    secret_env_names = [f"{n}_ARN" for n in (secrets or {})]
    for env_name in [*env_names, *(secrets or {})]:
        errors.check(
            isinstance(env_name, str) and bool(_ENV_NAME.match(env_name)),
            "environment" if env_name in env_names else "secrets",
            env_name,
            "names must start with a letter, hold only letters, digits and underscores, and be at least two characters",
        )
    for env_name in [*env_names, *secret_env_names]:
        errors.check(env_name not in _RESERVED_ENV, "environment", env_name, "is reserved by Lambda")
    for env_name in secret_env_names:
        errors.check(env_name not in env_names, "secrets", env_name, "collides with a name in environment")
    for secret_name in secrets or {}:
        errors.check(
            not str(secret_name).endswith("_ARN"),
            "secrets",
            secret_name,
            "the _ARN suffix is added for you; name the secret, e.g. 'DB_SECRET'",
        )
    for env_name in _names_of_secret_values(scope, environment or {}):
        errors.add(
            "environment",
            env_name,
            "holds a secret value, which would be readable by anyone who can read the function's "
            "configuration; pass the secret in secrets= so the function gets its ARN",
        )

    # Network.
    errors.check(
        vpc_subnets is None or vpc is not None, "vpc_subnets", vpc_subnets, "needs vpc"
    )
    errors.check(
        not (vpc is not None and vpc_opt_out_reason is not None),
        "vpc_opt_out_reason",
        vpc_opt_out_reason,
        "cannot opt out of a VPC and pass vpc at the same time",
    )
    errors.check(
        vpc_opt_out_reason is None or bool(str(vpc_opt_out_reason).strip()),
        "vpc_opt_out_reason",
        vpc_opt_out_reason,
        "say why the function needs no VPC (the reason is recorded in the compliance report)",
    )
    if vpc_subnets is not None:
        errors.check(
            vpc_subnets.subnet_type not in (ec2.SubnetType.PUBLIC,),
            "vpc_subnets",
            vpc_subnets.subnet_type,
            "functions in public subnets get no public IP and cannot reach the internet; use private or isolated subnets",
        )
    elif vpc is not None:
        errors.check(
            bool(vpc.private_subnets or vpc.isolated_subnets),
            "vpc",
            path_of(vpc),
            "has no private or isolated subnets for the function",
        )

    # Alarms and where they go.
    if alarms is None:
        errors.check(alert_topic is None, "alert_topic", alert_topic, "alarms=None creates no alarms to notify it")
        errors.check(not alert_emails, "alert_emails", list(alert_emails), "alarms=None creates no alarms to notify them")
    else:
        _validate_alarms(errors, alarms)
    for address in alert_emails:
        check_email(errors, "alert_emails", address)
    errors.check(
        not (alert_topic is not None and alert_emails),
        "alert_emails",
        list(alert_emails),
        "subscribe addresses to the alert_topic you pass, not here",
    )
    errors.raise_if_any()


def _validate_alarms(errors: PropErrors, alarms: AlarmOptions) -> None:
    for prop in ("errors", "throttles", "dead_letter_messages"):
        errors.check_range(f"alarms.{prop}", getattr(alarms, prop), minimum=1)
    errors.check(
        alarms.duration_percent_of_timeout is None or 0 < alarms.duration_percent_of_timeout <= 100,
        "alarms.duration_percent_of_timeout",
        alarms.duration_percent_of_timeout,
        "must be more than 0 and at most 100",
    )
    for prop in ("iterator_age", "period"):
        value = getattr(alarms, prop)
        if prop == "period" or value is not None:
            require_type("AlertingFunction", f"alarms.{prop}", value, Duration)
    _check_seconds(errors, "alarms.iterator_age", alarms.iterator_age, 1, 7 * 86400)
    period = None if is_token(alarms.period) else alarms.period.to_seconds(integral=False)
    errors.check(
        period is None or (period >= 60 and period % 60 == 0),
        "alarms.period",
        f"{period:g} seconds" if period is not None else alarms.period,
        "must be a whole number of minutes",
    )
    errors.check(
        isinstance(alarms.evaluation_periods, int) and alarms.evaluation_periods >= 1,
        "alarms.evaluation_periods",
        alarms.evaluation_periods,
        "must be a whole number, at least 1",
    )
    _check_bool(errors, "alarms.notify_on_recovery", alarms.notify_on_recovery)
