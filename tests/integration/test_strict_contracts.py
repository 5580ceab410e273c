"""Issue 11 through the local cloud: what lenient contracts took is refused, fails alone and changes nothing.

On a queue, each poison (an integer written as a string, an unknown schema_version, a lone surrogate,
a 5,000-deep body) fails parsing on its own, is retried and reaches its consumer's DLQ, while a
good order placed alongside completes; the ledger shows no charge. At the API, the same inputs are
a 422 (not a valid order) or a 400 (not a JSON document of valid Unicode), and nothing is written.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from orderflow.catalog import ChargePayment, ChargePaymentData, ShipmentCreated, ShipmentCreatedData
from tests.integration.conftest import Shop, order_request
from tests.support.bus import put_on_bus
from tests.support.factories import a_command
from tests.support.waiting import wait_for
from tools.localcloud.cloud import LocalCloud
from tools.localcloud.orders_client import request

pytestmark = pytest.mark.integration


def dead_letter_bodies(cloud: LocalCloud, queue_id: str) -> str:
    """Every body now in the DLQ, as one text (a few receives: the queue is shared by the session's tests)."""
    sqs, seen = cloud.client("sqs"), {}
    for _ in range(5):
        for message in sqs.receive_message(
            QueueUrl=cloud.ref(queue_id), MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", []):
            seen[message["MessageId"]] = message["Body"]
    return "\n".join(seen.values())


def charge_detail(order_id: str, marker: str, original: str, replacement: str) -> str:
    command = a_command(
        ChargePayment,
        ChargePaymentData(order_id=order_id, amount_cents=2, currency="EUR", payment_token="tok_visa"),
        order_id,
        task_token="no-saga-waits-for-this",
        event_id=marker,
    )
    detail = command.detail()
    assert original in detail
    return detail.replace(original, replacement, 1)


def test_poison_events_fail_alone_into_their_dlqs_and_charge_nothing(shop: Shop, cloud: LocalCloud) -> None:
    # Given a good order, and beside it what a lenient consumer used to apply or crash on
    skus = shop.seed(mug=5)
    target = f"strict-{uuid.uuid4().hex[:12]}"
    as_string, unknown_version = f"{target}-as-string", f"{target}-version"
    put_on_bus(
        cloud,
        "orderflow.saga",
        "ChargePayment",
        charge_detail(target, as_string, '"amount_cents":2', '"amount_cents":"2"'),
    )
    put_on_bus(
        cloud,
        "orderflow.saga",
        "ChargePayment",
        charge_detail(target, unknown_version, '"schema_version":1', '"schema_version":999'),
    )
    shipped = ShipmentCreated.create(
        ShipmentCreatedData(order_id=target, shipment_id="shp-x", carrier="post", tracking_number="SPMARK"),
        correlation_id=target,
        producer="shipping",
        event_id=f"{target}-surrogate",
    )
    put_on_bus(cloud, shipped.SOURCE, shipped.DETAIL_TYPE, shipped.detail().replace("SPMARK", "SP\\ud800"))
    deep = '{"marker": "' + f"{target}-deep" + '", "detail": ' + "[" * 5000 + "]" * 5000 + "}"
    cloud.client("sqs").send_message(QueueUrl=cloud.ref("NotifierQueue"), MessageBody=deep)
    order_id = shop.place(order_request((skus["mug"], 1, 1250)))

    # Then the good order completes ...
    assert shop.wait_terminal(order_id)["status"] == "CONFIRMED"
    # ... each poison reaches its consumer's DLQ after its retries ...
    wait_for(
        lambda: (
            as_string in dead_letter_bodies(cloud, "PaymentDLQ")
            and unknown_version in dead_letter_bodies(cloud, "PaymentDLQ")
        ),
        timeout=60,
        what="both ChargePayment poisons in the payment DLQ",
    )
    wait_for(
        lambda: (
            f"{target}-surrogate" in dead_letter_bodies(cloud, "NotifierDLQ")
            and f"{target}-deep" in dead_letter_bodies(cloud, "NotifierDLQ")
        ),
        timeout=60,
        what="the lone surrogate and the deep body in the notifier DLQ",
    )
    # ... and nothing was charged for the poisoned order
    assert shop.ledger(target) == (0, 0)


def order_count(cloud: LocalCloud) -> int:
    return int(cloud.client("dynamodb").scan(TableName=cloud.ref("OrdersTable"), Select="COUNT")["Count"])


def with_quantity(json_text: str) -> str:
    return json.dumps(order_request(("SKU-RED-MUG", 2, 1250))).replace('"quantity": 2', f'"quantity": {json_text}', 1)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (with_quantity('"2"'), 422),
        (with_quantity('" 2 "'), 422),
        (with_quantity("true"), 422),
        (with_quantity("2.0"), 422),
        (with_quantity("1E2"), 422),
        (with_quantity("1" * 5000), 400),
        (json.dumps(order_request(("SKU-RED-MUG", 2, 1250))).replace('"Ada', '"\\ud800Ada', 1), 400),
        ('{"customer_id": ' + "[" * 5000 + "]" * 5000 + "}", 400),
    ],
    ids=["string", "padded-string", "bool", "float", "exponent", "5000-digits", "lone-surrogate", "5000-deep"],
)
def test_the_api_refuses_what_it_used_to_coerce_and_writes_nothing(
    cloud: LocalCloud, shop: Shop, body: str, status: int
) -> None:
    before = order_count(cloud)
    response = request("POST", f"{cloud.api_url}/orders", body, raw=True, token=shop.token)
    answer: Any = response.body
    assert response.status == status, answer
    assert answer["message"]
    assert order_count(cloud) == before
