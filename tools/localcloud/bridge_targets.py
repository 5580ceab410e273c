"""Delivering a bridged event to its rule target: a Kinesis stream or a Step Functions state machine."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


class TargetInputError(ValueError):
    """The event cannot be delivered as the target says (EventBridge's INVALID_PARAMETER): never retried."""


def json_path(document: Any, path: str) -> Any:
    """Evaluate a simple `$.a.b.c` JSONPath, as EventBridge's PartitionKeyPath uses."""
    if not path.startswith("$"):
        raise TargetInputError(f"not a JSONPath: {path}")
    value = document
    for part in [segment for segment in path[1:].split(".") if segment]:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def deliver(target: dict[str, Any], body: str, client: Callable[[str], Any]) -> None:
    """Deliver the event (a bridge message's body) to the target as the rule says; raises what the target raised."""
    service = target["Arn"].split(":")[2]
    if service == "kinesis":
        try:
            event = json.loads(body)
        except ValueError as error:
            raise TargetInputError(f"the event is not JSON: {error}") from error
        partition_path = target.get("KinesisParameters", {}).get("PartitionKeyPath")
        # Without KinesisParameters, EventBridge uses the event id as the partition key.
        partition_key = json_path(event, partition_path) if partition_path else event.get("id")
        if not isinstance(partition_key, str) or not partition_key:
            raise TargetInputError(f"partition key path {partition_path} did not select a string")
        client("kinesis").put_record(
            StreamName=target["Arn"].rsplit("/", 1)[1], Data=body.encode(), PartitionKey=partition_key
        )
    elif service == "states":
        client("stepfunctions").start_execution(stateMachineArn=target["Arn"], input=body)
    else:
        raise TargetInputError(f"rule target service {service} is not supported locally")
