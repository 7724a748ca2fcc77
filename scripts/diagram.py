"""Draw the flagship system's architecture from its synthesized template, as a Mermaid flowchart.

    python scripts/diagram.py            # rewrite docs/architecture.mmd and the README's copy
    python scripts/diagram.py --check    # exit 1 if either is out of date

Nodes are the resources that carry data (API, functions, bucket, tables, queues, topics, the
EventBridge rule); edges come from the template's own references: API integrations and the
authorizer, event source mappings, rule targets, the rule's bucket filter, and each function's
environment variables naming a resource.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIAGRAM = ROOT / "docs" / "architecture.mmd"
README = ROOT / "README.md"
BEGIN, END = "<!-- architecture:begin -->", "<!-- architecture:end -->"

_SHAPES = {
    "AWS::ApiGateway::RestApi": ("API Gateway REST API", "([{}])"),
    "AWS::Lambda::Function": ("Lambda", "[{}]"),
    "AWS::S3::Bucket": ("S3", "[({})]"),
    "AWS::DynamoDB::Table": ("DynamoDB", "[({})]"),
    "AWS::SQS::Queue": ("SQS", "[/{}/]"),
    "AWS::SNS::Topic": ("SNS", "{{{{{}}}}}"),
    "AWS::Events::Rule": ("EventBridge rule", "{{{}}}"),
}


def _references(value: Any) -> set[str]:
    text = json.dumps(value)
    return set(re.findall(r'"Ref": "([A-Za-z0-9]+)"', text)) | set(re.findall(r'"Fn::GetAtt": \["([A-Za-z0-9]+)"', text))


def _label(logical_id: str, resource: dict[str, Any], prefix: str) -> str:
    base = _node_id(logical_id)
    base = base[len(prefix):] if base.startswith(prefix) and base != prefix else base
    name = " ".join(re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", base)).lower()
    kind, _ = _SHAPES[resource["Type"]]
    handler = resource.get("Properties", {}).get("Handler", "")
    if handler.endswith(".index.handler"):
        name = handler.split(".")[0].replace("_", " ")
    return f"{kind}: {name}"


def mermaid(template: dict[str, Any]) -> str:
    """The Mermaid flowchart of ``template``'s data flow."""
    resources = template["Resources"]
    nodes = {
        logical_id: resource for logical_id, resource in resources.items()
        if resource["Type"] in _SHAPES and _is_data_path(logical_id, resource)
    }
    edges: dict[tuple[str, str], set[str]] = {}

    def add(source: str, target: str, label: str = "") -> None:
        edges.setdefault((source, target), set()).add(label)

    for logical_id, resource in resources.items():
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind == "AWS::ApiGateway::Method":
            api = props["RestApiId"]["Ref"]
            for target in _references(props.get("Integration", {})) & nodes.keys():
                add(api, target, props["HttpMethod"])
            if "AuthorizerId" in props:
                authorizer = resources[props["AuthorizerId"]["Ref"]]["Properties"]
                for target in _references(authorizer.get("AuthorizerUri")) & nodes.keys():
                    add(api, target, "authorize")
        elif kind == "AWS::Lambda::EventSourceMapping":
            for source in _references(props["EventSourceArn"]) & nodes.keys():
                for target in _references(props["FunctionName"]) & nodes.keys():
                    add(source, target, "stream" if "Table" in resources[source]["Type"] else "batch")
        elif kind == "AWS::Events::Rule" and logical_id in nodes:
            for target in _references(props.get("Targets", [])) & nodes.keys():
                if resources[target]["Type"] == "AWS::SQS::Queue" and "DeadLetter" not in logical_id:
                    add(logical_id, target, "Object Created")
            for bucket in _references(props.get("EventPattern", {})) & nodes.keys():
                add(bucket, logical_id, "events")
        elif kind == "AWS::Lambda::Function" and logical_id in nodes:
            variables = props.get("Environment", {}).get("Variables", {})
            for target in _references(variables) & nodes.keys():
                add(logical_id, target)
    used = {a for a, _ in edges} | {b for _, b in edges}
    prefix = _node_id(_documents_bucket(nodes))
    lines = ["flowchart LR", "  client((API client)) -->|x-api-key| " + _node_id(_api(nodes))]
    for logical_id in sorted(used):
        _, shape = _SHAPES[nodes[logical_id]["Type"]]
        lines.append(f"  {_node_id(logical_id)}" + shape.format(f'"{_label(logical_id, nodes[logical_id], prefix)}"'))
    for (source, target), labels in sorted(edges.items()):
        label = ", ".join(sorted(filter(None, labels)))
        arrow = f" -->|{label}| " if label else " --> "
        lines.append(f"  {_node_id(source)}{arrow}{_node_id(target)}")
    lines.append("  client -.->|presigned POST| " + _node_id(_documents_bucket(nodes)))
    return "\n".join(lines) + "\n"


def _is_data_path(logical_id: str, resource: dict[str, Any]) -> bool:
    props = resource.get("Properties", {})
    if resource["Type"] == "AWS::Lambda::Function":
        return props.get("Handler", "").endswith(".index.handler")
    if resource["Type"] == "AWS::S3::Bucket":
        return "NotificationConfiguration" in props
    if resource["Type"] == "AWS::SQS::Queue":
        return "DeadLetter" not in logical_id
    return True


def _api(nodes: dict[str, Any]) -> str:
    return next(i for i, r in nodes.items() if r["Type"] == "AWS::ApiGateway::RestApi")


def _documents_bucket(nodes: dict[str, Any]) -> str:
    return next(i for i, r in nodes.items() if r["Type"] == "AWS::S3::Bucket")


def _node_id(logical_id: str) -> str:
    return re.sub(r"[0-9A-F]{8}$", "", logical_id)


def flagship_template() -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from aws_cdk import App

    from examples.document_pipeline import app as flagship

    with tempfile.TemporaryDirectory() as outdir:
        app = App(outdir=outdir, context={"env": "dev"})
        (stack,) = flagship.build(app)
        return app.synth().get_stack_by_name(stack.stack_name).template


def readme_with(diagram: str, readme: str) -> str:
    block = f"{BEGIN}\n```mermaid\n{diagram}```\n{END}"
    return re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, readme, flags=re.S)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed diagram is stale")
    args = parser.parse_args(argv)
    diagram = mermaid(flagship_template())
    readme = README.read_text()
    if args.check:
        stale = [p.name for p, ok in ((DIAGRAM, DIAGRAM.exists() and DIAGRAM.read_text() == diagram),
                                       (README, readme_with(diagram, readme) == readme)) if not ok]
        if stale:
            print(f"architecture diagram out of date in {', '.join(stale)}: run python scripts/diagram.py")
            return 1
        return 0
    DIAGRAM.write_text(diagram)
    README.write_text(readme_with(diagram, readme))
    print(f"wrote {DIAGRAM.relative_to(ROOT)} and the README's copy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
