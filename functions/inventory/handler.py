"""inventory: reserves and releases stock for the saga's commands, answering each task token."""

from __future__ import annotations

from inventory.service import release_stock, reserve_stock
from inventory.settings import get_settings
from inventory.store import InventoryStore
from orderflow.catalog import ReleaseInventory, ReserveInventory
from orderflow.commands import CommandOutcome, answering_saga
from orderflow.consumer import SqsConsumer


def decide(command: ReserveInventory | ReleaseInventory) -> CommandOutcome:
    store = InventoryStore(get_settings().inventory_table_name)
    if isinstance(command, ReserveInventory):
        return reserve_stock(command, store)
    return release_stock(command, store)


consumer = SqsConsumer[ReserveInventory | ReleaseInventory](
    accepts=(ReserveInventory, ReleaseInventory), apply=answering_saga(decide, get_settings), settings=get_settings
)
lambda_handler = consumer.lambda_handler
