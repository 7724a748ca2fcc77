"""Architecture diagrams of the example apps as self-contained SVG files, from their templates.

    python scripts/diagram_svg.py            # rewrite docs/diagrams/<app>.svg for every example app
    python scripts/diagram_svg.py --check    # exit 1 if a committed diagram no longer matches its app

The graph comes from each synthesized template's own references (API integrations and
authorizers, HTTP API routes, event source mappings, EventBridge rules and their bucket
filters, SNS subscriptions, S3 notifications and access logs, CloudFront origins, CloudTrail
buckets, and each function's environment variables naming a resource). It is laid out by
Graphviz (``dot``, Debian package ``graphviz``) through the ``diagrams`` package, whose AWS
service icons are inlined into the SVG as data URIs: the file renders offline, on GitHub, on
PyPI and in the docs site, with no JavaScript. The docs build (``scripts/mkdocs_hooks.py``)
renders them again from a fresh synth; ``--check`` compares the graph each committed file was
drawn from (recorded in the SVG) with the current one.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIAGRAMS = ROOT / "docs" / "diagrams"
MODEL_MARK = "serverless-patterns-graph:"

#: Resource types drawn, with (icon class path in ``diagrams``, label prefix).
KINDS = {
    "AWS::ApiGateway::RestApi": ("diagrams.aws.network.APIGateway", "REST API"),
    "AWS::ApiGatewayV2::Api": ("diagrams.aws.network.APIGateway", "HTTP API"),
    "AWS::Lambda::Function": ("diagrams.aws.compute.Lambda", "Lambda"),
    "AWS::S3::Bucket": ("diagrams.aws.storage.SimpleStorageServiceS3", "S3"),
    "AWS::DynamoDB::Table": ("diagrams.aws.database.Dynamodb", "DynamoDB"),
    "AWS::DynamoDB::GlobalTable": ("diagrams.aws.database.Dynamodb", "DynamoDB"),
    "AWS::SQS::Queue": ("diagrams.aws.integration.SimpleQueueServiceSqs", "SQS"),
    "AWS::SNS::Topic": ("diagrams.aws.integration.SimpleNotificationServiceSns", "SNS"),
    "AWS::Events::Rule": ("diagrams.aws.integration.Eventbridge", "EventBridge rule"),
    "AWS::CloudFront::Distribution": ("diagrams.aws.network.CloudFront", "CloudFront"),
    "AWS::SecretsManager::Secret": ("diagrams.aws.security.SecretsManager", "Secret"),
    "AWS::CloudTrail::Trail": ("diagrams.aws.management.Cloudtrail", "CloudTrail"),
}
CLIENT = "client"
CLIENT_ICON = "diagrams.onprem.client.Users"


def _refs(value: Any) -> set[str]:
    text = json.dumps(value)
    return set(re.findall(r'"Ref": "([A-Za-z0-9]+)"', text)) | set(re.findall(r'"Fn::GetAtt": \["([A-Za-z0-9]+)"', text))


def _is_drawn(resource: dict[str, Any]) -> bool:
    if resource["Type"] not in KINDS:
        return False
    if resource["Type"] == "AWS::Lambda::Function":  # the library's handlers, not CDK's helper functions
        return resource.get("Properties", {}).get("Handler", "").endswith(".index.handler")
    return True


def _label(logical_id: str, resource: dict[str, Any]) -> str:
    kind = KINDS[resource["Type"]][1]
    handler = resource.get("Properties", {}).get("Handler", "")
    if handler.endswith(".index.handler"):
        return f"{kind}\n{handler.split('.')[0].replace('_', ' ')}"
    base = re.sub(r"[0-9A-F]{8}$", "", logical_id)  # CDK's hash suffix
    words = " ".join(re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", base)).lower() or logical_id
    return f"{kind}\n{words}"


def data_flow(template: dict[str, Any]) -> tuple[dict[str, tuple[str, str]], dict[tuple[str, str], str]]:
    """``({node id: (resource type, label)}, {(source, target): label})`` of ``template``."""
    resources = template["Resources"]
    drawn = {i for i, r in resources.items() if _is_drawn(r)}
    edges: dict[tuple[str, str], set[str]] = {}

    def add(source: str, targets: set[str], label: str = "") -> None:
        for target in targets & drawn:
            if source in drawn | {CLIENT} and target != source:
                edges.setdefault((source, target), set()).add(label)

    for logical_id, resource in resources.items():
        props, kind = resource.get("Properties", {}), resource["Type"]
        if kind == "AWS::ApiGateway::Method":
            api = props["RestApiId"]["Ref"]
            add(api, _refs(props.get("Integration", {})), props["HttpMethod"])
            if "AuthorizerId" in props:
                add(api, _refs(resources[props["AuthorizerId"]["Ref"]]["Properties"].get("AuthorizerUri")), "authorize")
        elif kind == "AWS::ApiGatewayV2::Route":
            api = props["ApiId"]["Ref"]
            for integration in _refs(props.get("Target", "")) & resources.keys():
                add(api, _refs(resources[integration]["Properties"].get("IntegrationUri")), props["RouteKey"].split(" ")[0])
            for authorizer in _refs(props.get("AuthorizerId", "")) & resources.keys():
                add(api, _refs(resources[authorizer]["Properties"].get("AuthorizerUri")), "authorize")
        elif kind == "AWS::Lambda::EventSourceMapping":
            for source in _refs(props["EventSourceArn"]):
                add(source, _refs(props["FunctionName"]), "stream" if source in resources and "Table" in resources[source]["Type"] else "batch")
        elif kind == "AWS::Events::Rule" and logical_id in drawn:
            targets = {t for t in _refs(props.get("Targets", [])) if "DeadLetter" not in t}
            add(logical_id, targets, "event")
            for bucket in _refs(props.get("EventPattern", {})):
                add(bucket, {logical_id}, "events")
        elif kind == "AWS::SNS::Subscription":
            for topic in _refs(props.get("TopicArn")):
                add(topic, _refs(props.get("Endpoint")), "subscription")
        elif kind == "AWS::S3::Bucket" and logical_id in drawn:
            add(logical_id, _refs(props.get("NotificationConfiguration", {})), "notification")
            add(logical_id, _refs(props.get("LoggingConfiguration", {})), "access logs")
        elif kind == "AWS::CloudFront::Distribution" and logical_id in drawn:
            origins = props.get("DistributionConfig", {}).get("Origins", [])
            add(logical_id, _refs(origins), "origin")
        elif kind == "AWS::CloudTrail::Trail" and logical_id in drawn:
            add(logical_id, _refs(props.get("S3BucketName")), "log files")
        elif kind == "AWS::Lambda::Function" and logical_id in drawn:
            add(logical_id, _refs(props.get("Environment", {}).get("Variables", {})))
    entry_points = [i for i in drawn if resources[i]["Type"] in
                    ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api", "AWS::CloudFront::Distribution")]
    for entry in entry_points:
        add(CLIENT, {entry}, "HTTPS")
    used = {a for a, _ in edges} | {b for _, b in edges}
    nodes = {i: (resources[i]["Type"], _label(i, resources[i])) for i in sorted(used - {CLIENT})}
    if CLIENT in used:
        nodes[CLIENT] = ("client", "clients")
    return nodes, {pair: ", ".join(sorted(filter(None, labels))) for pair, labels in sorted(edges.items())}


def model_digest(nodes: dict[str, tuple[str, str]], edges: dict[tuple[str, str], str]) -> str:
    model = {"nodes": sorted(nodes.items()), "edges": sorted([list(k), v] for k, v in edges.items())}
    return hashlib.sha256(json.dumps(model, sort_keys=True).encode()).hexdigest()[:16]


def _icon_class(path: str):
    import importlib

    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def render_svg(nodes: dict[str, tuple[str, str]], edges: dict[tuple[str, str], str], title: str) -> str:
    """A self-contained SVG (icons inlined) of the graph; needs Graphviz's ``dot``."""
    from diagrams import Diagram, Edge

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "diagram"
        graph_attr = {"fontsize": "20", "pad": "0.4", "nodesep": "0.5", "ranksep": "1.0", "splines": "spline"}
        with Diagram(title, filename=str(target), outformat="svg", show=False, direction="LR", graph_attr=graph_attr):
            drawn = {}
            for node_id, (kind, label) in nodes.items():
                icon = CLIENT_ICON if kind == "client" else KINDS[kind][0]
                drawn[node_id] = _icon_class(icon)(label)
            for (source, target_id), label in edges.items():
                drawn[source] >> Edge(label=label, fontsize="11") >> drawn[target_id]
        svg = target.with_suffix(".svg").read_text()
    return _inline_images(svg, model_digest(nodes, edges))


