"""Read and seed the services' own stores, with the layouts their packages define (one definition of each).

The plain functions take a table name and use whatever AWS the environment points at (moto in the unit
tests); the `cloud` ones point them at a running local cloud first.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import boto3

from tools.lambda_code import use_lambda_code

if TYPE_CHECKING:
    from tools.localcloud.cloud import LocalCloud


def put_stock(table_name: str, stock: dict[str, int]) -> None:
    """Set each SKU's available stock, as a delivery from the warehouse would."""
    use_lambda_code()
    from inventory.store import stock_key

    dynamodb = boto3.client("dynamodb")
    for sku, available in stock.items():
        dynamodb.put_item(TableName=table_name, Item={**stock_key(sku), "available": {"N": str(available)}})


def stock_levels(table_name: str, skus: list[str]) -> dict[str, int]:
    """Each SKU's available stock, read as the inventory service reads it."""
    use_lambda_code()
    from inventory.store import InventoryStore

    store = InventoryStore(table_name)
    return {sku: store.available(sku) for sku in skus}


def charged_and_refunded(table_name: str, order_ids: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """(charged, refunded) cents per order that has a charge or a refund, from the payments ledger."""
    use_lambda_code()
    from payment.ledger import CHARGE, REFUND, PaymentsLedger

    ledger = PaymentsLedger(table_name)
    charged: dict[str, int] = {}
    refunded: dict[str, int] = {}
    for order_id in order_ids:
        entries = ledger.entries(order_id)
        if CHARGE in entries:
            charged[order_id] = entries[CHARGE].amount_cents
        if REFUND in entries:
            refunded[order_id] = entries[REFUND].amount_cents
    return charged, refunded


@contextmanager
def pointed_at(cloud: LocalCloud) -> Iterator[None]:
    """boto3 and orderflow's adapters (which build clients from the environment) talking to this local cloud."""
    use_lambda_code()
    from orderflow.aws import reset_clients

    saved = {name: os.environ.get(name) for name in cloud.environment()}
    os.environ.update(cloud.environment())
    reset_clients()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_clients()


def seed_stock(cloud: LocalCloud, stock: dict[str, int]) -> None:
    """Set each SKU's available stock in the local cloud's inventory table."""
    with pointed_at(cloud):
        put_stock(cloud.ref("InventoryTable"), stock)


def available_stock(cloud: LocalCloud, skus: list[str]) -> dict[str, int]:
    with pointed_at(cloud):
        return stock_levels(cloud.ref("InventoryTable"), skus)


def payment_totals(cloud: LocalCloud, order_ids: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """(charged, refunded) cents per order, from the local cloud's payments ledger."""
    with pointed_at(cloud):
        return charged_and_refunded(cloud.ref("PaymentsTable"), order_ids)
