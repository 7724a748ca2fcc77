"""Deploy every example app on a local CloudFormation engine, run the flagship flow, redeploy.

Run through ``make deploy-local`` (docs/local_deployment.md). Steps:

1. synthesize each example app (``examples/*/app.py``, its default configuration) into its own
   cloud assembly, and copy it for the engine, leaving out the resource types the engine
   refuses (``serverless_patterns.local.deploy``; every one is printed, with the count);
2. start MiniStack on 127.0.0.1 from its own virtualenv and ``cdk bootstrap`` each Region with
   the pinned CDK CLI (dummy credentials, ``CDK_HOME`` inside the run folder);
3. ``cdk deploy --app <assembly> --all`` each app; check that every resource of each deployed
   template was created and that every output resolved;
4. run the flagship's document flow over HTTP against the deployed REST API (keys issued with
   ``serverless-patterns clients create``) and print the PROCESSED/REJECTED table;
5. ``cdk destroy`` every stack, check that they are gone and that what they retain survived,
   check that no fixed physical name is held by a retained resource (AWS would refuse the next
   create with AlreadyExists; the engine does not), deploy them again, check them again and run
   the flow again (the retry/redeploy proof);
6. stop the engine and print the wall time.

Exits non-zero when any step fails. The last line is ``deploy-local: N passed, M failed``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from serverless_patterns.local.deploy import (
    ENGINE_DEVIATIONS,
    UNSUPPORTED,
    LocalTemplate,
    describe_left_out,
    expected_on_engine,
    prepare_assembly,
)
from serverless_patterns.local.engine import (
    LOCAL_ACCOUNT,
    LOCAL_CREDENTIALS,
    LocalEngine,
    check_stack,
    fixed_names,
    free_port,
)

#: Every example app (``examples/<name>/app.py`` with a ``build(app)`` function), flagship first.
FLAGSHIP = "document_pipeline"
EXAMPLES = sorted(
    ((path.parent.name, f"examples.{path.parent.name}.app") for path in (ROOT / "examples").glob("*/app.py")),
    key=lambda example: (example[0] != FLAGSHIP, example[0]),
)
DEFAULT_REGION = "us-east-1"
#: Values for template parameters that have no default (what an operator passes to cdk deploy).
PARAMETER_VALUES = {"ResourcePrefix": "local", "AlertEmail": "alerts@example.com"}

RUN_DIR = ROOT / "cdk.out" / "deploy-local"
NODE_BIN = ROOT / "node_modules" / ".bin"
ENGINE_PYTHON = ROOT / ".venv-engine" / "bin" / "python"
CLI = Path(sys.executable).parent / "serverless-patterns"
#: Upper bound of one CDK CLI command (a deploy takes seconds on the engine).
CDK_TIMEOUT_SECONDS = 300


@dataclass
class App:
    """One example app as deployed: its assembly, stacks and their local templates."""

    name: str
    assembly: Path
    stacks: dict[str, LocalTemplate]
    regions: dict[str, str]  # stack name -> Region
    parameters: dict[str, dict[str, str]] = field(default_factory=dict)  # stack name -> values


@dataclass
class Tally:
    passed: int = 0
    failed: list[str] = field(default_factory=list)

    def check(self, ok: bool, label: str, detail: str = "") -> bool:
        print(f"  {'ok  ' if ok else 'FAIL'} {label}{f': {detail}' if detail else ''}", flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed.append(label)
        return ok


# ---- synthesis ---------------------------------------------------------------------------


def synthesize(examples: list[tuple[str, str]], out: Path) -> list[App]:
    """Synthesize each app into ``out/synth/<name>``; prepare a copy in ``out/deploy/<name>``."""
    from aws_cdk import App as CdkApp

    context = json.loads((ROOT / "cdk.json").read_text()).get("context", {})  # what `cdk synth` passes
    apps = []
    for name, module_name in examples:
        synth_dir, deploy_dir = out / "synth" / name, out / "deploy" / name
        module = importlib.import_module(module_name)
        cdk_app = CdkApp(outdir=str(synth_dir), context=context)
        module.build(cdk_app)
        cdk_app.synth()
        shutil.copytree(synth_dir, deploy_dir)
        stacks = prepare_assembly(deploy_dir)
        manifest = json.loads((deploy_dir / "manifest.json").read_text())
        regions = {}
        for artifact_id, artifact in manifest["artifacts"].items():
            if artifact.get("type") == "aws:cloudformation:stack":
                region = artifact["environment"].rsplit("/", 1)[-1]
                regions[artifact["properties"].get("stackName", artifact_id)] = DEFAULT_REGION if region == "unknown-region" else region
        app = App(name, deploy_dir, stacks, regions)
        for stack_name, local in stacks.items():
            required = [p for p, spec in local.template.get("Parameters", {}).items() if "Default" not in spec]
            unknown = [p for p in required if p not in PARAMETER_VALUES]
            if unknown:
                raise SystemExit(f"{stack_name}: no local value for parameters {unknown}; add them to PARAMETER_VALUES")
            app.parameters[stack_name] = {p: PARAMETER_VALUES[p] for p in required}
        apps.append(app)
    return apps


# ---- CDK CLI -------------------------------------------------------------------------------


def cdk_environment(engine: LocalEngine, run_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "CDK_"))}
    env.update(LOCAL_CREDENTIALS)
    env.update(
        {
            "AWS_ENDPOINT_URL": engine.endpoint,
            "AWS_DEFAULT_REGION": DEFAULT_REGION,
            "AWS_REGION": DEFAULT_REGION,
            "CDK_HOME": str(run_dir / "cdk-home"),  # the CLI caches an account per access key there
            "CDK_DISABLE_VERSION_CHECK": "true",
            "CDK_DISABLE_CLI_TELEMETRY": "true",
            "PATH": f"{NODE_BIN}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    return env


def cdk(args: list[str], env: dict[str, str], log: Path, cwd: Path) -> tuple[int, float]:
    """Run the pinned CDK CLI; its output goes to ``log``. Returns (exit status, seconds)."""
    started = time.perf_counter()
    with log.open("w") as out:
        try:
            status = subprocess.run(
                [str(NODE_BIN / "cdk"), *args, "--no-notices", "--ci"], env=env, cwd=cwd, stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=CDK_TIMEOUT_SECONDS, check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            out.write(f"\ntimed out after {CDK_TIMEOUT_SECONDS} s\n")
            status = 124
    return status, time.perf_counter() - started


def tail(log: Path, lines: int = 15) -> str:
    return "\n".join(f"      {line}" for line in log.read_text(errors="replace").splitlines()[-lines:])


def deploy(apps: list[App], env: dict[str, str], run_dir: Path, round_name: str, tally: Tally) -> bool:
    ok = True
    for app in apps:
        parameters = [
            item for stack, values in app.parameters.items() for key, value in values.items()
            for item in ("--parameters", f"{stack}:{key}={value}")
        ]
        log = run_dir / "logs" / f"{round_name}-deploy-{app.name}.log"
        status, seconds = cdk(
            ["deploy", "--app", str(app.assembly), "--all", "--require-approval", "never", "--progress", "events", *parameters],
            env, log, run_dir,
        )
        if not tally.check(status == 0, f"{round_name}: cdk deploy {app.name}", f"{', '.join(app.stacks)} in {seconds:.1f} s"):
            print(tail(log))
            ok = False
    return ok


def check_deployed(apps: list[App], session_for: Any, round_name: str, tally: Tally) -> None:
    for app in apps:
        for stack_name, local in app.stacks.items():
            cloudformation = session_for(app.regions[stack_name]).client("cloudformation")
            try:
                check = check_stack(cloudformation, stack_name, local.template, app.parameters[stack_name])
            except Exception as error:  # noqa: BLE001 - reported as a failed check
                tally.check(False, f"{round_name}: {stack_name} resources and outputs", str(error))
                continue
            tally.check(
                not check.problems, f"{round_name}: {stack_name} resources and outputs",
                f"{check.created}/{check.expected} resources created, {len(check.outputs)} outputs resolved, "
                f"{len(local.resources_left_out)} left out",
            )
            for problem in check.problems:
                print(f"      {problem}")


#: How to ask the engine whether a retained resource still exists, for the types that hold data.
_EXISTS = {
    "AWS::S3::Bucket": ("s3", lambda client, physical: client.head_bucket(Bucket=physical)),
    "AWS::DynamoDB::Table": ("dynamodb", lambda client, physical: client.describe_table(TableName=physical)),
    "AWS::SQS::Queue": ("sqs", lambda client, physical: client.get_queue_attributes(QueueUrl=physical)),
    "AWS::KMS::Key": ("kms", lambda client, physical: client.describe_key(KeyId=physical)),
    "AWS::SNS::Topic": (
        "sns",
        lambda client, physical: client.get_topic_attributes(TopicArn=physical),
    ),
    "AWS::Backup::BackupVault": ("backup", lambda client, physical: client.describe_backup_vault(BackupVaultName=physical)),
    "AWS::SecretsManager::Secret": ("secretsmanager", lambda client, physical: client.describe_secret(SecretId=physical)),
    "AWS::Logs::LogGroup": (
        "logs",
        lambda client, physical: next(
            g for g in client.describe_log_groups(logGroupNamePrefix=physical)["logGroups"] if g["logGroupName"] == physical
        ),
    ),
}


def retained_resources(app: App, session_for: Any) -> list[tuple[str, str, str, str]]:
    """(stack, logical id, type, physical id) of each deployed resource its template retains on delete."""
    found = []
    for stack_name, local in app.stacks.items():
        cloudformation = session_for(app.regions[stack_name]).client("cloudformation")
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
            for summary in page["StackResourceSummaries"]:
                resource = local.template["Resources"].get(summary["LogicalResourceId"], {})
                if resource.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate"):
                    found.append((stack_name, summary["LogicalResourceId"], summary["ResourceType"], summary["PhysicalResourceId"]))
    return found


def still_exists(resource_type: str, physical: str, client: Any) -> bool:
    from botocore.exceptions import ClientError

    try:
        _EXISTS[resource_type][1](client, physical)
    except (ClientError, StopIteration):
        return False
    return True


def destroy(apps: list[App], env: dict[str, str], run_dir: Path, session_for: Any, tally: Tally) -> None:
    """``cdk destroy`` each app; its stacks must be gone and the resources it retains must not."""
    for app in reversed(apps):
        retained = retained_resources(app, session_for)
        log = run_dir / "logs" / f"destroy-{app.name}.log"
        status, seconds = cdk(["destroy", "--app", str(app.assembly), "--all", "--force"], env, log, run_dir)
        gone = [stack for stack in app.stacks if _stack_gone(session_for(app.regions[stack]).client("cloudformation"), stack)]
        ok = status == 0 and len(gone) == len(app.stacks)
        if not tally.check(ok, f"cdk destroy {app.name}", f"{len(gone)}/{len(app.stacks)} stacks gone in {seconds:.1f} s"):
            print(tail(log))
        checkable = [r for r in retained if r[2] in _EXISTS]
        lost = [
            f"{stack} {logical_id} ({kind})" for stack, logical_id, kind, physical in checkable
            if not still_exists(kind, physical, session_for(app.regions[stack]).client(_EXISTS[kind][0]))
        ]
        tally.check(
            not lost, f"retained resources of {app.name} survive the delete",
            f"{len(checkable) - len(lost)}/{len(checkable)} buckets, tables, queues, topics, keys, vaults, secrets and log groups still exist "
            f"({len(retained)} resources retained by policy)",
        )
        for line in lost:
            print(f"      deleted although its DeletionPolicy retains it: {line}")


def name_collisions(apps: list[App], session_for: Any, tally: Tally) -> None:
    """Before the redeploy: no fixed physical name may be held by a resource the delete retained.

    CloudFormation fails such a create with AlreadyExists (and a retried create after a rollback
    too, since Retain also applies then). MiniStack lets the new stack take the name over, so the
    redeploy alone would not show it: this check asks the engine whether each name is taken.
    """
    for app in apps:
        taken = []
        for stack_name, local in app.stacks.items():
            region = app.regions[stack_name]
            for fixed in fixed_names(local.template, stack_name=stack_name, region=region, parameters=app.parameters[stack_name]):
                service = _EXISTS[fixed.type][0]
                client = session_for(region).client(service)
                physical = _lookup_id(fixed.type, fixed.name, client, region)
                if physical is not None and still_exists(fixed.type, physical, client):
                    taken.append(f"{stack_name} {fixed.logical_id} ({fixed.type}) {fixed.name}")
        tally.check(not taken, f"redeploy: no fixed name of {app.name} is held by a retained resource",
                    f"{len(taken)} names AWS would refuse with AlreadyExists" if taken else "")
        for line in taken:
            print(f"      {line}")


def _lookup_id(resource_type: str, name: str, client: Any, region: str) -> str | None:
    """The id :data:`_EXISTS` checks for a resource of this name (queues by URL, topics by ARN)."""
    from botocore.exceptions import ClientError

    if resource_type == "AWS::SQS::Queue":
        try:
            return client.get_queue_url(QueueName=name)["QueueUrl"]
        except ClientError:
            return None
    if resource_type == "AWS::SNS::Topic":
        return f"arn:aws:sns:{region}:{LOCAL_ACCOUNT}:{name}"
    return name


def _stack_gone(cloudformation: Any, stack_name: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        return "does not exist" in str(error)
    return all(stack["StackStatus"] == "DELETE_COMPLETE" for stack in stacks)


# ---- the list of refused types -------------------------------------------------------------

_METRIC_MATH_ALARM = {
    "Type": "AWS::CloudWatch::Alarm",
    "Properties": {
        "ComparisonOperator": "GreaterThanThreshold", "EvaluationPeriods": 1, "Threshold": 0,
        "Metrics": [
            {"Id": "m1", "ReturnData": False, "MetricStat": {"Metric": {"Namespace": "AWS/SQS", "MetricName": "NumberOfMessagesSent"}, "Period": 60, "Stat": "Sum"}},
            {"Id": "e1", "Expression": "FILL(m1, 0)", "Label": "sent"},
        ],
    },
}


def probe_unsupported(cloudformation: Any, tally: Tally) -> None:
    """Each entry of UNSUPPORTED must still be refused by the engine, so the list only shrinks.

    A type is probed with ValidateTemplate ("Unrecognized resource types"); metric-math alarms,
    which the engine recognizes but fails to create, with a one-alarm stack.
    """
    from botocore.exceptions import ClientError

    accepted = []
    for rule in UNSUPPORTED:
        if rule.applies is None:
            template = {"Resources": {"Probe": {"Type": rule.type}}}
            try:
                cloudformation.validate_template(TemplateBody=json.dumps(template))
            except ClientError as error:
                if "Unrecognized resource types" in str(error):
                    continue
            accepted.append(rule.type)
            continue
        name = "probe-metric-math-alarm"
        cloudformation.create_stack(StackName=name, TemplateBody=json.dumps({"Resources": {"Probe": _METRIC_MATH_ALARM}}))
        deadline = time.monotonic() + 60
        while (status := cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]).endswith("IN_PROGRESS"):
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
        cloudformation.delete_stack(StackName=name)
        if status == "CREATE_COMPLETE":
            accepted.append(f"{rule.type} ({rule.reason})")
    tally.check(
        not accepted, "the engine still refuses every type left out",
        f"now accepted, remove from UNSUPPORTED and docs/local_deployment.md: {', '.join(accepted)}" if accepted
        else f"{len(UNSUPPORTED)} entries probed",
    )


# ---- the document flow ---------------------------------------------------------------------


def issue_key(table: str, level: str, api_id: str, env: dict[str, str], client: str) -> str:
    """Issue a key with the library's own command: ``serverless-patterns clients create``."""
    completed = subprocess.run(
        [str(CLI), "clients", "create", "--table", table, "--client", client, "--level", level, "--api-id", api_id,
         "--region", DEFAULT_REGION],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"clients create {client} failed: {completed.stderr.strip()}")
    return completed.stdout.strip()


