"""orders-api on moto: validation, idempotency keys, publish failures, reads."""

from __future__ import annotations

import base64
import json
from types import ModuleType
from typing import Any

import boto3
import pytest

from orderflow.audit import AuditEntry, AuditTable, audit_position
from tests.support.api_events import http_event
from tests.support.capture import BusCapture
from tests.support.handlers import load_handler
from tests.support.lambda_context import FakeLambdaContext
from tools.localcloud.orders_client import order_request

TABLES = {"ORDERS_TABLE_NAME": "OrdersTable", "AUDIT_TABLE_NAME": "AuditTable"}


@pytest.fixture
def api(bus: BusCapture) -> ModuleType:
    return load_handler("orders_api")


def call(api: ModuleType, method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
    response = api.lambda_handler(http_event(method, path, body, **kwargs), FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"]) if response.get("body") else None


def stored_orders() -> list[dict[str, Any]]:
    import os

    return list(boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE_NAME"]).scan()["Items"])


def test_a_valid_order_is_stored_pending_and_announced_once(api: ModuleType, bus: BusCapture) -> None:
    status, body = call(api, "POST", "/orders", order_request(("SKU-RED-MUG", 2, 1250)))
    assert status == 201
    assert body["status"] == "PENDING"
    assert body["total_cents"] == 2500
    [order] = stored_orders()
    assert order["order_id"] == body["order_id"]
    [event] = bus.events()
    assert event["detail-type"] == "OrderPlaced"
    assert event["source"] == "orderflow.orders"
    assert event["detail"]["data"]["order_id"] == body["order_id"]


@pytest.mark.parametrize(
    ("body", "raw", "status"),
    [
        ("{not json", True, 400),
        ({**order_request(("SKU-RED-MUG", 0, 1250))}, False, 422),
        ({k: v for k, v in order_request(("SKU-RED-MUG", 1, 1)).items() if k != "shipping_address"}, False, 422),
        ({**order_request(("SKU-RED-MUG", 1, 1)), "currency": "euro"}, False, 422),
        ({**order_request(("SKU-RED-MUG", 1, 1)), "total_cents": 5}, False, 422),
        ("[" * 1000 + "]" * 1000, True, 400),
        ("1" * 5000, True, 400),
    ],
    ids=["not-json", "quantity-zero", "no-address", "bad-currency", "unknown-field", "deep-nesting", "huge-number"],
)
def test_bad_input_gets_a_4xx_with_a_reason_and_writes_nothing(
    api: ModuleType, bus: BusCapture, body: Any, raw: bool, status: int
) -> None:
    got, answer = call(api, "POST", "/orders", body, raw=raw)
    assert got == status
    assert answer["message"]
    assert stored_orders() == []
    assert bus.events() == []


def test_the_same_idempotency_key_and_body_give_the_same_response_one_order_one_event(
    api: ModuleType, bus: BusCapture
) -> None:
    body = order_request(("SKU-RED-MUG", 1, 1250))
    first = call(api, "POST", "/orders", body, headers={"Idempotency-Key": "k-1"})
    second = call(api, "POST", "/orders", body, headers={"Idempotency-Key": "k-1"})
    assert first == second
    assert len(stored_orders()) == 1
    assert bus.detail_types() == ["OrderPlaced"]


def test_the_same_key_with_another_body_is_refused(api: ModuleType, bus: BusCapture) -> None:
    call(api, "POST", "/orders", order_request(("SKU-RED-MUG", 1, 1250)), headers={"Idempotency-Key": "k-2"})
    status, answer = call(
        api, "POST", "/orders", order_request(("SKU-RED-MUG", 9, 1250)), headers={"Idempotency-Key": "k-2"}
    )
    assert status == 422
    assert "Idempotency-Key" in answer["message"]
    assert len(stored_orders()) == 1


def test_a_publish_failure_is_a_503_and_a_retry_with_the_key_completes_the_order(
    api: ModuleType, bus: BusCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = order_request(("SKU-RED-MUG", 1, 1250))
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")
    status, answer = call(api, "POST", "/orders", body, headers={"Idempotency-Key": "k-3"})
    assert status == 503
    assert "retry" in answer["message"]
    # The bus is back: the retry with the same key finds the written order and publishes it
    monkeypatch.setenv("EVENT_BUS_NAME", bus.bus_name)
    api.get_settings.cache_clear()
    status, answer = call(api, "POST", "/orders", body, headers={"Idempotency-Key": "k-3"})
    assert status == 201
    assert len(stored_orders()) == 1
    assert bus.detail_types() == ["OrderPlaced"]


def test_get_returns_the_order_or_a_404(api: ModuleType) -> None:
    _, created = call(api, "POST", "/orders", order_request(("SKU-RED-MUG", 1, 1250)))
    status, order = call(api, "GET", f"/orders/{created['order_id']}")
    assert status == 200
    assert order["status"] == "PENDING"
    assert order["items"][0]["sku"] == "SKU-RED-MUG"
    assert call(api, "GET", "/orders/nope")[0] == 404


def test_get_events_returns_the_audit_trail_in_stream_order(api: ModuleType) -> None:
    import os

    _, created = call(api, "POST", "/orders", order_request(("SKU-RED-MUG", 1, 1250)))
    order_id = created["order_id"]
    audit = AuditTable(os.environ["AUDIT_TABLE_NAME"])
    for sequence, kind in [("200", "ReserveInventory"), ("10", "OrderPlaced")]:
        audit.append(
            AuditEntry(
                order_id=order_id,
                position=audit_position(sequence),
                event_id=f"e{sequence}",
                detail_type=kind,
                source="orderflow.saga",
                occurred_at="2026-11-24T12:00:00Z",  # type: ignore[arg-type]
                detail=json.dumps({"n": sequence}),
            )
        )
    status, trail = call(api, "GET", f"/orders/{order_id}/events")
    assert status == 200
    assert [entry["detail_type"] for entry in trail["events"]] == ["OrderPlaced", "ReserveInventory"]
    assert trail["events"][0]["detail"] == {"n": "10"}
    assert call(api, "GET", "/orders/nope/events")[0] == 404


def test_a_body_api_gateway_base64_encoded_is_decoded(api: ModuleType, bus: BusCapture) -> None:
    # API Gateway base64-encodes a body whose Content-Type is not text (curl -d without -H, for one)
    event = http_event(
        "POST",
        "/orders",
        base64.b64encode(json.dumps(order_request(("SKU-RED-MUG", 1, 1250))).encode()).decode(),
        raw=True,
    )
    event["isBase64Encoded"] = True
    response = api.lambda_handler(event, FakeLambdaContext())
    assert response["statusCode"] == 201
    assert len(stored_orders()) == 1


def test_a_body_that_is_not_utf8_is_a_400(api: ModuleType, bus: BusCapture) -> None:
    event = http_event("POST", "/orders", base64.b64encode(b"\xff\xfe{").decode(), raw=True)
    event["isBase64Encoded"] = True
    response = api.lambda_handler(event, FakeLambdaContext())
    assert response["statusCode"] == 400
    assert stored_orders() == []
