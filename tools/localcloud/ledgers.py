"""Read and seed the services' own stores through their own adapters (one definition of each layout)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tools.localcloud.cloud import LocalCloud
from tools.localcloud.template import REPO_ROOT

for _path in (
    REPO_ROOT / "layers" / "shared",
    REPO_ROOT / "functions" / "inventory",
    REPO_ROOT / "functions" / "payment",
):
    if str(_path) not in sys.path:
        sys.path.append(str(_path))


@contextmanager
def pointed_at(cloud: LocalCloud) -> Iterator[None]:
    """orderflow's adapters (which build clients from the environment) talking to this local cloud."""
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


def _inventory(cloud: LocalCloud) -> Any:
    from inventory_store import InventoryStore  # type: ignore[import-not-found]  # a function's module

    return InventoryStore(cloud.ref("InventoryTable"))


def seed_stock(cloud: LocalCloud, stock: dict[str, int]) -> None:
    """Set each SKU's available stock."""
    with pointed_at(cloud):
        store = _inventory(cloud)
        for sku, quantity in stock.items():
            store.set_stock(sku, quantity)


def available_stock(cloud: LocalCloud, skus: list[str]) -> dict[str, int]:
    with pointed_at(cloud):
        store = _inventory(cloud)
        return {sku: store.available(sku) for sku in skus}


def payment_totals(cloud: LocalCloud, order_ids: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """(charged, refunded) cents per order, from the payments ledger."""
    from payment_ledger import PaymentsLedger  # type: ignore[import-not-found]  # a function's module

    with pointed_at(cloud):
        charged, refunded = PaymentsLedger(cloud.ref("PaymentsTable")).totals(order_ids)
        return charged, refunded
