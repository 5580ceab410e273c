"""saga-starter configuration, from the environment template.yaml sets."""

from __future__ import annotations

from functools import cache

from pydantic import Field

from orderflow.settings import IdempotencySettings


class SagaStarterSettings(IdempotencySettings):
    state_machine_arn: str
    step_timeout_seconds: int = Field(ge=1, le=86400)


@cache
def get_settings() -> SagaStarterSettings:
    return SagaStarterSettings()  # type: ignore[call-arg]  # fields come from the environment
