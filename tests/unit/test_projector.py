"""projector: the order rules without AWS, then the handler on moto."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from orderflow.catalog import (
    CancellationReason,
    OrderCancelled,
    OrderCancelledData,
    OrderConfirmed,
    OrderConfirmedData,
    PaymentCharged,
    PaymentChargedData,
)
from orderflow.orders import OrderStatus, OrderView, apply_event
from orderflow.orders_table import OrdersTable
from tests.support.capture import BusCapture
from tests.support.factories import an_order_placed, sqs_event
from tests.support.handlers import load_handler
from tests.support.lambda_context import FakeLambdaContext


def confirmed(order_id: str) -> OrderConfirmed:
    return OrderConfirmed.create(
        OrderConfirmedData(order_id=order_id), correlation_id=order_id, producer="orderflow.saga"
    )


def cancelled(order_id: str) -> OrderCancelled:
    data = OrderCancelledData(order_id=order_id, reason=CancellationReason.PAYMENT_DECLINED)
    return OrderCancelled.create(data, correlation_id=order_id, producer="orderflow.saga")


def charged(order_id: str) -> PaymentCharged:
    data = PaymentChargedData(order_id=order_id, charge_id="ch", amount_cents=100, currency="EUR")
    return PaymentCharged.create(data, correlation_id=order_id, producer="payment")


# --- rules -------------------------------------------------------------------


def test_confirmation_and_cancellation_set_the_terminal_status() -> None:
    placed = an_order_placed()
    view = OrderView.pending(placed.data)
    assert apply_event(view, confirmed(placed.order_id)).status is OrderStatus.CONFIRMED
    after_cancel = apply_event(view, cancelled(placed.order_id))
    assert after_cancel.status is OrderStatus.CANCELLED
    assert after_cancel.cancellation_reason is CancellationReason.PAYMENT_DECLINED


def test_a_terminal_status_never_regresses_and_late_facts_only_add_history() -> None:
    placed = an_order_placed()
    view = apply_event(OrderView.pending(placed.data), confirmed(placed.order_id))
    later = apply_event(apply_event(view, cancelled(placed.order_id)), charged(placed.order_id))
    assert later.status is OrderStatus.CONFIRMED
    assert [entry.detail_type for entry in later.history] == ["OrderConfirmed", "OrderCancelled", "PaymentCharged"]


def test_an_event_is_applied_once() -> None:
    placed = an_order_placed()
    view = apply_event(OrderView.pending(placed.data), placed)
    assert apply_event(view, placed) is view


# --- handler on moto ---------------------------------------------------------


@pytest.fixture
def orders(function_env: Callable[..., BusCapture]) -> OrdersTable:
    function_env(ORDERS_TABLE_NAME="OrdersTable")
    return OrdersTable(os.environ["ORDERS_TABLE_NAME"])


def run(event: dict[str, object]) -> dict[str, object]:
    return dict(load_handler("projector").lambda_handler(event, FakeLambdaContext()))  # type: ignore[arg-type]


def test_events_land_in_the_order_history_and_a_duplicate_changes_nothing(orders: OrdersTable) -> None:
    placed = an_order_placed()
    orders.create(OrderView.pending(placed.data), placed)
    assert run(sqs_event(placed, confirmed(placed.order_id), placed)) == {"batchItemFailures": []}
    run(sqs_event(placed))  # redelivered later
    view = orders.get(placed.order_id)
    assert view.status is OrderStatus.CONFIRMED
    assert [entry.detail_type for entry in view.history] == ["OrderPlaced", "OrderConfirmed"]


def test_a_twin_delivery_racing_ours_is_applied_once_and_no_idempotency_record_is_kept(
    orders: OrdersTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The projector relies on the order's history, not on Powertools idempotency (two writes per record)."""
    from orderflow.aws import resource

    placed = an_order_placed()
    orders.create(OrderView.pending(placed.data), placed)
    event = confirmed(placed.order_id)
    real_get = OrdersTable.get
    raced: list[bool] = []

    def get_while_the_twin_applies(self: OrdersTable, order_id: str) -> OrderView:
        view = real_get(self, order_id)
        if not raced:  # the twin delivery of the same event writes between our read and our write
            raced.append(True)
            self.replace(apply_event(view, event), expected_version=view.version)
        return view

    monkeypatch.setattr(OrdersTable, "get", get_while_the_twin_applies)
    assert run(sqs_event(event)) == {"batchItemFailures": []}
    history = [entry.detail_type for entry in real_get(orders, placed.order_id).history]
    assert history == ["OrderConfirmed"]
    assert resource("dynamodb").Table(os.environ["IDEMPOTENCY_TABLE_NAME"]).scan()["Items"] == []


def test_a_malformed_record_and_an_unknown_order_fail_alone(orders: OrdersTable) -> None:
    placed, stranger = an_order_placed(), an_order_placed()
    orders.create(OrderView.pending(placed.data), placed)
    event = sqs_event("{not an event", placed, stranger)
    result = run(event)
    failed = [failure["itemIdentifier"] for failure in result["batchItemFailures"]]  # type: ignore[attr-defined]
    assert failed == [event["Records"][0]["messageId"], event["Records"][2]["messageId"]]
    assert [entry.detail_type for entry in orders.get(placed.order_id).history] == ["OrderPlaced"]


def test_a_concurrent_update_is_retried(orders: OrdersTable, monkeypatch: pytest.MonkeyPatch) -> None:
    from projector.projection import project

    placed = an_order_placed()
    orders.create(OrderView.pending(placed.data), placed)
    real_get = orders.get
    interfered: list[bool] = []

    def get_then_interfere(order_id: str) -> OrderView:
        view = real_get(order_id)
        if not interfered:  # someone else writes between our read and our write, once
            interfered.append(True)
            orders.replace(apply_event(view, charged(order_id)), expected_version=view.version)
        return view

    monkeypatch.setattr(orders, "get", get_then_interfere)
    project(confirmed(placed.order_id), orders)
    view = real_get(placed.order_id)
    assert [entry.detail_type for entry in view.history] == ["PaymentCharged", "OrderConfirmed"]
    assert view.version == 2
