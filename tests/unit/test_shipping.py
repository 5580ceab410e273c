"""shipping: the sandbox carrier's documented refusal, and the handler on moto."""

from __future__ import annotations

import os

import pytest

from orderflow.catalog import CancelShipment, CancelShipmentData, CreateShipment, CreateShipmentData, StockLine
from shipping.carrier import REFUSED_POSTAL_CODE, SandboxCarrier
from shipping.store import ShipmentsStore, ShipmentState
from tests.support.capture import BusCapture, CallbackRecorder
from tests.support.factories import a_command, an_address, sqs_event
from tests.support.handlers import load_handler
from tests.support.lambda_context import FakeLambdaContext


def create(order_id: str, postal_code: str = "N1 9GU", event_id: str | None = None) -> CreateShipment:
    data = CreateShipmentData(
        order_id=order_id, address=an_address(postal_code=postal_code), items=[StockLine(sku="MUG", quantity=1)]
    )
    return a_command(CreateShipment, data, order_id, event_id=event_id)


def cancel(order_id: str) -> CancelShipment:
    return a_command(CancelShipment, CancelShipmentData(order_id=order_id), order_id)


def test_the_sandbox_carrier_refuses_the_documented_postal_code_only() -> None:
    carrier = SandboxCarrier()
    assert not carrier.book("o1", an_address(postal_code=REFUSED_POSTAL_CODE)).accepted
    assert carrier.book("o1", an_address()).accepted


TABLES = {"SHIPMENTS_TABLE_NAME": "ShipmentsTable"}


@pytest.fixture
def store(bus: BusCapture) -> ShipmentsStore:
    return ShipmentsStore(os.environ["SHIPMENTS_TABLE_NAME"])


def run(*commands: object) -> dict[str, object]:
    return dict(load_handler("shipping").lambda_handler(sqs_event(*commands), FakeLambdaContext()))  # type: ignore[arg-type]


def test_create_records_a_shipment_once(store: ShipmentsStore, bus: BusCapture, callbacks: CallbackRecorder) -> None:
    run(create("o1"))
    run(create("o1", event_id="o1/CreateShipment/1"))
    shipment = store.get("o1")
    assert shipment is not None
    assert shipment.state is ShipmentState.CREATED
    assert bus.detail_types() == ["ShipmentCreated", "ShipmentCreated"]  # same id both times: consumers dedupe
    assert len({output["shipment_id"] for _, output in callbacks.successes}) == 1


def test_a_refused_address_fails_with_shipment_failed_and_a_late_create_is_refused_too(
    store: ShipmentsStore, callbacks: CallbackRecorder
) -> None:
    run(create("o1", postal_code=REFUSED_POSTAL_CODE))
    refused = store.get("o1")
    assert refused is not None
    assert refused.state is ShipmentState.REFUSED
    # A late (redriven) create with an address the carrier would take still ships nothing
    run(create("o1", event_id="o1/CreateShipment/late"))
    assert store.get("o1") == refused
    assert [error for _, error, _ in callbacks.failures] == ["ShipmentFailed", "ShipmentFailed"]


def test_a_create_whose_token_is_dead_ships_nothing(
    store: ShipmentsStore, bus: BusCapture, callbacks: CallbackRecorder
) -> None:
    callbacks.dead_tokens.add("token-1")
    run(create("o1"))
    assert store.get("o1") is None
    assert bus.detail_types() == []


def test_cancel_cancels_and_a_late_create_is_refused(
    store: ShipmentsStore, bus: BusCapture, callbacks: CallbackRecorder
) -> None:
    run(cancel("never-shipped"))
    run(create("never-shipped"))
    shipment = store.get("never-shipped")
    assert shipment is not None
    assert shipment.state is ShipmentState.CANCELLED
    assert shipment.shipment_id is None
    assert [error for _, error, _ in callbacks.failures] == ["OrderCompensated"]

    run(create("shipped"))
    run(cancel("shipped"))
    cancelled = store.get("shipped")
    assert cancelled is not None
    assert cancelled.state is ShipmentState.CANCELLED
    assert cancelled.shipment_id is not None
