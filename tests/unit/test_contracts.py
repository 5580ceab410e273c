"""The event catalog: round trips, deterministic ids, validation that refuses bad contracts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from orderflow.catalog import (
    CATALOG,
    EVENT_TYPES,
    LineItem,
    OrderPlacedData,
    ReserveInventory,
    ReserveInventoryData,
    StockLine,
)
from orderflow.envelope import EventMetadata, derive_event_id
from tests.support.factories import an_address, an_order_placed


def test_every_catalog_type_is_registered_once_with_an_orderflow_source() -> None:
    assert len(EVENT_TYPES) == len(CATALOG) == 17
    assert all(event_type.SOURCE.startswith("orderflow.") for event_type in CATALOG)
    commands = {event_type.DETAIL_TYPE for event_type in CATALOG if event_type.KIND == "command"}
    assert commands == {
        "ReserveInventory",
        "ReleaseInventory",
        "ChargePayment",
        "RefundPayment",
        "CreateShipment",
        "CancelShipment",
    }


def test_an_event_round_trips_through_its_detail_json() -> None:
    placed = an_order_placed()
    assert type(placed).model_validate_json(placed.detail()) == placed


def test_derived_ids_are_deterministic_and_distinct_per_type() -> None:
    assert derive_event_id("cause-1", "InventoryReserved") == derive_event_id("cause-1", "InventoryReserved")
    assert derive_event_id("cause-1", "InventoryReserved") != derive_event_id("cause-1", "InventoryReleased")
    assert derive_event_id("cause-1", "InventoryReserved") != derive_event_id("cause-2", "InventoryReserved")


def test_an_event_in_reaction_to_another_takes_its_correlation_and_a_derived_id() -> None:
    from orderflow.catalog import OrderConfirmed, OrderConfirmedData

    placed = an_order_placed()
    reaction = OrderConfirmed.in_reaction_to(placed, OrderConfirmedData(order_id=placed.order_id), producer="test")
    again = OrderConfirmed.in_reaction_to(placed, OrderConfirmedData(order_id=placed.order_id), producer="test")
    assert reaction.event_id == again.event_id == derive_event_id(placed.event_id, "OrderConfirmed")
    assert reaction.metadata.causation_id == placed.event_id
    assert reaction.order_id == placed.order_id


def test_order_total_must_match_the_items() -> None:
    with pytest.raises(ValidationError, match="does not match"):
        OrderPlacedData(
            order_id="o1",
            customer_id="c",
            items=[LineItem(sku="A", quantity=2, unit_price_cents=100)],
            currency="EUR",
            total_cents=100,
            payment_token="t",
            shipping_address=an_address(),
        )


def test_unknown_fields_are_ignored_so_an_additive_change_never_breaks_a_consumer() -> None:
    event = an_order_placed()
    placed = json.loads(event.detail())
    placed["data"]["surprise"] = 1
    placed["data"]["shipping_address"]["floor"] = "3rd"
    placed["metadata"]["trace"] = {"anything": [1]}
    assert type(event).model_validate_json(json.dumps(placed)) == event


def test_a_command_needs_its_task_token() -> None:
    metadata = EventMetadata(
        event_id="e", correlation_id="o1", occurred_at=datetime.now(UTC), schema_version=1, producer="orderflow.saga"
    ).model_dump()
    with pytest.raises(ValidationError, match="task_token"):
        ReserveInventory.model_validate(
            {
                "metadata": metadata,
                "data": ReserveInventoryData(order_id="o1", items=[StockLine(sku="A", quantity=1)]).model_dump(),
            }
        )


def test_timestamps_must_carry_a_timezone() -> None:
    with pytest.raises(ValidationError):
        EventMetadata(
            event_id="e", correlation_id="o", occurred_at=datetime(2026, 1, 1), schema_version=1, producer="p"
        )
