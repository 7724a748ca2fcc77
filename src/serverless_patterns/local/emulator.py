"""EmulatedStack: a synthesized stack's resources on moto, its functions called in-process."""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import itertools
import json
import os
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config as BotocoreConfig
from botocore.handlers import BUILTIN_HANDLERS

from .intrinsics import PSEUDO_PARAMETERS, Resolver

#: :attr:`AwsCall.origin` of a call the handler's own SDK client makes.
HANDLER = "handler"
#: :attr:`AwsCall.origin` of a presigned URL or POST form the handler signed: S3 authorizes the
#: request made with it later against the handler's role.
PRESIGNED = "presigned"
#: :attr:`AwsCall.origin` of a call Lambda's event source mapping makes with the function's role
#: (receiving and deleting queue messages, reading a stream, sending to its on-failure destination).
EVENT_SOURCE = "event-source"
#: :attr:`AwsCall.origin` of a call Lambda makes with the function's role for an asynchronous
#: invocation: sending the invocation record to an on-success or on-failure destination, or the
#: event to the function's dead-letter queue.
ASYNC_INVOKE = "async-invoke"


class LambdaInvocationError(RuntimeError):
    """A handler raised; the emulator treats the whole batch as failed, as Lambda does."""


@dataclass(frozen=True)
class AwsCall:
    """One AWS API call made with a function's role.

    ``service`` and ``operation`` are botocore's names (``"dynamodbstreams"``, ``"GetRecords"``);
    ``params`` are the call's parameters as the caller passed them; ``origin`` is
    :data:`HANDLER`, :data:`PRESIGNED` or :data:`EVENT_SOURCE`.
    """

    function: str
    service: str
    operation: str
    params: Mapping[str, Any]
    origin: str = HANDLER


@dataclass
class EmulatedFunction:
    """A Lambda function from the template: its handler, code asset and environment."""

    logical_id: str
    name: str
    handler: str
    asset_dir: Path
    environment: dict[str, str]
    invocations: int = 0
    _handler: Any = None

    def load(self) -> Any:
        """Import the handler from this function's own asset (once)."""
        if self._handler is not None:
            return self._handler
        module_name, _, attribute = self.handler.rpartition(".")
        with _on_path(self.asset_dir):
            _forget_modules(module_name.split(".")[0])
            module = importlib.import_module(module_name)
        self._handler = getattr(module, attribute)
        return self._handler


@dataclass
class EventSourceMapping:
    """An SQS queue or DynamoDB stream feeding a function.

    ``maximum_retry_attempts``, ``bisect_batch_on_error`` and ``on_failure`` (a queue or topic
    ARN) apply to streams: records that still fail after that many retries are skipped and
    reported to ``on_failure``, one by one when bisecting isolates them, else as one range.
    """

    function: EmulatedFunction
    source_arn: str
    batch_size: int
    report_batch_item_failures: bool
    maximum_retry_attempts: int = 2
    bisect_batch_on_error: bool = False
    on_failure: str | None = None
    shard_iterators: dict[str, str] = field(default_factory=dict)

    @property
    def is_queue(self) -> bool:
        return self.source_arn.startswith("arn:aws:sqs:")


@dataclass
class LambdaSubscription:
    """An ``AWS::SNS::Subscription`` of protocol ``lambda`` to a function of the stack.

    moto delivers the topic's messages to ``queue_url``, a queue of the emulator's own subscribed
    with the subscription's filter policy, so moto's filter matching decides what is delivered;
    :meth:`EmulatedStack.pump` turns each message into the SNS event and invokes the function
    asynchronously, as SNS does. ``refusal`` says why SNS could not invoke the function (no
    ``AWS::Lambda::Permission`` lets ``sns.amazonaws.com`` in for this topic): such a message goes
    to ``dead_letter_queue`` (the subscription's ``RedrivePolicy``), else to
    :attr:`EmulatedStack.undelivered_notifications`.
    """

    logical_id: str
    arn: str
    topic_arn: str
    function: EmulatedFunction
    queue_url: str
    dead_letter_queue: str | None = None
    refusal: str | None = None


@dataclass
class AsyncConfig:
    """A function's asynchronous invocation settings (``AWS::Lambda::EventInvokeConfig``, and the
    function's ``DeadLetterConfig``): retries after the first attempt and where records go."""

    maximum_retry_attempts: int = 2
    maximum_event_age_seconds: int = 6 * 3600
    on_success: str | None = None
    on_failure: str | None = None
    dead_letter_queue: str | None = None


