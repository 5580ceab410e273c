"""SQS event source mappings with Lambda's semantics: long polling, batch size, partial batch responses."""

from __future__ import annotations

from typing import Any

from tools.localcloud.faults import FaultKind, Faults
from tools.localcloud.functions import FunctionRuntime, InvocationResult
from tools.localcloud.mapping_base import LONG_POLL_SECONDS, REGION, EventSourceMapping


class SqsMapping(EventSourceMapping):
    """SQS → function: batch size, visibility timeout, partial batch responses, redrive by SQS itself."""

    def __init__(
        self,
        logical_id: str,
        function: FunctionRuntime,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        batch_size: int,
        report_batch_item_failures: bool,
        visibility_timeout: int,
        time_scale: float,
        faults: Faults | None = None,
    ) -> None:
        super().__init__(logical_id, function)
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.batch_size = batch_size
        self.report_batch_item_failures = report_batch_item_failures
        self.visibility_timeout = visibility_timeout
        self.time_scale = time_scale
        self.faults = faults

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
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.batch_size, 10),
            WaitTimeSeconds=LONG_POLL_SECONDS,
            VisibilityTimeout=self.visibility_timeout,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return False
        if self.paused:  # the outage began while this poll waited: the function never saw the batch
            for message in messages:
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            return False
        self.busy = True
        try:
            self._duplicate_some(messages)
            self._deliver(messages)
        finally:
            self.busy = False
        return True

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

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [self._record(message) for message in messages]}
        result = self._invoke(event)
        failed_ids = self._failed_message_ids(result, messages)
        self.stats.batches += 1
        succeeded = [message for message in messages if message["MessageId"] not in failed_ids]
        failed = [message for message in messages if message["MessageId"] in failed_ids]
        if succeeded:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(succeeded)],
            )
        # A failed message becomes visible again when its visibility timeout ends; the
        # local cloud scales that wait (time_scale) so retries and redrive take seconds.
        # Whatever failed it (an error, a timeout, an environment that died mid-record).
        for message in failed:
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=self.retry_delay
            )
        self.stats.processed += len(succeeded)
        self.stats.failed += len(failed)

    def _failed_message_ids(self, result: InvocationResult, messages: list[dict[str, Any]]) -> set[str]:
        all_ids = {message["MessageId"] for message in messages}
        if not result.ok:
            return all_ids
        if not self.report_batch_item_failures:
            return set()  # the response is ignored: a returned failure list means nothing to Lambda
        payload = result.result
        if not isinstance(payload, dict) or payload.get("batchItemFailures") is None:
            return set()
        failures = payload["batchItemFailures"]
        ids = {failure.get("itemIdentifier") for failure in failures if isinstance(failure, dict)}
        if not ids <= all_ids or None in ids:
            return all_ids  # Lambda treats an unknown or empty identifier as a failure of the whole batch
        return {str(item) for item in ids}

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
