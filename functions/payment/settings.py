"""payment configuration, from the environment template.yaml sets."""

from __future__ import annotations

from functools import cache

from orderflow.settings import SagaStepSettings


class PaymentSettings(SagaStepSettings):
    """Bus, idempotency and payments tables, and which provider adapter to use."""

    payments_table_name: str
    payment_provider: str = "sandbox"


@cache
def get_settings() -> PaymentSettings:
    return PaymentSettings.from_environment()
