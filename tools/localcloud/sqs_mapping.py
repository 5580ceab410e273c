"""SQS event source mappings with Lambda's semantics: long polling, batching, filters, partial batch responses."""

from __future__ import annotations

import time
from typing import Any

from tools.localcloud.faults import FaultKind, Faults
from tools.localcloud.functions import FunctionRuntime
from tools.localcloud.mapping_base import LONG_POLL_SECONDS, REGION, EventSourceMapping, failed_item_ids, json_or_text
from tools.localcloud.provision_runtime import MappingSpec

SQS_RECEIVE_LIMIT = 10  # messages one ReceiveMessage returns at most


class SqsMapping(EventSourceMapping):
    """SQS → function: batch size and window, filters, visibility timeout, partial batch responses;
    SQS itself redrives to the DLQ."""

    def __init__(
        self,
        spec: MappingSpec,
        function: FunctionRuntime,
        sqs: Any,
        queue_url: str,
        visibility_timeout: int,
        time_scale: float,
        faults: Faults | None = None,
        max_receive_count: int | None = None,
    ) -> None:
        # Lambda polls a queue with several pollers, each invoking with its own batch; here one per
        # environment the function may have, so no poller holds a batch while waiting for another's,
        # and no more than ScalingConfig's MaximumConcurrency allows invocations at once.
        cap = spec.maximum_concurrency if spec.maximum_concurrency is not None else function.concurrency
        super().__init__(spec, function, time_scale, pollers=min(function.concurrency, cap))
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = spec.source_arn
        self.visibility_timeout = visibility_timeout
        self.faults = faults
        self.max_receive_count = max_receive_count  # the queue's RedrivePolicy; None: no DLQ

    @property
    def retry_delay(self) -> int:
        """How long a failed message stays invisible: the visibility timeout on the local cloud's clock."""
        return max(0, round(self.visibility_timeout * self.time_scale))

    def poll_once(self) -> bool:
        # Long polling, as Lambda's pollers do: a message is delivered as soon as it arrives,
        # and an idle queue costs one request a second instead of a busy loop on moto.
        # While a batch is being processed it stays invisible for the queue's REAL visibility
        # timeout: the function's kill deadline is its real Timeout, and on AWS the visibility
        # timeout (>= 6 x Timeout) outlasts it, so a slow invocation never sees its own messages
        # redelivered. Only the wait after a failure is scaled (retry_delay), as is the context's
        # remaining time (functions.py), which keeps visibility >= 6 x timeout >= IN_PROGRESS window.
        messages = self._receive(SQS_RECEIVE_LIMIT, LONG_POLL_SECONDS)
        if not messages:
            return False
        with self._working():
            messages += self._gather(self.batch_size - len(messages))
            if self.paused:  # the outage began while this poll waited: the function never saw the batch
                self._release(messages)
                return False
            self._duplicate_some(messages)
            messages = self._drop_filtered(messages)
            if messages:
                self._deliver(messages)
        return True

    def _receive(self, limit: int, wait_seconds: int) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.batch_size, limit),
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=self.visibility_timeout,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def _gather(self, wanted: int) -> list[dict[str, Any]]:
        """More messages for the batch, as Lambda gathers them: until BatchSize is reached, or the
        batching window (scaled) has passed and the queue has nothing more to give right away."""
        deadline = self.batching_deadline
        gathered: list[dict[str, Any]] = []
        while len(gathered) < wanted and not self._stop.is_set():
            more = self._receive(min(SQS_RECEIVE_LIMIT, wanted - len(gathered)), 0)
            gathered += more
            if not more:
                if time.monotonic() >= deadline:
                    break
                self._stop.wait(min(0.05, max(0.0, deadline - time.monotonic())))
        return gathered

    def _release(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )

    def _drop_filtered(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """FilterCriteria: a message no filter matches is deleted without invoking the function, as Lambda does."""
        if not self.filter:
            return messages
        kept = [message for message in messages if self.filter.matches({"body": json_or_text(message["Body"])})]
        dropped = [message for message in messages if message not in kept]
        self._delete(dropped)
        with self._counting:
            self.stats.filtered += len(dropped)
        return kept

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), SQS_RECEIVE_LIMIT):
            chunk = messages[start : start + SQS_RECEIVE_LIMIT]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )

    def _duplicate_some(self, messages: list[dict[str, Any]]) -> None:
        """The duplicate-delivery fault: a copy goes back on the queue, as SQS's at-least-once delivery does."""
        if self.faults is None:
            return
        for message in messages:
            if self.faults.chance(FaultKind.DUPLICATE, self.function.spec.logical_id):
                self.sqs.send_message(
                    QueueUrl=self.queue_url,
                    MessageBody=message["Body"],
                    MessageAttributes=message.get("MessageAttributes", {}),
                )

    def _last_delivery(self, messages: list[dict[str, Any]]) -> bool:
        """Some message is on its last receive before SQS moves it to the DLQ."""
        if self.max_receive_count is None:
            return False
        counts = (int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1)) for message in messages)
        return any(count >= self.max_receive_count for count in counts)

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [self._record(message) for message in messages]}
        # Injected transient faults are transient: a message's last delivery gets none, so only poison
        # (which fails every delivery) and real defects are dead-lettered, which the chaos run checks.
        result = self._invoke(event, transient_faults=not self._last_delivery(messages))
        ids = [message["MessageId"] for message in messages]
        failed_ids = failed_item_ids(result, ids, self.report_batch_item_failures)
        succeeded = [message for message in messages if message["MessageId"] not in failed_ids]
        failed = [message for message in messages if message["MessageId"] in failed_ids]
        self._delete(succeeded)
        # A failed message becomes visible again when its visibility timeout ends; the
        # local cloud scales that wait (time_scale) so retries and redrive take seconds.
        # Whatever failed it (an error, a timeout, an environment that died mid-record).
        for message in failed:
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=self.retry_delay
            )
        with self._counting:
            self.stats.batches += 1
            self.stats.processed += len(succeeded)
            self.stats.failed += len(failed)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = message.get("Attributes", {})
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                key: attributes[key]
                for key in ("ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp")
                if key in attributes
            },
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": value.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value.get("DataType"),
                }
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": REGION,
        }
