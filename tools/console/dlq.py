"""`orderflow dlq list | peek | redrive`: what the DLQs hold, and moving it back.

Redrive sends each message back where it came from: the working queue that dead-lettered it (its
DeadLetterQueueSourceArn where SQS records one, else the DLQ's only source queue), or, for a rule's
own DLQ (events EventBridge could not deliver to a target that is not a queue), the bus again.
On AWS, a whole DLQ with source queues moves with SQS's own message move task. With --order, or
where that API is missing (moto), messages move one at a time, each deleted from the DLQ only after
its send succeeded: a crash mid-redrive loses nothing, and a duplicate is harmless (every consumer
is idempotent on the event id).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tools.console.queues import DeadLetter, Queue, Topology, decode, load_topology, peek, receive_batch, release
from tools.console.target import Target, TargetError

Progress = Callable[[int, int], None]  # (total, done)
REDRIVE_VISIBILITY_SECONDS = 120
MOVE_TASK_POLL_SECONDS = 2.0


def dlq_rows(target: Target, topology: Topology, limit: int) -> list[dict[str, Any]]:
    rows = []
    for dlq in sorted(topology.dead_letter(), key=lambda q: q.logical_id):
        sources = [source.logical_id for source in topology.sources(dlq)]
        letters = peek(target, topology, dlq, limit) if dlq.visible and limit > 0 else []
        rows.append(
            {
                "dlq": dlq.logical_id,
                "depth": dlq.visible + dlq.in_flight,
                "redrives_to": sources or (["the bus"] if _bus(target) else []),
                "messages": [letter.summary() for letter in letters],
            }
        )
    return rows


def list_dlqs(target: Target, limit: int = 10) -> dict[str, Any]:
    return {"target": target.name, "dead_letter_queues": dlq_rows(target, load_topology(target), limit)}


def peek_dlq(target: Target, name: str, limit: int | None) -> dict[str, Any]:
    topology = load_topology(target)
    dlq = topology.find_dead_letter(name)
    letters = peek(target, topology, dlq, limit)
    return {
        "target": target.name,
        "dlq": dlq.logical_id,
        "depth": dlq.visible + dlq.in_flight,
        "messages": [letter.summary() for letter in letters],
    }


@dataclass(frozen=True)
class Destination:
    kind: str  # "queue" or "bus"
    name: str  # logical id of the queue, or the bus
    address: str  # queue URL or bus name


def _bus(target: Target) -> Destination | None:
    buses = target.of_type("AWS::Events::EventBus")
    return Destination("bus", buses[0].logical_id, buses[0].physical_id) if buses else None


def destination(target: Target, topology: Topology, dlq: Queue, letter: DeadLetter) -> Destination | str:
    """Where a message goes back to, or why it cannot."""
    if letter.source_arn and (source := topology.by_arn(letter.source_arn)) is not None:
        return Destination("queue", source.logical_id, source.url)
    sources = topology.sources(dlq)
    if len(sources) == 1:
        return Destination("queue", sources[0].logical_id, sources[0].url)
    if sources:
        return f"{dlq.logical_id} serves {len(sources)} queues and SQS recorded no source for this message"
    bus = _bus(target)
    event = _event(letter)
    if bus is None or event is None:
        return "not an EventBridge event (an on-failure record?): replay its window from the archive instead"
    return bus


def _event(letter: DeadLetter) -> dict[str, Any] | None:
    try:
        event = json.loads(letter.body)
    except ValueError:
        return None
    ok = isinstance(event, dict) and {"source", "detail-type", "detail"} <= set(event)
    return event if ok else None


def _send(target: Target, place: Destination, letter: DeadLetter) -> None:
    if place.kind == "queue":
        attributes = {
            name: {key: value[key] for key in ("DataType", "StringValue", "BinaryValue") if key in value}
            for name, value in letter.attributes.items()
        }
        arguments: dict[str, Any] = {"QueueUrl": place.address, "MessageBody": letter.body}
        if attributes:
            arguments["MessageAttributes"] = attributes
        target.client("sqs").send_message(**arguments)
        return
    event = _event(letter)
    assert event is not None
    entry = {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event["detail"]),
        "Resources": event.get("resources") or [],
        "EventBusName": place.address,
    }
    response = target.client("events").put_events(Entries=[entry])
    if response.get("FailedEntryCount"):
        raise RuntimeError(f"PutEvents refused the event: {response['Entries'][0]}")


def _move_one_by_one(
    target: Target, topology: Topology, dlq: Queue, order: str | None, dry_run: bool, progress: Progress
) -> dict[str, Any]:
    sqs = target.client("sqs")
    total = dlq.visible
    seen: set[str] = set()
    held: list[DeadLetter] = []  # received and left in the DLQ: made visible again at the end
    moved: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    empty = 0
    progress(total, 0)
    try:
        while empty < 2:
            batch = [decode(m) for m in receive_batch(sqs, dlq.url, 10, REDRIVE_VISIBILITY_SECONDS)]
            new = [letter for letter in batch if letter.message_id not in seen]
            held += [letter for letter in batch if letter.message_id in seen]
            empty = 0 if new else empty + 1
            for letter in new:
                seen.add(letter.message_id)
                place = destination(target, topology, dlq, letter)
                if order is not None and not letter.mentions(order):
                    held.append(letter)
                elif isinstance(place, str):
                    held.append(letter)
                    skipped.append({**letter.summary(), "why": place})
                elif dry_run:
                    held.append(letter)
                    moved.append({**letter.summary(), "to": place.name})
                else:
                    _send(target, place, letter)  # raises: the message stays in the DLQ
                    sqs.delete_message(QueueUrl=dlq.url, ReceiptHandle=letter.receipt_handle)
                    moved.append({**letter.summary(), "to": place.name})
                progress(max(total, len(seen)), len(seen))
    finally:
        release(sqs, dlq.url, held)
    return {"mode": "one message at a time", "moved": moved, "skipped": skipped}


def _move_task(target: Target, topology: Topology, dlq: Queue, progress: Progress) -> dict[str, Any] | None:
    """SQS's StartMessageMoveTask back to the source queue(s); None where the API is not there."""
    sqs = target.client("sqs")
    sources = topology.sources(dlq)
    arguments = {"SourceArn": dlq.arn}
    if len(sources) == 1:
        arguments["DestinationArn"] = sources[0].arn
    try:
        handle = sqs.start_message_move_task(**arguments)["TaskHandle"]
    except Exception as error:  # not supported here (moto), or not permitted: move them one at a time
        return {"unavailable": f"{type(error).__name__}: {error}"}
    while True:
        tasks = sqs.list_message_move_tasks(SourceArn=dlq.arn, MaxResults=10)["Results"]
        task = next((t for t in tasks if t.get("TaskHandle") == handle), tasks[0] if tasks else {})
        to_move = int(task.get("ApproximateNumberOfMessagesToMove", dlq.visible) or 0)
        done = int(task.get("ApproximateNumberOfMessagesMoved", 0))
        progress(max(to_move, done), done)
        if task.get("Status") in ("COMPLETED", "CANCELLED", "FAILED"):
            return {
                "mode": "SQS message move task",
                "task_status": task["Status"],
                "failure": task.get("FailureReason"),
                "moved_count": done,
                "to": sources[0].logical_id if len(sources) == 1 else "each message's source queue",
            }
        time.sleep(MOVE_TASK_POLL_SECONDS)


