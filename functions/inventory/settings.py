"""inventory configuration, from the environment template.yaml sets."""

from __future__ import annotations

from functools import cache

from orderflow.settings import SagaStepSettings


class InventorySettings(SagaStepSettings):
    """Bus, idempotency and inventory tables."""

    inventory_table_name: str


@cache
def get_settings() -> InventorySettings:
    return InventorySettings.from_environment()
