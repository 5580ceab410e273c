"""projector: keeps each order's status and history from the lifecycle events and facts on its queue."""

from __future__ import annotations

from orderflow import catalog
from orderflow.consumer import SqsConsumer
from orderflow.envelope import Event
from orderflow.observability import logger
from orderflow.orders_table import OrdersTable
from projector.projection import project
from projector.settings import get_settings

# What ProjectorRule routes here: lifecycle events and facts, never commands.
ACCEPTED: tuple[type[Event], ...] = tuple(event for event in catalog.CATALOG if event.KIND == "fact")


def apply_to_order(event: Event) -> None:
    view = project(event, OrdersTable(get_settings().orders_table_name))
    logger.info("Order projected", extra={"detail_type": event.DETAIL_TYPE, "status": view.status.value})


# project() applies an event id once: a duplicate finds it in the order's history, a concurrent twin
# loses the versioned write and then finds it there.
consumer = SqsConsumer(accepts=ACCEPTED, apply=apply_to_order, settings=get_settings, applies_each_event_once=True)
lambda_handler = consumer.lambda_handler
