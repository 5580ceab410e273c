"""Written once, checked both ways: the rules send each consumer exactly what its handler accepts.

The routes are derived from template.yaml (rule pattern, target, the function that reads the
target) and matched with EventBridge's pattern matching (moto's); what a consumer accepts is its
handler's SqsConsumer (or, for the audit stream, its ACCEPTS).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from orderflow.catalog import CATALOG, EVENT_TYPES
from tools.event_topology import publishers, routes, routing_problems
from tools.localcloud.template import REPO_ROOT, load_template


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return dict(load_template().sam["Resources"])


def test_every_rule_sends_its_consumer_exactly_what_it_accepts(resources: dict[str, Any]) -> None:
    found = routes(resources)
    assert {route.function for route in found} >= {"ProjectorFunction", "NotifierFunction", "AuditorFunction"}
    assert routing_problems(found) == []


def test_a_rule_that_sends_a_type_its_consumer_does_not_accept_is_caught(resources: dict[str, Any]) -> None:
    broken = copy.deepcopy(resources)
    broken["NotifierRule"]["Properties"]["EventPattern"]["detail-type"].append("PaymentCharged")
    broken["NotifierRule"]["Properties"]["EventPattern"]["source"].append("orderflow.payment")
    assert routing_problems(routes(broken)) == [
        "NotifierRule sends PaymentCharged to NotifierFunction, which does not accept it"
    ]


def test_a_consumer_that_accepts_a_type_no_rule_sends_it_is_caught(resources: dict[str, Any]) -> None:
    broken = copy.deepcopy(resources)
    broken["NotifierRule"]["Properties"]["EventPattern"]["detail-type"].remove("ShipmentCreated")
    assert routing_problems(routes(broken)) == ["NotifierFunction accepts ShipmentCreated, which no rule sends it"]


def test_every_event_has_a_publisher_of_its_source_and_a_listener(resources: dict[str, Any]) -> None:
    published, found = publishers(resources), routes(resources)
    for event_type in CATALOG:
        assert published.get(event_type.DETAIL_TYPE), f"nobody publishes {event_type.DETAIL_TYPE}"
        assert any(event_type.DETAIL_TYPE in route.delivered for route in found)


def test_what_the_saga_puts_on_the_bus_names_each_model_source() -> None:
    definition = json.loads((REPO_ROOT / "statemachines" / "order_saga.asl.json").read_text())
    entries = [
        entry
        for state in definition["States"].values()
        if "events:putEvents" in str(state.get("Resource", ""))
        for entry in state["Parameters"]["Entries"]
    ]
    assert entries
    for entry in entries:
        model = EVENT_TYPES[entry["DetailType"]]
        assert entry["Source"] == model.SOURCE
        assert entry["Detail"]["metadata"]["schema_version"] == model.VERSION
