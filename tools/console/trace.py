"""`orderflow trace ORDER_ID`: where is my order? One order end to end.

The projector's view and the audit trail, read through the orders API's operator routes
(IAM-authorized, signed with the caller's credentials; straight from OrdersTable and AuditTable
when the target has no API), the saga execution (named after the order) with each state's
time, and any message about the order waiting in a DLQ. A saga state
is a forward *step* when it is on the path from StartAt through Next, a *compensation* when it is a
callback task off that path (it undoes a step), and bookkeeping otherwise (the Pass states that
record a cancellation's reason, CancelOrder, the final check).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from tools.console.queues import load_topology, peek
from tools.console.target import Target, TargetError
from tools.localcloud.orders_client import operator_request

DLQ_SCAN_LIMIT = 200  # messages read per DLQ when looking for the order


def _plain(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | set):
        return [_plain(item) for item in value]
    return value


def _item(raw: dict[str, Any]) -> dict[str, Any]:
    deserializer = TypeDeserializer()
    return {key: _plain(deserializer.deserialize(value)) for key, value in raw.items()}


def _operator_read(target: Target, path: str) -> Any:
    """GET an operator route of the orders API: its JSON, or None for a 404."""
    response = operator_request("GET", f"{str(target.api_url).rstrip('/')}{path}", target.signing_environment())
    if response.status == 404:
        return None
    if response.status != 200:
        raise TargetError(f"GET {path}: {response.status} {response.body}")
    return response.body


def _trail_entry(entry: dict[str, Any]) -> dict[str, Any]:
    return {name: entry.get(name) for name in ("position", "occurred_at", "detail_type", "source", "event_id")} | {
        "position": str(entry.get("position", "")).lstrip("0") or "0"
    }


def view(target: Target, order_id: str) -> dict[str, Any] | None:
    if target.api_url:
        found = _operator_read(target, f"/operator/orders/{order_id}")
        return dict(found) if found else None
    if "OrdersTable" not in target.resources:
        return None
    item = (
        target.client("dynamodb")
        .get_item(TableName=target.physical("OrdersTable"), Key={"order_id": {"S": order_id}}, ConsistentRead=True)
        .get("Item")
    )
    return _item(item) if item else None


def audit_trail(target: Target, order_id: str) -> list[dict[str, Any]]:
    if target.api_url:
        found = _operator_read(target, f"/operator/orders/{order_id}/events")
        return [_trail_entry(entry) for entry in found["events"]] if found else []
    if "AuditTable" not in target.resources:
        return []
    paginator = target.client("dynamodb").get_paginator("query")
    pages = paginator.paginate(
        TableName=target.physical("AuditTable"),
        KeyConditionExpression="order_id = :order",
        ExpressionAttributeValues={":order": {"S": order_id}},
        ConsistentRead=True,
    )
    entries = [_item(raw) for page in pages for raw in page["Items"]]
    return [_trail_entry(entry) for entry in sorted(entries, key=lambda entry: str(entry.get("position")))]


def state_kinds(definition: dict[str, Any]) -> dict[str, str]:
    """step | compensation | bookkeeping, per state of an ASL definition."""
    states: dict[str, Any] = definition.get("States", {})
    happy: list[str] = []
    name = definition.get("StartAt")
    while isinstance(name, str) and name in states and name not in happy:
        happy.append(name)
        name = states[name].get("Next")
    kinds = {}
    for state_name, state in states.items():
        callback = state.get("Type") == "Task" and str(state.get("Resource", "")).endswith(".waitForTaskToken")
        kinds[state_name] = "step" if state_name in happy else "compensation" if callback else "bookkeeping"
    return kinds


def _seconds(start: Any, end: Any) -> float | None:
    if isinstance(start, datetime) and isinstance(end, datetime):
        return round((end - start).total_seconds(), 3)
    return None


def steps_from_history(events: list[dict[str, Any]], kinds: dict[str, str]) -> list[dict[str, Any]]:
    """Each state the execution entered, with its time there and how it ended (a task's error, if any)."""
    steps: list[dict[str, Any]] = []
    open_steps: dict[str, dict[str, Any]] = {}
    for event in events:
        kind = str(event.get("type", ""))
        when = event.get("timestamp")
        if kind.endswith("StateEntered"):
            name = event["stateEnteredEventDetails"]["name"]
            step = {"state": name, "kind": kinds.get(name, "bookkeeping"), "entered": when, "exited": None}
            step |= {"seconds": None, "outcome": "running"}
            open_steps[name] = step
            steps.append(step)
        elif kind.endswith("StateExited"):
            step = open_steps.pop(event["stateExitedEventDetails"]["name"], {})
            if step:
                step["exited"], step["seconds"] = when, _seconds(step["entered"], when)
                step["outcome"] = "ok" if step["outcome"] == "running" else step["outcome"]
        elif kind in ("TaskFailed", "TaskTimedOut") and open_steps:
            details = event.get("taskFailedEventDetails") or event.get("taskTimedOutEventDetails") or {}
            last = steps[-1] if steps and steps[-1]["state"] in open_steps else next(iter(open_steps.values()))
            last["outcome"] = details.get("error") or ("States.Timeout" if kind == "TaskTimedOut" else "failed")
    for step in steps:
        for key in ("entered", "exited"):
            step[key] = step[key].isoformat(timespec="milliseconds") if isinstance(step[key], datetime) else None
    return steps


def saga(target: Target, order_id: str) -> dict[str, Any] | None:
    stepfunctions = target.client("stepfunctions")
    for machine in target.of_type("AWS::StepFunctions::StateMachine"):
        arn = f"{machine.physical_id.replace(':stateMachine:', ':execution:')}:{order_id}"
        try:
            execution = stepfunctions.describe_execution(executionArn=arn)
        except stepfunctions.exceptions.ExecutionDoesNotExist:
            continue
        definition = json.loads(stepfunctions.describe_state_machine(stateMachineArn=machine.physical_id)["definition"])
        pages = stepfunctions.get_paginator("get_execution_history").paginate(executionArn=arn)
        events = [event for page in pages for event in page["events"]]
        steps = steps_from_history(events, state_kinds(definition))
        return {
            "state_machine": machine.logical_id,
            "execution": arn,
            "status": execution["status"],
            "started": execution["startDate"].isoformat(timespec="milliseconds"),
            "stopped": execution["stopDate"].isoformat(timespec="milliseconds") if execution.get("stopDate") else None,
            "seconds": _seconds(execution["startDate"], execution.get("stopDate")),
            "steps": steps,
            "compensations": [step["state"] for step in steps if step["kind"] == "compensation"],
        }
    return None


def dead_letters(target: Target, order_id: str) -> list[dict[str, Any]]:
    topology = load_topology(target)
    found = []
    for dlq in sorted(topology.dead_letter(), key=lambda q: q.logical_id):
        if not dlq.visible:
            continue
        for letter in peek(target, topology, dlq, DLQ_SCAN_LIMIT):
            if letter.mentions(order_id):
                found.append({"dlq": dlq.logical_id, **letter.summary()})
    return found


def trace(target: Target, order_id: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        "target": target.name,
        "order_id": order_id,
        "view": view(target, order_id),
        "saga": saga(target, order_id),
        "audit_trail": audit_trail(target, order_id),
        "dead_letters": dead_letters(target, order_id),
    }
    result["found"] = bool(result["view"] or result["saga"] or result["audit_trail"] or result["dead_letters"])
    return result
