"""Kinesis event source mappings with Lambda's semantics: checkpoints, bisect, retry limit, record age, on-failure."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tools.localcloud.functions import FunctionRuntime, InvocationResult
from tools.localcloud.mapping_base import REGION, EventSourceMapping, failed_item_ids, json_or_text
from tools.localcloud.provision_runtime import MappingSpec

RETRY_PAUSE = 0.02  # seconds between retries of a failing batch: a poison record must not spin a core


class KinesisMapping(EventSourceMapping):
    """Kinesis → function: batch size, partial responses, bisect on error, retry limit, on-failure destination."""

    # Kinesis has no long polling; Lambda reads each shard about once a second, this a little more often.
    idle_interval = 0.25

    def __init__(
        self,
        spec: MappingSpec,
        function: FunctionRuntime,
        kinesis: Any,
        stream_name: str,
        on_failure: Callable[[dict[str, Any]], None] | None,
        time_scale: float = 1.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(spec, function, time_scale)
        self.kinesis = kinesis
        self.stream_name = stream_name
        self.stream_arn = spec.source_arn
        self.on_failure = on_failure
        # A record expires at MaximumRecordAgeInSeconds, else when the stream's retention drops it;
        # both on the local cloud's clock. MaximumRetryAttempts -1 retries until then.
        age = spec.maximum_record_age if spec.maximum_record_age >= 0 else spec.retention_hours * 3600
        self.maximum_age = timedelta(seconds=age * time_scale)
        self.clock = clock or self.now
        self._iterators: dict[str, str] = {}
        self.caught_up = False
        self.last_arrival: datetime | None = None

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    def _shard_iterators(self) -> dict[str, str]:
        if not self._iterators:
            shards = self.kinesis.describe_stream(StreamName=self.stream_name)["StreamDescription"]["Shards"]
            for shard in shards:
                self._iterators[shard["ShardId"]] = self.kinesis.get_shard_iterator(
                    StreamName=self.stream_name, ShardId=shard["ShardId"], ShardIteratorType=self.spec.starting_position
                )["ShardIterator"]
        return self._iterators

    def poll_once(self) -> bool:
        worked = False
        for shard_id, iterator in list(self._shard_iterators().items()):
            records, next_iterator = self._read(iterator)
            if records:
                worked = True
                with self._working():
                    self._process(shard_id, records)
            self._iterators[shard_id] = next_iterator
        self.caught_up = not worked
        return worked

    def _read(self, iterator: str) -> tuple[list[dict[str, Any]], str]:
        """A shard's next batch: up to BatchSize records, gathered for up to the (scaled) batching window."""
        response = self.kinesis.get_records(ShardIterator=iterator, Limit=self.batch_size)
        records: list[dict[str, Any]] = response.get("Records", [])
        deadline = self.batching_deadline
        while records and len(records) < self.batch_size and not self._stop.is_set():
            if time.monotonic() >= deadline:
                break
            self._stop.wait(min(0.05, max(0.0, deadline - time.monotonic())))
            response = self.kinesis.get_records(
                ShardIterator=response["NextShardIterator"], Limit=self.batch_size - len(records)
            )
            records += response.get("Records", [])
        return records, response["NextShardIterator"]

    def _process(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        """Deliver records in order; retry from the first failure, bisect errors, give up to on-failure.

        A retry counts toward MaximumRetryAttempts; splitting a batch in two does not. A record
        older than its maximum age is given up without being sent (again).
        """
        pending: list[tuple[list[dict[str, Any]], int]] = [(self._matching(records), 0)]
        while pending:
            batch, retries = pending.pop(0)
            expired = self._expired_count(batch)
            if expired:
                self._give_up(shard_id, batch[:expired], "RecordAgeExceeded", retries, None)
                batch = batch[expired:]
            if not batch:
                continue
            result = self._invoke({"Records": [self._record(shard_id, record) for record in batch]})
            self.stats.batches += 1
            failed_from = self._first_failed_index(result, batch)
            if failed_from is None:
                self.stats.processed += len(batch)
                self.last_arrival = batch[-1]["ApproximateArrivalTimestamp"]
                continue
            # Records before the first failure are checkpointed, exactly as Lambda does.
            self.stats.processed += failed_from
            remaining = batch[failed_from:]
            if not result.ok and self.spec.bisect_on_error and len(remaining) > 1:
                middle = len(remaining) // 2
                pending[:0] = [(remaining[:middle], retries), (remaining[middle:], retries)]
            elif 0 <= self.spec.maximum_retry_attempts <= retries:
                self._give_up(shard_id, remaining, "RetryAttemptsExhausted", retries, result)
            else:
                pending.insert(0, (remaining, retries + 1))
                self._stop.wait(RETRY_PAUSE)

    def _expired_count(self, batch: list[dict[str, Any]]) -> int:
        """How many records at the start of the batch (the oldest) are past their maximum age."""
        now = self.clock()
        fresh = (i for i, record in enumerate(batch) if now - record["ApproximateArrivalTimestamp"] <= self.maximum_age)
        return next(fresh, len(batch))

    def _matching(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The records FilterCriteria lets through; the others are passed over, as Lambda does."""
        if not self.filter:
            return records
        kept = [record for record in records if self.filter.matches(self._filtered_view(record))]
        self.stats.filtered += len(records) - len(kept)
        return kept

    @staticmethod
    def _filtered_view(record: dict[str, Any]) -> dict[str, Any]:
        """What a Kinesis filter pattern sees: the record's metadata and its data (parsed when JSON)."""
        return {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "approximateArrivalTimestamp": record["ApproximateArrivalTimestamp"].timestamp(),
            "data": json_or_text(bytes(record["Data"]).decode(errors="replace")),
        }

    def _first_failed_index(self, result: InvocationResult, batch: list[dict[str, Any]]) -> int | None:
        sequence_numbers = [record["SequenceNumber"] for record in batch]
        failed = failed_item_ids(result, sequence_numbers, self.report_batch_item_failures)
        return min(sequence_numbers.index(number) for number in failed) if failed else None

    def _give_up(
        self, shard_id: str, batch: list[dict[str, Any]], condition: str, retries: int, result: InvocationResult | None
    ) -> None:
        """Send the batch's description (not its data) to the on-failure destination and move on."""
        self.stats.failed += len(batch)
        self.stats.sent_to_on_failure += len(batch)
        if self.on_failure is None:
            return
        response = {"statusCode": 200, "functionError": result.error.get("errorType", "Unhandled")} if result else {}
        self.on_failure(
            {
                "requestContext": {
                    "requestId": f"localcloud-{batch[0]['SequenceNumber']}",
                    "functionArn": f"arn:aws:lambda:{REGION}:123456789012:function:{self.function.spec.name}",
                    "condition": condition,
                    "approximateInvokeCount": retries + 1 if result else retries,
                },
                "responseContext": response,
                "version": "1.0",
                "timestamp": datetime.now(UTC).isoformat(),
                "KinesisBatchInfo": {
                    "shardId": shard_id,
                    "startSequenceNumber": batch[0]["SequenceNumber"],
                    "endSequenceNumber": batch[-1]["SequenceNumber"],
                    "approximateArrivalOfFirstRecord": batch[0]["ApproximateArrivalTimestamp"].isoformat(),
                    "approximateArrivalOfLastRecord": batch[-1]["ApproximateArrivalTimestamp"].isoformat(),
                    "batchSize": len(batch),
                    "streamArn": self.stream_arn,
                },
            }
        )

    def _record(self, shard_id: str, record: dict[str, Any]) -> dict[str, Any]:
        return {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": record["PartitionKey"],
                "sequenceNumber": record["SequenceNumber"],
                "data": base64.b64encode(record["Data"]).decode(),
                "approximateArrivalTimestamp": record["ApproximateArrivalTimestamp"].timestamp(),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard_id}:{record['SequenceNumber']}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": "arn:aws:iam::123456789012:role/localcloud",
            "awsRegion": REGION,
            "eventSourceARN": self.stream_arn,
        }


def on_failure_to_sqs(sqs: Any, queue_url: str) -> Callable[[dict[str, Any]], None]:
    """An on-failure destination that is an SQS queue."""

    def send(record: dict[str, Any]) -> None:
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(record))

    return send
