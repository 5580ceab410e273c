"""notifier configuration, from the environment template.yaml sets."""

from __future__ import annotations

from functools import cache

from orderflow.settings import IdempotencySettings


class NotifierSettings(IdempotencySettings):
    notifications_topic_arn: str


@cache
def get_settings() -> NotifierSettings:
    return NotifierSettings.from_environment()
