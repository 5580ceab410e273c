"""EventBridge Pipes from a DynamoDB stream to an event bus, run from the template's AWS::Pipes::Pipe.

moto serves the Pipes API (the pipe is created there, so `describe_pipe` and `list_pipes`
answer) but runs nothing; moto serves DynamoDB streams. A `PipeRunner` does what the pipe
does on AWS: it reads the table's stream from `StartingPosition`, keeps the records
`FilterCriteria` matches (the others are passed over), gathers up to `BatchSize`, invokes the
`Enrichment` function with the batch (a JSON array of stream records in Lambda's shape) and
puts each element of its answer on the target bus as one event with the target's
`Source` and `DetailType`. A batch that fails (the enrichment raises or answers something
other than a list, or PutEvents refuses an entry) is retried from its start, bisected
first when `OnPartialBatchItemFailure` is `AUTOMATIC_BISECT` (a split is not a retry), until
`MaximumRetryAttempts` (-1: no limit) or `MaximumRecordAgeInSeconds` (on the local cloud's
clock); then the batch's description goes to the DeadLetterConfig queue. Entries already
put before a failure are put again on the retry, as on AWS: the event ids make that harmless.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tools.localcloud.faults import FaultKind, Faults
from tools.localcloud.functions import FunctionRuntime, InvocationResult
from tools.localcloud.intrinsics import UnresolvedError
from tools.localcloud.mapping_base import REGION, RecordFilter, poll_until_stopped
from tools.localcloud.provision_runtime import filter_patterns
from tools.localcloud.stack import Stack

RETRY_PAUSE = 0.05  # seconds between retries of a failing batch (scaled backoff would be near zero)
PUT_EVENTS_LIMIT = 10


@dataclass(frozen=True)
class PipeSpec:
    """What an AWS::Pipes::Pipe with a DynamoDB stream source says (times on AWS's clock)."""

    logical_id: str
    name: str
    arn: str
    table_id: str
    stream_arn: str
    enrichment_id: str | None
    bus_name: str
    source: str
    detail_type: str
    filters: tuple[dict[str, Any], ...] = ()
    batch_size: int = 10
    batching_window: float = 0.0
    starting_position: str = "LATEST"
    maximum_retry_attempts: int = -1
    maximum_record_age: int = -1
    bisect: bool = False
    dead_letter_id: str | None = None


def pipe_spec(stack: Stack, logical_id: str, props: dict[str, Any], name: str) -> PipeSpec:
    """The resolved pipe: its source table, enrichment function and target bus found by ARN."""
    table_id = next(
        (lid for lid, physical in stack.physical.items() if physical.attributes.get("StreamArn") == props["Source"]),
        None,
    )
    bus_id = stack.logical_id_of_arn(props["Target"])
    if table_id is None or bus_id is None or stack.template.resources[bus_id]["Type"] != "AWS::Events::EventBus":
        raise UnresolvedError(f"{logical_id}: the local cloud runs pipes from a DynamoDB stream to an event bus only")
    enrichment_id = stack.logical_id_of_arn(props["Enrichment"]) if "Enrichment" in props else None
    source_parameters = props.get("SourceParameters", {})
    stream = source_parameters.get("DynamoDBStreamParameters", {})
    target = props.get("TargetParameters", {}).get("EventBridgeEventBusParameters", {})
    dead_letter = stream.get("DeadLetterConfig", {}).get("Arn")
    return PipeSpec(
        logical_id=logical_id,
        name=name,
        arn=f"arn:aws:pipes:{REGION}:{stack.parameters['AWS::AccountId']}:pipe/{name}",
        table_id=table_id,
        stream_arn=props["Source"],
        enrichment_id=enrichment_id,
        bus_name=stack.ref(bus_id),
        source=target.get("Source", "Pipe " + name),
        detail_type=target.get("DetailType", "Event from aws:dynamodb"),
        filters=filter_patterns(source_parameters),
        batch_size=int(stream.get("BatchSize", 100)),
        batching_window=float(stream.get("MaximumBatchingWindowInSeconds", 0)),
        starting_position=stream.get("StartingPosition", "LATEST"),
        maximum_retry_attempts=int(stream.get("MaximumRetryAttempts", -1)),
        maximum_record_age=int(stream.get("MaximumRecordAgeInSeconds", -1)),
        bisect=stream.get("OnPartialBatchItemFailure") == "AUTOMATIC_BISECT",
        dead_letter_id=stack.logical_id_of_arn(dead_letter) if dead_letter else None,
    )


def provision_pipes(stack: Stack) -> None:
    """Each pipe in moto's Pipes API (which keeps it) and as a PipeSpec (which the local cloud runs)."""
    pipes = stack.client("pipes")
    for logical_id, props, name in stack.declared("AWS::Pipes::Pipe", "Name"):
        spec = pipe_spec(stack, logical_id, props, name)
        created = pipes.create_pipe(
            Name=name,
            RoleArn=props["RoleArn"],
            Source=props["Source"],
            Target=props["Target"],
            **{
                key: props[key]
                for key in ("Description", "SourceParameters", "Enrichment", "TargetParameters")
                if key in props
            },
        )
        stack.add(logical_id, name, Arn=created["Arn"])
        stack.pipe_specs[logical_id] = spec


class PipeRunner:
    """One pipe, polling its stream's shards on a thread; `busy` and `caught_up` feed the quiet checks."""

    idle_interval = 0.1

    def __init__(
        self,
        spec: PipeSpec,
        streams: Any,
        events: Any,
        sqs: Any,
        enrichment: FunctionRuntime | None,
        dead_letter_url: str | None,
        faults: Faults | None = None,
        time_scale: float = 1.0,
    ) -> None:
        self.spec = spec
        self.streams = streams
        self.events = events
        self.sqs = sqs
        self.enrichment = enrichment
        self.dead_letter_url = dead_letter_url
        self.faults = faults
        self.time_scale = time_scale
        self.filter = RecordFilter(spec.filters)
        # A record expires at MaximumRecordAgeInSeconds, else after the stream's 24 hours; on the local clock.
        age = spec.maximum_record_age if spec.maximum_record_age >= 0 else 24 * 3600
        self.maximum_age = timedelta(seconds=age * time_scale)
        self.published = 0
        self.failed_attempts = 0
        self.dead_lettered = 0
        self.busy = False
        self.caught_up = False
        self._iterators: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"pipe-{spec.logical_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        poll_until_stopped(self.poll_once, self._stop, self.idle_interval)

    def _shard_iterators(self) -> dict[str, str]:
        if not self._iterators:
            shards = self.streams.describe_stream(StreamArn=self.spec.stream_arn)["StreamDescription"]["Shards"]
            for shard in shards:
                self._iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                    StreamArn=self.spec.stream_arn,
                    ShardId=shard["ShardId"],
                    ShardIteratorType=self.spec.starting_position,
                )["ShardIterator"]
        return self._iterators

    def poll_once(self) -> bool:
        worked = False
        for shard_id, iterator in list(self._shard_iterators().items()):
            response = self.streams.get_records(ShardIterator=iterator, Limit=self.spec.batch_size)
            records = [self._record(record) for record in response.get("Records", [])]
            if records:
                worked = True
                self.busy = True
                try:
                    self._process(shard_id, [record for record in records if self.filter.matches(record)])
                finally:
                    self.busy = False
            self._iterators[shard_id] = response.get("NextShardIterator") or iterator
        self.caught_up = not worked
        return worked

    def _record(self, record: dict[str, Any]) -> dict[str, Any]:
        """A stream record as Pipes passes it on: Lambda's DynamoDB event shape, times as epoch seconds."""
        dynamodb = dict(record["dynamodb"])
        created = dynamodb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            dynamodb["ApproximateCreationDateTime"] = created.timestamp()
        return {**record, "dynamodb": dynamodb, "eventSourceARN": self.spec.stream_arn}

    def _process(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        pending: list[tuple[list[dict[str, Any]], int]] = [(records, 0)] if records else []
        while pending and not self._stop.is_set():
            batch, retries = pending.pop(0)
            expired = self._expired_count(batch)
            if expired:
                self._dead_letter(shard_id, batch[:expired], "RecordAgeExceeded", retries)
                batch = batch[expired:]
            if not batch:
                continue
            error = self._deliver(batch)
            if error is None:
                continue
            self.failed_attempts += 1
            if self.spec.bisect and len(batch) > 1:
                middle = len(batch) // 2
                pending[:0] = [(batch[:middle], retries), (batch[middle:], retries)]
            elif 0 <= self.spec.maximum_retry_attempts <= retries:
                self._dead_letter(shard_id, batch, "RetryAttemptsExhausted", retries)
            else:
                pending.insert(0, (batch, retries + 1))
                self._stop.wait(RETRY_PAUSE)

    def _expired_count(self, batch: list[dict[str, Any]]) -> int:
        now = datetime.now(UTC).timestamp()
        ages = (now - float(record["dynamodb"].get("ApproximateCreationDateTime", now)) for record in batch)
        fresh = (i for i, age in enumerate(ages) if age <= self.maximum_age.total_seconds())
        return next(fresh, len(batch))

    def _deliver(self, batch: list[dict[str, Any]]) -> str | None:
        """Enrich the batch and put what it became on the bus; the failure's description, or None."""
        payloads: Any = batch
        if self.enrichment is not None:
            result = self._enrich(batch)
            if not result.ok:
                return f"enrichment failed: {result.error.get('errorMessage', result.error)}"
            payloads = result.result
            if not isinstance(payloads, list):
                return "enrichment did not answer a JSON array"
        if self.faults is not None and self.faults.chance(FaultKind.BUS_OUTAGE, self.spec.logical_id):
            return "PutEvents refused every entry (injected fault: bus-outage)"
        entries = [
            {
                "EventBusName": self.spec.bus_name,
                "Source": self.spec.source,
                "DetailType": self.spec.detail_type,
                "Detail": json.dumps(payload),
            }
            for payload in payloads
        ]
        for start in range(0, len(entries), PUT_EVENTS_LIMIT):
            response = self.events.put_events(Entries=entries[start : start + PUT_EVENTS_LIMIT])
            if response.get("FailedEntryCount"):
                return f"PutEvents refused {response['FailedEntryCount']} entries"
        self.published += len(entries)
        return None

    def _enrich(self, batch: list[dict[str, Any]]) -> InvocationResult:
        assert self.enrichment is not None
        try:
            return self.enrichment.invoke(batch)
        except Exception as error:  # the environment could not start: the batch fails and is retried
            return InvocationResult(ok=False, error={"errorType": type(error).__name__, "errorMessage": str(error)})

    def _dead_letter(self, shard_id: str, batch: list[dict[str, Any]], condition: str, retries: int) -> None:
        """The batch's description (not its records) to the DeadLetterConfig queue, as for a stream source."""
        self.dead_lettered += len(batch)
        if self.dead_letter_url is None:
            return
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        description = {
            "context": {
                "pipeArn": self.spec.arn,
                "condition": condition,
                "approximateInvokeCount": retries + 1,
            },
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": first.get("ApproximateCreationDateTime"),
                "approximateArrivalOfLastRecord": last.get("ApproximateCreationDateTime"),
                "batchSize": len(batch),
                "streamArn": self.spec.stream_arn,
            },
        }
        self.sqs.send_message(QueueUrl=self.dead_letter_url, MessageBody=json.dumps(description))
