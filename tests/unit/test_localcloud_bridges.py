"""The local cloud's bridged rule targets retry and dead-letter as EventBridge does (moto's SQS in-process)."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tools.localcloud.bridges import Bridge, RetryPolicy, classify
from tools.localcloud.provision_runtime import BridgeSpec

pytestmark = pytest.mark.usefixtures("aws")

RULE_ARN = "arn:aws:events:us-east-1:123456789012:rule/bus/audit"
STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/audit"


def client_error(code: str, status: int = 400, message: str = "") -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "PutRecord")


def unavailable() -> ClientError:
    return client_error("ServiceUnavailable", 503, "try later")


class FlakyStream:
    """A Kinesis client whose first `failures` PutRecord calls raise `error` (None: forever)."""

    def __init__(self, failures: int | None, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or unavailable()
        self.calls = 0
        self.records: list[dict[str, Any]] = []

    def put_record(self, **record: Any) -> dict[str, Any]:
        self.calls += 1
        if self.failures is None or self.calls <= self.failures:
            raise self.error
        self.records.append(record)
        return {"ShardId": "shardId-000000000000", "SequenceNumber": str(self.calls)}


def bridge_to(stream: FlakyStream, time_scale: float = 0.001, **target_extra: Any) -> Bridge:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="bridge")["QueueUrl"]
    target = {"Id": "stream", "Arn": STREAM_ARN, **target_extra}

    def client(service: str) -> Any:
        return stream if service == "kinesis" else sqs

    return Bridge(BridgeSpec("AuditRule", RULE_ARN, target, url), client, time_scale, random.Random(1))


def dead_letter_queue() -> tuple[str, dict[str, Any]]:
    url = boto3.client("sqs").create_queue(QueueName="rule-dlq")["QueueUrl"]
    return url, {"DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:123456789012:rule-dlq"}}


def put_event(bridge: Bridge, n: int) -> None:
    event = {"id": f"event-{n}", "detail-type": "Probe", "source": "probe", "detail": {"n": n}}
    boto3.client("sqs").send_message(QueueUrl=bridge.queue_url, MessageBody=json.dumps(event))


def drive(bridge: Bridge, until: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "the bridge did not get there"
        bridge.poll_once(wait_seconds=0)


def dead_letters(url: str) -> list[dict[str, Any]]:
    response: Any = boto3.client("sqs").receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )
    return list(response.get("Messages", []))


def test_a_target_that_fails_for_a_while_receives_the_event_after_retries() -> None:
    stream = FlakyStream(failures=2)
    dlq_url, dlq = dead_letter_queue()
    bridge = bridge_to(stream, **dlq)
    put_event(bridge, 1)
    drive(bridge, lambda: bridge.forwarded == 1)
    assert (stream.calls, bridge.retried, bridge.dead_lettered) == (3, 2, 0)
    assert json.loads(stream.records[0]["Data"])["detail"] == {"n": 1}
    assert dead_letters(dlq_url) == []


def test_an_event_that_exhausts_its_retry_attempts_is_dead_lettered_with_eventbridges_six_attributes() -> None:
    stream = FlakyStream(failures=None)
    dlq_url, dlq = dead_letter_queue()
    bridge = bridge_to(stream, RetryPolicy={"MaximumRetryAttempts": 2}, **dlq)
    put_event(bridge, 2)
    drive(bridge, lambda: bridge.dead_lettered == 1)
    assert stream.calls == 3  # the first attempt and 2 retries
    (letter,) = dead_letters(dlq_url)
    attributes = {name: value["StringValue"] for name, value in letter["MessageAttributes"].items()}
    assert attributes == {
        "RULE_ARN": RULE_ARN,
        "TARGET_ARN": STREAM_ARN,
        "ERROR_CODE": "INTERNAL_ERROR",
        "ERROR_MESSAGE": attributes["ERROR_MESSAGE"],
        "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
        "RETRY_ATTEMPTS": "2",
    }
    assert "ServiceUnavailable" in attributes["ERROR_MESSAGE"]
    assert json.loads(letter["Body"])["detail"] == {"n": 2}


def test_an_event_older_than_its_maximum_event_age_is_dead_lettered() -> None:
    # MaximumEventAgeInSeconds 60 is 1.2 s at time scale 0.02; 185 attempts would take far longer
    stream = FlakyStream(failures=None)
    dlq_url, dlq = dead_letter_queue()
    bridge = bridge_to(stream, time_scale=0.02, RetryPolicy={"MaximumEventAgeInSeconds": 60}, **dlq)
    put_event(bridge, 3)
    started = time.monotonic()
    drive(bridge, lambda: bridge.dead_lettered == 1)
    assert time.monotonic() - started < 3
    (letter,) = dead_letters(dlq_url)
    assert letter["MessageAttributes"]["EXHAUSTED_RETRY_CONDITION"]["StringValue"] == "MaximumEventAgeInSeconds"
    assert int(letter["MessageAttributes"]["RETRY_ATTEMPTS"]["StringValue"]) >= 1


def test_a_client_error_is_not_retried() -> None:
    missing = client_error("ResourceNotFoundException", message="no stream")
    stream = FlakyStream(failures=None, error=missing)
    dlq_url, dlq = dead_letter_queue()
    bridge = bridge_to(stream, **dlq)
    put_event(bridge, 4)
    drive(bridge, lambda: bridge.dead_lettered == 1)
    assert stream.calls == 1
    (letter,) = dead_letters(dlq_url)
    assert letter["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "NO_RESOURCE"
    assert letter["MessageAttributes"]["RETRY_ATTEMPTS"]["StringValue"] == "0"
    assert "EXHAUSTED_RETRY_CONDITION" not in letter["MessageAttributes"]


def test_without_a_dlq_an_undeliverable_event_is_dropped_and_logged_and_later_events_still_arrive(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a target without a DLQ whose first delivery fails with an error that is not retried
    stream = FlakyStream(failures=1, error=client_error("ValidationException"))
    bridge = bridge_to(stream)
    stop = threading.Event()
    thread = threading.Thread(target=bridge.run, args=(stop,), daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.WARNING, logger="tools.localcloud.bridges"):
            put_event(bridge, 5)
            put_event(bridge, 6)
            deadline = time.monotonic() + 10
            while bridge.forwarded < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
        # Then the first is dropped with a warning, the bridge lives on, and the second is delivered
        assert thread.is_alive()
        assert (bridge.dropped, bridge.forwarded) == (1, 1)
        assert json.loads(stream.records[0]["Data"])["detail"] == {"n": 6}
        assert any("dropped an event" in record.getMessage() for record in caplog.records)
    finally:
        stop.set()
        thread.join(timeout=5)


def test_eventbridges_default_retry_policy_is_24_hours_and_185_attempts() -> None:
    assert RetryPolicy.of({}) == RetryPolicy(185, 86_400)
    assert RetryPolicy.of({"RetryPolicy": {"MaximumRetryAttempts": 0}}) == RetryPolicy(0, 86_400)


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "ThrottlingException", ("THROTTLING", True)),
        (503, "ServiceUnavailable", ("INTERNAL_ERROR", True)),
        (400, "ResourceNotFoundException", ("NO_RESOURCE", False)),
        (400, "StateMachineDoesNotExist", ("NO_RESOURCE", False)),
        (403, "AccessDeniedException", ("NO_PERMISSIONS", False)),
        (400, "ValidationException", ("SDK_CLIENT_ERROR", False)),
    ],
)
def test_which_errors_are_retried(status: int, code: str, expected: tuple[str, bool]) -> None:
    assert classify(client_error(code, status)) == expected
