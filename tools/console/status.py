"""`orderflow status`: is anything wrong right now, and where.

Every consumer's queue depth, age of oldest message and DLQ depth; every other DLQ; the alarms in
ALARM; saga executions running, and failed / timed out / aborted in the last hour; the audit
stream's iterator age. Unhealthy (exit 1) when any of the deployment's alarms is in ALARM.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tools.console.queues import Queue, Topology, load_topology
from tools.console.target import Target

RECENT = timedelta(hours=1)
METRIC_WINDOW = timedelta(minutes=5)
ENDED = ("FAILED", "TIMED_OUT", "ABORTED")


def latest_metric(target: Target, namespace: str, metric: str, dimension: tuple[str, str]) -> float | None:
    """The most recent one-minute Maximum of a metric over the last five minutes (None: no datapoint)."""
    now = datetime.now(UTC)
    datapoints = target.client("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": dimension[0], "Value": dimension[1]}],
        StartTime=now - METRIC_WINDOW,
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    if not datapoints:
        return None
    return float(max(datapoints, key=lambda point: point["Timestamp"])["Maximum"])


def alarms(target: Target) -> list[dict[str, Any]]:
    """Every alarm of the deployment with its state (DescribeAlarms, 100 names a call)."""
    by_name = {resource.physical_id: resource.logical_id for resource in target.of_type("AWS::CloudWatch::Alarm")}
    names = sorted(by_name)
    found = []
    cloudwatch = target.client("cloudwatch")
    for start in range(0, len(names), 100):
        response = cloudwatch.describe_alarms(AlarmNames=names[start : start + 100], AlarmTypes=["MetricAlarm"])
        for alarm in response["MetricAlarms"]:
            found.append(
                {
                    "name": by_name.get(alarm["AlarmName"], alarm["AlarmName"]),
                    "alarm_name": alarm["AlarmName"],
                    "state": alarm["StateValue"],
                    "since": _iso(alarm.get("StateUpdatedTimestamp")),
                    "reason": alarm.get("StateReason"),
                    "metric": alarm.get("MetricName"),
                    "dimensions": {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])},
                    "description": alarm.get("AlarmDescription"),
                }
            )
    return sorted(found, key=lambda alarm: str(alarm["name"]))


def _iso(value: Any) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="seconds") if isinstance(value, datetime) else None


def _queue_alarms(queue: Queue, all_alarms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [alarm for alarm in all_alarms if alarm["dimensions"].get("QueueName") == queue.name]


def consumer_rows(target: Target, topology: Topology, all_alarms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for queue in sorted(topology.working(), key=lambda q: q.consumer):
        dlq = topology.by_arn(queue.dead_letter_arn or "")
        watched = _queue_alarms(queue, all_alarms) + (_queue_alarms(dlq, all_alarms) if dlq else [])
        rows.append(
            {
                "consumer": queue.consumer,
                "queue": queue.logical_id,
                "function": queue.function,
                "visible": queue.visible,
                "in_flight": queue.in_flight,
                # An empty queue has no oldest message; the last minute's Maximum would still show one.
                "oldest_age_seconds": 0.0
                if queue.visible + queue.in_flight == 0
                else latest_metric(target, "AWS/SQS", "ApproximateAgeOfOldestMessage", ("QueueName", queue.name)),
                "dlq": dlq.logical_id if dlq else None,
                "dlq_depth": dlq.visible + dlq.in_flight if dlq else None,
                "alarms_in_alarm": [alarm["name"] for alarm in watched if alarm["state"] == "ALARM"],
            }
        )
    return rows


def other_dead_letter_rows(topology: Topology, all_alarms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """DLQs no working queue redrives into: a rule's own DLQ, an on-failure destination."""
    return [
        {
            "dlq": dlq.logical_id,
            "depth": dlq.visible + dlq.in_flight,
            "alarms_in_alarm": [a["name"] for a in _queue_alarms(dlq, all_alarms) if a["state"] == "ALARM"],
        }
        for dlq in sorted(topology.dead_letter(), key=lambda q: q.logical_id)
        if not topology.sources(dlq)
    ]


def _count(stepfunctions: Any, state_machine: str, status: str, since: datetime | None) -> int:
    """Executions in `status` (stopped after `since`, when given); pages stop at the first older one."""
    count, arguments = 0, {"stateMachineArn": state_machine, "statusFilter": status, "maxResults": 100}
    while True:
        page = stepfunctions.list_executions(**arguments)
        for execution in page["executions"]:
            stopped = execution.get("stopDate")
            if since is not None and isinstance(stopped, datetime) and stopped < since:
                continue
            count += 1
        if not page.get("nextToken"):
            return count
        arguments["nextToken"] = page["nextToken"]


def saga_rows(target: Target) -> list[dict[str, Any]]:
    stepfunctions = target.client("stepfunctions")
    since = datetime.now(UTC) - RECENT
    rows = []
    for machine in target.of_type("AWS::StepFunctions::StateMachine"):
        row: dict[str, Any] = {
            "state_machine": machine.logical_id,
            "running": _count(stepfunctions, machine.physical_id, "RUNNING", None),
        }
        for status in ENDED:
            row[f"{status.lower()}_last_hour"] = _count(stepfunctions, machine.physical_id, status, since)
        rows.append(row)
    return rows


def stream_rows(target: Target, topology: Topology, all_alarms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for mapping in topology.mappings:
        if ":kinesis:" not in mapping.source_arn:
            continue
        watching = [a for a in all_alarms if a["dimensions"].get("FunctionName") == mapping.function_name]
        rows.append(
            {
                "stream": mapping.source_arn.rsplit("/", 1)[-1],
                "function": mapping.function_name,
                "iterator_age_ms": latest_metric(
                    target, "AWS/Lambda", "IteratorAge", ("FunctionName", mapping.function_name)
                ),
                "alarms_in_alarm": [a["name"] for a in watching if a["state"] == "ALARM"],
            }
        )
    return rows


def status(target: Target) -> dict[str, Any]:
    topology = load_topology(target)
    all_alarms = alarms(target)
    firing = [alarm for alarm in all_alarms if alarm["state"] == "ALARM"]
    return {
        "target": target.name,
        "healthy": not firing,
        "consumers": consumer_rows(target, topology, all_alarms),
        "other_dead_letter_queues": other_dead_letter_rows(topology, all_alarms),
        "alarms_in_alarm": firing,
        "alarm_states": {
            state: sum(1 for a in all_alarms if a["state"] == state) for state in ("ALARM", "OK", "INSUFFICIENT_DATA")
        },
        "saga": saga_rows(target),
        "streams": stream_rows(target, topology, all_alarms),
    }
