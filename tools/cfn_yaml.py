"""YAML with CloudFormation's short-form intrinsics, for the files tools generate (template.yaml's fenced parts)."""

from __future__ import annotations

from dataclasses import dataclass

import yaml


@dataclass(frozen=True)
class Intrinsic:
    """A short-form intrinsic (`!Ref X`, `!GetAtt X.Arn`, `!Sub ...`), read and written as it is."""

    tag: str
    value: str


class CfnLoader(yaml.SafeLoader):
    """Reads consumers.yaml's short-form intrinsics."""


class CfnDumper(yaml.SafeDumper):
    """Writes intrinsics in short form and multi-line strings (the dashboard body) as literal blocks."""


def _construct_intrinsic(loader: yaml.SafeLoader, node: yaml.Node) -> Intrinsic:
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(None, None, f"{node.tag} takes a scalar", node.start_mark)
    return Intrinsic(node.tag, str(loader.construct_scalar(node)))


for _tag in ("!Ref", "!GetAtt", "!Sub"):
    CfnLoader.add_constructor(_tag, _construct_intrinsic)
CfnDumper.add_representer(
    Intrinsic,
    lambda dumper, data: dumper.represent_scalar(data.tag, data.value, style="|" if "\n" in data.value else None),
)
CfnDumper.add_representer(
    str,
    lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None),
)


def ref(logical_id: str) -> Intrinsic:
    return Intrinsic("!Ref", logical_id)


def get_att(logical_id: str, attribute: str) -> Intrinsic:
    return Intrinsic("!GetAtt", f"{logical_id}.{attribute}")


def sub(text: str) -> Intrinsic:
    return Intrinsic("!Sub", text)
