"""The transactional outbox on moto: the orders table's stream, the template's OrderPlacedPipe (filter,
retries, DLQ) run by the local cloud's PipeRunner, and the outbox-relay enrichment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest

from orderflow.catalog import OrderPlaced
from orderflow.orders import OrderView
from orderflow.orders_table import OrdersTable
from tests.support.capture import BusCapture
from tests.support.factories import an_order_placed
from tests.support.handlers import load_handler
from tests.support.lambda_context import FakeLambdaContext
from tests.support.waiting import wait_for
from tools.localcloud.faults import FaultKind, Faults
from tools.localcloud.functions import InvocationResult
from tools.localcloud.pipes import PipeRunner, PipeSpec
from tools.localcloud.provision_runtime import filter_patterns
from tools.localcloud.template import load_template

TABLES = {"ORDERS_TABLE_NAME": "OrdersTable"}
PIPE = "OrderPlacedPipe"


class InProcessEnrichment:
    """The relay's real handler called in this process, answering as a FunctionRuntime does."""

    def __init__(self, relay: ModuleType) -> None:
        self.relay = relay

    def invoke(self, event: Any) -> InvocationResult:
        try:
            return InvocationResult(ok=True, result=self.relay.lambda_handler(event, FakeLambdaContext()))
        except Exception as error:
            return InvocationResult(ok=False, error={"errorType": type(error).__name__, "errorMessage": str(error)})


def template_pipe() -> dict[str, Any]:
    properties: dict[str, Any] = load_template().resources[PIPE]["Properties"]
    return properties


def runner(bus: BusCapture, dead_letter_url: str, faults: Faults, maximum_retry_attempts: int = -1) -> PipeRunner:
    """The template's pipe over the test's table, bus and DLQ (its numbers and filter from the template)."""
    props = template_pipe()
    stream = props["SourceParameters"]["DynamoDBStreamParameters"]
    table = boto3.client("dynamodb").describe_table(TableName="OrdersTable")["Table"]
    target = props["TargetParameters"]["EventBridgeEventBusParameters"]
    spec = PipeSpec(
        logical_id=PIPE,
        name=PIPE,
        arn=f"arn:aws:pipes:us-east-1:123456789012:pipe/{PIPE}",
        table_id="OrdersTable",
        stream_arn=table["LatestStreamArn"],
        enrichment_id="OutboxRelayFunction",
        bus_name=bus.bus_name,
        source=target["Source"],
        detail_type=target["DetailType"],
        filters=filter_patterns(props["SourceParameters"]),
        batch_size=int(stream["BatchSize"]),
        starting_position=stream["StartingPosition"],
        maximum_retry_attempts=maximum_retry_attempts,
        maximum_record_age=int(stream["MaximumRecordAgeInSeconds"]),
        bisect=stream["OnPartialBatchItemFailure"] == "AUTOMATIC_BISECT",
        dead_letter_id="OrderPlacedPipeDLQ",
    )
    relay = InProcessEnrichment(load_handler("outbox_relay"))
    clients = (boto3.client("dynamodbstreams"), boto3.client("events"), boto3.client("sqs"))
    return PipeRunner(spec, *clients, relay, dead_letter_url, faults)  # type: ignore[arg-type]


@pytest.fixture
def dead_letter_url(bus: BusCapture) -> str:
    return str(boto3.client("sqs").create_queue(QueueName="pipe-dlq")["QueueUrl"])


@pytest.fixture
def faults() -> Faults:
    return Faults(seed=1)


@pytest.fixture
def pipe(bus: BusCapture, dead_letter_url: str, faults: Faults) -> Iterator[PipeRunner]:
    running = runner(bus, dead_letter_url, faults)
    running.start()
    yield running
    running.stop()


def accept(placed: OrderPlaced) -> None:
    import os

    assert OrdersTable(os.environ["ORDERS_TABLE_NAME"]).create(OrderView.pending(placed.data), placed)


def order_placed_on_bus(bus: BusCapture) -> list[dict[str, Any]]:
    return [event for event in bus.events() if event["detail-type"] == "OrderPlaced"]


def test_a_new_order_is_published_once_as_the_order_placed_it_was_stored_with(
    pipe: PipeRunner, bus: BusCapture
) -> None:
    placed = an_order_placed()
    accept(placed)
    [event] = wait_for(lambda: order_placed_on_bus(bus), 10, "OrderPlaced on the bus")
    assert event["source"] == "orderflow.orders"
    assert OrderPlaced.model_validate_json(json.dumps(event["detail"])) == placed


def test_only_new_orders_with_an_outbox_are_published(pipe: PipeRunner, bus: BusCapture) -> None:
    import os

    orders = OrdersTable(os.environ["ORDERS_TABLE_NAME"])
    placed = an_order_placed()
    accept(placed)
    wait_for(lambda: pipe.published == 1, 10, "the first order published")
    orders.replace(orders.get(placed.order_id), expected_version=0)  # the projector's MODIFY
    boto3.resource("dynamodb").Table("OrdersTable").put_item(Item=OrderView.pending(an_order_placed().data).to_item())
    wait_for(lambda: pipe.caught_up, 10, "the pipe caught up")
    assert pipe.published == 1
    assert len(order_placed_on_bus(bus)) == 1


def test_while_the_bus_refuses_the_pipe_retries_and_publishes_once_it_accepts(
    pipe: PipeRunner, bus: BusCapture, faults: Faults
) -> None:
    faults.set(FaultKind.BUS_OUTAGE, 1.0, [PIPE])
    placed = an_order_placed()
    accept(placed)
    wait_for(lambda: pipe.failed_attempts >= 5, 10, "the pipe retrying against the refusing bus")
    assert order_placed_on_bus(bus) == []
    faults.clear(FaultKind.BUS_OUTAGE)
    [event] = wait_for(lambda: order_placed_on_bus(bus), 10, "OrderPlaced once the bus accepts")
    assert event["detail"]["metadata"]["event_id"] == placed.event_id
    assert pipe.dead_lettered == 0


def test_a_batch_that_exhausts_its_retries_is_described_in_the_dlq(
    bus: BusCapture, dead_letter_url: str, faults: Faults
) -> None:
    faults.set(FaultKind.BUS_OUTAGE, 1.0, [PIPE])
    limited = runner(bus, dead_letter_url, faults, maximum_retry_attempts=2)
    accept(an_order_placed())
    limited.start()
    try:
        wait_for(lambda: limited.dead_lettered == 1, 10, "the batch given up")
    finally:
        limited.stop()
    [message] = boto3.client("sqs").receive_message(QueueUrl=dead_letter_url).get("Messages", [])
    description = json.loads(message["Body"])
    assert description["context"]["condition"] == "RetryAttemptsExhausted"
    assert description["DDBStreamBatchInfo"]["batchSize"] == 1


def test_the_relay_refuses_a_record_whose_event_breaks_the_contract(bus: BusCapture) -> None:
    relay = load_handler("outbox_relay")
    placed = json.loads(an_order_placed().detail())
    placed["data"]["total_cents"] += 1
    record = {"eventName": "INSERT", "dynamodb": {"NewImage": {"order_placed": {"S": json.dumps(placed)}}}}
    with pytest.raises(ValueError, match="total_cents"):
        relay.lambda_handler([record], FakeLambdaContext())
