"""Resolve CloudFormation intrinsic functions against the local cloud's physical resources."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

NO_VALUE = object()  # AWS::NoValue: the property is removed


class UnresolvedError(LookupError):
    """A reference to something the local cloud has not created (yet)."""


@dataclass
class Resolver:
    """Resolves Ref / Fn::GetAtt / Fn::Sub / Fn::If ... with physical ids supplied by lookups."""

    parameters: Mapping[str, Any]
    conditions: Mapping[str, Any]
    ref: Callable[[str], Any]
    get_att: Callable[[str, str], Any]
    _condition_cache: dict[str, bool] = field(default_factory=dict)

    def condition(self, name: str) -> bool:
        if name not in self._condition_cache:
            self._condition_cache[name] = bool(self.resolve(self.conditions[name]))
        return self._condition_cache[name]

    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic function replaced by what it evaluates to."""
        if isinstance(value, list):
            return [item for item in (self.resolve(item) for item in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical_id, self.resolve(attribute))
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                separator, items = arg
                return separator.join(str(item) for item in self.resolve(items))
            if key == "Fn::If":
                name, if_true, if_false = arg
                return self.resolve(if_true if self.condition(name) else if_false)
            if key == "Fn::Equals":
                left, right = self.resolve(arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(item) for item in arg)
            if key == "Fn::Or":
                return any(self.resolve(item) for item in arg)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Select":
                index, items = self.resolve(arg)
                return items[int(index)]
            if key == "Fn::Split":
                separator, text = self.resolve(arg)
                return str(text).split(separator)
            if key == "Fn::GetAZs":
                return ["us-east-1a", "us-east-1b", "us-east-1c"]
            if key.startswith("Fn::"):
                raise UnresolvedError(f"{key} is not supported by the local cloud")
        return {
            key: resolved
            for key, resolved in ((k, self.resolve(v)) for k, v in value.items())
            if resolved is not NO_VALUE
        }

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        return self.ref(name)

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            if expression in variables:
                return str(variables[expression])
            if "." in expression and not expression.startswith("AWS::"):
                logical_id, attribute = expression.split(".", 1)
                return str(self.get_att(logical_id, attribute))
            return str(self._ref(expression))

        return re.sub(r"\$\{([^}]+)\}", replace, text)
