"""auditor on moto: trails in stream order, poison records reported alone, redelivery is a no-op."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import pytest

from orderflow.audit import AuditEntry, AuditTable
from orderflow.catalog import OrderConfirmed, OrderConfirmedData, OrderPlaced
from tests.support.aws import literal_environment
from tests.support.capture import BusCapture
from tests.support.factories import an_order_placed
from tests.support.handlers import load_handler
from tests.support.kinesis_events import kinesis_event
from tests.support.lambda_context import FakeLambdaContext


@pytest.fixture
def audit(function_env: Callable[..., BusCapture], monkeypatch: pytest.MonkeyPatch) -> AuditTable:
    function_env(AUDIT_TABLE_NAME="AuditTable")
    for name, value in literal_environment("AuditorFunction").items():
        monkeypatch.setenv(name, value)
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


def test_a_batch_is_written_with_audit_writers_puts_in_flight_at_once(
    audit: AuditTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given puts that only return once AUDIT_WRITERS of them are in flight together
    writers = int(os.environ["AUDIT_WRITERS"])
    together = threading.Barrier(writers, timeout=10)
    in_flight, most = 0, 0
    lock = threading.Lock()
    append = AuditTable.append

    def append_together(table: AuditTable, entry: AuditEntry) -> bool:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        together.wait()  # broken (the record fails) unless `writers` puts overlap
        try:
            return append(table, entry)
        finally:
            with lock:
                in_flight -= 1

    monkeypatch.setattr(AuditTable, "append", append_together)
    orders = [an_order_placed() for _ in range(2 * writers)]
    # When one batch of twice that many records is handled
    result = load_handler("auditor").lambda_handler(kinesis_event(*orders), FakeLambdaContext())
    # Then every record landed, never more than AUDIT_WRITERS at once
    assert result == {"batchItemFailures": []}
    assert most == writers
    assert all(len(audit.trail(order.order_id)) == 1 for order in orders)


def _an_event_twice_in_one_batch(
    monkeypatch: pytest.MonkeyPatch, before_first_copy: Callable[[], None]
) -> tuple[OrderPlaced, list[str]]:
    """OrderPlaced, OrderConfirmed, OrderPlaced again in one batch; `before_first_copy` runs before the first's put.

    Returns the event and the sequence numbers the handler reported failed.
    """
    placed = an_order_placed()
    batch = kinesis_event(placed, confirmed(placed.order_id), placed)
    sequence = [record["kinesis"]["sequenceNumber"] for record in batch["Records"]]
    append = AuditTable.append

    def append_after_hook(table: AuditTable, entry: AuditEntry) -> bool:
        if entry.position == sequence[0].zfill(128):
            before_first_copy()
        return append(table, entry)

    monkeypatch.setattr(AuditTable, "append", append_after_hook)
    failures = load_handler("auditor").lambda_handler(batch, FakeLambdaContext())["batchItemFailures"]
    return placed, [number for number in sequence if {"itemIdentifier": number} in failures]


def test_an_event_twice_in_one_batch_is_recorded_at_its_first_position_even_when_that_put_is_slower(
    audit: AuditTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the first copy's put slower than the second's (written at once, the later copy would win)
    placed, failed = _an_event_twice_in_one_batch(monkeypatch, lambda: time.sleep(0.2))
    # Then nothing failed and the trail holds the event once, at its first position
    assert failed == []
    trail = audit.trail(placed.order_id)
    assert [entry.detail_type for entry in trail] == ["OrderPlaced", "OrderConfirmed"]
    assert trail[0].position < trail[1].position


def test_when_the_first_copy_of_an_event_fails_its_later_copy_in_the_batch_fails_with_it(
    audit: AuditTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    def throttled() -> None:
        raise RuntimeError("throttled")

    placed, failed = _an_event_twice_in_one_batch(monkeypatch, throttled)
    # Lambda retries the shard from the lowest failed sequence number: the first copy writes on the retry
    assert len(failed) == 2
    assert [entry.detail_type for entry in audit.trail(placed.order_id)] == ["OrderConfirmed"]
