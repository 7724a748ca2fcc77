"""Generate ``src/serverless_patterns/_interop.py`` from the installed aws-cdk-lib.

    python scripts/gen_interop.py            # rewrite the module
    python scripts/gen_interop.py --check    # exit 1 when the module is stale

Each construct that hardens one CDK resource implements that resource's interface
(``s3.IBucket``, ``dynamodb.ITable``, ...) by forwarding every interface member to the L2 it
owns. The jsii runtime routes a JavaScript call to a Python member only when the member is in
the ``__dict__`` of a non-jsii class of the object's MRO, and expands a struct argument into
keywords only when the Python signature has keyword-only parameters; so the mixins are real
source with the interfaces' exact signatures (which also lets mypy and pyright see the
constructs as the interfaces), not ``__getattr__`` magic.
"""

from __future__ import annotations

import argparse
import builtins
import collections.abc
import functools
import importlib
import importlib.metadata
import inspect
import re
import sys
import textwrap
import types
import typing
from pathlib import Path

import jsii

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "src" / "serverless_patterns" / "_interop.py"

#: (mixin, interface module, interface, the construct's attribute holding the L2)
MIXINS = [
    ("BucketInterface", "aws_s3", "IBucket", "bucket"),
    ("TableInterface", "aws_dynamodb", "ITable", "table"),
    ("FunctionInterface", "aws_lambda", "IFunction", "function"),
    ("QueueInterface", "aws_sqs", "IQueue", "queue"),
    ("TopicInterface", "aws_sns", "ITopic", "topic"),
    ("SecretInterface", "aws_secretsmanager", "ISecret", "secret"),
    ("VpcInterface", "aws_ec2", "IVpc", "vpc"),
]

#: Members every construct already has from ``constructs.Construct``.
_ON_CONSTRUCT = {"node", "with_"}

_ALIASES = {"aws_cdk": "cdk", "constructs": "constructs", "aws_cdk.aws_lambda": "lambda_"}


def _alias(module: str) -> str:
    if module in _ALIASES:
        return _ALIASES[module]
    if module.startswith("aws_cdk.interfaces.aws_"):
        return module.removeprefix("aws_cdk.interfaces.aws_") + "_refs"
    if module.startswith("aws_cdk.aws_"):
        return module.removeprefix("aws_cdk.aws_")
    if module.startswith("aws_cdk."):
        return module.removeprefix("aws_cdk.")
    raise ValueError(f"no alias for module {module}")


class _Renderer:
    """Turns evaluated annotations back into source text, collecting the imports they need."""

    def __init__(self) -> None:
        self.modules: set[str] = set()

    def __call__(self, tp: object) -> str:
        if tp is type(None) or tp is None:
            return "None"
        if tp is typing.Any:
            return "typing.Any"
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in (typing.Union, types.UnionType):
            # int | float is float to a type checker (jsii.Number).
            rendered = [self(a) for a in args if a is not type(None) and not (a is int and float in args)]
            if type(None) in args:
                rendered.append("None")
            return " | ".join(dict.fromkeys(rendered))
        if origin is not None:
            name = {
                collections.abc.Sequence: "typing.Sequence",
                collections.abc.Mapping: "typing.Mapping",
                list: "list",
                dict: "dict",
                collections.abc.Callable: "typing.Callable",
            }.get(origin)
            if name is None:
                raise ValueError(f"cannot render {tp!r}")
            return f"{name}[{', '.join(self(a) for a in args)}]"
        if isinstance(tp, type):
            if tp.__module__ == "builtins":
                return tp.__qualname__
            module = tp.__module__
            # Classes are defined in the package module (aws_cdk.aws_s3), never below it.
            self.modules.add(module)
            return f"{_alias(module)}.{tp.__qualname__}"
        raise ValueError(f"cannot render {tp!r}")


_IMPORT_ALIAS = re.compile(r"^\s+import ((?:aws_cdk|constructs)[\w.]*) as (_\w+)$", re.MULTILINE)


@functools.cache
def _module_aliases(module_name: str) -> dict[str, object]:
    """The module's namespace plus the aliased imports it keeps under ``TYPE_CHECKING``."""
    module = sys.modules[module_name]
    namespace = dict(vars(module))
    source = Path(inspect.getfile(module)).read_text()
    for imported, alias in _IMPORT_ALIAS.findall(source):
        namespace[alias] = importlib.import_module(imported)
    return namespace


def _hints(member: typing.Any, owner: type) -> dict[str, object]:
    namespace = {"builtins": builtins, "typing": typing, "jsii": jsii, **_module_aliases(owner.__module__)}
    return typing.get_type_hints(member, globalns=namespace, localns=dict(vars(owner)))


def _summary(member: typing.Any) -> str:
    doc = inspect.getdoc(member) or ""
    first = doc.strip().split("\n\n", 1)[0].replace("\n", " ").strip()
    return first.replace('"""', "'''").replace("\\", "\\\\")


def _interface_members(iface: type) -> list[tuple[str, type, typing.Any]]:
    """(name, declaring interface, member) for every jsii member of ``iface`` and its bases."""
    seen: dict[str, tuple[str, type, typing.Any]] = {}
    for klass in iface.__mro__:
        for name, member in vars(klass).items():
            if name.startswith("_") or name in seen or name in _ON_CONSTRUCT:
                continue
            fget = getattr(member, "fget", None)
            is_property = isinstance(member, property) and hasattr(fget, "__jsii_name__")
            if is_property or (inspect.isfunction(member) and hasattr(member, "__jsii_name__")):
                seen[name] = (name, klass, member)
    return sorted(seen.values(), key=lambda item: (isinstance(item[2], property) is False, item[0]))


