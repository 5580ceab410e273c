"""Issue 11, item 6: a 1,000-line order flows end to end on the local cloud, every event within the bus's limit."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from orderflow.audit import AuditTable
from orderflow.catalog import (
    MAX_ORDER_LINES,
    MAX_ORDER_SKUS,
)
from orderflow.claim_check import (
    EVENTBRIDGE_ENTRY_LIMIT_BYTES,
    REFERENCE_FIELD,
    ClaimCheckStore,
    entry_size,
    object_key,
)
from orderflow.publisher import EventPublisher
from tests.integration.conftest import Shop, order_request
from tests.support.factories import an_oversized_order_cancelled
from tests.support.waiting import wait_for
from tools.localcloud import ledgers

pytestmark = pytest.mark.integration

# Step Functions refuses a state's input or output (and a task's result) over 256 KB.
STATE_LIMIT_BYTES = 256 * 1024


def longest_skus(count: int) -> list[str]:
    """`count` fresh SKUs of the longest length a SKU may have (32 characters)."""
    run = uuid.uuid4().hex[:8].upper()
    return [f"SKU-{run}-{index:019d}" for index in range(count)]


def execution_payload_sizes(shop: Shop, order_id: str) -> list[int]:
    """The size of every input and output in the order's execution history."""
    stepfunctions = shop.cloud.client("stepfunctions")
    [execution] = shop.saga_executions(order_id)
    sizes: list[int] = []
    arguments: dict[str, Any] = {"executionArn": execution["executionArn"], "maxResults": 1000}
    while True:
        page = stepfunctions.get_execution_history(**arguments)
        for event in page["events"]:
            for key, details in event.items():
                if key.endswith("EventDetails") and isinstance(details, dict):
                    sizes += [len(str(details[field]).encode()) for field in ("input", "output") if field in details]
        if not page.get("nextToken"):
            return sizes
        arguments["nextToken"] = page["nextToken"]


def test_an_order_of_a_thousand_lines_is_confirmed_and_every_event_stays_under_the_bus_limit(shop: Shop) -> None:
    # Given stock for as many SKUs as one order may name, each SKU as long as a SKU may be
    skus = longest_skus(MAX_ORDER_SKUS)
    ledgers.seed_stock(shop.cloud, dict.fromkeys(skus, 20))
    lines = [(skus[index % len(skus)], 1, 1000) for index in range(MAX_ORDER_LINES)]
    # When a customer places an order of 1,000 lines
    order_id = shop.place(order_request(*lines))
    # Then it is confirmed, and its stock taken line by line
    view = shop.wait_terminal(order_id, timeout=180)
    assert view["status"] == "CONFIRMED", view
    assert view["total_cents"] == MAX_ORDER_LINES * 1000
    stock = shop.stock(*skus)
    assert sum(20 - available for available in stock.values()) == MAX_ORDER_LINES

    # And every event of the order was within EventBridge's entry limit (as the audit trail has it)
    trail = shop.audit_trail(order_id)
    sizes = {
        event["detail_type"]: entry_size(event["source"], event["detail_type"], json.dumps(event["detail"]))
        for event in trail
    }
    print(f"entry sizes of a {MAX_ORDER_LINES}-line order: {sizes}")
    assert {"OrderPlaced", "ReserveInventory", "InventoryReserved", "CreateShipment", "OrderConfirmed"} <= set(sizes)
    assert max(sizes.values()) < EVENTBRIDGE_ENTRY_LIMIT_BYTES
    # And the saga's state never came near Step Functions' limit
    state_sizes = execution_payload_sizes(shop, order_id)
    print(f"largest saga state/result: {max(state_sizes)} bytes")
    assert max(state_sizes) < STATE_LIMIT_BYTES


def test_an_event_too_large_for_the_bus_travels_as_a_reference_the_auditor_resolves_and_keeps(shop: Shop) -> None:
    cloud = shop.cloud
    order_id = f"ord-{uuid.uuid4().hex[:12]}"
    event = an_oversized_order_cancelled(order_id)
    assert entry_size(event.SOURCE, event.DETAIL_TYPE, event.detail()) > EVENTBRIDGE_ENTRY_LIMIT_BYTES
    # When a producer publishes it on the local cloud (the bucket and the bus the template declares)
    with ledgers.pointed_at(cloud):
        bucket = ClaimCheckStore(cloud.ref("ClaimCheckBucket"))
        EventPublisher(cloud.ref("EventBus"), claim_checks=bucket).publish([event])
        # Then the auditor, which parses every event, resolved it and kept the reference as it came
        audit = AuditTable(cloud.ref("AuditTable"))
        wait_for(lambda: len(audit.trail(order_id)) == 1, timeout=60, what="the event in the audit trail")
        [entry] = audit.trail(order_id)
    assert entry.event_id == event.event_id
    kept = json.loads(entry.detail)
    assert set(kept) == {"metadata", REFERENCE_FIELD}
    assert kept[REFERENCE_FIELD]["key"] == object_key("OrderCancelled", event.event_id)
    stored = cloud.client("s3").get_object(Bucket=cloud.ref("ClaimCheckBucket"), Key=kept[REFERENCE_FIELD]["key"])
    assert stored["Body"].read() == event.detail().encode()
