"""shipping: creates and cancels shipments for the saga's commands, through the carrier port."""

from __future__ import annotations

from orderflow.catalog import CancelShipment, CreateShipment
from orderflow.commands import CommandOutcome, answering_saga
from orderflow.consumer import SqsConsumer
from shipping.carrier import SandboxCarrier
from shipping.service import cancel_shipment, create_shipment
from shipping.settings import get_settings
from shipping.store import ShipmentsStore


def decide(command: CreateShipment | CancelShipment) -> CommandOutcome:
    store = ShipmentsStore(get_settings().shipments_table_name)
    if isinstance(command, CreateShipment):
        return create_shipment(command, store, SandboxCarrier())
    return cancel_shipment(command, store)


consumer = SqsConsumer[CreateShipment | CancelShipment](
    accepts=(CreateShipment, CancelShipment), apply=answering_saga(decide, get_settings), settings=get_settings
)
lambda_handler = consumer.lambda_handler
