"""The failure model through the local cloud: each fault the README names, and the invariant that holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from orderflow.catalog import ReserveInventory, ReserveInventoryData, StockLine
from tests.integration.conftest import Shop, history_types, order_request
from tests.integration.test_order_saga_paths import MUG_PRICE, republish, trail_entry
from tests.support.bus import put_event
from tests.support.factories import a_command
from tests.support.waiting import wait_for
from tools.localcloud.cloud import LocalCloud
from tools.localcloud.faults import FaultKind

pytestmark = pytest.mark.integration


def audited_types(cloud: LocalCloud, order_id: str) -> list[str]:
    """The order's audit trail read from the audit table (the API knows only orders it accepted)."""
    items = cloud.client("dynamodb").query(
        TableName=cloud.ref("AuditTable"),
        KeyConditionExpression="order_id = :order_id",
        ExpressionAttributeValues={":order_id": {"S": order_id}},
        ConsistentRead=True,
    )["Items"]
    return [item["detail_type"]["S"] for item in sorted(items, key=lambda item: item["position"]["S"])]


def with_fresh_id(entry: dict[str, Any], suffix: str) -> dict[str, Any]:
    detail = json.loads(entry["detail"]) if isinstance(entry["detail"], str) else dict(entry["detail"])
    detail["metadata"]["event_id"] += suffix
    return {**entry, "detail": json.dumps(detail)}


def test_a_command_whose_token_is_dead_takes_nothing(shop: Shop, cloud: LocalCloud) -> None:
    # Given a ReserveInventory whose task token the saga does not wait on (timed out, or garbage)
    skus = shop.seed(mug=2)
    order_id = "dead-token-order"
    command = a_command(
        ReserveInventory,
        ReserveInventoryData(order_id=order_id, items=[StockLine(sku=skus["mug"], quantity=2)]),
        order_id,
        task_token="AAAA-not-a-live-token",
    )
    # When it is delivered
    put_event(cloud, command)
    cloud.wait_until_quiet(timeout=60)
    # Then it reserves nothing and publishes nothing
    assert shop.stock(skus["mug"]) == {skus["mug"]: 2}
    assert audited_types(cloud, order_id) == ["ReserveInventory"]


def test_an_order_cancelled_out_of_stock_never_takes_stock_from_a_late_reserve(shop: Shop, cloud: LocalCloud) -> None:
    # Given an order cancelled OUT_OF_STOCK, and stock that arrives afterwards
    skus = shop.seed(mug=1)
    order_id = shop.place(order_request((skus["mug"], 2, MUG_PRICE)))
    assert shop.wait_terminal(order_id)["cancellation_reason"] == "OUT_OF_STOCK"
    shop.set_stock(skus["mug"], 5)
    # When its ReserveInventory is redriven late, as it was and with a fresh delivery id
    reserve = trail_entry(shop, order_id, "ReserveInventory")
    republish(cloud, reserve)
    republish(cloud, with_fresh_id(reserve, "-redriven"))
    cloud.wait_until_quiet(timeout=60)
    # Then no stock is taken
    assert shop.stock(skus["mug"]) == {skus["mug"]: 5}
    assert "InventoryReserved" not in history_types(shop.order(order_id))


def test_an_event_put_on_the_bus_again_is_recorded_once_in_the_audit_trail(shop: Shop, cloud: LocalCloud) -> None:
    skus = shop.seed(mug=2)
    order_id = shop.place(order_request((skus["mug"], 1, MUG_PRICE)))
    view = shop.wait_terminal(order_id)
    assert view["status"] == "CONFIRMED", view
    before = shop.audit_trail(order_id)
    # When OrderPlaced and OrderConfirmed are put again with their ids (a producer's retry, an archive replay)
    republish(cloud, trail_entry(shop, order_id, "OrderPlaced"))
    republish(cloud, trail_entry(shop, order_id, "OrderConfirmed"))
    cloud.wait_until_quiet(timeout=60)
    # Then the trail is unchanged: each event id once, in its first place
    after = shop.audit_trail(order_id)
    assert [entry["event_id"] for entry in after] == [entry["event_id"] for entry in before]


@pytest.fixture(scope="module")
def hurried_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    """A saga that waits 15 s for a step (ample for a loaded machine) and 3 s for each attempt of a compensation."""
    with LocalCloud(
        parameter_overrides={"StepTimeoutSeconds": "15", "CompensationTimeoutSeconds": "3"},
        stack_name="hurried",
        work_dir=tmp_path_factory.mktemp("hurried"),
    ) as running:
        yield running


def timed_out_tasks(cloud: LocalCloud, shop: Shop, order_id: str) -> int:
    history = cloud.client("stepfunctions")
    return sum(
        event["type"] == "TaskTimedOut"
        for execution in shop.saga_executions(order_id)
        for event in history.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
    )


def test_a_service_down_past_its_step_and_compensation_timeouts_still_ends_the_order_cancelled(
    hurried_cloud: LocalCloud,
) -> None:
    shop = Shop(hurried_cloud)
    skus = shop.seed(mug=3)
    # Given payment is down long enough for ChargePayment to time out and RefundPayment's first attempts too
    with hurried_cloud.outage("PaymentFunction"):
        order_id = shop.place(order_request((skus["mug"], 1, MUG_PRICE)))
        wait_for(
            lambda: timed_out_tasks(hurried_cloud, shop, order_id) >= 3,
            timeout=180,
            what="ChargePayment and two RefundPayment attempts to time out",
        )
    # When payment comes back
    view = shop.wait_terminal(order_id, timeout=180)
    # Then the saga kept retrying the refund, released the stock, and cancelled the order cleanly
    assert view["status"] == "CANCELLED"
    assert view["cancellation_reason"] == "STEP_TIMED_OUT"
    assert view["unresolved_compensations"] == []
    assert shop.stock(skus["mug"]) == {skus["mug"]: 3}
    charged, refunded = shop.ledger(order_id)
    assert charged == refunded
    assert "InventoryReleased" in history_types(view)
    assert [execution["status"] for execution in shop.saga_executions(order_id)] == ["SUCCEEDED"]


def test_a_transaction_conflict_on_a_reservation_is_retried_and_the_order_confirmed(
    shop: Shop, cloud: LocalCloud
) -> None:
    # Given DynamoDB cancels inventory's next transaction with TransactionConflict, as when another
    # order's reservation holds the same SKU at that moment
    skus = shop.seed(mug=3)
    before = cloud.faults.count(FaultKind.TRANSACTION_CONFLICT.value, "InventoryFunction")
    with cloud.faults.injected(FaultKind.TRANSACTION_CONFLICT, 1.0, ["InventoryFunction"], limit=1):
        # When an order for stock that is there is placed
        order_id = shop.place(order_request((skus["mug"], 2, MUG_PRICE)))
        view = shop.wait_terminal(order_id)
    # Then the conflict happened, was retried, and the order is CONFIRMED, not cancelled OUT_OF_STOCK
    assert cloud.faults.count(FaultKind.TRANSACTION_CONFLICT.value, "InventoryFunction") - before == 1
    assert view["status"] == "CONFIRMED", view.get("cancellation_reason")
    assert shop.stock(skus["mug"]) == {skus["mug"]: 1}
