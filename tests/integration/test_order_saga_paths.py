"""Issue 3 through the local cloud with the real ASL: every saga path, its compensations and invariants."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import ADDRESS_REFUSED_BY_CARRIER, DECLINED_TOKEN, Shop, history_types, order_request
from tests.support.bus import put_on_bus
from tests.support.waiting import wait_for
from tools.localcloud.cloud import LocalCloud

pytestmark = pytest.mark.integration

MUG_PRICE = 1250


def republish(cloud: LocalCloud, entry: dict[str, Any]) -> None:
    """Put an event from the audit trail back on the bus, exactly as it was (a redrive or replay)."""
    detail = entry["detail"] if isinstance(entry["detail"], str) else json.dumps(entry["detail"])
    put_on_bus(cloud, entry["source"], entry["detail_type"], detail)


def trail_entry(shop: Shop, order_id: str, detail_type: str) -> dict[str, Any]:
    return next(entry for entry in shop.audit_trail(order_id) if entry["detail_type"] == detail_type)


def test_happy_path_confirms_reserves_charges_and_ships(shop: Shop) -> None:
    skus = shop.seed(mug=5)
    order_id = shop.place(order_request((skus["mug"], 2, MUG_PRICE)))
    view = shop.wait_terminal(order_id)
    assert view["status"] == "CONFIRMED"
    assert shop.stock(skus["mug"]) == {skus["mug"]: 3}
    assert shop.ledger(order_id) == (2 * MUG_PRICE, 0)
    kinds = history_types(view)
    for fact in ("OrderPlaced", "InventoryReserved", "PaymentCharged", "ShipmentCreated", "OrderConfirmed"):
        assert kinds.count(fact) == 1, f"{fact} in {kinds}"
    assert not {"InventoryReleased", "PaymentRefunded", "ShipmentCancelled"} & set(kinds)
    assert [execution["status"] for execution in shop.saga_executions(order_id)] == ["SUCCEEDED"]


def test_out_of_stock_cancels_without_charging(shop: Shop) -> None:
    skus = shop.seed(mug=1, pot=0)
    order_id = shop.place(order_request((skus["mug"], 1, MUG_PRICE), (skus["pot"], 1, 3900)))
    view = shop.wait_cancelled(order_id, "OUT_OF_STOCK")
    assert shop.stock(skus["mug"], skus["pot"]) == {skus["mug"]: 1, skus["pot"]: 0}
    assert shop.ledger(order_id) == (0, 0)
    assert "InventoryReservationFailed" in history_types(view)
    assert "PaymentCharged" not in history_types(view)


def test_two_orders_racing_for_the_last_unit_one_wins(shop: Shop) -> None:
    skus = shop.seed(last=1)
    order_ids: list[str] = []
    threads = [
        threading.Thread(target=lambda: order_ids.append(shop.place(order_request((skus["last"], 1, 9900)))))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(shop.wait_terminal(order_id)["status"] for order_id in order_ids)
    assert statuses == ["CANCELLED", "CONFIRMED"]
    assert shop.stock(skus["last"]) == {skus["last"]: 0}


def test_declined_payment_releases_the_inventory(shop: Shop) -> None:
    skus = shop.seed(mug=4)
    order_id = shop.place(order_request((skus["mug"], 3, MUG_PRICE), token=DECLINED_TOKEN))
    view = shop.wait_cancelled(order_id, "PAYMENT_DECLINED")
    assert shop.stock(skus["mug"]) == {skus["mug"]: 4}
    assert shop.ledger(order_id) == (0, 0)
    kinds = history_types(view)
    assert "PaymentDeclined" in kinds
    assert kinds.count("InventoryReleased") == 1


def test_shipping_failure_refunds_and_releases(shop: Shop) -> None:
    skus = shop.seed(mug=4)
    order_id = shop.place(order_request((skus["mug"], 2, MUG_PRICE), address=ADDRESS_REFUSED_BY_CARRIER))
    view = shop.wait_cancelled(order_id, "SHIPPING_FAILED")
    assert shop.stock(skus["mug"]) == {skus["mug"]: 4}
    assert shop.ledger(order_id) == (2 * MUG_PRICE, 2 * MUG_PRICE)
    kinds = history_types(view)
    assert kinds.index("PaymentRefunded") < kinds.index("OrderCancelled")
    assert "InventoryReleased" in kinds
    assert [execution["status"] for execution in shop.saga_executions(order_id)] == ["SUCCEEDED"]


def test_a_duplicate_command_is_applied_once(shop: Shop, cloud: LocalCloud) -> None:
    skus = shop.seed(mug=3)
    order_id = shop.place(order_request((skus["mug"], 1, MUG_PRICE)))
    assert shop.wait_terminal(order_id)["status"] == "CONFIRMED"
    # When the saga's ChargePayment and ReserveInventory are delivered again with the same event ids
    republish(cloud, trail_entry(shop, order_id, "ChargePayment"))
    republish(cloud, trail_entry(shop, order_id, "ReserveInventory"))
    cloud.wait_until_quiet(timeout=60)
    # Then nothing is charged or reserved twice
    assert shop.ledger(order_id) == (MUG_PRICE, 0)
    assert shop.stock(skus["mug"]) == {skus["mug"]: 2}
    assert history_types(shop.order(order_id)).count("PaymentCharged") == 1


def test_a_command_redriven_after_its_compensation_is_refused(shop: Shop, cloud: LocalCloud) -> None:
    # Given an order cancelled at shipping: its charge was refunded and its stock released
    skus = shop.seed(mug=3)
    order_id = shop.place(order_request((skus["mug"], 1, MUG_PRICE), address=ADDRESS_REFUSED_BY_CARRIER))
    assert shop.wait_terminal(order_id)["status"] == "CANCELLED"
    charge, reserve = trail_entry(shop, order_id, "ChargePayment"), trail_entry(shop, order_id, "ReserveInventory")
    # When the original commands arrive again as new deliveries (a redrive from a DLQ re-sent by an operator)
    for entry in (charge, reserve):
        detail = json.loads(entry["detail"]) if isinstance(entry["detail"], str) else dict(entry["detail"])
        detail["metadata"]["event_id"] += "-redriven"  # a new delivery id, so idempotency alone cannot save us
        republish(cloud, {**entry, "detail": json.dumps(detail)})
    cloud.wait_until_quiet(timeout=60)
    # Then they are refused: no stock leaks, and a cancelled order is never charged again
    assert shop.stock(skus["mug"]) == {skus["mug"]: 3}
    charged, refunded = shop.ledger(order_id)
    assert charged == refunded == MUG_PRICE
    kinds = history_types(shop.order(order_id))
    assert kinds.count("InventoryReserved") == 1
    assert kinds.count("PaymentCharged") == 1


@pytest.fixture(scope="module")
def impatient_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    """A local cloud whose saga waits only a few seconds for each service."""
    with LocalCloud(
        parameter_overrides={"StepTimeoutSeconds": "4"},
        stack_name="impatient",
        work_dir=tmp_path_factory.mktemp("impatient"),
    ) as running:
        yield running


def test_a_step_that_times_out_is_compensated(impatient_cloud: LocalCloud) -> None:
    shop = Shop(impatient_cloud)
    skus = shop.seed(mug=3)
    history = impatient_cloud.client("stepfunctions")
    # Given shipping is down
    with impatient_cloud.outage("ShippingFunction"):
        order_id = shop.place(order_request((skus["mug"], 1, MUG_PRICE)))
        # When CreateShipment gets no answer within the step timeout
        wait_for(
            lambda: any(
                event["type"] == "TaskTimedOut"
                for execution in shop.saga_executions(order_id)
                for event in history.get_execution_history(executionArn=execution["executionArn"])["events"]
            ),
            timeout=60,
            what="CreateShipment to time out",
        )
    # Then the saga refunds, releases and cancels; shipping, back up, cancels or refuses the late shipment
    shop.wait_cancelled(order_id, "STEP_TIMED_OUT")
    assert shop.stock(skus["mug"]) == {skus["mug"]: 3}
    charged, refunded = shop.ledger(order_id)
    assert charged == refunded
    assert [execution["status"] for execution in shop.saga_executions(order_id)] == ["SUCCEEDED"]
