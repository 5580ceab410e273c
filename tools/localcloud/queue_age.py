"""ApproximateAgeOfOldestMessage for the local cloud's queues, observed without receiving a message.

SQS has no way to read a message's SentTimestamp without receiving it, and a receive
counts towards maxReceiveCount, so the age is put together from two sources:

- exact: every ReceiveMessage answered through the local cloud's shared SQS client (the
  one the event source mappings and bridges use) is watched through botocore's event
  hooks; a received message's SentTimestamp is its age from then on, until a DeleteMessage
  (or DeleteMessageBatch) through that client removes it;
- estimated, for messages nothing has received yet (a paused consumer, a queue with no
  consumer): each time the queue's depth (visible + in flight) is sampled, messages beyond
  those known exactly are assumed to have arrived halfway between this sample and the last,
  and to leave oldest first. The estimate is off by at most half a sampling interval (one
  alarm period on the local cloud's clock), which is CloudWatch's own one-minute resolution.

A known message that leaves without a delete through the shared client (SQS moving it to
its DLQ after maxReceiveCount, or a consumer with its own client) is dropped when the depth
shows fewer messages than are known: messages on their last allowed receive first, then the
oldest. Until then it can keep the age higher than AWS would report.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

_CONTEXT_KEY = "localcloud_queue_age"


@dataclass
class _Known:
    sent: float  # epoch seconds
    final: bool = False  # received maxReceiveCount times: SQS dead-letters it instead of redelivering


@dataclass
class QueueAge:
    """The messages of one queue: known exactly by id, or estimated by arrival."""

    max_receive_count: int | None = None
    known: dict[str, _Known] = field(default_factory=dict)
    receipts: dict[str, str] = field(default_factory=dict)  # receipt handle -> message id
    unseen: deque[float] = field(default_factory=deque)  # estimated arrival times, oldest first
    last_sample: float | None = None

    def received(self, messages: list[dict[str, Any]], now: float) -> None:
        for message in messages:
            message_id = message["MessageId"]
            self.receipts[message["ReceiptHandle"]] = message_id
            attributes = message.get("Attributes", {})
            if message_id not in self.known:
                # It was one of the unseen (oldest first); its own SentTimestamp beats the estimate.
                estimate = self.unseen.popleft() if self.unseen else now
                sent = int(attributes["SentTimestamp"]) / 1000 if "SentTimestamp" in attributes else estimate
                self.known[message_id] = _Known(sent)
            count = attributes.get("ApproximateReceiveCount")
            if count and self.max_receive_count and int(count) >= self.max_receive_count:
                self.known[message_id].final = True

    def deleted(self, receipt_handles: list[str]) -> None:
        for handle in receipt_handles:
            message_id = self.receipts.pop(handle, None)
            if message_id is not None:
                self.known.pop(message_id, None)

    def _forget(self, message_id: str) -> None:
        del self.known[message_id]
        for handle in [h for h, known_id in self.receipts.items() if known_id == message_id]:
            del self.receipts[handle]

    def sample(self, depth: int, now: float) -> float:
        """Seconds since the oldest message in the queue was sent (0 when empty), given its depth now."""
        while len(self.known) > depth:
            gone = min(self.known, key=lambda mid: (not self.known[mid].final, self.known[mid].sent))
            self._forget(gone)
        unseen = depth - len(self.known)
        while len(self.unseen) > unseen:
            self.unseen.popleft()
        arrived = (now + self.last_sample) / 2 if self.last_sample is not None else now
        self.unseen.extend([arrived] * (unseen - len(self.unseen)))
        self.last_sample = now
        sent = [known.sent for known in self.known.values()] + list(self.unseen)[:1]
        return max(0.0, now - min(sent)) if sent else 0.0


class QueueAges:
    """Ages of the tracked queues, fed by hooks on one boto3 SQS client."""

    def __init__(self, sqs: Any) -> None:
        self._sqs = sqs
        self._lock = threading.Lock()
        self._queues: dict[str, QueueAge] = {}
        self._hooks = [
            ("before-parameter-build.sqs.ReceiveMessage", self._remember_request),
            ("before-parameter-build.sqs.DeleteMessage", self._remember_request),
            ("before-parameter-build.sqs.DeleteMessageBatch", self._remember_request),
            ("after-call.sqs.ReceiveMessage", self._after_receive),
            ("after-call.sqs.DeleteMessage", self._after_delete),
            ("after-call.sqs.DeleteMessageBatch", self._after_delete),
        ]
        for event, handler in self._hooks:
            sqs.meta.events.register(event, handler)

    def close(self) -> None:
        for event, handler in self._hooks:
            self._sqs.meta.events.unregister(event, handler)

    def track(self, queue_url: str, max_receive_count: int | None) -> None:
        with self._lock:
            self._queues.setdefault(queue_url, QueueAge(max_receive_count))

    def sample(self, queue_url: str, depth: int, now: float) -> float:
        with self._lock:
            return self._queues[queue_url].sample(depth, now)

    # botocore hands the same context dict to before-parameter-build and after-call.
    @staticmethod
    def _remember_request(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[_CONTEXT_KEY] = params

    def _after_receive(self, http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        params = context.get(_CONTEXT_KEY, {})
        if http_response.status_code < 300 and parsed.get("Messages"):
            with self._lock:
                queue = self._queues.get(params.get("QueueUrl", ""))
                if queue is not None:
                    queue.received(parsed["Messages"], time.time())

    def _after_delete(self, http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        params = context.get(_CONTEXT_KEY, {})
        if http_response.status_code >= 300:
            return
        if "Entries" in params:
            succeeded = {entry["Id"] for entry in parsed.get("Successful", [])}
            handles = [entry["ReceiptHandle"] for entry in params["Entries"] if entry["Id"] in succeeded]
        else:
            handles = [params.get("ReceiptHandle", "")]
        with self._lock:
            queue = self._queues.get(params.get("QueueUrl", ""))
            if queue is not None:
                queue.deleted(handles)
