"""auditor configuration, from the environment template.yaml sets."""

from __future__ import annotations

from functools import cache

from orderflow.settings import AuditTableSettings


@cache
def get_settings() -> AuditTableSettings:
    return AuditTableSettings.from_environment()