def run_flow(app: App, engine: LocalEngine, env: dict[str, str], session: Any, round_name: str, tally: Tally) -> None:
    from examples.document_pipeline import local_flow
    from serverless_patterns.local.deployed import DeployedStack, HttpRestApi

    (stack_name,) = app.stacks
    started = time.perf_counter()
    try:
        stack = DeployedStack(stack_name, session)
        api_ids = stack.of_type("AWS::ApiGateway::RestApi")
        stages = stack.of_type("AWS::ApiGateway::Stage")
        (api_id,), (stage,) = api_ids.values(), stages.values()
        table = stack.function("api_key_authorizer.").environment["PERMISSIONS_TABLE"]
        suffix = round_name.replace(" ", "-")
        keys = {level: issue_key(table, level, api_id, env, f"{level}-{suffix}") for level in local_flow.LEVELS}
        result = local_flow.drive(stack, HttpRestApi(engine.endpoint, api_id, stage), keys)
    except Exception as error:  # noqa: BLE001 - reported as a failed check
        tally.check(False, f"{round_name}: document flow on {stack_name}", f"{type(error).__name__}: {error}")
        return
    print(f"\n  Document flow on the deployed {stack_name} (REST API over HTTP, deployed functions)")
    local_flow.print_result(result)
    wrong = local_flow.problems(result, expected_on_engine(local_flow.EXPECTED_OUTCOMES))
    print()
    tally.check(not wrong, f"{round_name}: document flow on {stack_name}", f"{len(result.documents)} documents, "
                f"{len(result.notifications)} notifications in {time.perf_counter() - started:.1f} s")
    for line in wrong:
        print(f"      {line}")


