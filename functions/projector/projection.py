"""Apply one event to the stored order: read, apply the rule, write back with optimistic concurrency."""

from __future__ import annotations

from orderflow.envelope import Event
from orderflow.orders import OrderView, apply_event
from orderflow.orders_table import ConcurrentUpdateError, OrdersTable

MAX_ATTEMPTS = 5


def project(event: Event, orders: OrdersTable) -> OrderView:
    """The order after the event, stored.

    An event for an unknown order raises UnknownOrderError: orders-api writes the
    order before it publishes OrderPlaced, so an unknown order is an anomaly an
    operator must see. The record fails alone, SQS retries it (covering a slow
    write), and after maxReceiveCount it waits in the projector's DLQ, alarmed.
    """
    for attempt in range(MAX_ATTEMPTS):
        current = orders.get(event.order_id)
        updated = apply_event(current, event)
        if updated is current:
            return current  # already applied: a duplicate changes nothing
        try:
            orders.replace(updated, expected_version=current.version)
        except ConcurrentUpdateError:
            if attempt == MAX_ATTEMPTS - 1:
                raise
            continue
        return updated
    raise AssertionError("unreachable")