def _inline_images(svg: str, digest: str) -> str:
    def data_uri(match: re.Match[str]) -> str:
        png = Path(match.group(2)).read_bytes()
        return f'{match.group(1)}="data:image/png;base64,{base64.b64encode(png).decode()}"'

    svg = re.sub(r'(xlink:href|href)="(/[^"]+\.png)"', data_uri, svg)
    svg = re.sub(r"<!-- Generated by graphviz[^>]*-->\n", "", svg)
    return svg.replace("<svg ", f"<!-- {MODEL_MARK} {digest} -->\n<svg ", 1)


def example_templates() -> dict[str, dict[str, Any]]:
    """Each example app's first stack template, synthesized from the checkout."""
    sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
    from synth_examples import example_apps, synthesize

    with tempfile.TemporaryDirectory() as tmp:
        return {name: next(iter(synthesize(name, Path(tmp))[0].values())) for name in example_apps()}


def title_of(name: str) -> str:
    return name.replace("_", " ").capitalize()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a committed diagram is stale")
    args = parser.parse_args(argv)
    templates = example_templates()
    stale = []
    for name, template in templates.items():
        nodes, edges = data_flow(template)
        path = DIAGRAMS / f"{name}.svg"
        if args.check:
            if not path.exists() or f"{MODEL_MARK} {model_digest(nodes, edges)} " not in path.read_text():
                stale.append(path.name)
            continue
        DIAGRAMS.mkdir(parents=True, exist_ok=True)
        path.write_text(render_svg(nodes, edges, title_of(name)))
        print(f"wrote {path.relative_to(ROOT)}: {len(nodes)} nodes, {len(edges)} edges")
    extra = sorted({p.name for p in DIAGRAMS.glob("*.svg")} - {f"{n}.svg" for n in templates})
    if args.check and (stale or extra):
        print(f"diagrams out of date: {', '.join(stale + extra)}: run python scripts/diagram_svg.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
