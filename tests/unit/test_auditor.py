"""auditor on moto: trails in stream order, poison records reported alone, redelivery is a no-op."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from orderflow.audit import AuditTable
from orderflow.catalog import OrderConfirmed, OrderConfirmedData
from tests.support.capture import BusCapture
from tests.support.factories import an_order_placed
from tests.support.handlers import load_handler
from tests.support.kinesis_events import kinesis_event
from tests.support.lambda_context import FakeLambdaContext


@pytest.fixture
def audit(function_env: Callable[..., BusCapture]) -> AuditTable:
    function_env(AUDIT_TABLE_NAME="AuditTable")
    return AuditTable(os.environ["AUDIT_TABLE_NAME"])


def confirmed(order_id: str) -> OrderConfirmed:
    return OrderConfirmed.create(
        OrderConfirmedData(order_id=order_id), correlation_id=order_id, producer="orderflow.saga"
    )


def test_interleaved_orders_each_keep_their_trail_in_order_and_redelivery_adds_nothing(audit: AuditTable) -> None:
    a, b = an_order_placed(), an_order_placed()
    batch = kinesis_event(a, b, confirmed(b.order_id), confirmed(a.order_id))
    auditor = load_handler("auditor")
    assert auditor.lambda_handler(batch, FakeLambdaContext()) == {"batchItemFailures": []}
    auditor.lambda_handler(batch, FakeLambdaContext())
    assert [entry.detail_type for entry in audit.trail(a.order_id)] == ["OrderPlaced", "OrderConfirmed"]
    assert [entry.detail_type for entry in audit.trail(b.order_id)] == ["OrderPlaced", "OrderConfirmed"]


def test_a_poison_record_is_reported_by_its_sequence_number_while_the_others_land(audit: AuditTable) -> None:
    a, b = an_order_placed(), an_order_placed()
    batch = kinesis_event(a, "not an event", b)
    result = load_handler("auditor").lambda_handler(batch, FakeLambdaContext())
    poison_sequence = batch["Records"][1]["kinesis"]["sequenceNumber"]
    assert result == {"batchItemFailures": [{"itemIdentifier": poison_sequence}]}
    assert [entry.event_id for entry in audit.trail(a.order_id)] == [a.event_id]
    assert [entry.event_id for entry in audit.trail(b.order_id)] == [b.event_id]


def test_an_event_put_on_the_stream_twice_is_recorded_once_at_its_first_position(audit: AuditTable) -> None:
    # Given OrderPlaced reaches the stream twice with the same event id (a producer's retry, a replay)
    placed = an_order_placed()
    first, second = kinesis_event(placed, confirmed(placed.order_id)), kinesis_event(placed, first_sequence=2000)
    auditor = load_handler("auditor")
    # When both batches are processed
    assert auditor.lambda_handler(first, FakeLambdaContext()) == {"batchItemFailures": []}
    assert auditor.lambda_handler(second, FakeLambdaContext()) == {"batchItemFailures": []}
    # Then the trail holds it once, in its first place
    trail = audit.trail(placed.order_id)
    assert [entry.detail_type for entry in trail] == ["OrderPlaced", "OrderConfirmed"]
    assert trail[0].position == first["Records"][0]["kinesis"]["sequenceNumber"].zfill(128)