def redrive(target: Target, name: str, order: str | None, dry_run: bool, progress: Progress) -> dict[str, Any]:
    topology = load_topology(target)
    dlq = topology.find_dead_letter(name)
    result: dict[str, Any] = {"target": target.name, "dlq": dlq.logical_id, "order": order, "dry_run": dry_run}
    native: dict[str, Any] | None = None
    if order is None and not dry_run and topology.sources(dlq) and not target.local:
        native = _move_task(target, topology, dlq, progress)
        if native is not None and "unavailable" not in native:
            return {**result, **native, "remaining": _depth(target, dlq)}
    outcome = _move_one_by_one(target, topology, dlq, order, dry_run, progress)
    if native is not None:
        outcome["move_task_unavailable"] = native["unavailable"]
    elif target.local:
        outcome["move_task_unavailable"] = "the local cloud (moto) has no StartMessageMoveTask"
    outcome["moved_count"] = len(outcome["moved"])
    return {**result, **outcome, "remaining": _depth(target, dlq)}


def _depth(target: Target, dlq: Queue) -> int:
    attributes = target.client("sqs").get_queue_attributes(
        QueueUrl=dlq.url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
        attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
    )


__all__ = ["Destination", "TargetError", "list_dlqs", "peek_dlq", "redrive"]
