"""Unit-test helpers: a function's environment on moto, built from the template's tables."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import pytest

from tests.support.aws import create_table
from tests.support.capture import BusCapture, CallbackRecorder, capture_bus, record_callbacks


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Settings are cached per container; each test is a new container."""
    yield
    for name, module in list(sys.modules.items()):
        get_settings = getattr(module, "get_settings", None)
        if name.endswith(".settings") and get_settings is not None and hasattr(get_settings, "cache_clear"):
            get_settings.cache_clear()


@pytest.fixture
def function_env(aws: None, monkeypatch: pytest.MonkeyPatch) -> Callable[..., BusCapture]:
    """setup(ENV_VAR="LogicalTableId", ...): creates the bus, the idempotency table and the named tables."""

    def setup(**tables: str) -> BusCapture:
        capture = capture_bus()
        monkeypatch.setenv("EVENT_BUS_NAME", capture.bus_name)
        monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", create_table("IdempotencyTable"))
        for variable, logical_id in tables.items():
            monkeypatch.setenv(variable, create_table(logical_id))
        return capture

    return setup


@pytest.fixture
def bus(function_env: Callable[..., BusCapture], request: pytest.FixtureRequest) -> BusCapture:
    """The function's environment with the tables the test module names in its TABLES (ENV_VAR -> logical id)."""
    return function_env(**getattr(request.module, "TABLES", {}))


@pytest.fixture
def callbacks(monkeypatch: pytest.MonkeyPatch) -> CallbackRecorder:
    return record_callbacks(monkeypatch)
