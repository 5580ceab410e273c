"""The saga's input: what the saga-starter hands the state machine, and the ASL reads."""

from __future__ import annotations

from pydantic import Field

from orderflow.catalog import Address, Currency, OrderId, OrderPlaced, StockLine
from orderflow.envelope import Contract


class SagaConfig(Contract):
    step_timeout_seconds: int = Field(ge=1, le=86400)


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

    @classmethod
    def from_order_placed(cls, event: OrderPlaced, step_timeout_seconds: int) -> SagaInput:
        data = event.data
        return cls(
            order_id=data.order_id,
            cause_event_id=event.event_id,
            stock_lines=[StockLine(sku=item.sku, quantity=item.quantity) for item in data.items],
            amount_cents=data.total_cents,
            currency=data.currency,
            payment_token=data.payment_token,
            address=data.shipping_address,
            config=SagaConfig(step_timeout_seconds=step_timeout_seconds),
        )
