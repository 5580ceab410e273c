"""The consumer skeleton on moto: each record parsed, applied once per event id, and failing alone, logged."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from orderflow.catalog import OrderConfirmed, OrderConfirmedData
from orderflow.consumer import SqsConsumer
from orderflow.observability import logger
from orderflow.settings import IdempotencySettings
from tests.support.capture import BusCapture
from tests.support.factories import eventbridge_event, sqs_event
from tests.support.lambda_context import FakeLambdaContext


def confirmed(order_id: str) -> OrderConfirmed:
    return OrderConfirmed.create(
        OrderConfirmedData(order_id=order_id), correlation_id=order_id, producer="orderflow.saga"
    )


def handle(consumer: SqsConsumer[OrderConfirmed], event: dict[str, Any]) -> dict[str, Any]:
    return dict(consumer.lambda_handler(event, FakeLambdaContext()))  # type: ignore[arg-type]  # a stand-in context


class Recorder:
    """An apply function that remembers what it applied and fails for the orders it is told to."""

    def __init__(self, failing: set[str] | None = None) -> None:
        self.applied: list[str] = []
        self.failing = failing or set()

    def __call__(self, event: OrderConfirmed) -> None:
        if event.order_id in self.failing:
            raise RuntimeError(f"cannot apply {event.order_id}")
        self.applied.append(event.event_id)


@pytest.fixture
def consumer_for(function_env: Callable[..., BusCapture]) -> Callable[[Recorder], SqsConsumer[OrderConfirmed]]:
    function_env()
    settings = IdempotencySettings.from_environment
    return lambda apply: SqsConsumer(accepts=(OrderConfirmed,), apply=apply, settings=settings)


@pytest.fixture
def failed_lines() -> Iterator[list[logging.LogRecord]]:
    """The consumer's "Record failed" lines, as the log handler receives them."""
    lines: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == "Record failed":
                lines.append(record)

    handler, underlying = Keep(), logging.getLogger(logger.name)
    underlying.addHandler(handler)
    yield lines
    underlying.removeHandler(handler)


def test_each_event_is_applied_once_per_event_id(
    consumer_for: Callable[[Recorder], SqsConsumer[OrderConfirmed]],
) -> None:
    apply = Recorder()
    consumer = consumer_for(apply)
    first, second = confirmed("o1"), confirmed("o2")
    assert handle(consumer, sqs_event(first, second, first)) == {"batchItemFailures": []}
    handle(consumer, sqs_event(second))
    assert apply.applied == [first.event_id, second.event_id]


def test_a_batch_whose_every_record_fails_reports_each_and_logs_one_line_per_record(
    consumer_for: Callable[[Recorder], SqsConsumer[OrderConfirmed]], failed_lines: list[logging.LogRecord]
) -> None:
    # Given a malformed record and an event the service cannot apply
    consumer = consumer_for(Recorder(failing={"o-bad"}))
    unappliable = confirmed("o-bad")
    batch = sqs_event("{broken", unappliable)
    # When the batch is handled, it answers with every record as a failure instead of raising
    result = handle(consumer, batch)
    assert result == {"batchItemFailures": [{"itemIdentifier": record["messageId"]} for record in batch["Records"]]}
    # And each failure is one structured line saying what is known about its record
    malformed, unapplied = failed_lines
    assert "event_id" not in malformed.__dict__
    assert malformed.__dict__["error_type"] == "MalformedEventError"
    assert malformed.__dict__["message_id"] == batch["Records"][0]["messageId"]
    assert {key: unapplied.__dict__[key] for key in ("event_type", "event_id", "order_id", "error")} == {
        "event_type": "OrderConfirmed",
        "event_id": unappliable.event_id,
        "order_id": "o-bad",
        "error": "cannot apply o-bad",
    }


def test_a_failed_event_is_applied_when_it_is_delivered_again(
    consumer_for: Callable[[Recorder], SqsConsumer[OrderConfirmed]],
) -> None:
    apply = Recorder(failing={"o1"})
    consumer = consumer_for(apply)
    event = confirmed("o1")
    handle(consumer, sqs_event(event))
    apply.failing.clear()
    assert handle(consumer, sqs_event(event)) == {"batchItemFailures": []}
    assert apply.applied == [event.event_id]


def test_bodies_a_lenient_parser_crashed_on_fail_alone_and_the_good_records_are_applied(
    consumer_for: Callable[[Recorder], SqsConsumer[OrderConfirmed]], failed_lines: list[logging.LogRecord]
) -> None:
    # Given a batch where good events surround what used to crash parsing or slip through it
    apply = Recorder()
    consumer = consumer_for(apply)
    good, later = confirmed("o1"), confirmed("o2")
    template = json.dumps(eventbridge_event(confirmed("o-bad")))
    poisons = [
        template.replace('"schema_version": 1', '"schema_version": 999'),
        template.replace('"order_id": "o-bad"', '"order_id": "o-bad\\ud800"'),
        template.replace('"order_id": "o-bad"', '"order_id": ' + "[" * 5000 + "]" * 5000),
        template.replace('"schema_version": 1', '"schema_version": ' + "9" * 5000),
    ]
    batch = sqs_event(good, *poisons, later)
    # When it is handled, each poison is reported on its own and the good events are applied
    result = handle(consumer, batch)
    poisoned = [{"itemIdentifier": record["messageId"]} for record in batch["Records"][1:-1]]
    assert result == {"batchItemFailures": poisoned}
    assert apply.applied == [good.event_id, later.event_id]
    assert [line.__dict__["error_type"] for line in failed_lines] == ["MalformedEventError"] * len(poisons)
