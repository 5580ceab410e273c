"""orders-api configuration, from the environment template.yaml sets."""

from __future__ import annotations

from functools import cache

from orderflow.settings import AuditTableSettings, BusSettings, IdempotencySettings, OrdersTableSettings


class OrdersApiSettings(BusSettings, IdempotencySettings, OrdersTableSettings, AuditTableSettings):
    """Bus, idempotency, orders and audit tables."""


@cache
def get_settings() -> OrdersApiSettings:
    return OrdersApiSettings()  # type: ignore[call-arg]  # fields come from the environment
