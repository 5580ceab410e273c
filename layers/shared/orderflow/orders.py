"""The order read model (orders table) and its rules: how each event changes an order's view."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, Field

from orderflow import catalog
from orderflow.envelope import Contract, Event, utc_now


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


TERMINAL_STATUSES = frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED})


class HistoryEntry(Contract):
    event_id: str
    detail_type: str
    source: str
    occurred_at: AwareDatetime
    summary: str = ""


class OrderView(Contract):
    """One order as clients see it: written PENDING by orders-api, then kept by the projector."""

    order_id: str
    status: OrderStatus = OrderStatus.PENDING
    customer_id: str
    items: list[catalog.LineItem]
    currency: str
    total_cents: int
    shipping_address: catalog.Address
    created_at: AwareDatetime = Field(default_factory=utc_now)
    updated_at: AwareDatetime = Field(default_factory=utc_now)
    cancellation_reason: catalog.CancellationReason | None = None
    # Compensations that gave up (the saga's execution FAILED and alarmed): an operator must finish them.
    unresolved_compensations: list[str] = Field(default_factory=list)
    history: list[HistoryEntry] = Field(default_factory=list)
    version: int = 0

    @classmethod
    def pending(cls, placed: catalog.OrderPlacedData, created_at: datetime | None = None) -> OrderView:
        moment = created_at or utc_now()
        return cls(
            order_id=placed.order_id,
            customer_id=placed.customer_id,
            items=placed.items,
            currency=placed.currency,
            total_cents=placed.total_cents,
            shipping_address=placed.shipping_address,
            created_at=moment,
            updated_at=moment,
        )

    def has_applied(self, event_id: str) -> bool:
        return any(entry.event_id == event_id for entry in self.history)

    def to_item(self) -> dict[str, Any]:
        """The DynamoDB item (document form, as the resource API takes it)."""
        return self.model_dump(mode="json", exclude_none=True)

    def public(self) -> dict[str, Any]:
        """The JSON clients get: history in the order things happened, no internal version."""
        view = self.model_dump(mode="json", exclude={"version"})
        view["history"] = sorted(view["history"], key=lambda entry: entry["occurred_at"])
        return view


def summarize(event: Event) -> str:
    """A short human line for the history."""
    data = event.data
    if isinstance(data, catalog.OrderCancelledData):
        return f"cancelled: {data.reason}" + (f" ({data.detail})" if data.detail else "")
    if isinstance(data, catalog.PaymentChargedData | catalog.PaymentRefundedData):
        return f"{data.amount_cents} {data.currency or ''}".strip()
    if isinstance(data, catalog.ShipmentCreatedData):
        return f"{data.carrier} {data.tracking_number}"
    if isinstance(data, catalog.InventoryReservationFailedData):
        return ", ".join(f"{s.sku}: {s.available}/{s.requested}" for s in data.shortages) or data.reason
    if isinstance(data, catalog.PaymentDeclinedData):
        return data.reason
    return ""


def apply_event(view: OrderView, event: Event) -> OrderView:
    """The order after `event`: history gains it once; status moves forward and never leaves a terminal state."""
    if view.has_applied(event.event_id):
        return view
    entry = HistoryEntry(
        event_id=event.event_id,
        detail_type=event.DETAIL_TYPE,
        source=event.SOURCE,
        occurred_at=event.metadata.occurred_at,
        summary=summarize(event),
    )
    changes: dict[str, Any] = {"history": [*view.history, entry], "updated_at": utc_now()}
    if view.status not in TERMINAL_STATUSES:
        if isinstance(event, catalog.OrderConfirmed):
            changes["status"] = OrderStatus.CONFIRMED
        elif isinstance(event, catalog.OrderCancelled):
            changes["status"] = OrderStatus.CANCELLED
            changes["cancellation_reason"] = event.data.reason
            changes["unresolved_compensations"] = sorted(event.data.unresolved_compensations)
    return view.model_copy(update=changes)