@dataclass
class AsyncInvocation:
    """An event queued by ``Invoke`` with ``InvocationType=Event``, run by :meth:`EmulatedStack.pump`."""

    function: EmulatedFunction
    payload: Any
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class LambdaContext:
    """The parts of the Lambda context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class EmulatedStack:
    """Create a stack's buckets, tables, queues, topics, event buses, rules and APIs on moto.

    Use inside ``moto.mock_aws()``. Functions are not deployed; :meth:`invoke` imports the
    handler from the function's synthesized asset directory and calls it with the template's
    environment. :meth:`pump` delivers queued SQS messages and DynamoDB stream records to
    their functions until nothing moves.

    Parameters
    ----------
    template
        The synthesized CloudFormation template (a dict).
    assembly_dir
        The cloud assembly directory (``cdk.out``) holding the ``asset.<hash>`` folders.
    region
        Default: ``"us-east-1"``.
    parameters
        Values for the template's CloudFormation parameters. Default: their ``Default``.
    quiet
        Keep handlers' INFO and WARNING logs and metric output off stdout (errors still show).
        Default: False.
    imports
        Export name -> value, for the template's ``Fn::ImportValue``: the :meth:`exports` of the
        stacks it depends on, started first in the same moto (a multi-stack app). Default: none.
    on_call
        A test seam, called with an :class:`AwsCall` for every AWS call made with a function's
        role: each SDK call of its handler (before it is sent), each URL or POST form it
        presigns, and each call its event source mappings make. Use it to record what every
        function calls (least-privilege checks), or raise ``botocore.exceptions.ClientError``
        for a :data:`HANDLER` call to make that call fail as if AWS had answered with the error
        after the SDK's own retries (fault injection). Default: None.
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        assembly_dir: str | os.PathLike[str],
        *,
        region: str = "us-east-1",
        parameters: Mapping[str, Any] | None = None,
        quiet: bool = False,
        on_call: Callable[[AwsCall], None] | None = None,
        imports: Mapping[str, Any] | None = None,
    ) -> None:
        self.template = template
        self.on_call = on_call
        self._quiet_environment = {"POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"} if quiet else {}
        self.assembly_dir: Path = Path(assembly_dir)
        self.region = region
        self.resources: dict[str, dict[str, Any]] = dict(template.get("Resources", {}))
        defaults = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()}
        self.parameters: dict[str, Any] = {**defaults, **(parameters or {})}
        self.physical: dict[str, dict[str, Any]] = {}
        self.functions: dict[str, EmulatedFunction] = {}
        self.mappings: list[EventSourceMapping] = []
        #: Function logical id -> its asynchronous invocation settings.
        self.async_configs: dict[str, AsyncConfig] = {}
        #: Asynchronous invocations waiting for :meth:`pump`.
        self.async_invocations: list[AsyncInvocation] = []
        self.skipped_subscriptions: list[str] = []
        self.lambda_subscriptions: list[LambdaSubscription] = []
        #: (subscription logical id, why SNS could not deliver, the notification) of each message
        #: SNS could not invoke its function with and that had no dead-letter queue to go to.
        self.undelivered_notifications: list[tuple[str, str, dict[str, Any]]] = []
        self.resolve: Resolver = Resolver(
            region=region, ref=self._ref, get_att=self._get_att, parameters=self.parameters, imports=imports
        )
        self._suffix = uuid.uuid4().hex[:8]
        self._clients: dict[str, Any] = {}

    # ---- clients ------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        """A client of the emulated ``service`` (one per service, reused)."""
        if service not in self._clients:
            # moto serves DynamoDB Streams only on the regional endpoint, not the account-based one.
            config = BotocoreConfig(account_id_endpoint_mode="disabled") if service == "dynamodbstreams" else None
            self._clients[service] = boto3.client(service, region_name=self.region, config=config)
        return self._clients[service]

    def queue_url(self, arn: str) -> str:
        """The URL of the emulated queue with this ARN."""
        return next(p["QueueUrl"] for p in self.physical.values() if p.get("Arn") == arn and "QueueUrl" in p)

    # ---- provisioning -------------------------------------------------------------------

    def start(self) -> EmulatedStack:
        """Create every supported resource, in dependency order."""
        creators = {
            "AWS::S3::Bucket": self._create_bucket,
            "AWS::DynamoDB::Table": self._create_table,
            "AWS::DynamoDB::GlobalTable": self._create_table,
            "AWS::SQS::Queue": self._create_queue,
            "AWS::SNS::Topic": self._create_topic,
            "AWS::Events::EventBus": self._create_event_bus,
            "AWS::ApiGateway::RestApi": self._create_rest_api,
        }
        pending = [lid for lid, r in self.resources.items() if r["Type"] in creators]
        while pending:
            progressed = []
            for logical_id in pending:
                try:
                    creators[self.resources[logical_id]["Type"]](logical_id, self.resources[logical_id].get("Properties", {}))
                except _NotYetCreated:
                    continue
                progressed.append(logical_id)
            if not progressed:
                raise RuntimeError(f"cannot resolve dependencies of {pending}")
            pending = [lid for lid in pending if lid not in progressed]
        functions = {lid: r.get("Properties", {}) for lid, r in self.resources.items() if r["Type"] == "AWS::Lambda::Function"}
        for logical_id, props in functions.items():  # names and ARNs first: environments refer to other functions
            name = self.resolve(props.get("FunctionName")) or self._name(logical_id, limit=64)
            self.physical[logical_id] = {
                "Ref": name,
                "Arn": f"arn:aws:lambda:{self.region}:{PSEUDO_PARAMETERS['AWS::AccountId']}:function:{name}",
            }
        self._create_state_machines()
        for logical_id, props in functions.items():
            self._register_function(logical_id, props)
        for resource in self.resources.values():
            if resource["Type"] == "AWS::Lambda::EventInvokeConfig":
                self._configure_async(resource["Properties"])
        self._create_api_methods()
        for logical_id, resource in self.resources.items():
            kind, props = resource["Type"], resource.get("Properties", {})
            if kind == "AWS::SNS::Subscription":
                self._subscribe(logical_id, props)
            elif kind == "AWS::Events::Rule":
                self._create_rule(logical_id, props)
            elif kind == "AWS::Lambda::EventSourceMapping":
                self._map_event_source(props)
            elif kind == "AWS::ApiGateway::Stage":
                self._create_stage(logical_id, props)
        for logical_id, resource in self.resources.items():
            if resource["Type"] == "AWS::ApiGateway::UsagePlan":
                self._create_usage_plan(logical_id, resource.get("Properties", {}))
        return self

    def exports(self) -> dict[str, Any]:
        """Export name -> value of the template's exported outputs, for the ``imports`` of the next stack."""
        return {
            self.resolve(output["Export"]["Name"]): self.resolve(output["Value"])
            for output in self.template.get("Outputs", {}).values()
            if "Export" in output
        }

    def _name(self, logical_id: str, limit: int = 63, lower: bool = False) -> str:
        name = f"{logical_id[: limit - 9]}-{self._suffix}"
        return name.lower() if lower else name

    def _create_bucket(self, logical_id: str, props: Mapping[str, Any]) -> None:
        name = self.resolve(props.get("BucketName")) or self._name(logical_id, lower=True)
        s3 = self.client("s3")
        kwargs: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        if props.get("ObjectLockEnabled"):
            kwargs["ObjectLockEnabledForBucket"] = True
        s3.create_bucket(**kwargs)
        if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        if props.get("NotificationConfiguration", {}).get("EventBridgeConfiguration"):
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
            )
            _EVENTBRIDGE_BUCKETS.add(name)  # its events are sent as S3 sends them (see below)
        self.physical[logical_id] = {"Ref": name, "Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com"}

    def _create_table(self, logical_id: str, props: Mapping[str, Any]) -> None:
        name = self.resolve(props.get("TableName")) or self._name(logical_id, limit=200)
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        indexes = [
            {"IndexName": g["IndexName"], "KeySchema": g["KeySchema"], "Projection": g.get("Projection", {"ProjectionType": "ALL"})}
            for g in props.get("GlobalSecondaryIndexes", [])
        ]
        if indexes:
            kwargs["GlobalSecondaryIndexes"] = indexes
        stream = props.get("StreamSpecification")
        if stream:
            kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
        dynamodb = self.client("dynamodb")
        description = dynamodb.create_table(**kwargs)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
            )
        self.physical[logical_id] = {
            "Ref": name,
            "Arn": description["TableArn"],
            "StreamArn": description.get("LatestStreamArn"),
        }

    def _create_queue(self, logical_id: str, props: Mapping[str, Any]) -> None:
        fifo = bool(props.get("FifoQueue"))
        name = self.resolve(props.get("QueueName")) or self._name(logical_id, limit=75 if fifo else 80)
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        attributes = {"FifoQueue": "true"} if fifo else {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds"):
            if key in props:
                attributes[key] = str(self.resolve(props[key]))
        if "RedrivePolicy" in props:
            policy = self.resolve(props["RedrivePolicy"])
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": policy["deadLetterTargetArn"], "maxReceiveCount": int(policy["maxReceiveCount"])}
            )
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.physical[logical_id] = {"Ref": url, "Arn": arn, "QueueName": name, "QueueUrl": url}

    def _create_topic(self, logical_id: str, props: Mapping[str, Any]) -> None:
        name = self.resolve(props.get("TopicName")) or self._name(logical_id, limit=256)
        arn = self.client("sns").create_topic(Name=name)["TopicArn"]
        self.physical[logical_id] = {"Ref": arn, "TopicArn": arn, "TopicName": name}

    def _create_event_bus(self, logical_id: str, props: Mapping[str, Any]) -> None:
        """A custom bus: its rules get what is put on it (moto delivers PutEvents to rule targets)."""
        name = self.resolve(props.get("Name")) or self._name(logical_id, limit=256)
        arn = self.client("events").create_event_bus(Name=name)["EventBusArn"]
        self.physical[logical_id] = {"Ref": name, "Arn": arn, "Name": name}

    def _create_state_machines(self) -> None:
        """Each state machine on moto, with its resolved definition: executions are recorded, not run.

        After the functions' ARNs are known (definitions name them) and before their environments
        are resolved (the step coordinator's names its runners). A state machine may name another.
        """
        pending = [lid for lid, r in self.resources.items() if r["Type"] == "AWS::StepFunctions::StateMachine"]
        while pending:
            created = []
            for logical_id in pending:
                props = self.resources[logical_id].get("Properties", {})
                try:
                    definition = self.resolve(props.get("DefinitionString")) or json.dumps(props.get("Definition") or {})
                except _NotYetCreated:
                    continue
                name = self.resolve(props.get("StateMachineName")) or self._name(logical_id, limit=80)
                role = f"arn:aws:iam::{PSEUDO_PARAMETERS['AWS::AccountId']}:role/{logical_id}"  # no IAM here
                arn = self.client("stepfunctions").create_state_machine(
                    name=name, definition=definition, roleArn=role, type=props.get("StateMachineType", "STANDARD")
                )["stateMachineArn"]
                self.physical[logical_id] = {"Ref": arn, "Arn": arn, "Name": name}
                created.append(logical_id)
            if not created:
                raise RuntimeError(f"cannot resolve the definitions of {pending}")
            pending = [lid for lid in pending if lid not in created]

    def executions(self, logical_id: str) -> list[dict[str, Any]]:
        """The executions started of the template's state machine ``logical_id`` (moto runs none)."""
        client = self.client("stepfunctions")
        listed = client.list_executions(stateMachineArn=self.physical[logical_id]["Arn"])["executions"]
        return [client.describe_execution(executionArn=e["executionArn"]) for e in listed]

    def _create_rest_api(self, logical_id: str, props: Mapping[str, Any]) -> None:
        api = self.client("apigateway").create_rest_api(name=self.resolve(props.get("Name")) or logical_id)
        self.physical[logical_id] = {"Ref": api["id"], "RootResourceId": api["rootResourceId"]}

    def _create_api_methods(self) -> None:
        """Recreate the template's API resources and methods (moto deploys no API without them)."""
        apigateway = self.client("apigateway")
        pending = [lid for lid, r in self.resources.items() if r["Type"] == "AWS::ApiGateway::Resource"]
        while pending:
            created = []
            for logical_id in pending:
                props = self.resources[logical_id]["Properties"]
                try:
                    parent = self.resolve(props["ParentId"])
                except _NotYetCreated:
                    continue
                resource = apigateway.create_resource(
                    restApiId=self.resolve(props["RestApiId"]), parentId=parent, pathPart=props["PathPart"]
                )
                self.physical[logical_id] = {"Ref": resource["id"]}
                created.append(logical_id)
            if not created:
                raise RuntimeError(f"cannot place API resources {pending}")
            pending = [lid for lid in pending if lid not in created]
        for resource in self.resources.values():
            if resource["Type"] == "AWS::ApiGateway::Method":
                props = resource["Properties"]
                where = {
                    "restApiId": self.resolve(props["RestApiId"]),
                    "resourceId": self.resolve(props["ResourceId"]),
                    "httpMethod": props["HttpMethod"],
                }
                apigateway.put_method(**where, authorizationType="NONE", apiKeyRequired=bool(props.get("ApiKeyRequired")))
                # Requests are routed by EmulatedRestApi; moto only needs an integration to deploy.
                apigateway.put_integration(**where, type="MOCK")

    def _create_stage(self, logical_id: str, props: Mapping[str, Any]) -> None:
        api_id = self.resolve(props["RestApiId"])
        stage = self.resolve(props["StageName"])
        self.client("apigateway").create_deployment(restApiId=api_id, stageName=stage)
        self.physical[logical_id] = {"Ref": stage}

    def _create_usage_plan(self, logical_id: str, props: Mapping[str, Any]) -> None:
        kwargs: dict[str, Any] = {"name": self.resolve(props.get("UsagePlanName")) or logical_id}
        stages = [{"apiId": self.resolve(s["ApiId"]), "stage": self.resolve(s["Stage"])} for s in props.get("ApiStages", [])]
        if stages:
            kwargs["apiStages"] = stages
        if "Quota" in props:
            quota = self.resolve(props["Quota"])
            kwargs["quota"] = {"limit": int(quota["Limit"]), "period": quota["Period"]}
        if "Throttle" in props:
            throttle = self.resolve(props["Throttle"])
            kwargs["throttle"] = {"rateLimit": float(throttle.get("RateLimit", 0)), "burstLimit": int(throttle.get("BurstLimit", 0))}
        tags = {t["Key"]: self.resolve(t["Value"]) for t in props.get("Tags", [])}
        if tags:
            kwargs["tags"] = tags
        plan = self.client("apigateway").create_usage_plan(**kwargs)
        self.physical[logical_id] = {"Ref": plan["id"]}

    def _register_function(self, logical_id: str, props: Mapping[str, Any]) -> None:
        name = self.physical[logical_id]["Ref"]
        environment = {k: str(self.resolve(v)) for k, v in props.get("Environment", {}).get("Variables", {}).items()}
        self.functions[logical_id] = EmulatedFunction(
            logical_id=logical_id,
            name=name,
            handler=props["Handler"],
            asset_dir=self._asset_dir(logical_id, props),
            environment=environment,
        )
        dead_letter = props.get("DeadLetterConfig", {}).get("TargetArn")
        if dead_letter:
            self.async_configs[logical_id] = AsyncConfig(dead_letter_queue=self.resolve(dead_letter))

    def function_by_reference(self, reference: str) -> EmulatedFunction | None:
        """The function with this name or ARN (unqualified or ``:$LATEST``), if it is the stack's."""
        unqualified = reference.removesuffix(":$LATEST")
        for function in self.functions.values():
            if unqualified in (function.name, self.physical[function.logical_id]["Arn"]):
                return function
        return None

    def _configure_async(self, props: Mapping[str, Any]) -> None:
        function = self.function_by_reference(str(self.resolve(props["FunctionName"])))
        if function is None:
            return
        qualifier = self.resolve(props.get("Qualifier", "$LATEST"))
        if qualifier != "$LATEST":
            raise ValueError(f"{function.logical_id}: only EventInvokeConfig of $LATEST runs locally, not {qualifier!r}")
        destinations = props.get("DestinationConfig", {})
        config = self.async_configs.setdefault(function.logical_id, AsyncConfig())
        config.maximum_retry_attempts = int(self.resolve(props.get("MaximumRetryAttempts", 2)))
        config.maximum_event_age_seconds = int(self.resolve(props.get("MaximumEventAgeInSeconds", 6 * 3600)))
        for name in ("OnSuccess", "OnFailure"):
            target = destinations.get(name, {}).get("Destination")
            setattr(config, "on_success" if name == "OnSuccess" else "on_failure", self.resolve(target) if target else None)

    def _asset_dir(self, logical_id: str, props: Mapping[str, Any]) -> Path:
        metadata_path = self.resources[logical_id].get("Metadata", {}).get("aws:asset:path")
        if metadata_path:
            return self.assembly_dir / metadata_path
        key = props.get("Code", {}).get("S3Key")
        if isinstance(key, str) and key.endswith(".zip"):
            return self.assembly_dir / f"asset.{key[:-4]}"
        raise ValueError(f"{logical_id}: only functions with file assets can run locally")

    def _subscribe(self, logical_id: str, props: Mapping[str, Any]) -> None:
        protocol = props["Protocol"]
        endpoint = self.resolve(props["Endpoint"])
        function = self.function_by_reference(str(endpoint)) if protocol == "lambda" else None
        if protocol not in ("sqs", "lambda") or (protocol == "lambda" and function is None):
            self.skipped_subscriptions.append(f"{logical_id} ({protocol})")
            return
        topic_arn = self.resolve(props["TopicArn"])
        attributes = {}
        if props.get("RawMessageDelivery") and protocol == "sqs":
            attributes["RawMessageDelivery"] = "true"
        for name in ("FilterPolicy", "FilterPolicyScope"):
            if props.get(name):
                value = self.resolve(props[name])
                attributes[name] = value if isinstance(value, str) else json.dumps(value)
        if protocol == "sqs":
            self.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=endpoint, Attributes=attributes)
            return
        assert function is not None
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=self._name(f"SnsToLambda{logical_id}", limit=80))["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        arn = self.client("sns").subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes, ReturnSubscriptionArn=True
        )["SubscriptionArn"]
        redrive = self.resolve(props.get("RedrivePolicy") or {})
        if isinstance(redrive, str):
            redrive = json.loads(redrive)
        self.lambda_subscriptions.append(
            LambdaSubscription(
                logical_id=logical_id,
                arn=arn,
                topic_arn=topic_arn,
                function=function,
                queue_url=url,
                dead_letter_queue=redrive.get("deadLetterTargetArn"),
                refusal=self._sns_invoke_refusal(function, topic_arn),
            )
        )

    def _sns_invoke_refusal(self, function: EmulatedFunction, topic_arn: str) -> str | None:
        """Why SNS may not invoke ``function`` for ``topic_arn``: None when an ``AWS::Lambda::Permission``
        allows ``lambda:InvokeFunction`` to ``sns.amazonaws.com`` with no ``SourceArn`` or this topic's."""
        for resource in self.resources.values():
            if resource["Type"] != "AWS::Lambda::Permission":
                continue
            props = resource.get("Properties", {})
            target = self.function_by_reference(str(self.resolve(props.get("FunctionName"))))
            source = self.resolve(props.get("SourceArn")) if props.get("SourceArn") else None
            if (target is function and self.resolve(props.get("Principal")) == "sns.amazonaws.com"
                    and self.resolve(props.get("Action")) in ("lambda:InvokeFunction", "lambda:*")
                    and source in (None, topic_arn)):
                return None
        return f"no AWS::Lambda::Permission lets sns.amazonaws.com invoke {function.logical_id} for {topic_arn}"

    def _create_rule(self, logical_id: str, props: Mapping[str, Any]) -> None:
        if "EventPattern" not in props:
            return  # scheduled rules do not run locally
        events = self.client("events")
        name = self.resolve(props.get("Name")) or self._name(logical_id, limit=64)
        bus = self.resolve(props.get("EventBusName")) or "default"
        events.put_rule(Name=name, EventPattern=json.dumps(self.resolve(props["EventPattern"])), EventBusName=bus)
        targets = [{"Id": t["Id"], "Arn": self.resolve(t["Arn"])} for t in props.get("Targets", [])]
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        self.physical[logical_id] = {"Ref": name, "Arn": f"arn:aws:events:{self.region}:123456789012:rule/{name}"}

    def _map_event_source(self, props: Mapping[str, Any]) -> None:
        function_ref = props["FunctionName"]
        function = next(
            f for f in self.functions.values()
            if self.resolve(function_ref) in (f.name, self.physical[f.logical_id]["Arn"])
        )
        on_failure = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        self.mappings.append(
            EventSourceMapping(
                function=function,
                source_arn=self.resolve(props["EventSourceArn"]),
                batch_size=int(props.get("BatchSize", 10)),
                report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                maximum_retry_attempts=int(self.resolve(props.get("MaximumRetryAttempts", 2))),
                bisect_batch_on_error=bool(self.resolve(props.get("BisectBatchOnFunctionError", False))),
                on_failure=self.resolve(on_failure) if on_failure else None,
            )
        )

    # ---- intrinsic resolution -------------------------------------------------------------

    def _ref(self, logical_id: str) -> Any:
        if logical_id in self.physical:
            return self.physical[logical_id]["Ref"]
        if logical_id in self.resources and self.resources[logical_id]["Type"] in _CREATED_TYPES:
            raise _NotYetCreated(logical_id)
        return f"{logical_id}-emulated"

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        if logical_id in self.physical and attribute in self.physical[logical_id]:
            return self.physical[logical_id][attribute]
        if logical_id in self.resources and self.resources[logical_id]["Type"] in _CREATED_TYPES:
            raise _NotYetCreated(logical_id)
        return f"arn:aws:emulated:{self.region}:123456789012:{logical_id}/{attribute}"

    # ---- running functions ----------------------------------------------------------------

    def function(self, handler_prefix: str) -> EmulatedFunction:
        """The one function whose handler starts with ``handler_prefix`` (e.g. ``"documents_api."``)."""
        matches = [f for f in self.functions.values() if f.handler.startswith(handler_prefix)]
        if len(matches) != 1:
            raise LookupError(f"expected one function with handler {handler_prefix}*, found {[f.handler for f in matches]}")
        return matches[0]

    def invoke(self, function: EmulatedFunction, event: Mapping[str, Any]) -> Any:
        """Call the function's handler in-process with its environment from the template.

        The AWS calls the handler makes meanwhile are reported to ``on_call`` as this function's.
        """
        function.invocations += 1
        context = LambdaContext(function_name=function.name, invoked_function_arn=self.physical[function.logical_id]["Arn"])
        environment = {**function.environment, "AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region,
                       "AWS_LAMBDA_FUNCTION_NAME": function.name, **self._quiet_environment}
        token = _INVOKED.set((self, function))
        try:
            with _environment(environment), warnings.catch_warnings():
                if self._quiet_environment:
                    warnings.simplefilter("ignore", UserWarning)  # Powertools: "No application metrics to publish"
                return function.load()(dict(event), context)
        finally:
            _INVOKED.reset(token)

    def _report(
        self, function: EmulatedFunction, service: str, operation: str, params: Mapping[str, Any], *, origin: str = EVENT_SOURCE
    ) -> None:
        """Tell ``on_call`` about a call Lambda makes for ``function`` (event source mapping, async)."""
        if self.on_call is not None:
            self.on_call(AwsCall(function.logical_id, service, operation, dict(params), origin))

    def pump(self, max_rounds: int = 100) -> int:
        """Deliver queued messages and stream records to their functions until nothing moves.

        Each round delivers at most one batch per queue mapping and one per stream shard, so
        ``max_rounds`` bounds the run (about messages / batch size rounds drain a queue).
        Returns the number of batches delivered.
        """
        delivered = 0
        for _ in range(max_rounds):
            moved = sum(self._deliver_notifications(subscription) for subscription in self.lambda_subscriptions)
            moved += self._run_async_invocations()
            for mapping in self.mappings:
                moved += self._deliver_queue(mapping) if mapping.is_queue else self._deliver_stream(mapping)
            if not moved:
                return delivered
            delivered += moved
        raise RuntimeError(f"still delivering after {max_rounds} rounds")

    def invoke_async(self, function: EmulatedFunction, payload: Any) -> AsyncInvocation:
        """Queue an asynchronous invocation (``InvocationType=Event``); :meth:`pump` runs it."""
        invocation = AsyncInvocation(function, payload)
        self.async_invocations.append(invocation)
        return invocation

    def _run_async_invocations(self) -> int:
        """Run the queued asynchronous invocations, as Lambda does, with no delay between attempts.

        A handler that raises is retried ``MaximumRetryAttempts`` times; then the invocation record
        goes to the on-failure destination (``condition: RetriesExhausted``), else the event to
        the dead-letter queue. A success goes to the on-success destination. Events never expire
        (no time passes between attempts), so ``EventAgeExceeded`` does not occur.
        """
        pending, self.async_invocations = self.async_invocations, []
        for invocation in pending:
            function = invocation.function
            config = self.async_configs.get(function.logical_id, AsyncConfig())
            attempts, error = 0, None
            response: Any = None
            for _attempt in range(config.maximum_retry_attempts + 1):
                attempts += 1
                try:
                    response = json.loads(json.dumps(self.invoke(function, invocation.payload)))
                except Exception as raised:  # noqa: BLE001 - a raising handler is a failed attempt, as on Lambda
                    error = raised
                    continue
                error = None
                break
            if error is None:
                self._send_invocation_record(function, config.on_success, invocation, "Success", attempts, response)
            elif config.on_failure:
                payload = {"errorMessage": str(error), "errorType": type(error).__name__, "stackTrace": []}
                self._send_invocation_record(function, config.on_failure, invocation, "RetriesExhausted", attempts, payload)
            elif config.dead_letter_queue:
                attributes = {
                    "RequestID": {"DataType": "String", "StringValue": invocation.request_id},
                    "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                    "ErrorMessage": {"DataType": "String", "StringValue": str(error)[:256]},
                }
                self._send_to(function, config.dead_letter_queue, json.dumps(invocation.payload), attributes)
        return len(pending)

    def _deliver_notifications(self, subscription: LambdaSubscription) -> int:
        """SNS's delivery to a Lambda subscription: one asynchronous invocation per message, with
        the SNS event of one record (AWS Lambda developer guide, "Using Lambda with Amazon SNS")."""
        sqs = self.client("sqs")
        moved = 0
        while batch := sqs.receive_message(QueueUrl=subscription.queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                notification = json.loads(message["Body"])
                if subscription.refusal is None:
                    self.invoke_async(subscription.function, _sns_event(notification, subscription.arn))
                elif subscription.dead_letter_queue:
                    url = self.queue_url(subscription.dead_letter_queue)
                    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(notification))
                else:
                    self.undelivered_notifications.append((subscription.logical_id, subscription.refusal, notification))
                sqs.delete_message(QueueUrl=subscription.queue_url, ReceiptHandle=message["ReceiptHandle"])
                moved += 1
        return moved

    def _send_invocation_record(
        self, function: EmulatedFunction, destination: str | None, invocation: AsyncInvocation, condition: str,
        attempts: int, response: Any,
    ) -> None:
        """Lambda's invocation record (AWS Lambda developer guide, "Capturing records of Lambda
        asynchronous invocations"), sent as the message body to a queue or topic destination."""
        if destination is None:
            return
        arn = self.physical[function.logical_id]["Arn"]
        record: dict[str, Any] = {
            "version": "1.0",
            "timestamp": _iso(time.time()),
            "requestContext": {
                "requestId": invocation.request_id,
                "functionArn": f"{arn}:$LATEST",
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "requestPayload": invocation.payload,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
            "responsePayload": response,
        }
        if condition != "Success":
            record["responseContext"]["functionError"] = "Unhandled"
        self._send_to(function, destination, json.dumps(record))

    def _send_to(self, function: EmulatedFunction, destination: str, body: str, attributes: Mapping[str, Any] | None = None) -> None:
        if destination.startswith("arn:aws:sns:"):
            self._report(function, "sns", "Publish", {"TopicArn": destination}, origin=ASYNC_INVOKE)
            self.client("sns").publish(TopicArn=destination, Message=body)
        elif destination.startswith("arn:aws:sqs:"):
            url = self.queue_url(destination)
            self._report(function, "sqs", "SendMessage", {"QueueUrl": url}, origin=ASYNC_INVOKE)
            self.client("sqs").send_message(QueueUrl=url, MessageBody=body, MessageAttributes=dict(attributes or {}))
        else:
            raise ValueError(f"{function.logical_id}: destination {destination} is not emulated (only SQS queues and SNS topics)")

    def _deliver_queue(self, mapping: EventSourceMapping) -> int:
        sqs = self.client("sqs")
        url = self.queue_url(mapping.source_arn)
        self._report(mapping.function, "sqs", "ReceiveMessage", {"QueueUrl": url})
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(mapping.batch_size, 10), AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [_sqs_record(m, mapping.source_arn, self.region) for m in messages]}
        failed = self._failed_items(mapping, event, key="messageId")
        for message in messages:
            if message["MessageId"] in failed:
                # Stands in for the visibility timeout running out (Lambda makes no call for it):
                # the message is received again, and after maxReceiveCount receives SQS moves it
                # to the dead-letter queue.
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
            else:
                self._report(mapping.function, "sqs", "DeleteMessage", {"QueueUrl": url})
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if failed:
            time.sleep(0.002)  # moto shows a message again once its deadline (in milliseconds) has passed
        return 1

    def _deliver_stream(self, mapping: EventSourceMapping) -> int:
        streams = self.client("dynamodbstreams")
        function = mapping.function
        if not mapping.shard_iterators:
            self._report(function, "dynamodbstreams", "DescribeStream", {"StreamArn": mapping.source_arn})
            shards = streams.describe_stream(StreamArn=mapping.source_arn)["StreamDescription"]["Shards"]
            for shard in shards:
                where = {"StreamArn": mapping.source_arn, "ShardId": shard["ShardId"]}
                self._report(function, "dynamodbstreams", "GetShardIterator", where)
                mapping.shard_iterators[shard["ShardId"]] = streams.get_shard_iterator(
                    **where, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
        moved = 0
        for shard_id, iterator in list(mapping.shard_iterators.items()):
            self._report(function, "dynamodbstreams", "GetRecords", {"StreamArn": mapping.source_arn, "ShardId": shard_id})
            response = streams.get_records(ShardIterator=iterator, Limit=mapping.batch_size)
            records = response.get("Records", [])
            mapping.shard_iterators[shard_id] = response.get("NextShardIterator") or iterator
            if not records:
                continue
            event = {"Records": [_stream_record(r, mapping.source_arn, self.region) for r in records]}
            failed = self._failed_items(mapping, event, key="dynamodb.SequenceNumber")
            for _retry in range(mapping.maximum_retry_attempts):  # then Lambda skips the records
                if not failed:
                    break
                event = {"Records": [r for r in event["Records"] if r["dynamodb"]["SequenceNumber"] in failed]}
                failed = self._failed_items(mapping, event, key="dynamodb.SequenceNumber")
            skipped = [r for r in event["Records"] if r["dynamodb"]["SequenceNumber"] in failed]
            for batch in ([r] for r in skipped) if mapping.bisect_batch_on_error else [skipped]:
                self._report_stream_failure(mapping, shard_id, batch)
            moved += 1
        return moved

    def _report_stream_failure(self, mapping: EventSourceMapping, shard_id: str, records: list[dict[str, Any]]) -> None:
        """Send Lambda's invocation record of skipped stream records to the on-failure destination."""
        if mapping.on_failure is None or not records:
            return
        arrivals = [r["dynamodb"].get("ApproximateCreationDateTime") for r in records]
        record = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.physical[mapping.function.logical_id]["Arn"],
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": mapping.maximum_retry_attempts + 1,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": _iso(time.time()),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(arrivals[0]),
                "approximateArrivalOfLastRecord": _iso(arrivals[-1]),
                "batchSize": len(records),
                "streamArn": mapping.source_arn,
            },
        }
        body = json.dumps(record)
        if mapping.on_failure.startswith("arn:aws:sns:"):
            self._report(mapping.function, "sns", "Publish", {"TopicArn": mapping.on_failure})
            self.client("sns").publish(TopicArn=mapping.on_failure, Message=body)
        else:
            url = self.queue_url(mapping.on_failure)
            self._report(mapping.function, "sqs", "SendMessage", {"QueueUrl": url})
            self.client("sqs").send_message(QueueUrl=url, MessageBody=body)

    def _failed_items(self, mapping: EventSourceMapping, event: Mapping[str, Any], *, key: str) -> set[str]:
        records = event["Records"]
        try:
            response = self.invoke(mapping.function, event)
        except Exception:  # a raising handler fails the whole batch, as on Lambda
            return {_dig(r, key) for r in records}
        if mapping.report_batch_item_failures and isinstance(response, dict):
            return {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        return set()


_CREATED_TYPES = {
    "AWS::ApiGateway::Resource",
    "AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::SQS::Queue", "AWS::SNS::Topic",
    "AWS::Events::EventBus", "AWS::ApiGateway::RestApi", "AWS::StepFunctions::StateMachine",
}


class _NotYetCreated(Exception):
    pass


def _iso(epoch_seconds: float | None) -> str | None:
    if epoch_seconds is None:
        return None
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _dig(record: Mapping[str, Any], dotted: str) -> str:
    value: Any = record
    for part in dotted.split("."):
        value = value[part]
    return str(value)


def _sqs_record(message: Mapping[str, Any], source_arn: str, region: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": source_arn,
        "awsRegion": region,
    }


def _sns_event(notification: Mapping[str, Any], subscription_arn: str) -> dict[str, Any]:
    """The event SNS invokes a Lambda subscription with, from moto's notification to a queue.

    Lambda's event spells ``SigningCertUrl`` and ``UnsubscribeUrl`` (the HTTP and SQS notification
    ``SigningCertURL``/``UnsubscribeURL``), carries ``Subject`` as null when there is none and the
    message attributes as ``{"Type", "Value"}``.
    """
    sns = {
        "Type": "Notification",
        "MessageId": notification["MessageId"],
        "TopicArn": notification["TopicArn"],
        "Subject": notification.get("Subject") or None,
        "Message": notification["Message"],
        "Timestamp": notification["Timestamp"],
        "SignatureVersion": notification.get("SignatureVersion", "1"),
        "Signature": notification.get("Signature", "EXAMPLE"),
        "SigningCertUrl": notification.get("SigningCertURL", ""),
        "UnsubscribeUrl": notification.get("UnsubscribeURL", ""),
        "MessageAttributes": {
            name: {"Type": value.get("Type"), "Value": value.get("Value")}
            for name, value in (notification.get("MessageAttributes") or {}).items()
        },
    }
    return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": subscription_arn, "Sns": sns}]}


def _stream_record(record: Mapping[str, Any], source_arn: str, region: str) -> dict[str, Any]:
    dynamodb = dict(record["dynamodb"])
    for key in ("ApproximateCreationDateTime",):
        value = dynamodb.get(key)
        if value is not None and not isinstance(value, (int, float)):
            dynamodb[key] = value.timestamp()
    return {
        "eventID": record.get("eventID", str(uuid.uuid4())),
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": source_arn,
    }


@contextlib.contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _on_path(directory: Path) -> Iterator[None]:
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        sys.path.remove(str(directory))


def _forget_modules(top_level: str) -> None:
    """Drop cached modules of a handler package so each asset's own copy is imported."""
    for name in [n for n in sys.modules if n == top_level or n.startswith(f"{top_level}.")]:
        del sys.modules[name]


# ---- what handlers call ----------------------------------------------------------------------
#
# Handlers make their own SDK clients (at import or lazily), so the emulator observes them through
# botocore's built-in handlers, which every botocore session registers when it is created (moto
# hooks in the same way). The function being invoked is held in a context variable; calls made
# outside an invocation (tests, the emulator's own calls) are not reported.

_INVOKED: contextvars.ContextVar[tuple[EmulatedStack, EmulatedFunction] | None] = contextvars.ContextVar(
    "serverless_patterns_emulated_invocation", default=None
)


def _observe_api_call(params: Mapping[str, Any], model: Any, context: Mapping[str, Any], **_: Any) -> None:
    """``before-parameter-build``: every SDK call, and every presigned URL, before it is built."""
    invoked = _INVOKED.get()
    if invoked is None or invoked[0].on_call is None:
        return
    stack, function = invoked
    presigned = bool(context.get("is_presign_request"))
    if presigned and model.name == "CreateBucket":
        return  # generate_presigned_post builds its URL from CreateBucket; see _observe_presigned_post
    origin = PRESIGNED if presigned else HANDLER
    stack.on_call(AwsCall(function.logical_id, model.service_model.service_name, model.name, dict(params), origin))


def _observe_presigned_post(request: Any, **_: Any) -> None:
    """``before-sign.s3.PutObject``: a presigned POST form, whose policy names the bucket and key."""
    invoked = _INVOKED.get()
    policy = request.context.get("s3-presign-post-policy")
    if invoked is None or invoked[0].on_call is None or policy is None:
        return
    stack, function = invoked
    params = {
        name.title(): condition[name]
        for condition in policy.get("conditions", []) if isinstance(condition, dict)
        for name in ("bucket", "key") if name in condition
    }
    stack.on_call(AwsCall(function.logical_id, "s3", "PutObject", params, PRESIGNED))


def _stash_lambda_invoke(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
    """``before-parameter-build.lambda.Invoke``: keep the call's parameters for :func:`_emulate_lambda_invoke`."""
    context["serverless_patterns_lambda_invoke"] = dict(params)


def _emulate_lambda_invoke(context: Mapping[str, Any], **_: Any) -> Any:
    """``before-call.lambda.Invoke``: an asynchronous invoke of a function of the emulated stack,
    made by one of its handlers, is queued on the stack (202, no request sent); anything else goes on."""
    invoked = _INVOKED.get()
    params = context.get("serverless_patterns_lambda_invoke")
    if invoked is None or params is None or params.get("InvocationType") != "Event":
        return None
    stack = invoked[0]
    function = stack.function_by_reference(str(params.get("FunctionName", "")))
    if function is None:
        return None
    payload = params.get("Payload") or b"{}"
    if hasattr(payload, "read"):
        payload = payload.read()
    invocation = stack.invoke_async(function, json.loads(payload))
    metadata = {"RequestId": invocation.request_id, "HTTPStatusCode": 202, "HTTPHeaders": {}, "RetryAttempts": 0}
    return AWSResponse(f"https://lambda.{stack.region}.amazonaws.com", 202, {}, None), {"StatusCode": 202, "ResponseMetadata": metadata}


BUILTIN_HANDLERS.extend([
    ("before-parameter-build", _observe_api_call),
    ("before-sign.s3.PutObject", _observe_presigned_post),
    ("before-parameter-build.lambda.Invoke", _stash_lambda_invoke),
    ("before-call.lambda.Invoke", _emulate_lambda_invoke),
])


# ---- S3 events to EventBridge, as S3 sends them -----------------------------------------------
#
# moto sends an event to EventBridge for every change in a bucket with EventBridge notifications,
# but not in the shape S3 sends: the key is not URL-encoded, the ETag field is "eTag", and every
# event carries the same sequencer. For the buckets of an emulated stack
# the emulator sends :func:`s3_eventbridge_event` instead; other buckets keep moto's event.

_EVENTBRIDGE_BUCKETS: set[str] = set()
_last_sequencer = 0
#: The ``reason`` S3 gives per API (Amazon S3 user guide, "EventBridge event message structure").
_REASONS = {
    "Put": "PutObject", "Post": "POST Object", "Copy": "CopyObject",
    "CompleteMultipartUpload": "CompleteMultipartUpload", "Delete": "DeleteObject",
    "DeleteMarkerCreated": "DeleteObject",
}
_request_ids = itertools.count(1)


def s3_eventbridge_event(
    bucket: str,
    key: str,
    *,
    size: int,
    etag: str,
    version_id: str | None = None,
    detail_type: str = "Object Created",
    reason: str = "PutObject",
    region: str = "us-east-1",
    account: str = "123456789012",
    sequencer: str | None = None,
) -> dict[str, Any]:
    """An S3 event as S3 sends it to EventBridge (Amazon S3 user guide, "EventBridge event
    message structure").

    The key is URL-encoded with ``+`` for a space, as in S3 event notifications (what
    Powertools' ``S3EventBridgeNotificationEvent`` decodes); ``/`` is kept, as in the events S3
    is seen to send (its documentation does not list the characters it leaves unescaped, so a
    consumer must decode any valid escape); ``sequencer`` defaults to the next
    value of a per-process counter, so later events of a key carry greater sequencers.
    """
    obj: dict[str, Any] = {"key": quote_plus(key, safe="/"), "size": size, "etag": etag.strip('"')}
    if version_id and version_id != "null":
        obj["version-id"] = version_id
    obj["sequencer"] = sequencer or _next_sequencer()
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": obj,
            "request-id": f"EMULATED{next(_request_ids):08d}",
            "requester": account,
            "source-ip-address": "192.0.2.1",
            "reason": reason,
        },
    }


def _next_sequencer() -> str:
    global _last_sequencer
    _last_sequencer = max(_last_sequencer + 1, time.time_ns())
    return f"{_last_sequencer:018X}"


def _install_s3_eventbridge_hook() -> None:
    from moto.s3 import notifications

    moto_send = notifications._send_event_bridge_message
    if getattr(moto_send, "_emulated", False):
        return

    def send(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
        if bucket.name not in _EVENTBRIDGE_BUCKETS:
            moto_send(account_id, bucket, event_name, key)
            return
        from moto.events.models import events_backends

        action = event_name.split(":")[-1]
        event = s3_eventbridge_event(
            bucket.name, key.name, size=key.size, etag=key.etag, version_id=key.version_id,
            detail_type=notifications._detail_type(event_name), reason=_REASONS.get(action, action),
            region=bucket.region_name, account=account_id,
        )
        event["time"] = time.time()  # moto's rules render it as ISO 8601 when they deliver
        for bus in events_backends[account_id][bucket.region_name].event_buses.values():
            for rule in bus.rules.values():
                rule.send_to_targets(event, transform_input=False)

    send._emulated = True  # type: ignore[attr-defined]
    notifications._send_event_bridge_message = send


_install_s3_eventbridge_hook()
