"""Apply CreateShipment / CancelShipment with the carrier and the shipments table."""

from __future__ import annotations

from orderflow.catalog import (
    CancelShipment,
    CreateShipment,
    ShipmentCancelled,
    ShipmentCancelledData,
    ShipmentCreated,
    ShipmentCreatedData,
)
from orderflow.commands import CommandOutcome
from orderflow.saga import SagaError
from shipping.carrier import CARRIER, Carrier
from shipping.store import Shipment, ShipmentsStore, ShipmentState

PRODUCER = "shipping"
MAX_RACES = 3


def _created(command: CreateShipment, shipment: Shipment) -> CommandOutcome:
    data = ShipmentCreatedData(
        order_id=shipment.order_id,
        shipment_id=shipment.shipment_id or "",
        carrier=CARRIER,
        tracking_number=shipment.tracking_number or "",
    )
    fact = ShipmentCreated.in_reaction_to(command, data, producer=PRODUCER)
    return CommandOutcome.succeeded(
        {"shipment_id": shipment.shipment_id, "tracking_number": shipment.tracking_number}, fact
    )


def create_shipment(command: CreateShipment, store: ShipmentsStore, carrier: Carrier) -> CommandOutcome:
    order_id = command.data.order_id
    for _ in range(MAX_RACES):
        existing = store.get(order_id)
        if existing is not None and existing.state is ShipmentState.CANCELLED:
            return CommandOutcome.failed(
                SagaError.ORDER_COMPENSATED, f"order {order_id} was already cancelled; not shipping"
            )
        if existing is not None and existing.state is ShipmentState.REFUSED:
            return CommandOutcome.failed(SagaError.SHIPMENT_FAILED, existing.refusal or "refused by the carrier")
        if existing is not None:
            return _created(command, existing)
        booking = carrier.book(order_id, command.data.address)
        if not booking.accepted:
            refused = Shipment(order_id=order_id, state=ShipmentState.REFUSED, refusal=booking.refusal)
            if store.create(refused):
                return CommandOutcome.failed(SagaError.SHIPMENT_FAILED, booking.refusal)
            continue
        shipment = Shipment(
            order_id=order_id,
            state=ShipmentState.CREATED,
            shipment_id=booking.shipment_id,
            tracking_number=booking.tracking_number,
        )
        if store.create(shipment):
            return _created(command, shipment)
    raise RuntimeError(f"shipment for {order_id} kept racing; retrying the message")


def cancel_shipment(command: CancelShipment, store: ShipmentsStore) -> CommandOutcome:
    order_id = command.data.order_id
    for _ in range(MAX_RACES):
        existing = store.get(order_id)
        if existing is None:
            if not store.create(Shipment(order_id=order_id, state=ShipmentState.CANCELLED)):
                continue
            shipment_id = None
        elif existing.state is ShipmentState.CREATED:
            if not store.cancel(order_id):
                continue
            shipment_id = existing.shipment_id
        else:
            shipment_id = existing.shipment_id
        fact = ShipmentCancelled.in_reaction_to(
            command, ShipmentCancelledData(order_id=order_id, shipment_id=shipment_id), producer=PRODUCER
        )
        return CommandOutcome.succeeded({"cancelled_shipment_id": shipment_id}, fact)
    raise RuntimeError(f"cancellation for {order_id} kept racing; retrying the message")
