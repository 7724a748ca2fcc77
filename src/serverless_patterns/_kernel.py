"""Answers of the jsii kernel that never change, asked once and kept on the Python object.

Every call into ``aws_cdk`` is a round trip to the Node process (about 0.3 ms each in a cold
synth, ``benchmarks/bench_synth.py``), and constructs ask the same questions many times: the
stack of a construct, its path, its stack's Region, the name of a runtime. A construct's stack and
path are fixed when it is created, and a stack's Region when the stack is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_cdk import Stack
from jsii.errors import JSIIError
from aws_cdk import aws_iam as iam
from constructs import IConstruct


def remembered(obj: Any, attribute: str, ask: Callable[[], Any]) -> Any:
    """``getattr(obj, attribute)``, else ``ask()`` kept there (asked each time if ``obj`` takes no attributes)."""
    value = getattr(obj, attribute, None)
    if value is None:
        value = ask()
        try:
            setattr(obj, attribute, value)
        except AttributeError:  # an object that takes no attributes: asked each time
            pass
    return value


def stack_of(scope: IConstruct) -> Stack:
    """``Stack.of(scope)``."""
    return remembered(scope, "_serverless_patterns_stack", lambda: Stack.of(scope))


def path_of(construct: IConstruct) -> str:
    """``construct.node.path``."""
    return remembered(construct, "_serverless_patterns_path", lambda: construct.node.path)


def region_of(scope: IConstruct) -> str:
    """The Region of ``scope``'s stack (a token in an environment-agnostic stack)."""
    stack = stack_of(scope)
    return remembered(stack, "_serverless_patterns_region", lambda: stack.region)


def account_of(scope: IConstruct) -> str:
    """The account of ``scope``'s stack (a token in an environment-agnostic stack)."""
    stack = stack_of(scope)
    return remembered(stack, "_serverless_patterns_account", lambda: stack.account)


def default_child_of(construct: IConstruct) -> IConstruct | None:
    """``construct.node.default_child`` (remembered once there is one: a construct's default child is fixed)."""
    return remembered(construct, "_serverless_patterns_default_child", lambda: construct.node.default_child)


def name_of(value: Any) -> Any:
    """``value.name`` of a ``lambda_.Runtime`` or ``lambda_.Architecture`` (``value`` itself when it has none)."""
    if value is None or isinstance(value, str):
        return value
    return remembered(value, "_serverless_patterns_name", lambda: getattr(value, "name", value))


def principal_of(grantee: iam.IGrantable) -> iam.IGrantable:
    """What CDK's grants read of ``grantee``: its ``grant_principal``, taken here when ``grantee`` is one
    of the library's constructs (CDK would otherwise call back into Python for every member it reads)."""
    if hasattr(type(grantee), "_interop_target"):
        return grantee.grant_principal
    return grantee


def runtime_is_variable(runtime: Any) -> bool:
    """``runtime.is_variable`` of a ``lambda_.Runtime``."""
    return bool(remembered(runtime, "_serverless_patterns_is_variable", lambda: runtime.is_variable))


def child_of(scope: IConstruct, id: str, make: Callable[[], IConstruct]) -> IConstruct:
    """``scope.node.try_find_child(id)``, else what ``make()`` makes there (it must use that id);
    remembered, so later calls for the same child ask nothing of the kernel."""
    children: dict[str, IConstruct] = remembered(scope, "_serverless_patterns_children", dict)
    if id not in children:
        children[id] = scope.node.try_find_child(id) or make()
    return children[id]


def referenced_from(scope: IConstruct, owner: IConstruct, value: str) -> str:
    """``value``, an attribute of ``owner`` (a bucket's ARN), as ``scope``'s stack will reference it.

    In ``owner``'s stack, ``value`` itself. From another stack of the app, CDK turns the reference
    into an ``Fn::ImportValue`` of an export it names only at synthesis; here ``owner``'s stack
    exports it now (``Stack.export_value``: the export CDK would make, made once), so a statement
    names the import while constructing and an acknowledgement can name exactly that. A value
    that is no attribute of a resource (an imported bucket's ARN) stays as it is.
    """
    consumer, producer = stack_of(scope), stack_of(owner)
    if consumer is producer or path_of(consumer) == path_of(producer):
        return value  # never an export of a stack to itself
    if consumer.nested_stack_parent is not None or producer.nested_stack_parent is not None:
        return value  # nested stacks reference their parent's resources through parameters
    try:
        return producer.export_value(value)
    except (JSIIError, RuntimeError):  # the kernel's refusal: not a reference to a resource
        return value
