"""What the console talks to: a deployed stack (from CloudFormation) or the running local cloud (from its file).

Both give the same thing: each resource's logical id, type and physical id (as CloudFormation's
ListStackResources does), the event source mappings (function name, source ARN), and boto3
clients for the right endpoint. Nothing about the topology is typed by hand: queues, DLQs,
alarms, tables, the bus and its archive are found from the stack's own resources.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

TARGET_FILE = "console.json"  # what `serve` writes in its work directory (.localcloud/)
DEFAULT_LOCAL_DIR = Path(".localcloud")
REPO_ROOT = Path(__file__).resolve().parents[2]


class TargetError(RuntimeError):
    """The stack or the local cloud could not be found."""


@dataclass(frozen=True)
class Resource:
    logical_id: str
    physical_id: str
    type: str


@dataclass(frozen=True)
class Mapping:
    """An event source mapping: which function reads which queue or stream."""

    function_name: str
    source_arn: str
    function_logical_id: str | None = None


@dataclass
class Target:
    """One orderflow deployment: its resources and a way to call AWS (or the local cloud) about them."""

    name: str
    region: str | None
    resources: dict[str, Resource]
    endpoint: str | None = None  # None: the real AWS endpoints
    local: bool = False
    log_dir: Path | None = None  # local cloud: one log file per function logical id
    local_mappings: list[Mapping] | None = None
    api_url: str | None = None  # the orders API: its operator routes (IAM-authorized) serve views and trails
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    # --------------------------------------------------------------- access --
    def client(self, service: str) -> Any:
        if service not in self._clients:
            arguments: dict[str, Any] = {"config": Config(retries={"mode": "standard", "max_attempts": 5})}
            if self.region:
                arguments["region_name"] = self.region
            if self.endpoint:
                arguments |= {
                    "endpoint_url": self.endpoint,
                    "aws_access_key_id": "localcloud",
                    "aws_secret_access_key": "localcloud",
                }
            self._clients[service] = boto3.client(service, **arguments)  # type: ignore[call-overload]
        return self._clients[service]

    def signing_environment(self) -> dict[str, str] | None:
        """The credentials operator requests are signed with: the local cloud's, or None for the usual ones."""
        if not self.endpoint:
            return None
        return {
            "AWS_ACCESS_KEY_ID": "localcloud",
            "AWS_SECRET_ACCESS_KEY": "localcloud",
            "AWS_DEFAULT_REGION": self.region or "us-east-1",
        }

    def of_type(self, resource_type: str) -> list[Resource]:
        return sorted(
            (resource for resource in self.resources.values() if resource.type == resource_type),
            key=lambda resource: resource.logical_id,
        )

    def physical(self, logical_id: str) -> str:
        if logical_id not in self.resources:
            raise TargetError(f"{self.name} has no resource {logical_id}")
        return self.resources[logical_id].physical_id

    def mappings(self) -> list[Mapping]:
        """Every event source mapping of the deployment's functions."""
        if self.local_mappings is not None:
            return list(self.local_mappings)
        lambda_client = self.client("lambda")
        found = []
        for resource in self.of_type("AWS::Lambda::EventSourceMapping"):
            mapping = lambda_client.get_event_source_mapping(UUID=resource.physical_id)
            function = mapping["FunctionArn"].split(":function:")[-1].split(":")[0]
            logical = next(
                (r.logical_id for r in self.of_type("AWS::Lambda::Function") if r.physical_id == function), None
            )
            found.append(Mapping(function, mapping["EventSourceArn"], logical))
        return found


def from_stack(stack_name: str, region: str | None = None, endpoint: str | None = None) -> Target:
    """A deployed stack: its resources from CloudFormation (ListStackResources, every page)."""
    target = Target(stack_name, region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"), {})
    target.endpoint = endpoint
    cloudformation = target.client("cloudformation")
    try:
        pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
        summaries = [summary for page in pages for summary in page["StackResourceSummaries"]]
    except Exception as error:
        raise TargetError(f"stack {stack_name}: {error}") from error
    target.resources = {
        summary["LogicalResourceId"]: Resource(
            summary["LogicalResourceId"], summary.get("PhysicalResourceId", ""), summary["ResourceType"]
        )
        for summary in summaries
        if summary.get("PhysicalResourceId")
    }
    outputs = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0].get("Outputs", [])
    target.api_url = next((o["OutputValue"] for o in outputs if o["OutputKey"] == "ApiUrl"), None)
    return target


def from_local(directory: Path | None = None) -> Target:
    """The running local cloud, from the file `serve` writes (.localcloud/console.json)."""
    folder = directory or Path(os.environ.get("ORDERFLOW_LOCAL_DIR", DEFAULT_LOCAL_DIR))
    path = folder / TARGET_FILE
    if directory is None and not path.exists():  # run from elsewhere: the repository's own .localcloud/
        path = REPO_ROOT / DEFAULT_LOCAL_DIR / TARGET_FILE
    if not path.exists():
        raise TargetError(f"no local cloud found: {path} does not exist (start one with `make serve`)")
    document = json.loads(path.read_text())
    resources = {
        item["LogicalResourceId"]: Resource(item["LogicalResourceId"], item["PhysicalResourceId"], item["ResourceType"])
        for item in document["resources"]
    }
    mappings = [
        Mapping(item["FunctionName"], item["EventSourceArn"], item.get("FunctionLogicalId"))
        for item in document["event_source_mappings"]
    ]
    return Target(
        name=f"local cloud {document['stack_name']} at {document['endpoint']}",
        region=document["region"],
        resources=resources,
        endpoint=document["endpoint"],
        local=True,
        log_dir=Path(document["log_dir"]) if document.get("log_dir") else None,
        local_mappings=mappings,
        api_url=document.get("api_url"),
    )


def write_local(path: Path, document: dict[str, Any]) -> Path:
    """Write a target file (the local cloud's side of from_local)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    return path
