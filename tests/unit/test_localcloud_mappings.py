"""The local cloud's event source mappings follow Lambda's rules, on moto's SQS and Kinesis in-process.

A scripted function stands in for a handler's environment, so each rule is observable:
batching, filters, what a response means, bisect and retries, record expiry.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from tools.localcloud.functions import FunctionRuntime, FunctionSpec, InvocationResult
from tools.localcloud.kinesis_mapping import KinesisMapping
from tools.localcloud.mapping_base import failed_item_ids
from tools.localcloud.provision_runtime import MappingSpec
from tools.localcloud.sqs_mapping import SqsMapping

pytestmark = pytest.mark.usefixtures("aws")

Behaviour = Callable[[dict[str, Any]], InvocationResult]


class ScriptedFunction(FunctionRuntime):
    """A function whose invocations are answered by `behaviour`, and remembered."""

    def __init__(self, behaviour: Behaviour) -> None:
        spec = FunctionSpec("Probe", "probe", "h.h", Path("."), [], {}, 3.0, 128)
        super().__init__(spec, {}, Path("."))
        self.behaviour = behaviour
        self.events: list[dict[str, Any]] = []
        self.transient_faults: list[bool] = []

    def invoke(self, event: Any, transient_faults: bool = True) -> InvocationResult:
        self.events.append(event)
        self.transient_faults.append(transient_faults)
        return self.behaviour(event)


def succeed(_: dict[str, Any]) -> InvocationResult:
    return InvocationResult(ok=True)


def queue_mapping(
    function: FunctionRuntime, max_receive_count: int | None = None, **settings: Any
) -> tuple[SqsMapping, str]:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="work")["QueueUrl"]
    arn = "arn:aws:sqs:us-east-1:123456789012:work"
    defaults = {"batch_size": 10, "report_batch_item_failures": True}
    spec = MappingSpec("Mapping", "Probe", "Work", "AWS::SQS::Queue", arn, **{**defaults, **settings})
    mapping = SqsMapping(
        spec, function, sqs, url, visibility_timeout=30, time_scale=0.02, max_receive_count=max_receive_count
    )
    return mapping, url


def send(url: str, *bodies: Any) -> None:
    sqs = boto3.client("sqs")
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body if isinstance(body, str) else json.dumps(body))


def left_on(url: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


# ------------------------------------------------------------------ SQS --
def test_a_batch_size_over_ten_gathers_that_many_records_into_one_invocation() -> None:
    function = ScriptedFunction(succeed)
    mapping, url = queue_mapping(function, batch_size=25, batching_window=1)
    send(url, *({"n": n} for n in range(25)))
    assert mapping.poll_once()
    assert [len(event["Records"]) for event in function.events] == [25]
    assert left_on(url) == 0


def test_a_messages_last_delivery_before_the_dlq_carries_no_injected_transient_fault() -> None:
    function = ScriptedFunction(lambda _: InvocationResult(ok=False, error={"errorType": "Boom"}))
    mapping, url = queue_mapping(function, max_receive_count=2)
    send(url, {"n": 1})
    assert mapping.poll_once()
    # Polls (each a one-second long poll) until the failed message is visible again and delivered.
    for _ in range(10):
        if mapping.poll_once():
            break
    assert function.transient_faults == [True, False]


def test_maximum_concurrency_caps_the_pollers_of_an_sqs_mapping() -> None:
    function = ScriptedFunction(succeed)
    function.concurrency = 4
    capped, _ = queue_mapping(function, maximum_concurrency=2)
    uncapped_spec = dataclasses.replace(capped.spec, maximum_concurrency=None)
    uncapped = SqsMapping(uncapped_spec, function, capped.sqs, capped.queue_url, visibility_timeout=30, time_scale=0.02)
    assert (len(capped._threads), len(uncapped._threads)) == (2, 4)


def test_the_batching_window_waits_for_records_that_arrive_within_it() -> None:
    function = ScriptedFunction(succeed)
    mapping, url = queue_mapping(function, batching_window=60)  # 1.2 s on the local cloud's clock
    send(url, {"n": 1})
    later = threading.Timer(0.3, send, args=(url, {"n": 2}, {"n": 3}))
    later.start()
    started = time.monotonic()
    assert mapping.poll_once()
    later.join()
    assert [len(event["Records"]) for event in function.events] == [3]
    assert time.monotonic() - started >= 1.0  # the window ran out, the batch was not full


@pytest.mark.parametrize(
    "response",
    [
        "done",
        ["not", "an", "object"],
        {"batchItemFailures": "not a list"},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"messageId": "a"}]},
        {"batchItemFailures": [{"itemIdentifier": "not in the batch"}]},
        {"batchItemFailures": ["a"]},
    ],
)
def test_a_response_that_is_not_a_valid_partial_batch_response_fails_the_whole_batch(response: Any) -> None:
    assert failed_item_ids(InvocationResult(ok=True, result=response), ["a", "b"], True) == {"a", "b"}


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}])
def test_an_empty_or_null_response_or_failure_list_is_complete_success(response: Any) -> None:
    assert failed_item_ids(InvocationResult(ok=True, result=response), ["a", "b"], True) == set()


def test_a_partial_batch_response_fails_only_the_named_items_and_is_ignored_without_the_response_type() -> None:
    partial = InvocationResult(ok=True, result={"batchItemFailures": [{"itemIdentifier": "b"}]})
    assert failed_item_ids(partial, ["a", "b"], True) == {"b"}
    assert failed_item_ids(partial, ["a", "b"], False) == set()
    assert failed_item_ids(InvocationResult(ok=True, result="done"), ["a", "b"], False) == set()


def test_an_sqs_batch_whose_response_is_a_string_stays_on_the_queue() -> None:
    function = ScriptedFunction(lambda _: InvocationResult(ok=True, result="done"))
    mapping, url = queue_mapping(function)
    send(url, {"n": 1}, {"n": 2})
    assert mapping.poll_once()
    assert (mapping.stats.processed, mapping.stats.failed) == (0, 2)
    assert left_on(url) == 2


def test_filter_criteria_delete_the_records_no_filter_matches_without_invoking() -> None:
    function = ScriptedFunction(succeed)
    mapping, url = queue_mapping(function, filters=({"body": {"kind": ["wanted"]}}, {"body": ["plain"]}))
    send(url, {"kind": "wanted", "n": 1}, {"kind": "other", "n": 2}, "not json", "plain")
    assert mapping.poll_once()
    (event,) = function.events
    assert sorted(record["body"] for record in event["Records"]) == ["plain", '{"kind": "wanted", "n": 1}']
    assert left_on(url) == 0  # the two others were deleted, as Lambda deletes filtered-out messages
    assert mapping.stats.filtered == 2


def test_filter_criteria_that_match_nothing_invoke_nothing() -> None:
    function = ScriptedFunction(succeed)
    mapping, url = queue_mapping(function, filters=({"body": {"kind": ["wanted"]}},))
    send(url, {"kind": "other"})
    assert mapping.poll_once()
    assert function.events == []
    assert left_on(url) == 0


# -------------------------------------------------------------- Kinesis --
def stream_mapping(
    function: FunctionRuntime, time_scale: float = 1.0, clock: Any = None, **settings: Any
) -> tuple[KinesisMapping, list[dict[str, Any]]]:
    boto3.client("kinesis").create_stream(StreamName="audit", ShardCount=1)
    given_up: list[dict[str, Any]] = []
    arn = "arn:aws:kinesis:us-east-1:123456789012:stream/audit"
    defaults = {"batch_size": 100, "bisect_on_error": True, "maximum_retry_attempts": 3}
    spec = MappingSpec(
        "Mapping", "Probe", "Audit", "AWS::Kinesis::Stream", arn, starting_position="TRIM_HORIZON",
        report_batch_item_failures=True, **{**defaults, **settings},
    )  # fmt: skip
    kinesis = boto3.client("kinesis")
    mapping = KinesisMapping(spec, function, kinesis, "audit", given_up.append, time_scale, clock)
    return mapping, given_up


def put_records(*details: dict[str, Any]) -> None:
    kinesis = boto3.client("kinesis")
    for detail in details:
        kinesis.put_record(StreamName="audit", Data=json.dumps(detail).encode(), PartitionKey="p")


def fail_on_poison(event: dict[str, Any]) -> InvocationResult:
    from base64 import b64decode

    data = [json.loads(b64decode(record["kinesis"]["data"])) for record in event["Records"]]
    if any(item.get("poison") for item in data):
        return InvocationResult(ok=False, error={"errorType": "ValueError", "errorMessage": "poison"})
    return InvocationResult(ok=True)


def test_bisecting_does_not_count_as_a_retry_so_only_the_poison_record_reaches_on_failure() -> None:
    # Given batch size 100, bisect on error and 3 retries, and one poison record among 100
    function = ScriptedFunction(fail_on_poison)
    mapping, given_up = stream_mapping(function)
    put_records(*({"n": n, "poison": n == 37} for n in range(100)))
    # When the mapping reads the batch
    assert mapping.poll_once()
    # Then every healthy record is processed, and the poison one alone is given up after its retries
    assert mapping.stats.processed == 99
    (record,) = given_up
    assert record["KinesisBatchInfo"]["batchSize"] == 1
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 4
    alone = [event for event in function.events if len(event["Records"]) == 1 and not fail_on_poison(event).ok]
    assert len(alone) == 4  # the first attempt and 3 retries


def test_unlimited_retries_last_until_the_record_expires_with_the_streams_retention() -> None:
    # Given MaximumRetryAttempts -1 and a stream that keeps records 24 h (28.8 min at time scale 0.02),
    # on a clock that advances a minute per invocation
    invocations: list[int] = []
    started = datetime.now(UTC)

    def failing(event: dict[str, Any]) -> InvocationResult:
        invocations.append(1)
        return fail_on_poison(event)

    function = ScriptedFunction(failing)
    clock = lambda: started + timedelta(minutes=len(invocations))  # noqa: E731
    mapping, given_up = stream_mapping(function, maximum_retry_attempts=-1, time_scale=0.02, clock=clock)
    put_records({"n": 1, "poison": True})
    assert mapping.poll_once()
    # Then the record is retried far past 10 times, and given up only when it is older than the retention
    assert 25 <= len(invocations) <= 30
    (record,) = given_up
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"


def test_a_stream_mapping_gathers_records_for_its_batching_window() -> None:
    function = ScriptedFunction(succeed)
    mapping, _ = stream_mapping(function, batching_window=60, time_scale=0.02)  # 1.2 s
    put_records({"n": 1})
    later = threading.Timer(0.3, put_records, args=({"n": 2}, {"n": 3}))
    later.start()
    assert mapping.poll_once()
    later.join()
    assert [len(event["Records"]) for event in function.events] == [3]


def test_a_stream_record_no_filter_matches_is_passed_over() -> None:
    function = ScriptedFunction(succeed)
    mapping, _ = stream_mapping(function, filters=({"data": {"kind": ["wanted"]}},))
    put_records({"kind": "wanted"}, {"kind": "other"})
    assert mapping.poll_once()
    (event,) = function.events
    assert len(event["Records"]) == 1
    assert (mapping.stats.processed, mapping.stats.filtered) == (1, 1)
