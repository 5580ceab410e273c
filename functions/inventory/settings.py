"""inventory configuration, from the environment template.yaml sets."""

from __future__ import annotations

from functools import cache

from orderflow.settings import BusSettings, IdempotencySettings, _FromEnvironment


class InventoryTableSettings(_FromEnvironment):
    inventory_table_name: str


class InventorySettings(BusSettings, IdempotencySettings, InventoryTableSettings):
    """Bus, idempotency and inventory tables."""


@cache
def get_settings() -> InventorySettings:
    return InventorySettings()  # type: ignore[call-arg]  # fields come from the environment
