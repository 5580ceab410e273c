"""The template's resources and their local physical ids: what every provisioner reads and writes.

A `Stack` is the local cloud's CloudFormation: the translated template, its parameters and
conditions, the physical id (Ref value and attributes) of each resource provisioned so far,
and what the provisioners found that runs (functions, mappings, bridged rule targets, routes),
which the local cloud then starts. Provisioners reach moto through `stack.client(service)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tools.localcloud.intrinsics import Resolver, UnresolvedError
from tools.localcloud.template import Template

if TYPE_CHECKING:
    from tools.localcloud.functions import FunctionSpec
    from tools.localcloud.pipes import PipeSpec
    from tools.localcloud.provision_runtime import ApiSettings, BridgeSpec, MappingSpec, RouteSpec

ACCOUNT = "123456789012"
REGION = "us-east-1"


def words(text: str) -> tuple[str, ...]:
    """A list of names written as one string (property names, for instance)."""
    return tuple(text.split())


@dataclass
class Physical:
    """The local cloud's id for a logical resource: its Ref value and attributes."""

    ref: Any = None
    attributes: dict[str, Any] = field(default_factory=dict)


def stack_parameters(template: Template, stack_name: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The template's parameter defaults with the overrides, and the pseudo parameters."""
    unknown = set(overrides) - set(template.parameter_defaults)
    if unknown:
        raise ValueError(f"unknown template parameters: {sorted(unknown)}")
    values = {**template.parameter_defaults, **{name: str(value) for name, value in overrides.items()}}
    # A list parameter's Ref is a list (of its comma-separated items), as CloudFormation resolves it.
    for name, spec in template.sam.get("Parameters", {}).items():
        if str(spec.get("Type", "")).startswith(("CommaDelimitedList", "List<")) and isinstance(values[name], str):
            values[name] = [item.strip() for item in values[name].split(",")] if values[name] else [""]
    return {
        **values,
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::StackName": stack_name,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{stack_name}/local",
    }


@dataclass
class Stack:
    """The template's resources, resolved against what has been provisioned."""

    template: Template
    stack_name: str
    parameters: dict[str, Any]
    client: Callable[[str], Any] = field(repr=False)
    time_scale: float = 1.0
    physical: dict[str, Physical] = field(default_factory=dict)
    # What runs, found by the provisioners and started by the local cloud.
    function_specs: dict[str, FunctionSpec] = field(default_factory=dict)
    mapping_specs: dict[str, MappingSpec] = field(default_factory=dict)
    bridge_specs: list[BridgeSpec] = field(default_factory=list)
    pipe_specs: dict[str, PipeSpec] = field(default_factory=dict)
    routes: list[RouteSpec] = field(default_factory=list)
    api_settings: ApiSettings | None = None
    resolver: Resolver = field(init=False, repr=False)

    def __post_init__(self) -> None:
        conditions = self.template.cfn.get("Conditions", {})
        self.resolver = Resolver(self.parameters, conditions, ref=self.ref, get_att=self.attribute)

    def ref(self, logical_id: str) -> Any:
        if logical_id in self.physical:
            return self.physical[logical_id].ref
        raise UnresolvedError(f"Ref {logical_id}: not provisioned")

    def attribute(self, logical_id: str, attribute: str) -> Any:
        physical = self.physical.get(logical_id)
        if physical is None or attribute not in physical.attributes:
            raise UnresolvedError(f"Fn::GetAtt {logical_id}.{attribute}: not provisioned")
        return physical.attributes[attribute]

    def add(self, logical_id: str, ref: Any, **attributes: Any) -> None:
        self.physical[logical_id] = Physical(ref, attributes)

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Resources of a type whose Condition holds (properties unresolved)."""
        return {
            logical_id: resource
            for logical_id, resource in self.template.of_type(resource_type).items()
            if "Condition" not in resource or self.resolver.condition(resource["Condition"])
        }

    def declared(self, resource_type: str, name_property: str = "") -> Iterator[tuple[str, dict[str, Any], str]]:
        """Each resource of a type whose Condition holds: logical id, resolved properties, and physical name
        (the `name_property` if the template sets it, else the name CloudFormation would generate)."""
        for logical_id, resource in self.resources(resource_type).items():
            props = self.props(resource)
            yield logical_id, props, str(props.get(name_property) or self.name(logical_id))

    def props(self, resource: dict[str, Any]) -> dict[str, Any]:
        resolved: dict[str, Any] = self.resolver.resolve(resource.get("Properties", {}))
        return resolved

    def name(self, logical_id: str) -> str:
        """The physical name CloudFormation would generate (here: stack name and logical id)."""
        return f"{self.stack_name}-{logical_id}"

    def logical_id_of_arn(self, arn: Any) -> str | None:
        """The resource whose Arn attribute is `arn`, if provisioned."""
        for logical_id, physical in self.physical.items():
            if physical.attributes.get("Arn") == arn:
                return logical_id
        return None

    def logical_id_of_ref(self, ref: Any) -> str | None:
        """The resource whose Ref value is `ref` (a queue URL, a table name...), if provisioned."""
        return next((lid for lid, physical in self.physical.items() if physical.ref == ref), None)
