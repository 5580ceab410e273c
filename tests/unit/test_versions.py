"""Versions and upcasters: a consumer on version 2 still reads version 1; an unknown version fails alone.

Version 2 of ShipmentCreated is a throwaway defined here (a new required field), as a breaking change
would be made: VERSION raised, an upcaster from version 1 registered.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from types import ModuleType
from typing import Any, ClassVar, Literal

import pytest

from orderflow import catalog
from orderflow.orders import OrderView
from orderflow.orders_table import OrdersTable
from orderflow.parsing import MalformedEventError, parse_eventbridge_event
from orderflow.versions import UPCASTERS, JsonObject, readable_versions, upcaster
from tests.support.capture import BusCapture
from tests.support.factories import an_order_placed, eventbridge_event, sqs_event
from tests.support.handlers import load_handler
from tests.support.lambda_context import FakeLambdaContext


class ShipmentCreatedDataV2(catalog.ShipmentCreatedData):
    service_level: Literal["standard", "express"]


class ShipmentCreatedV2(catalog.ShipmentCreated):
    VERSION: ClassVar[int] = 2
    data: ShipmentCreatedDataV2


def shipment_created_v1_to_v2(detail: JsonObject) -> JsonObject:
    return {**detail, "data": {**detail["data"], "service_level": "standard"}}


@pytest.fixture
def v2_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(UPCASTERS, ("ShipmentCreated", 1), shipment_created_v1_to_v2)


def shipped_v1(order_id: str) -> catalog.ShipmentCreated:
    data = catalog.ShipmentCreatedData(order_id=order_id, shipment_id="shp-1", carrier="post", tracking_number="T1")
    return catalog.ShipmentCreated.create(data, correlation_id=order_id, producer="shipping")


def shipped_v2(order_id: str) -> ShipmentCreatedV2:
    data = ShipmentCreatedDataV2(
        order_id=order_id, shipment_id="shp-2", carrier="post", tracking_number="T2", service_level="express"
    )
    return ShipmentCreatedV2.create(data, correlation_id=order_id, producer="shipping")


def test_a_v1_detail_is_upcast_to_the_consumers_v2(v2_registered: None) -> None:
    parsed = parse_eventbridge_event(json.dumps(eventbridge_event(shipped_v1("o1"))), (ShipmentCreatedV2,))
    assert isinstance(parsed, ShipmentCreatedV2)
    assert parsed.metadata.schema_version == 2
    assert parsed.data.service_level == "standard"
    assert readable_versions("ShipmentCreated", 2) == [1, 2]


def test_without_the_upcaster_v1_is_a_version_the_v2_consumer_does_not_know() -> None:
    with pytest.raises(MalformedEventError, match="schema_version 1 is not one this consumer knows \\(2\\)"):
        parse_eventbridge_event(json.dumps(eventbridge_event(shipped_v1("o1"))), (ShipmentCreatedV2,))


def test_a_v2_event_is_a_version_a_v1_consumer_does_not_know(v2_registered: None) -> None:
    with pytest.raises(MalformedEventError, match="schema_version 2 is not one this consumer knows \\(1\\)"):
        parse_eventbridge_event(json.dumps(eventbridge_event(shipped_v2("o1"))), (catalog.ShipmentCreated,))


def test_an_old_detail_the_upcaster_cannot_read_is_malformed(v2_registered: None) -> None:
    body = eventbridge_event(shipped_v1("o1"))
    del body["detail"]["data"]  # the upcaster reads data: a KeyError, not a crash
    with pytest.raises(MalformedEventError, match="ShipmentCreated could not be upcast: KeyError"):
        parse_eventbridge_event(json.dumps(body), (ShipmentCreatedV2,))


def test_an_upcaster_is_registered_once() -> None:
    upcaster("Throwaway", from_version=1)(shipment_created_v1_to_v2)
    try:
        with pytest.raises(ValueError, match="already has an upcaster"):
            upcaster("Throwaway", from_version=1)(shipment_created_v1_to_v2)
    finally:
        del UPCASTERS[("Throwaway", 1)]


# --- through the projector's handler, on moto ----------------------------------------------------


@pytest.fixture
def projector_on_v2(function_env: Callable[..., BusCapture], monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The projector deployed with ShipmentCreated version 2 (its accepted models and the upcaster)."""
    function_env(ORDERS_TABLE_NAME="OrdersTable")
    monkeypatch.setitem(UPCASTERS, ("ShipmentCreated", 1), shipment_created_v1_to_v2)
    module = load_handler("projector")
    accepts = tuple(ShipmentCreatedV2 if event is catalog.ShipmentCreated else event for event in module.ACCEPTED)
    monkeypatch.setattr(module.consumer, "accepts", accepts)
    return module


def run(module: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    return dict(module.lambda_handler(event, FakeLambdaContext()))


def test_a_v1_event_still_flows_end_to_end_after_v2_appears(projector_on_v2: ModuleType) -> None:
    # Given two orders, one shipped by a producer still on version 1 and one by a producer on version 2
    orders = OrdersTable(os.environ["ORDERS_TABLE_NAME"])
    old, new = an_order_placed(), an_order_placed()
    for placed in (old, new):
        orders.create(OrderView.pending(placed.data), placed)
    batch = sqs_event(shipped_v1(old.order_id), shipped_v2(new.order_id))
    # When the projector on version 2 takes both
    assert run(projector_on_v2, batch) == {"batchItemFailures": []}
    # Then both shipments are in their orders' histories
    for placed, tracking in ((old, "T1"), (new, "T2")):
        [entry] = [e for e in orders.get(placed.order_id).history if e.detail_type == "ShipmentCreated"]
        assert tracking in entry.summary
