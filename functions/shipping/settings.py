"""shipping configuration, from the environment template.yaml sets."""

from __future__ import annotations

from functools import cache

from orderflow.settings import SagaStepSettings


class ShippingSettings(SagaStepSettings):
    """Bus, idempotency and shipments tables."""

    shipments_table_name: str


@cache
def get_settings() -> ShippingSettings:
    return ShippingSettings.from_environment()
