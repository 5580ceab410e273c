"""orders-api configuration, from the environment template.yaml sets."""

from __future__ import annotations

from functools import cache

from orderflow.settings import AuditTableSettings, IdempotencySettings, OrdersTableSettings


class OrdersApiSettings(IdempotencySettings, OrdersTableSettings, AuditTableSettings):
    """Idempotency, orders and audit tables, and the largest request body it parses."""

    max_request_body_bytes: int


@cache
def get_settings() -> OrdersApiSettings:
    return OrdersApiSettings.from_environment()
