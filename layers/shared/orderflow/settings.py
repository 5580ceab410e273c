"""Configuration from the environment, one small model per concern; the template sets the variables."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class _FromEnvironment(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)


class BusSettings(_FromEnvironment):
    event_bus_name: str


class IdempotencySettings(_FromEnvironment):
    idempotency_table_name: str


class OrdersTableSettings(_FromEnvironment):
    orders_table_name: str


class AuditTableSettings(_FromEnvironment):
    audit_table_name: str


class SagaStepSettings(BusSettings, IdempotencySettings):
    """What every saga step function (inventory, payment, shipping) reads: the bus and its idempotency table."""
