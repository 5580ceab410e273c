"""boto3 clients, created on first use and cached for the life of the container."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode backs off on throttling; adaptive would need client-side state we don't want.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})


@cache
def client(service_name: str) -> Any:
    """A cached boto3 client for `service_name` (endpoint and region come from the environment)."""
    return boto3.client(service_name, config=_CONFIG)  # type: ignore[call-overload]


@cache
def resource(service_name: str) -> Any:
    """A cached boto3 resource for `service_name`."""
    return boto3.resource(service_name, config=_CONFIG)  # type: ignore[call-overload]


def reset_clients() -> None:
    """Forget cached clients (tests that switch endpoints or moto contexts call this)."""
    client.cache_clear()
    resource.cache_clear()
