"""payment configuration, from the environment template.yaml sets."""

from __future__ import annotations

from functools import cache

from orderflow.settings import BusSettings, IdempotencySettings, _FromEnvironment


class PaymentsTableSettings(_FromEnvironment):
    payments_table_name: str
    payment_provider: str = "sandbox"


class PaymentSettings(BusSettings, IdempotencySettings, PaymentsTableSettings):
    """Bus, idempotency and payments tables, and which provider adapter to use."""


@cache
def get_settings() -> PaymentSettings:
    return PaymentSettings()  # type: ignore[call-arg]  # fields come from the environment
