"""The local cloud does what AWS does where it used to differ, end to end (tests/integration/fidelity_fixture).

Each test names the AWS behaviour it proves; the unit tests in tests/unit/test_localcloud_*.py
prove the same rules piece by piece.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.waiting import wait_for
from tools.localcloud.cloud import LocalCloud
from tools.localcloud.template import load_template

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).with_name("fidelity_fixture") / "template.yaml"


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCloud, list[str]]]:
    collected = Collected()
    logger = logging.getLogger("tools.localcloud")
    logger.addHandler(collected)
    work_dir = tmp_path_factory.mktemp("fidelity")
    try:
        with LocalCloud(load_template(FIXTURE), stack_name="fidelity", work_dir=work_dir) as cloud:
            logger.removeHandler(collected)
            yield cloud, collected.messages
    finally:
        logger.removeHandler(collected)


@pytest.fixture
def cloud(started: tuple[LocalCloud, list[str]]) -> LocalCloud:
    return started[0]


def put(cloud: LocalCloud, detail_type: str, *details: dict[str, Any]) -> None:
    events = cloud.client("events")
    for start in range(0, len(details), 10):
        entries = [
            {"EventBusName": "fidelity-bus", "Source": "probe", "DetailType": detail_type, "Detail": json.dumps(detail)}
            for detail in details[start : start + 10]
        ]
        assert events.put_events(Entries=entries)["FailedEntryCount"] == 0


def seen(cloud: LocalCloud, prefix: str) -> list[dict[str, Any]]:
    items = cloud.client("dynamodb").scan(TableName=cloud.ref("SeenTable"))["Items"]
    return [json.loads(item["detail"]["S"]) for item in items if item["id"]["S"].startswith(prefix)]


def messages_in(cloud: LocalCloud, queue_id: str) -> list[str]:
    response = cloud.client("sqs").receive_message(
        QueueUrl=cloud.ref(queue_id), MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [message["Body"] for message in response.get("Messages", [])]


def test_what_the_local_cloud_does_not_emulate_is_named_at_start_up_once_per_resource(
    started: tuple[LocalCloud, list[str]],
) -> None:
    cloud, warnings = started
    named = {item.logical_id: item for item in cloud.unemulated}
    assert named["BusPolicy"].properties == ()  # AWS::Events::EventBusPolicy: the whole resource
    assert "FilteredFunction" not in named  # its ReservedConcurrentExecutions caps its environments: emulated
    assert any(item.startswith("Auth") for item in named["Api"].properties)
    assert any("per-route throttling" in item for item in named["ApiApiGatewayDefaultStage"].properties)
    assert len(warnings) == len(cloud.unemulated) == len(named)  # one warning per resource
    assert any(message.startswith("BusPolicy (AWS::Events::EventBusPolicy)") for message in warnings)


def test_filter_criteria_keep_unmatched_messages_from_the_function_and_delete_them(cloud: LocalCloud) -> None:
    put(cloud, "Filtered", {"n": 1, "kind": "wanted"}, {"n": 2, "kind": "other"}, {"n": 3, "kind": "wanted"})
    cloud.wait_until_quiet(timeout=60)
    assert sorted(detail["n"] for detail in seen(cloud, "fidelity-FilteredFunction:")) == [1, 3]
    assert cloud.queue_depths("FilteredQueue") == (0, 0)
    assert cloud.mapping_for_function("FilteredFunction").stats.filtered == 1


def test_a_bisected_stream_batch_of_100_with_3_retries_gives_up_only_the_poison_record(cloud: LocalCloud) -> None:
    # Given 40 records on the stream, one of them poison, read as one batch (BatchSize 100)
    (bridge,) = [bridge for bridge in cloud.bridges if bridge.rule_id == "StreamRule"]
    with cloud.outage("StreamFunction"):
        put(cloud, "Streamed", *({"key": "k", "n": n, "poison": n == 17} for n in range(40)))
        wait_for(lambda: bridge.forwarded >= 40, timeout=60, what="the bridge to put 40 records on the stream")
    cloud.wait_until_quiet(timeout=90)
    # Then the 39 healthy records are processed and only the poison one reaches the OnFailure queue
    assert sorted(detail["n"] for detail in seen(cloud, "stream:")) == [n for n in range(40) if n != 17]
    (failure,) = [json.loads(body) for body in messages_in(cloud, "StreamFailures")]
    assert failure["KinesisBatchInfo"]["batchSize"] == 1
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_an_sns_delivery_to_a_queue_that_is_gone_goes_to_the_subscriptions_dlq(cloud: LocalCloud) -> None:
    sqs = cloud.client("sqs")
    sqs.delete_queue(QueueUrl=cloud.ref("Channel"))
    try:
        assert cloud.client("sns").publish(TopicArn=cloud.ref("Topic"), Message="hello")["MessageId"]
        assert messages_in(cloud, "ChannelDLQ") == ["hello"]
    finally:
        sqs.create_queue(QueueName=cloud.attribute("Channel", "QueueName"))
