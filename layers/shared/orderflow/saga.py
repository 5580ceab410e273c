"""The saga's contracts with the code: its input (what the saga-starter hands the state machine and the
ASL reads) and the names of the errors that steer it (what services answer and the ASL catches)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from orderflow.catalog import Address, CompensationFailure, Currency, OrderId, OrderPlaced, StockLine
from orderflow.envelope import Contract


class SagaError(StrEnum):
    """Every error name the saga and the services share, written once.

    The services answer a step with one of the step errors (SendTaskFailure); the ASL's Catch clauses
    name them (tests/unit/test_order_saga_asl.py checks both ways). The saga itself ends FAILED with
    COMPENSATION_INCOMPLETE when a compensation gave up.
    """

    OUT_OF_STOCK = "OutOfStock"
    PAYMENT_DECLINED = "PaymentDeclined"
    SHIPMENT_FAILED = "ShipmentFailed"
    # A late (redriven) forward command for a step already compensated: caught as any failure (States.ALL).
    ORDER_COMPENSATED = "OrderCompensated"
    COMPENSATION_INCOMPLETE = "CompensationIncomplete"


# The business refusal each forward step may answer, which its Catch names to cancel with the matching reason.
STEP_REFUSALS: dict[str, SagaError] = {
    "ReserveInventory": SagaError.OUT_OF_STOCK,
    "ChargePayment": SagaError.PAYMENT_DECLINED,
    "CreateShipment": SagaError.SHIPMENT_FAILED,
}


class SagaConfig(Contract):
    step_timeout_seconds: int = Field(ge=2, le=3600)
    # One attempt of a compensation; the ASL retries it with backoff, so a service that is
    # down for a while still gets to undo what it did (see README, Failure model).
    compensation_timeout_seconds: int = Field(ge=1, le=3600)

    # A step's heartbeat window, so a service can ask whether its token is still live
    # (SendTaskHeartbeat) before it applies a command; ASL wants it below the step's timeout.
    step_heartbeat_seconds: int = Field(ge=1, le=3599)

    @classmethod
    def with_timeouts(cls, step_timeout_seconds: int, compensation_timeout_seconds: int) -> SagaConfig:
        return cls(
            step_timeout_seconds=step_timeout_seconds,
            compensation_timeout_seconds=compensation_timeout_seconds,
            step_heartbeat_seconds=step_timeout_seconds - 1,
        )


class SagaInput(Contract):
    """Everything the commands need, precomputed so the ASL only copies paths."""

    order_id: OrderId
    cause_event_id: str
    stock_lines: list[StockLine]
    amount_cents: int
    currency: Currency
    payment_token: str
    address: Address
    config: SagaConfig
    # Filled by the ASL's Catch of a compensation that gave up; OrderCancelled carries it.
    compensation_failures: dict[str, CompensationFailure] = Field(default_factory=dict)

    @classmethod
    def from_order_placed(cls, event: OrderPlaced, config: SagaConfig) -> SagaInput:
        data = event.data
        return cls(
            order_id=data.order_id,
            cause_event_id=event.event_id,
            stock_lines=[StockLine(sku=item.sku, quantity=item.quantity) for item in data.items],
            amount_cents=data.total_cents,
            currency=data.currency,
            payment_token=data.payment_token,
            address=data.shipping_address,
            config=config,
        )