# ---- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEPLOY_LOCAL_PORT", "4566")),
                        help="engine port on 127.0.0.1 (default 4566, or a free one when it is taken)")
    parser.add_argument("--keep-running", action="store_true", help="leave the engine running at the end")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    tally = Tally()
    if not ENGINE_PYTHON.exists():
        print(f"the engine's virtualenv is missing ({ENGINE_PYTHON.relative_to(ROOT)}): run make deploy-local", file=sys.stderr)
        return 2
    if RUN_DIR.exists():
        shutil.rmtree(RUN_DIR)
    (RUN_DIR / "logs").mkdir(parents=True)

    print("Synthesizing the example apps", flush=True)
    apps = synthesize(EXAMPLES, RUN_DIR)
    prepared = {name: local for app in apps for name, local in app.stacks.items()}
    left_out = sum(len(local.resources_left_out) for local in prepared.values())
    total = sum(len(local.template.get("Resources", {})) + len(local.resources_left_out) for local in prepared.values())
    print(f"\nLeft out of the local deployment (the engine refuses these types; see docs/local_deployment.md): "
          f"{left_out} of {total} resources\n")
    print("\n".join(describe_left_out(prepared)))
    print(f"\nKnown run-time deviations of the engine from AWS ({len(ENGINE_DEVIATIONS)}; checked by the document flow):")
    for deviation in ENGINE_DEVIATIONS:
        print(f"  - {deviation.summary}: expected on the engine {dict(deviation.outcomes)}")

    engine = LocalEngine(
        python=ENGINE_PYTHON, workdir=RUN_DIR / "engine", port=free_port(args.port), region=DEFAULT_REGION,
        node_bin=NODE_BIN, node_path=ROOT / "node_modules",
    )
    engine_started = time.perf_counter()
    engine.start()
    print(f"\nEngine: MiniStack on {engine.endpoint} (ready in {time.perf_counter() - engine_started:.1f} s; "
          f"log {engine.log_path.relative_to(ROOT)})\n", flush=True)
    env = cdk_environment(engine, RUN_DIR)
    for key in [key for key in os.environ if key.startswith("AWS_")]:
        del os.environ[key]  # boto3 in this process reaches the engine only, never a profile
    os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
    import boto3

    sessions: dict[str, Any] = {}

    def session_for(region: str) -> Any:
        return sessions.setdefault(region, boto3.Session(region_name=region))

    try:
        regions = sorted({region for app in apps for region in app.regions.values()})
        log = RUN_DIR / "logs" / "bootstrap.log"
        status, seconds = cdk(["bootstrap", *(f"aws://{LOCAL_ACCOUNT}/{region}" for region in regions)], env, log, RUN_DIR)
        if not tally.check(status == 0, "cdk bootstrap", f"{', '.join(regions)} in {seconds:.1f} s"):
            print(tail(log))
            return finish(tally, started)
        probe_unsupported(session_for(DEFAULT_REGION).client("cloudformation"), tally)

        flagship = next(app for app in apps if app.name == FLAGSHIP)
        for round_name in ("first deploy", "redeploy"):
            print(f"\n{round_name.capitalize()} of every example app\n", flush=True)
            if deploy(apps, env, RUN_DIR, round_name, tally):
                check_deployed(apps, session_for, round_name, tally)
                run_flow(flagship, engine, env, session_for(flagship.regions[next(iter(flagship.stacks))]), round_name, tally)
            if round_name == "first deploy":
                print("\nDeleting every stack\n", flush=True)
                destroy(apps, env, RUN_DIR, session_for, tally)
                name_collisions(apps, session_for, tally)
    finally:
        if args.keep_running and engine.process is not None:
            print(f"\nEngine left running on {engine.endpoint}: stop it with kill -- -{engine.process.pid}", flush=True)
        else:
            engine.stop()
            print("\nEngine stopped.", flush=True)
    return finish(tally, started)


def finish(tally: Tally, started: float) -> int:
    print(f"\ndeploy-local wall time: {time.perf_counter() - started:.1f} s")
    if tally.failed:
        print("failed: " + "; ".join(tally.failed))
    print(f"deploy-local: {tally.passed} passed, {len(tally.failed)} failed")
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
