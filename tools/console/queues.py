"""The deployment's queues as the console sees them: working queues, their DLQs, and what a DLQ holds.

A queue with a RedrivePolicy is a working queue (every one has a DLQ: a template rule); a queue without
one is a dead-letter queue: a consumer's DLQ (also its rule target's DLQ), a rule's own DLQ, or an
on-failure destination. Peeking receives messages with a short visibility timeout and makes them
visible again at once, so nothing is consumed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tools.console.logs import failure_reasons
from tools.console.target import Mapping, Target, TargetError

PEEK_VISIBILITY_SECONDS = 30
COUNT_ATTRIBUTES = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]


@dataclass
class Queue:
    logical_id: str
    url: str
    arn: str
    visible: int
    in_flight: int
    dead_letter_arn: str | None = None  # a working queue's DLQ
    max_receive_count: int | None = None
    function: str | None = None  # the function an event source mapping feeds from it

    @property
    def name(self) -> str:
        return self.arn.rsplit(":", 1)[-1]

    @property
    def is_dead_letter(self) -> bool:
        return self.dead_letter_arn is None

    @property
    def consumer(self) -> str:
        """What the operator calls it: the logical id without its Queue suffix (ProjectorQueue -> Projector)."""
        return self.logical_id.removesuffix("Queue") or self.logical_id


@dataclass
class Topology:
    queues: dict[str, Queue]
    mappings: list[Mapping] = field(default_factory=list)

    def working(self) -> list[Queue]:
        return [queue for queue in self.queues.values() if not queue.is_dead_letter]

    def dead_letter(self) -> list[Queue]:
        return [queue for queue in self.queues.values() if queue.is_dead_letter]

    def by_arn(self, arn: str) -> Queue | None:
        return next((queue for queue in self.queues.values() if queue.arn == arn), None)

    def sources(self, dlq: Queue) -> list[Queue]:
        """The working queues that dead-letter into `dlq` (SQS moves a message there after maxReceiveCount)."""
        return [queue for queue in self.working() if queue.dead_letter_arn == dlq.arn]

    def find_dead_letter(self, name: str) -> Queue:
        """A DLQ by its logical id, queue name, or the consumer whose DLQ it is (case-insensitive)."""
        wanted = name.lower()
        for dlq in self.dead_letter():
            owners = [source.consumer.lower() for source in self.sources(dlq)]
            if wanted in (dlq.logical_id.lower(), dlq.name.lower(), *owners):
                return dlq
        known = ", ".join(dlq.logical_id for dlq in self.dead_letter())
        raise TargetError(f"no dead-letter queue called {name!r}; there are: {known}")


def load_topology(target: Target) -> Topology:
    """Every queue of the deployment with its depth and redrive policy (one SQS call per queue)."""
    sqs = target.client("sqs")
    mappings = target.mappings()
    queues: dict[str, Queue] = {}
    for resource in target.of_type("AWS::SQS::Queue"):
        attributes = sqs.get_queue_attributes(
            QueueUrl=resource.physical_id, AttributeNames=[*COUNT_ATTRIBUTES, "QueueArn", "RedrivePolicy"]
        )["Attributes"]
        policy = json.loads(attributes["RedrivePolicy"]) if attributes.get("RedrivePolicy") else {}
        arn = attributes["QueueArn"]
        function = next((mapping.function_name for mapping in mappings if mapping.source_arn == arn), None)
        queues[resource.logical_id] = Queue(
            logical_id=resource.logical_id,
            url=resource.physical_id,
            arn=arn,
            visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
            in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            dead_letter_arn=policy.get("deadLetterTargetArn"),
            max_receive_count=int(policy["maxReceiveCount"]) if "maxReceiveCount" in policy else None,
            function=function,
        )
    return Topology(queues, mappings)


@dataclass
class DeadLetter:
    """One DLQ message, decoded."""

    message_id: str
    receipt_handle: str
    body: str
    event_type: str | None
    order_id: str | None
    event_id: str | None
    receive_count: int
    first_received: str | None
    sent: str | None
    reason: str | None
    source_arn: str | None  # DeadLetterQueueSourceArn, where SQS records it
    attributes: dict[str, Any]

    def mentions(self, order_id: str) -> bool:
        return self.order_id == order_id or order_id in self.body

    def summary(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "event_type": self.event_type,
            "order_id": self.order_id,
            "event_id": self.event_id,
            "receive_count": self.receive_count,
            "first_received": self.first_received,
            "sent": self.sent,
            "reason": self.reason,
        }


def _timestamp(milliseconds: str | None) -> str | None:
    if not milliseconds:
        return None
    return datetime.fromtimestamp(int(milliseconds) / 1000, UTC).isoformat(timespec="seconds")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def decode(message: dict[str, Any]) -> DeadLetter:
    """What a DLQ message says: an EventBridge event's type and ids, and EventBridge's error attributes if any."""
    body = message.get("Body", "")
    event_type = order_id = event_id = None
    try:
        event = json.loads(body)
    except ValueError:
        event, event_type = None, "(not JSON)"
    if isinstance(event, dict):
        event_type = event.get("detail-type") or event_type
        detail = _mapping(event.get("detail"))
        metadata, data = _mapping(detail.get("metadata")), _mapping(detail.get("data"))
        event_id = metadata.get("event_id")
        order_id = metadata.get("correlation_id") or data.get("order_id")
    system = message.get("Attributes", {})
    user = {name: value.get("StringValue") for name, value in message.get("MessageAttributes", {}).items()}
    reason = None
    if user.get("ERROR_MESSAGE") or user.get("ERROR_CODE"):  # EventBridge could not deliver it to its target
        reason = ": ".join(part for part in (user.get("ERROR_CODE"), user.get("ERROR_MESSAGE")) if part)
    return DeadLetter(
        message_id=message["MessageId"],
        receipt_handle=message["ReceiptHandle"],
        body=body,
        event_type=event_type if isinstance(event_type, str) else None,
        order_id=order_id if isinstance(order_id, str) else None,
        event_id=event_id if isinstance(event_id, str) else None,
        receive_count=int(system.get("ApproximateReceiveCount", 0)),
        first_received=_timestamp(system.get("ApproximateFirstReceiveTimestamp")),
        sent=_timestamp(system.get("SentTimestamp")),
        reason=reason,
        source_arn=system.get("DeadLetterQueueSourceArn"),
        attributes=message.get("MessageAttributes", {}),
    )


def receive_batch(sqs: Any, queue_url: str, count: int, visibility: int) -> list[dict[str, Any]]:
    response = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=max(1, min(10, count)),
        VisibilityTimeout=visibility,
        WaitTimeSeconds=0,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    return list(response.get("Messages", []))


def release(sqs: Any, queue_url: str, messages: list[DeadLetter]) -> None:
    """Make received messages visible again at once (a peek consumes nothing)."""
    for start in range(0, len(messages), 10):
        chunk = messages[start : start + 10]
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": message.receipt_handle, "VisibilityTimeout": 0}
                for index, message in enumerate(chunk)
            ],
        )


def peek(target: Target, topology: Topology, dlq: Queue, limit: int | None = None) -> list[DeadLetter]:
    """Up to `limit` messages (all that are visible when None), decoded, left in the queue."""
    sqs = target.client("sqs")
    wanted = dlq.visible if limit is None else min(limit, dlq.visible)
    found: dict[str, DeadLetter] = {}
    empty = 0
    try:
        while len(found) < wanted and empty < 2:
            batch = receive_batch(sqs, dlq.url, wanted - len(found), PEEK_VISIBILITY_SECONDS)
            new = [decode(message) for message in batch if message["MessageId"] not in found]
            empty = 0 if new else empty + 1
            found |= {letter.message_id: letter for letter in new}
    finally:
        release(sqs, dlq.url, list(found.values()))
    letters = sorted(found.values(), key=lambda letter: (letter.first_received or "", letter.message_id))
    explain_failures(target, topology, dlq, letters)
    return letters


def explain_failures(target: Target, topology: Topology, dlq: Queue, letters: list[DeadLetter]) -> None:
    """Fill in the failure reason the consuming function logged for each message ("Record failed")."""
    missing = [letter for letter in letters if letter.reason is None]
    functions = [source.function for source in topology.sources(dlq) if source.function]
    if not missing or not functions:
        return
    reasons = failure_reasons(target, functions, [letter.message_id for letter in missing])
    for letter in missing:
        letter.reason = reasons.get(letter.message_id)
