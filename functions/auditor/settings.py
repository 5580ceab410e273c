"""auditor configuration, from the environment template.yaml sets."""

from __future__ import annotations

from functools import cache

from orderflow.settings import AuditorSettings


@cache
def get_settings() -> AuditorSettings:
    return AuditorSettings.from_environment()
