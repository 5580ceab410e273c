"""Configuration from the environment, one small model per concern; the template sets the variables.

Plain pydantic models filled from os.environ (names match case-insensitively): the functions need
nothing else that pydantic-settings offers, and importing it (dotenv, argparse, its sources) was a
tenth of a handler's init.
"""

from __future__ import annotations

import os
from typing import Self

from pydantic import BaseModel, ConfigDict


class _FromEnvironment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    @classmethod
    def from_environment(cls) -> Self:
        """The settings from the environment; a missing or invalid variable is a ValidationError naming it."""
        return cls.model_validate({name.lower(): value for name, value in os.environ.items()})


class BusSettings(_FromEnvironment):
    event_bus_name: str


class IdempotencySettings(_FromEnvironment):
    idempotency_table_name: str


class OrdersTableSettings(_FromEnvironment):
    orders_table_name: str


class AuditTableSettings(_FromEnvironment):
    audit_table_name: str


class AuditorSettings(AuditTableSettings):
    audit_writers: int  # conditional puts in flight at once within one batch


class ClaimCheckSettings(_FromEnvironment):
    claim_check_bucket: str


class SagaStepSettings(BusSettings, IdempotencySettings):
    """What every saga step function (inventory, payment, shipping) reads: the bus and its idempotency table."""
