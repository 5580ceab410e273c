"""The quiet checks: is anything queued, in flight, running or unread anywhere in the local cloud?"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from tools.localcloud.kinesis_mapping import KinesisMapping
from tools.localcloud.mappings import SqsMapping

if TYPE_CHECKING:
    from tools.localcloud.cloud import LocalCloud


def _depths(cloud: LocalCloud, queue_url: str) -> tuple[int, int]:
    attributes = cloud.client("sqs").get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def queue_depths(cloud: LocalCloud, logical_id: str) -> tuple[int, int]:
    """(visible, in flight) for a queue of the template."""
    return _depths(cloud, cloud.ref(logical_id))


def running_executions(cloud: LocalCloud) -> dict[str, int]:
    """State machine → number of RUNNING executions (those that have any)."""
    stepfunctions = cloud.client("stepfunctions")
    running = {}
    for logical_id in cloud.stack.resources("AWS::StepFunctions::StateMachine"):
        executions = stepfunctions.list_executions(stateMachineArn=cloud.ref(logical_id), statusFilter="RUNNING")
        if executions["executions"]:
            running[logical_id] = len(executions["executions"])
    return running


def is_quiet(cloud: LocalCloud) -> bool:
    """Nothing queued, in flight, running or unread anywhere in the system."""
    if any(mapping.busy for mapping in cloud.mappings.values()) or any(bridge.busy for bridge in cloud.bridges):
        return False
    if any(pipe.busy or not pipe.caught_up for pipe in cloud.pipes.values()):
        return False
    dlqs = cloud.dead_letter_queue_ids()
    sqs_mappings = [mapping for mapping in cloud.mappings.values() if isinstance(mapping, SqsMapping)]
    mapped = {mapping.queue_url for mapping in sqs_mappings if not mapping.paused}
    for logical_id in cloud.stack.resources("AWS::SQS::Queue"):
        if logical_id not in dlqs and cloud.ref(logical_id) in mapped and any(queue_depths(cloud, logical_id)):
            return False
    if any(any(_depths(cloud, bridge.queue_url)) for bridge in cloud.bridges):
        return False
    if any(isinstance(m, KinesisMapping) and not m.caught_up and not m.paused for m in cloud.mappings.values()):
        return False
    return not running_executions(cloud)


def wait_until_quiet(cloud: LocalCloud, timeout: float, settle_checks: int, interval: float) -> float:
    """Block until the system has been quiet for `settle_checks` checks in a row; returns seconds waited."""
    started = time.monotonic()
    streak = 0
    while streak < settle_checks:
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"the local cloud was still busy after {timeout:.0f}s: {busy_report(cloud)}")
        streak = streak + 1 if is_quiet(cloud) else 0
        time.sleep(interval)
    return time.monotonic() - started


def busy_report(cloud: LocalCloud) -> str:
    parts = []
    for logical_id in cloud.stack.resources("AWS::SQS::Queue"):
        visible, in_flight = queue_depths(cloud, logical_id)
        if visible or in_flight:
            parts.append(f"{logical_id}: {visible} visible, {in_flight} in flight")
    for logical_id, count in running_executions(cloud).items():
        parts.append(f"{logical_id}: {count} running executions")
    return "; ".join(parts) or "mappings or bridges busy"
