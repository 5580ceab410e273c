"""Order intake: the request contract and accepting an order (one write: the order PENDING and its OrderPlaced)."""

from __future__ import annotations

import uuid
from typing import Self

from pydantic import Field, model_validator

from orderflow.catalog import MAX_ORDER_LINES, MAX_ORDER_SKUS, Address, Currency, LineItem, OrderPlaced, OrderPlacedData
from orderflow.envelope import Contract, derive_event_id
from orderflow.orders import OrderView
from orderflow.orders_table import OrdersTable

PRODUCER = "orders-api"
# Order ids derived from an Idempotency-Key live in their own namespace.
ORDER_ID_NAMESPACE = uuid.UUID("0b9c3f5e-2d1a-5c47-8e6f-7a1b2c3d4e5f")


class PlaceOrderRequest(Contract):
    """The body of POST /orders; the total is computed here, never trusted from the client, and the customer
    is the signed-in one (the token's subject), never named in the body."""

    items: list[LineItem] = Field(min_length=1, max_length=MAX_ORDER_LINES)
    currency: Currency
    payment_token: str = Field(min_length=1, max_length=64)
    shipping_address: Address

    @model_validator(mode="after")
    def names_few_enough_skus(self) -> Self:
        skus = len({item.sku for item in self.items})
        if skus > MAX_ORDER_SKUS:
            raise ValueError(f"an order names at most {MAX_ORDER_SKUS} distinct SKUs, this one {skus}")
        return self


def new_order_id(customer_id: str, idempotency_key: str | None) -> str:
    """Deterministic for a customer's Idempotency-Key, so a retried request finds the same order (and two
    customers' equal keys give two orders)."""
    if idempotency_key:
        return str(uuid.uuid5(ORDER_ID_NAMESPACE, f"{customer_id}/{idempotency_key}"))
    return str(uuid.uuid4())


def order_placed_event(request: PlaceOrderRequest, customer_id: str, order_id: str) -> OrderPlaced:
    """The customer's order's OrderPlaced; raises ValidationError for a bound only the event checks (the total's)."""
    data = OrderPlacedData(
        order_id=order_id,
        customer_id=customer_id,
        items=request.items,
        currency=request.currency,
        total_cents=sum(item.quantity * item.unit_price_cents for item in request.items),
        payment_token=request.payment_token,
        shipping_address=request.shipping_address,
    )
    # The id derives from the order, so a stream redelivery of the write republishes the same event.
    return OrderPlaced.create(
        data, correlation_id=order_id, producer=PRODUCER, event_id=derive_event_id(f"order/{order_id}", "OrderPlaced")
    )


def place_order(placed: OrderPlaced, orders: OrdersTable) -> OrderView:
    """Accept the order: one conditional write of the order PENDING with its OrderPlaced (the outbox).

    The orders table's stream carries the write to the OrderPlaced pipe, which puts the event on the
    bus, so nothing here can half-succeed. An earlier attempt's order (same Idempotency-Key) is returned.
    """
    view = OrderView.pending(placed.data, created_at=placed.metadata.occurred_at)
    if not orders.create(view, placed):
        view = orders.get(placed.data.order_id)
    return view
