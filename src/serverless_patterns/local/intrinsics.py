"""Resolve the CloudFormation intrinsic functions that CDK templates use for wiring."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

#: Pseudo parameters of the emulated account.
PSEUDO_PARAMETERS: dict[str, Any] = {
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": None,
}
#: The UUID part of the emulated stack's ``AWS::StackId``.
LOCAL_STACK_UUID = "00000000-0000-4000-8000-0000000000e1"


class Resolver:
    """Turns ``Ref``/``Fn::GetAtt``/``Fn::Join``/``Fn::Sub``/``Fn::Select``/``Fn::Split`` into values.

    ``ref`` and ``get_att`` map a logical id (and attribute) to the emulated resource's value;
    ``imports`` maps export names to values, for ``Fn::ImportValue`` (the exports of stacks
    started before this one).
    """

    def __init__(
        self,
        *,
        region: str,
        ref: Callable[[str], Any],
        get_att: Callable[[str, str], Any],
        parameters: Mapping[str, Any] | None = None,
        imports: Mapping[str, Any] | None = None,
    ) -> None:
        self._pseudo = {
            **PSEUDO_PARAMETERS,
            "AWS::Region": region,
            # Names unique per stack instance are cut from the stack id's UUID.
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{PSEUDO_PARAMETERS['AWS::AccountId']}:stack/local/{LOCAL_STACK_UUID}",
        }
        self._ref = ref
        self._get_att = get_att
        self._parameters = dict(parameters or {})
        self._imports = dict(imports or {})

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {key: self(item) for key, item in value.items()}
        ((function, argument),) = value.items()
        if function == "Ref":
            if argument in self._pseudo:
                return self._pseudo[argument]
            if argument in self._parameters:
                return self._parameters[argument]
            return self._ref(argument)
        if function == "Fn::GetAtt":
            logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return self._get_att(logical_id, attribute)
        if function == "Fn::Join":
            separator, parts = argument
            return separator.join(str(self(part)) for part in self(parts))
        if function == "Fn::Select":
            index, items = argument
            return self(items)[int(self(index))]
        if function == "Fn::Split":
            separator, text = argument
            return str(self(text)).split(separator)
        if function == "Fn::ImportValue":
            name = self(argument)
            if name not in self._imports:
                raise KeyError(f"Fn::ImportValue {name!r}: no stack started before this one exports it")
            return self._imports[name]
        if function == "Fn::Sub":
            template, variables = (argument, {}) if isinstance(argument, str) else argument
            return self._substitute(template, {k: self(v) for k, v in variables.items()})
        return {key: self(item) for key, item in value.items()}

    def _substitute(self, template: str, variables: Mapping[str, Any]) -> str:
        import re

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return str(self._get_att(logical_id, attribute))
            return str(self({"Ref": name}))

        return re.sub(r"\$\{([^}!]+)\}", replace, template)
