"""Read template.yaml: decode it, and translate the SAM resources to plain CloudFormation.

samtranslator wants S3 locations for code and definitions, so local paths are
swapped for placeholders first (as `sam validate` does offline) and kept aside:
the local cloud runs the code from those paths.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

# SAM property that holds a local path, per SAM resource type.
_LOCAL_PATH_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
}
_PLACEHOLDER_S3 = {"Bucket": "placeholder-bucket", "Key": "placeholder-key"}


class TemplateError(RuntimeError):
    """template.yaml could not be read or translated."""


@dataclass(frozen=True)
class Template:
    """The SAM template as written, and the CloudFormation it translates to."""

    sam: dict[str, Any]
    cfn: dict[str, Any]
    local_paths: dict[str, Path] = field(default_factory=dict)
    path: Path = TEMPLATE_PATH

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        """Translated CloudFormation resources by logical id."""
        return dict(self.cfn["Resources"])

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {lid: res for lid, res in self.resources.items() if res["Type"] == resource_type}

    def local_path(self, translated_id: str) -> Path | None:
        """The local code or definition path behind a translated resource (layers get a hash suffix)."""
        if translated_id in self.local_paths:
            return self.local_paths[translated_id]
        for sam_id, path in self.local_paths.items():
            if (
                translated_id.startswith(sam_id)
                and self.sam["Resources"][sam_id]["Type"] == "AWS::Serverless::LayerVersion"
            ):
                return path
        return None

    @property
    def parameter_defaults(self) -> dict[str, Any]:
        return {name: spec.get("Default") for name, spec in self.sam.get("Parameters", {}).items()}


def decode_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """template.yaml as a dict, intrinsic-function tags turned into their `Fn::` form."""
    template, matches = decode(str(path))
    if matches or template is None:
        raise TemplateError(f"cannot decode {path}: {[str(match) for match in matches]}")
    return dict(template)


def translate(
    sam: dict[str, Any], base_dir: Path = REPO_ROOT, parameter_values: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Path]]:
    """Run the SAM transform offline; returns the CloudFormation and the swapped local paths."""
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    prepared = copy.deepcopy(sam)
    local_paths: dict[str, Path] = {}
    global_code_uri = prepared.get("Globals", {}).get("Function", {}).pop("CodeUri", None)
    for logical_id, resource in prepared.get("Resources", {}).items():
        resource_type = resource.get("Type", "")
        prop = _LOCAL_PATH_PROPERTIES.get(resource_type)
        if prop is None:
            continue
        properties = resource.setdefault("Properties", {})
        value = properties.get(prop)
        if value is None and resource_type == "AWS::Serverless::Function":
            value = global_code_uri
        if isinstance(value, str):
            local_paths[logical_id] = (base_dir / value).resolve()
            properties[prop] = dict(_PLACEHOLDER_S3)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    translator = Translator(managed_policy_map={}, sam_parser=Parser())
    try:
        cfn = translator.translate(sam_template=prepared, parameter_values=dict(parameter_values or {}))
    except Exception as error:
        raise TemplateError(f"SAM transform failed: {error}") from error
    return cfn, local_paths


@cache
def load_template(path: Path = TEMPLATE_PATH) -> Template:
    """The decoded and translated template (cached: it does not change while we run)."""
    sam = decode_template(path)
    cfn, local_paths = translate(sam, path.parent)
    return Template(sam=sam, cfn=cfn, local_paths=local_paths, path=path)
