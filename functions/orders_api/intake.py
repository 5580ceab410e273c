"""Order intake: the request contract and placing an order (write PENDING, then publish OrderPlaced)."""

from __future__ import annotations

import uuid

from pydantic import Field

from orderflow.catalog import Address, Currency, LineItem, OrderPlaced, OrderPlacedData
from orderflow.envelope import Contract, derive_event_id
from orderflow.orders import OrderView
from orderflow.orders_table import OrdersTable
from orderflow.publisher import EventPublisher

PRODUCER = "orders-api"
# Order ids derived from an Idempotency-Key live in their own namespace.
ORDER_ID_NAMESPACE = uuid.UUID("0b9c3f5e-2d1a-5c47-8e6f-7a1b2c3d4e5f")


class PlaceOrderRequest(Contract):
    """The body of POST /orders; the total is computed here, never trusted from the client."""

    customer_id: str = Field(min_length=1, max_length=64)
    items: list[LineItem] = Field(min_length=1, max_length=50)
    currency: Currency
    payment_token: str = Field(min_length=1, max_length=64)
    shipping_address: Address


def new_order_id(idempotency_key: str | None) -> str:
    """Deterministic for a given Idempotency-Key, so a retried request finds the same order."""
    if idempotency_key:
        return str(uuid.uuid5(ORDER_ID_NAMESPACE, idempotency_key))
    return str(uuid.uuid4())


def order_placed_event(request: PlaceOrderRequest, order_id: str) -> OrderPlaced:
    data = OrderPlacedData(
        order_id=order_id,
        customer_id=request.customer_id,
        items=request.items,
        currency=request.currency,
        total_cents=sum(item.quantity * item.unit_price_cents for item in request.items),
        payment_token=request.payment_token,
        shipping_address=request.shipping_address,
    )
    # The id derives from the order, so a retry after a failed publish republishes the same event.
    return OrderPlaced.create(
        data, correlation_id=order_id, producer=PRODUCER, event_id=derive_event_id(f"order/{order_id}", "OrderPlaced")
    )


def place_order(request: PlaceOrderRequest, order_id: str, orders: OrdersTable, publisher: EventPublisher) -> OrderView:
    """Write the order PENDING (or find an earlier attempt's), then publish OrderPlaced; raises if publishing fails."""
    placed = order_placed_event(request, order_id)
    view = OrderView.pending(placed.data, created_at=placed.metadata.occurred_at)
    if not orders.create(view):
        view = orders.get(order_id)
    publisher.publish([placed])
    return view
