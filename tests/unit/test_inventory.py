"""inventory: rules without AWS, then the store and the handler on moto."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import pytest
from moto.dynamodb.exceptions import TransactionCanceledException
from moto.dynamodb.models import DynamoDBBackend

from inventory.rules import (
    ReleaseDecision,
    Reservation,
    ReservationState,
    ReserveDecision,
    aggregate,
    decide_release,
    decide_reserve,
)
from inventory.store import Cancellation, InventoryStore, why_cancelled
from orderflow.catalog import ReleaseInventory, ReleaseInventoryData, ReserveInventory, ReserveInventoryData, StockLine
from orderflow.envelope import Command
from tests.support.capture import BusCapture, record_callbacks
from tests.support.factories import a_command, sqs_event
from tests.support.handlers import load_handler
from tests.support.lambda_context import FakeLambdaContext
from tools.localcloud.ledgers import put_stock


def reserve(order_id: str, **lines: int) -> ReserveInventory:
    items = [StockLine(sku=sku.replace("_", "-"), quantity=quantity) for sku, quantity in lines.items()]
    return a_command(ReserveInventory, ReserveInventoryData(order_id=order_id, items=items), order_id)


def release(order_id: str, event_id: str | None = None) -> ReleaseInventory:
    return a_command(ReleaseInventory, ReleaseInventoryData(order_id=order_id), order_id, event_id=event_id)


# --- rules -------------------------------------------------------------------


def test_aggregate_merges_repeated_skus() -> None:
    lines = [StockLine(sku="A", quantity=1), StockLine(sku="B", quantity=2), StockLine(sku="A", quantity=3)]
    assert aggregate(lines) == [StockLine(sku="A", quantity=4), StockLine(sku="B", quantity=2)]


@pytest.mark.parametrize(
    ("decide", "state", "expected"),
    [
        (decide_reserve, None, ReserveDecision.RESERVE),
        (decide_reserve, "RESERVED", ReserveDecision.ALREADY_RESERVED),
        (decide_reserve, "RELEASED", ReserveDecision.REFUSE),
        (decide_reserve, "REFUSED", ReserveDecision.ALREADY_REFUSED),
        (decide_release, None, ReleaseDecision.TOMBSTONE),
        (decide_release, "RESERVED", ReleaseDecision.RELEASE),
        (decide_release, "RELEASED", ReleaseDecision.ALREADY_RELEASED),
        (decide_release, "REFUSED", ReleaseDecision.ALREADY_RELEASED),
    ],
)
def test_decisions_follow_the_reservation_state(
    decide: Callable[[Reservation | None], StrEnum], state: str | None, expected: StrEnum
) -> None:
    existing = None if state is None else Reservation(order_id="o", state=ReservationState(state), lines=[])
    assert decide(existing) is expected


@pytest.mark.parametrize(
    ("reasons", "expected"),
    [
        (["None", "ConditionalCheckFailed"], Cancellation.RESERVATION_EXISTS),
        (["ConditionalCheckFailed", "None", "None"], Cancellation.SHORTAGE),
        (["None", "TransactionConflict", "None"], Cancellation.CONFLICT),
        (["TransactionConflict", "ConditionalCheckFailed", "None"], Cancellation.SHORTAGE),
        (["ThrottlingError", "None"], Cancellation.OTHER),
    ],
)
def test_only_a_failed_condition_on_a_stock_line_is_a_shortage(reasons: list[str], expected: Cancellation) -> None:
    assert why_cancelled(reasons) is expected


# --- store and handler on moto -----------------------------------------------


TABLES = {"INVENTORY_TABLE_NAME": "InventoryTable"}


@pytest.fixture
def store(bus: BusCapture) -> InventoryStore:
    return InventoryStore(os.environ["INVENTORY_TABLE_NAME"])


def run(*commands: Command) -> dict[str, object]:
    return run_event(sqs_event(*commands))


def run_event(event: dict[str, Any]) -> dict[str, object]:
    return dict(load_handler("inventory").lambda_handler(event, FakeLambdaContext()))


def test_reserve_takes_stock_publishes_reserved_and_answers_success(
    store: InventoryStore, bus: BusCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    callbacks = record_callbacks(monkeypatch)
    put_stock(store.table_name, {"MUG": 5})
    result = run(reserve("o1", MUG=2))
    assert result == {"batchItemFailures": []}
    assert store.available("MUG") == 3
    assert bus.detail_types() == ["InventoryReserved"]
    assert [token for token, _ in callbacks.successes] == ["token-1"]


def test_out_of_stock_takes_nothing_even_from_lines_that_had_stock(
    store: InventoryStore, bus: BusCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    callbacks = record_callbacks(monkeypatch)
    put_stock(store.table_name, {"MUG": 5})
    put_stock(store.table_name, {"POT": 1})
    run(reserve("o1", MUG=2, POT=2, GHOST=1))
    assert (store.available("MUG"), store.available("POT")) == (5, 1)
    assert [error for _, error, _ in callbacks.failures] == ["OutOfStock"]
    [event] = bus.events()
    assert event["detail-type"] == "InventoryReservationFailed"
    shortages = {s["sku"]: s["available"] for s in event["detail"]["data"]["shortages"]}
    assert shortages == {"POT": 1, "GHOST": 0}


@pytest.fixture
def atomic_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give each TransactWriteItems call the atomicity DynamoDB guarantees.

    moto serves concurrent calls from several threads without serialising them, so an unguarded race
    could let two conditions pass at once; with the lock, only our condition expressions decide.
    """
    lock = threading.Lock()
    unguarded = DynamoDBBackend.transact_write_items

    def transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        with lock:
            unguarded(backend, transact_items)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transact_write_items)


