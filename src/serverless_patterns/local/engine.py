"""The local CloudFormation engine (MiniStack) and the checks a deployment on it must pass.

:class:`LocalEngine` starts MiniStack on loopback from its own interpreter (the engine pins its
own botocore, so it lives in a virtualenv of its own), waits until it answers, and stops it
with everything it spawned (its Lambda workers run in its process group). :func:`check_stack`
compares a deployed stack with the template that was deployed: every resource created, every
output present and resolved.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The account every local deployment runs in (MiniStack's default account).
LOCAL_ACCOUNT = "000000000000"
#: Dummy credentials: the engine does not check them, the CLI and boto3 want some.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local-deploy", "AWS_SECRET_ACCESS_KEY": "local-deploy-secret"}
DEFAULT_PORT = 4566


def free_port(preferred: int = DEFAULT_PORT) -> int:
    """``preferred`` if nothing listens on it on 127.0.0.1, else a free port the OS picks."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if probe.connect_ex(("127.0.0.1", preferred)) != 0:
            return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as chooser:
        chooser.bind(("127.0.0.1", 0))
        return chooser.getsockname()[1]


@dataclass
class LocalEngine:
    """MiniStack on ``127.0.0.1:port``, run by ``python`` (the engine's own interpreter).

    ``workdir`` receives the engine's temporary files (Lambda code, its pid file) and its log
    (``engine.log``); ``node_bin`` is put first on the engine's PATH (the Node runtime for
    Node.js functions such as CDK's custom resources) and ``node_path`` is their ``NODE_PATH``
    (packages the Lambda Node.js runtime would provide, e.g. ``@aws-sdk/client-ec2``).
    """

    python: Path
    workdir: Path
    port: int = DEFAULT_PORT
    region: str = "us-east-1"
    node_bin: Path | None = None
    node_path: Path | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "engine.log"

    def environment(self) -> dict[str, str]:
        """The engine's environment: loopback only, state in memory, nothing persisted."""
        tmp = self.workdir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "CDK_"))}
        env.update(LOCAL_CREDENTIALS)
        env.update(
            {
                "BIND_HOST": "127.0.0.1",  # MiniStack's default is 0.0.0.0 (every interface)
                "GATEWAY_PORT": str(self.port),
                "MINISTACK_HOST": "localhost",
                "MINISTACK_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_ENDPOINT_URL": self.endpoint,  # what the functions' SDK clients call
                "PERSIST_STATE": "0",
                "S3_PERSIST": "0",
                "LAMBDA_EXECUTOR": "local",  # functions as host subprocesses, no Docker
                "TMPDIR": str(tmp),
            }
        )
        if self.node_bin is not None:
            env["PATH"] = f"{self.node_bin}{os.pathsep}{env.get('PATH', '')}"
        if self.node_path is not None:
            env["NODE_PATH"] = str(self.node_path)
        return env

    def start(self, timeout_seconds: float = 30.0) -> LocalEngine:
        """Start the engine and wait until its health endpoint answers."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w")
        self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
            [str(self.python), "-m", "ministack"], env=self.environment(), cwd=self.workdir,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the engine exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/_ministack/health", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"the engine did not answer on {self.endpoint} within {timeout_seconds:.0f} s")

    def stop(self, timeout_seconds: float = 10.0) -> None:
        """Stop the engine and the Lambda workers it spawned (its own process group)."""
        if self.process is None:
            return
        group = self.process.pid  # start_new_session: the engine leads its own group
        for sent in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(group, sent)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=timeout_seconds)
            except subprocess.TimeoutExpired:
                continue
            time.sleep(0.2)  # workers get the same signal; let them go
        self.process = None


# ---- checks ------------------------------------------------------------------------------


def expected_resources(template: Mapping[str, Any], parameters: Mapping[str, str]) -> dict[str, str]:
    """Logical id -> type of every resource CloudFormation must create for these parameters."""
    conditions, values = template.get("Conditions", {}), _parameter_values(template, parameters)
    return {
        logical_id: resource["Type"]
        for logical_id, resource in template.get("Resources", {}).items()
        if "Condition" not in resource or _condition(resource["Condition"], conditions, values)
    }


def _parameter_values(template: Mapping[str, Any], parameters: Mapping[str, str]) -> dict[str, Any]:
    values = {name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()}
    values.update(parameters)
    return values


def _condition(name: str, conditions: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    return bool(_evaluate(conditions[name], conditions, values))


def _evaluate(node: Any, conditions: Mapping[str, Any], values: Mapping[str, Any]) -> Any:
    if isinstance(node, dict) and len(node) == 1:
        (key, argument), = node.items()
        if key == "Ref":
            if argument not in values:
                raise ValueError(f"condition refers to {argument}, which has no value")
            return values[argument]
        if key == "Condition":
            return _condition(argument, conditions, values)
        if key == "Fn::Equals":
            left, right = (_evaluate(item, conditions, values) for item in argument)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not _evaluate(argument[0], conditions, values)
        if key == "Fn::And":
            return all(_evaluate(item, conditions, values) for item in argument)
        if key == "Fn::Or":
            return any(_evaluate(item, conditions, values) for item in argument)
        raise ValueError(f"cannot evaluate {key} in a condition")
    if isinstance(node, list):
        return [_evaluate(item, conditions, values) for item in node]
    return node


@dataclass
class StackCheck:
    """What :func:`check_stack` found for one stack."""

    stack: str
    status: str
    expected: int
    created: int
    outputs: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def check_stack(cloudformation: Any, stack_name: str, template: Mapping[str, Any], parameters: Mapping[str, str]) -> StackCheck:
    """Compare the deployed stack with ``template`` (the template as deployed).

    Every expected resource must be listed by ``ListStackResources`` as ``CREATE_COMPLETE``
    (or ``UPDATE_COMPLETE``) with a physical id, nothing else may be listed, and every output
    must be present, non-empty and free of unresolved tokens; an output that is a ``Ref`` to a
    resource must equal that resource's physical id.
    """
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    listed: dict[str, dict[str, Any]] = {}
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for summary in page["StackResourceSummaries"]:
            listed[summary["LogicalResourceId"]] = summary
    expected = expected_resources(template, parameters)
    check = StackCheck(stack_name, stack["StackStatus"], len(expected), 0)
    if stack["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        check.problems.append(f"stack status {stack['StackStatus']}: {stack.get('StackStatusReason', '')}")
    for logical_id, resource_type in sorted(expected.items()):
        summary = listed.get(logical_id)
        if summary is None:
            check.problems.append(f"{logical_id} ({resource_type}) was not created")
        elif summary["ResourceStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE") or not summary.get("PhysicalResourceId"):
            check.problems.append(f"{logical_id} ({resource_type}): {summary['ResourceStatus']} {summary.get('ResourceStatusReason', '')}")
        elif summary["ResourceType"] != resource_type:
            check.problems.append(f"{logical_id}: created as {summary['ResourceType']}, template says {resource_type}")
        else:
            check.created += 1
    check.problems += [f"{logical_id} is not in the template" for logical_id in sorted(set(listed) - set(expected))]
    deployed_outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
    for name, output in template.get("Outputs", {}).items():
        if "Condition" in output and not _condition(output["Condition"], template.get("Conditions", {}), _parameter_values(template, parameters)):
            continue
        value = deployed_outputs.get(name)
        if not value:
            check.problems.append(f"output {name} is missing or empty")
            continue
        if "${Token[" in value or "{{resolve:" in value or "[object Object]" in value:
            check.problems.append(f"output {name} is not resolved: {value!r}")
        target = output.get("Value", {}).get("Ref") if isinstance(output.get("Value"), dict) else None
        if target in listed and listed[target].get("PhysicalResourceId") != value:
            check.problems.append(f"output {name} = {value!r}, but {target} is {listed[target].get('PhysicalResourceId')!r}")
        check.outputs[name] = value
    return check


# ---- fixed names ---------------------------------------------------------------------------

#: The property that names a resource, for the types whose name must be free in the account
#: (CloudFormation fails a create with AlreadyExists when a resource of that name exists).
NAME_PROPERTIES = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Backup::BackupVault": "BackupVaultName",
    "AWS::SecretsManager::Secret": "Name",
}


@dataclass(frozen=True)
class FixedName:
    """A resource whose template fixes its physical name before the stack exists."""

    logical_id: str
    type: str
    name: str


def fixed_names(
    template: Mapping[str, Any], *, stack_name: str, region: str, account: str = LOCAL_ACCOUNT,
    parameters: Mapping[str, str] | None = None,
) -> list[FixedName]:
    """Resources of :data:`NAME_PROPERTIES` types whose name is known before deployment.

    A name built only from literals, parameters and the pseudo parameters ``AWS::StackName``,
    ``AWS::Region``, ``AWS::AccountId`` and ``AWS::Partition`` is the same for every deployment
    of the stack, so a retained resource of the previous one blocks the next. A name that refers
    to another resource or to ``AWS::StackId`` is unique per stack instance and is not listed.
    """
    values: dict[str, Any] = dict(_parameter_values(template, parameters or {}))
    values.update({"AWS::StackName": stack_name, "AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": "aws"})
    found = []
    for logical_id, resource in template.get("Resources", {}).items():
        prop = NAME_PROPERTIES.get(resource.get("Type", ""))
        if prop is None or prop not in (resource.get("Properties") or {}):
            continue
        name = _literal(resource["Properties"][prop], values)
        if name is not None:
            found.append(FixedName(logical_id, resource["Type"], name))
    return found


def _literal(node: Any, values: Mapping[str, Any]) -> str | None:
    if isinstance(node, str):
        return node
    if isinstance(node, (int, float)):
        return str(node)
    if isinstance(node, dict) and len(node) == 1:
        (key, argument), = node.items()
        if key == "Ref":
            value = values.get(argument)
            return None if value is None else str(value)
        if key == "Fn::Join" and isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], list):
            parts = [_literal(part, values) for part in argument[1]]
            return None if any(part is None for part in parts) else str(argument[0]).join(parts)  # type: ignore[arg-type]
        if key == "Fn::Sub" and isinstance(argument, str):
            missing = False

            def replace(match: Any) -> str:
                nonlocal missing
                name = match.group(1)
                if name not in values or "." in name:
                    missing = True
                    return ""
                return str(values[name])

            text = re.sub(r"\$\{([^}!]+)\}", replace, argument)
            return None if missing else text
    return None
