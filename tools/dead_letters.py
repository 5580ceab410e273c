"""Which queues are dead-letter queues: one answer for the template rules, the dashboard and the local cloud.

A queue is a dead-letter queue when something names it as the place failures go: an SQS
queue's or an SNS subscription's `RedrivePolicy.deadLetterTargetArn`, a rule target's
`DeadLetterConfig.Arn`, or an event source mapping's `DestinationConfig.OnFailure.Destination`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

QUEUE_TYPES = ("AWS::SQS::Queue",)


def getatt_target(value: Any) -> str | None:
    """The logical id in `{"Fn::GetAtt": [id, attr]}` (or `"id.attr"`), else None."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".")[0])
    return None


def dead_letter_references(node: Any) -> Iterator[Any]:
    """Every value a property tree names as a dead-letter or on-failure destination (an intrinsic or an ARN)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "RedrivePolicy" and isinstance(value, dict) and "deadLetterTargetArn" in value:
                yield value["deadLetterTargetArn"]
            elif key == "DeadLetterConfig" and isinstance(value, dict) and "Arn" in value:
                yield value["Arn"]
            elif key == "OnFailure" and isinstance(value, dict) and "Destination" in value:
                yield value["Destination"]
            else:
                yield from dead_letter_references(value)
    elif isinstance(node, list):
        for item in node:
            yield from dead_letter_references(item)


def dead_letter_targets(node: Any, resolve: Callable[[Any], str | None] = getatt_target) -> set[str]:
    """The logical ids a property tree dead-letters into; `resolve` turns a reference into one (or None)."""
    return {target for target in map(resolve, dead_letter_references(node)) if target}


def dead_letter_queues(
    resources: dict[str, dict[str, Any]], resolve: Callable[[Any], str | None] = getatt_target
) -> set[str]:
    """The queues among `resources` that any of them dead-letters into."""
    queues = {logical_id for logical_id, resource in resources.items() if resource.get("Type") in QUEUE_TYPES}
    return dead_letter_targets(resources, resolve) & queues