def _property(name: str, owner: type, member: property, render: _Renderer) -> list[str]:
    returns = render(_hints(member.fget, owner)["return"])
    lines = [
        "    @property",
        f"    def {name}(self) -> {returns}:",
        f'        """{_summary(member.fget) or name}"""',
        f"        return self._interop_target.{name}",
    ]
    if member.fset is not None:
        value = render(_hints(member.fset, owner)["value"])
        lines += [
            "",
            f"    @{name}.setter",
            f"    def {name}(self, value: {value}) -> None:",
            f"        self._interop_target.{name} = value",
        ]
    return lines


def _method(name: str, owner: type, member: typing.Any, render: _Renderer) -> list[str]:
    hints = _hints(member, owner)
    signature = inspect.signature(member)
    params: list[str] = ["self"]
    call: list[str] = []
    keyword_only_started = False
    for param in list(signature.parameters.values())[1:]:
        annotation = render(hints[param.name])
        default = "" if param.default is inspect.Parameter.empty else f" = {param.default!r}"
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            params.append(f"*{param.name}: {annotation}")
            call.append(f"*{param.name}")
            keyword_only_started = True
        elif param.kind is inspect.Parameter.KEYWORD_ONLY:
            if not keyword_only_started:
                params.append("*")
                keyword_only_started = True
            params.append(f"{param.name}: {annotation}{default}")
            call.append(f"{param.name}={param.name}")
        else:
            params.append(f"{param.name}: {annotation}{default}")
            call.append(param.name)
    returns = render(hints["return"])
    head = f"    def {name}({', '.join(params)}) -> {returns}:"
    if len(head) > 100:
        head = "\n".join([f"    def {name}(", *(f"        {p}," for p in params), f"    ) -> {returns}:"])
    target = "_interop_metric_target" if name.startswith("metric") else "_interop_target"
    body_call = f"self.{target}.{name}({', '.join(call)})"
    if len(body_call) > 88:
        body_call = "\n".join([f"self.{target}.{name}(", *(f"            {c}," for c in call), "        )"])
    return [
        head,
        f'        """{_summary(member) or name}"""',
        f"        {'return ' if returns != 'None' else ''}{body_call}",
    ]


def generate() -> str:
    import aws_cdk  # noqa: F401  (loads the jsii assemblies)

    render = _Renderer()
    classes: list[str] = []
    for mixin, module_name, iface_name, attribute in MIXINS:
        module = __import__(f"aws_cdk.{module_name}", fromlist=[iface_name])
        iface = getattr(module, iface_name)
        render.modules.add(iface.__module__)
        iface_ref = f"{_alias(iface.__module__)}.{iface_name}"
        body = [
            f"class {mixin}:",
            f'    """``{iface_ref}``, every member forwarded to ``self.{attribute}``.',
            "",
            "    Generated from the installed aws-cdk-lib; a construct's own members win over these",
            "    and must keep the interface's signature.",
            '    """',
            "",
            "    __slots__ = ()",
            "",
            "    @property",
            f"    def _interop_target(self) -> {iface_ref}:",
            f'        """The owned L2 that implements ``{iface_ref}``."""',
            f'        return typing.cast("{iface_ref}", getattr(self, "{attribute}"))  # noqa: B009',
        ]
        members = _interface_members(iface)
        if any(name.startswith("metric") for name, _, _ in members):
            body += [
                "",
                "    @property",
                f"    def _interop_metric_target(self) -> {iface_ref}:",
                '        """What the ``metric*`` members forward to (default: :attr:`_interop_target`)."""',
                "        return self._interop_target",
            ]
        for name, owner, member in members:
            body.append("")
            if isinstance(member, property):
                body += _property(name, owner, member, render)
            else:
                body += _method(name, owner, member, render)
        classes.append("\n".join(body))

    imports: list[str] = []
    plain = ["import aws_cdk as cdk"] if "aws_cdk" in render.modules else []
    plain += ["import constructs"] if "constructs" in render.modules else []
    for module in sorted(render.modules):
        alias = _alias(module)
        if module not in ("aws_cdk", "constructs"):
            parent, child = module.rsplit(".", 1)
            imports.append(f"from {parent} import {child} as {alias}" if alias != child else f"from {parent} import {child}")
    version = importlib.metadata.version("aws-cdk-lib")

    header = textwrap.dedent(
        f'''\
        """Mixins that make the constructs the CDK interfaces they harden.

        GENERATED by scripts/gen_interop.py from aws-cdk-lib {version}: do not edit.
        Regenerate after upgrading aws-cdk-lib: ``python scripts/gen_interop.py``.
        """

        from __future__ import annotations

        import typing

        '''
    )
    return header + "\n".join(plain + imports) + "\n\n__all__ = [" + ", ".join(
        f'"{name}"' for name in sorted(m[0] for m in MIXINS)
    ) + "]\n\n\n" + "\n\n\n".join(classes) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the module is stale")
    args = parser.parse_args()
    text = generate()
    if args.check:
        if not TARGET.exists() or TARGET.read_text() != text:
            print(f"{TARGET.relative_to(ROOT)} is stale: run python scripts/gen_interop.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
