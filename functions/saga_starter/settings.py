"""saga-starter configuration, from the environment template.yaml sets."""

from __future__ import annotations

from functools import cache

from pydantic import Field

from orderflow.saga import SagaConfig
from orderflow.settings import IdempotencySettings


class SagaStarterSettings(IdempotencySettings):
    state_machine_arn: str
    step_timeout_seconds: int = Field(ge=2, le=86400)
    compensation_timeout_seconds: int = Field(ge=1, le=86400)

    def saga_config(self) -> SagaConfig:
        return SagaConfig.with_timeouts(self.step_timeout_seconds, self.compensation_timeout_seconds)


@cache
def get_settings() -> SagaStarterSettings:
    return SagaStarterSettings.from_environment()
