"""shipping configuration, from the environment template.yaml sets."""

from __future__ import annotations

from functools import cache

from orderflow.settings import BusSettings, IdempotencySettings, _FromEnvironment


class ShipmentsTableSettings(_FromEnvironment):
    shipments_table_name: str


class ShippingSettings(BusSettings, IdempotencySettings, ShipmentsTableSettings):
    """Bus, idempotency and shipments tables."""


@cache
def get_settings() -> ShippingSettings:
    return ShippingSettings()  # type: ignore[call-arg]  # fields come from the environment
