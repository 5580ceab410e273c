"""Issue 2 through the local cloud: HTTP → OrderPlaced → bus → rule → projector queue → history."""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import Shop, history_types, order_request
from tests.support.bus import put_on_bus
from tests.support.waiting import wait_for
from tools.localcloud.cloud import LocalCloud
from tools.localcloud.faults import FaultKind
from tools.localcloud.orders_client import request

pytestmark = pytest.mark.integration


def order_count(cloud: LocalCloud) -> int:
    return int(cloud.client("dynamodb").scan(TableName=cloud.ref("OrdersTable"), Select="COUNT")["Count"])


def dead_letters(cloud: LocalCloud, queue_id: str) -> list[dict[str, object]]:
    messages = (
        cloud.client("sqs")
        .receive_message(QueueUrl=cloud.ref(queue_id), MaxNumberOfMessages=10, VisibilityTimeout=0)
        .get("Messages", [])
    )
    return [json.loads(message["Body"]) for message in messages]


def test_an_order_placed_over_http_lands_in_the_projectors_history(shop: Shop) -> None:
    # Given stock for a fresh SKU
    skus = shop.seed(mug=5)
    # When a client places an order over HTTP
    order_id = shop.place(order_request((skus["mug"], 1, 1250)))
    # Then OrderPlaced travels bus → rule → projector queue → projector, and the order shows it
    wait_for(
        lambda: "OrderPlaced" in history_types(shop.order(order_id)),
        timeout=60,
        what="OrderPlaced in the order's history",
    )
    view = shop.order(order_id)
    assert view["order_id"] == order_id
    assert history_types(view)[0] == "OrderPlaced"


@pytest.mark.parametrize(
    ("body", "raw", "status"),
    [
        ("{not json", True, 400),
        ({"customer_id": "c", "items": [], "currency": "EUR", "payment_token": "t"}, False, 422),
        (order_request(("SKU-RED-MUG", 0, 1250)), False, 422),
        ({**order_request(("SKU-RED-MUG", 1, 1250)), "currency": "euro"}, False, 422),
        (order_request(("SKU-X", 2, 100_000_000)), False, 422),  # lines within bounds, total beyond the event's
        ("[" * 1000 + "]" * 1000, True, 400),
        ("1" * 5000, True, 400),
        ({**order_request(("SKU-RED-MUG", 1, 1250)), "padding": "x" * 140_000}, False, 413),
    ],
    ids=[
        "not-json",
        "no-items-no-address",
        "quantity-zero",
        "bad-currency",
        "total-over-bound",
        "deep-nesting",
        "huge-number",
        "too-large",
    ],
)
def test_bad_requests_get_a_4xx_with_a_reason_and_write_nothing(
    shop: Shop, cloud: LocalCloud, body: object, raw: bool, status: int
) -> None:
    before = order_count(cloud)
    response = request("POST", f"{shop.api}/orders", body, raw=raw, token=shop.token)
    assert response.status == status
    assert response.body, "a 4xx must say why"
    cloud.wait_until_quiet(timeout=60)
    assert order_count(cloud) == before


def test_the_same_idempotency_key_twice_gives_one_order_and_one_event(shop: Shop, cloud: LocalCloud) -> None:
    skus = shop.seed(mug=5)
    body = order_request((skus["mug"], 1, 1250))
    first = shop.place(body, idempotency_key=f"key-{skus['mug']}")
    second = shop.place(body, idempotency_key=f"key-{skus['mug']}")
    assert first == second
    conflict = request(
        "POST",
        f"{shop.api}/orders",
        {**body, "payment_token": "tok_other"},
        {"Idempotency-Key": f"key-{skus['mug']}"},
        token=shop.token,
    )
    assert 400 <= conflict.status < 500
    view = shop.wait_terminal(first)
    assert history_types(view).count("OrderPlaced") == 1
    assert len(shop.saga_executions(first)) == 1


def test_a_malformed_event_fails_alone_into_the_dlq_and_nothing_else_is_lost(shop: Shop, cloud: LocalCloud) -> None:
    # Given a good order and a malformed event arriving together
    skus = shop.seed(mug=5)
    marker = f"malformed-{skus['mug']}"
    put_on_bus(
        cloud,
        "orderflow.orders",
        "OrderPlaced",
        json.dumps({"metadata": {"event_id": marker}, "data": {"order_id": "x"}}),
    )
    order_id = shop.place(order_request((skus["mug"], 1, 1250)))
    # Then the good order completes, and the malformed event ends in the projector's DLQ after its retries
    view = shop.wait_terminal(order_id)
    assert view["status"] == "CONFIRMED"
    in_dlq = [message for message in dead_letters(cloud, "ProjectorDLQ") if marker in json.dumps(message)]
    assert len(in_dlq) == 1
    assert "OrderPlaced" in history_types(view)


def test_a_duplicate_order_placed_delivery_changes_nothing(shop: Shop, cloud: LocalCloud) -> None:
    # Given a confirmed order
    skus = shop.seed(mug=5)
    order_id = shop.place(order_request((skus["mug"], 2, 1250)))
    view = shop.wait_terminal(order_id)
    assert view["status"] == "CONFIRMED"
    stock, ledger = shop.stock(skus["mug"]), shop.ledger(order_id)
    # When its OrderPlaced is delivered again (same event id, as a redrive or a replay would)
    placed = next(entry for entry in shop.audit_trail(order_id) if entry["detail_type"] == "OrderPlaced")
    detail = placed["detail"] if isinstance(placed["detail"], str) else json.dumps(placed["detail"])
    put_on_bus(cloud, "orderflow.orders", "OrderPlaced", detail)
    cloud.wait_until_quiet(timeout=60)
    # Then it is applied once: one history entry, one saga, same stock and ledger
    again = shop.order(order_id)
    assert history_types(again).count("OrderPlaced") == 1
    assert again["status"] == "CONFIRMED"
    assert len(shop.saga_executions(order_id)) == 1
    assert shop.stock(skus["mug"]) == stock
    assert shop.ledger(order_id) == ledger


def test_while_the_bus_refuses_publishes_every_post_is_accepted_and_every_order_ends_once_it_accepts(
    shop: Shop, cloud: LocalCloud
) -> None:
    # Given the bus refusing the OrderPlaced pipe's PutEvents (an EventBridge outage)
    skus = shop.seed(mug=10)
    with cloud.faults.injected(FaultKind.BUS_OUTAGE, 1.0, ["OrderPlacedPipe"]):
        # When orders are placed during the outage, every POST is answered 201 at once
        order_ids = [shop.place(order_request((skus["mug"], 1, 1250))) for _ in range(4)]
        wait_for(lambda: cloud.faults.count(FaultKind.BUS_OUTAGE.value) >= 3, timeout=30, what="the pipe being refused")
        assert all(shop.order(order_id)["status"] == "PENDING" for order_id in order_ids)
        assert all(shop.order(order_id)["history"] == [] for order_id in order_ids)
    # Then once the bus accepts again, every order reaches its end, each OrderPlaced exactly once
    for order_id in order_ids:
        view = shop.wait_terminal(order_id)
        assert view["status"] == "CONFIRMED"
        assert history_types(view).count("OrderPlaced") == 1
    assert cloud.pipes["OrderPlacedPipe"].dead_lettered == 0
