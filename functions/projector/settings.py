"""projector configuration, from the environment template.yaml sets."""

from __future__ import annotations

from functools import cache

from orderflow.settings import IdempotencySettings, OrdersTableSettings


class ProjectorSettings(IdempotencySettings, OrdersTableSettings):
    """Idempotency and orders tables."""


@cache
def get_settings() -> ProjectorSettings:
    return ProjectorSettings.from_environment()