@pytest.mark.usefixtures("atomic_transactions")
def test_two_orders_racing_for_the_last_unit_exactly_one_wins(store: InventoryStore) -> None:
    put_stock(store.table_name, {"LAST": 1})
    results: dict[str, bool] = {}

    def attempt(order_id: str) -> None:
        results[order_id] = store.reserve(order_id, [StockLine(sku="LAST", quantity=1)]).reserved

    threads = [threading.Thread(target=attempt, args=(f"racer-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == [False, False, False, True]
    assert store.available("LAST") == 0


def test_release_returns_stock_exactly_once(store: InventoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    record_callbacks(monkeypatch)
    put_stock(store.table_name, {"MUG": 5})
    run(reserve("o1", MUG=2))
    run(release("o1"))
    run(release("o1"))  # the same delivery again
    run(release("o1", event_id="o1/ReleaseInventory/1"))  # a retried compensation: a new command
    assert store.available("MUG") == 5
    reservation = store.reservation("o1")
    assert reservation is not None
    assert reservation.state is ReservationState.RELEASED


def test_a_reservation_arriving_after_its_release_is_refused(
    store: InventoryStore, bus: BusCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    callbacks = record_callbacks(monkeypatch)
    put_stock(store.table_name, {"MUG": 5})
    # Given the saga released an order that never reserved (its ReserveInventory was late)
    run(release("late"))
    # When the late ReserveInventory is finally delivered
    run(reserve("late", MUG=2))
    # Then no stock is taken, nothing claims a reservation, and the saga is told no
    assert store.available("MUG") == 5
    assert "InventoryReserved" not in bus.detail_types()
    assert [error for _, error, _ in callbacks.failures] == ["OrderCompensated"]


def test_an_order_refused_for_stock_never_takes_stock_later(
    store: InventoryStore, bus: BusCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    callbacks = record_callbacks(monkeypatch)
    put_stock(store.table_name, {"MUG": 1})
    # Given an order cancelled OUT_OF_STOCK (no compensation runs on that path)
    run(reserve("o1", MUG=2))
    # When stock arrives and its ReserveInventory is redriven long after, with a fresh id
    put_stock(store.table_name, {"MUG": 10})
    late = a_command(
        ReserveInventory,
        ReserveInventoryData(order_id="o1", items=[StockLine(sku="MUG", quantity=2)]),
        "o1",
        event_id="o1/ReserveInventory/redriven",
    )
    run(late)
    # Then it takes nothing and gets the same answer
    assert store.available("MUG") == 10
    assert "InventoryReserved" not in bus.detail_types()
    assert [error for _, error, _ in callbacks.failures] == ["OutOfStock", "OutOfStock"]


def test_a_reserve_whose_token_is_dead_changes_nothing_but_a_late_release_still_applies(
    store: InventoryStore, bus: BusCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    callbacks = record_callbacks(monkeypatch)
    put_stock(store.table_name, {"MUG": 5})
    callbacks.dead_tokens.add("token-1")
    # A reserve the saga no longer waits for (its step timed out) takes nothing and says nothing
    run(reserve("o1", MUG=2))
    assert store.available("MUG") == 5
    assert store.reservation("o1") is None
    assert bus.detail_types() == []
    # A compensation whose token died is still applied: undoing is always right
    run(release("o1"))
    reservation = store.reservation("o1")
    assert reservation is not None
    assert reservation.state is ReservationState.RELEASED
    assert bus.detail_types() == ["InventoryReleased"]


def test_a_malformed_record_fails_alone(store: InventoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    record_callbacks(monkeypatch)
    put_stock(store.table_name, {"MUG": 5})
    event = sqs_event(reserve("o1", MUG=1), "{broken", reserve("o2", MUG=1))
    handler = load_handler("inventory")
    result = handler.lambda_handler(event, FakeLambdaContext())
    assert result["batchItemFailures"] == [{"itemIdentifier": event["Records"][1]["messageId"]}]
    assert store.available("MUG") == 3


def conflicting_transactions(monkeypatch: pytest.MonkeyPatch, times: int) -> list[int]:
    """DynamoDB cancels the next `times` transactions with TransactionConflict on their first item, as when
    another transaction holds that SKU at the same moment; returns the item count of every call."""
    calls: list[int] = []
    unguarded = DynamoDBBackend.transact_write_items

    def transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        calls.append(len(transact_items))
        if len(calls) <= times:
            conflict = ("TransactionConflict", "Transaction is ongoing for the item", None)
            raise TransactionCanceledException([conflict] + [(None, None, None)] * (len(transact_items) - 1))
        unguarded(backend, transact_items)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transact_write_items)
    return calls


def test_a_transaction_conflict_is_retried_and_never_taken_for_a_shortage(
    store: InventoryStore, bus: BusCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    callbacks = record_callbacks(monkeypatch)
    put_stock(store.table_name, {"MUG": 5})
    # Given another order's transaction holds the SKU when this reservation is first tried
    calls = conflicting_transactions(monkeypatch, times=1)
    # When the reservation is applied
    assert run(reserve("o1", MUG=2)) == {"batchItemFailures": []}
    # Then it is tried again and reserves: no OUT_OF_STOCK, no refusal recorded
    assert calls == [2, 2]
    assert store.available("MUG") == 3
    assert bus.detail_types() == ["InventoryReserved"]
    assert (len(callbacks.successes), callbacks.failures) == (1, [])


def test_a_conflict_that_outlasts_the_retries_fails_the_record_and_refuses_nothing(
    store: InventoryStore, bus: BusCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    callbacks = record_callbacks(monkeypatch)
    put_stock(store.table_name, {"MUG": 5})
    conflicting_transactions(monkeypatch, times=100)
    event = sqs_event(reserve("o1", MUG=2))
    # The record fails, so SQS delivers it again later; the order is neither reserved nor refused
    assert run_event(event) == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert store.reservation("o1") is None
    assert store.available("MUG") == 5
    assert (bus.detail_types(), callbacks.successes, callbacks.failures) == ([], [], [])
