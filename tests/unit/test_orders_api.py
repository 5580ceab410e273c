"""orders-api on moto: validation, idempotency keys, the outbox write, reads, error shapes."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import boto3
import pytest

from orderflow.audit import AuditEntry, AuditTable, audit_position
from tests.support.api_events import http_event
from tests.support.aws import literal_environment
from tests.support.capture import BusCapture
from tests.support.handlers import load_handler
from tests.support.lambda_context import FakeLambdaContext
from tools.localcloud.orders_client import order_request

TABLES = {"ORDERS_TABLE_NAME": "OrdersTable", "AUDIT_TABLE_NAME": "AuditTable"}


@pytest.fixture
def api(bus: BusCapture, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    for name, value in literal_environment("OrdersApiFunction").items():
        monkeypatch.setenv(name, value)
    return load_handler("orders_api")


def call(api: ModuleType, method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
    response = api.lambda_handler(http_event(method, path, body, **kwargs), FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"]) if response.get("body") else None


def stored_orders() -> list[dict[str, Any]]:
    import os

    return list(boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE_NAME"]).scan()["Items"])


def test_a_valid_order_is_one_write_the_order_pending_with_its_order_placed(api: ModuleType, bus: BusCapture) -> None:
    status, body = call(api, "POST", "/orders", order_request(("SKU-RED-MUG", 2, 1250)))
    assert status == 201
    assert body["status"] == "PENDING"
    assert body["total_cents"] == 2500
    [order] = stored_orders()
    assert order["order_id"] == body["order_id"]
    # The outbox: the event rides in the same item; the API itself never calls the bus.
    placed = json.loads(order["order_placed"])
    assert placed["data"]["order_id"] == body["order_id"]
    assert placed["data"]["total_cents"] == 2500
    assert bus.events() == []


def test_an_order_is_accepted_whatever_the_bus_does(
    api: ModuleType, bus: BusCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")
    status, _ = call(api, "POST", "/orders", order_request(("SKU-RED-MUG", 1, 1250)))
    assert status == 201
    assert len(stored_orders()) == 1


def test_the_view_never_shows_the_stored_event_or_its_payment_token(api: ModuleType) -> None:
    _, created = call(api, "POST", "/orders", order_request(("SKU-RED-MUG", 1, 1250)))
    _, order = call(api, "GET", f"/orders/{created['order_id']}")
    assert "order_placed" not in order
    assert "tok_visa" not in json.dumps(order)


def longest_lines(count: int, skus: int = 99) -> list[tuple[str, int, int]]:
    """`count` lines with the longest SKU and quantity over `skus` SKUs, priced so the total is at its bound."""
    return [(f"SKU-{index % skus:028d}", 100, 1000) for index in range(count)]


def test_an_order_of_a_thousand_longest_lines_is_accepted_within_the_body_limit(api: ModuleType) -> None:
    body = order_request(*longest_lines(1000))
    # Indented as a person might send it: still under MAX_REQUEST_BODY_BYTES.
    status, created = call(api, "POST", "/orders", json.dumps(body, indent=2), raw=True)
    assert status == 201, created
    [order] = stored_orders()
    assert len(json.loads(order["order_placed"])["data"]["items"]) == 1000


def test_an_order_of_more_than_a_thousand_lines_is_refused_and_writes_nothing(api: ModuleType) -> None:
    status, body = call(api, "POST", "/orders", order_request(*longest_lines(1001)))
    assert status == 422
    assert "1000" in json.dumps(body)
    assert stored_orders() == []


def test_an_order_naming_more_skus_than_one_reservation_takes_is_refused(api: ModuleType) -> None:
    status, body = call(api, "POST", "/orders", order_request(*longest_lines(100, skus=100)))
    assert status == 422
    assert "at most 99 distinct SKUs" in json.dumps(body)
    assert stored_orders() == []


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
        # Each line within its bounds, the total beyond the event's total_cents bound
        (order_request(("SKU-X", 2, 100_000_000)), False, 422),
        ({**order_request(("SKU-RED-MUG", 1, 1)), "padding": "x" * 140_000}, False, 413),
    ],
    ids=[
        "not-json",
        "quantity-zero",
        "no-address",
        "bad-currency",
        "unknown-field",
        "deep-nesting",
        "huge-number",
        "total-over-bound",
        "too-large",
    ],
)
def test_bad_input_gets_a_4xx_with_a_reason_and_writes_nothing(
    api: ModuleType, bus: BusCapture, body: Any, raw: bool, status: int
) -> None:
    got, answer = call(api, "POST", "/orders", body, raw=raw)
    assert got == status
    assert isinstance(answer["message"], str)
    assert set(answer) <= {"message", "errors"}
    assert stored_orders() == []
    assert bus.events() == []


def test_a_total_beyond_the_event_bound_names_the_field(api: ModuleType) -> None:
    status, answer = call(api, "POST", "/orders", order_request(("SKU-X", 2, 100_000_000)))
    assert status == 422
    assert [error["field"] for error in answer["errors"]] == ["total_cents"]


def test_every_error_has_the_one_shape(api: ModuleType) -> None:
    for method, path in [("GET", "/orders/nope"), ("GET", "/orders/nope/events"), ("DELETE", "/orders")]:
        status, answer = call(api, method, path)
        assert status == 404
        assert set(answer) == {"message"}


def _with_quantity(json_text: str) -> str:
    """A valid request whose first line's quantity is written exactly as `json_text`."""
    body = json.dumps(order_request(("SKU-RED-MUG", 2, 1250)))
    return body.replace('"quantity": 2', f'"quantity": {json_text}', 1)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (_with_quantity('"2"'), 422),
        (_with_quantity('" 2 "'), 422),
        (_with_quantity("2.0"), 422),
        (_with_quantity("1E2"), 422),
        (_with_quantity("true"), 422),
        (_with_quantity("1" * 5000), 400),
        (json.dumps(order_request(("SKU-RED-MUG", 2, 1250))).replace('"Ada', '"\\ud800Ada', 1), 400),
        (json.dumps({**order_request(("SKU-RED-MUG", 2, 1250)), "nested": "[" * 5000 + "]" * 5000}), 422),
        ('{"customer_id": ' + "[" * 5000 + "]" * 5000 + "}", 400),
    ],
    ids=[
        "string",
        "padded-string",
        "float",
        "exponent",
        "bool",
        "5000-digits",
        "lone-surrogate",
        "deep-string",
        "deep",
    ],
)
def test_a_request_is_typed_strictly_and_a_body_that_cannot_be_decoded_is_a_400(
    api: ModuleType, bus: BusCapture, body: str, status: int
) -> None:
    got, answer = call(api, "POST", "/orders", body, raw=True)
    assert got == status, answer
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


def test_the_same_key_with_another_body_is_refused(api: ModuleType, bus: BusCapture) -> None:
    call(api, "POST", "/orders", order_request(("SKU-RED-MUG", 1, 1250)), headers={"Idempotency-Key": "k-2"})
    status, answer = call(
        api, "POST", "/orders", order_request(("SKU-RED-MUG", 9, 1250)), headers={"Idempotency-Key": "k-2"}
    )
    assert status == 422
    assert "Idempotency-Key" in answer["message"]
    assert len(stored_orders()) == 1


def test_the_customer_is_the_tokens_subject_never_the_body(api: ModuleType) -> None:
    call(api, "POST", "/orders", order_request(("SKU-RED-MUG", 1, 1250)), customer="cust-ada")
    [order] = stored_orders()
    assert order["customer_id"] == "cust-ada"
    assert json.loads(order["order_placed"])["data"]["customer_id"] == "cust-ada"
    status, answer = call(api, "POST", "/orders", {**order_request(("SKU-RED-MUG", 1, 1)), "customer_id": "someone"})
    assert status == 422
    assert [error["field"] for error in answer["errors"]] == ["customer_id"]


def test_without_a_subject_nothing_is_served(api: ModuleType) -> None:
    assert call(api, "POST", "/orders", order_request(("SKU-RED-MUG", 1, 1250)), customer=None)[0] == 401
    assert stored_orders() == []
    assert call(api, "GET", "/operator/orders/x")[0] == 401  # a customer's token on an operator route


def test_another_customers_order_and_trail_are_a_404_like_no_order(api: ModuleType) -> None:
    _, created = call(api, "POST", "/orders", order_request(("SKU-RED-MUG", 1, 1250)), customer="cust-ada")
    order_id = created["order_id"]
    for path in (f"/orders/{order_id}", f"/orders/{order_id}/events"):
        assert call(api, "GET", path, customer="cust-ada")[0] == 200
        status, answer = call(api, "GET", path, customer="cust-grace")
        assert (status, answer) == (404, {"message": f"no order {order_id}"})
        assert call(api, "GET", path.replace(order_id, "no-such-order"), customer="cust-grace") == (
            404,
            {"message": "no order no-such-order"},
        )


def test_an_operator_reads_any_order_and_its_trail(api: ModuleType) -> None:
    _, created = call(api, "POST", "/orders", order_request(("SKU-RED-MUG", 1, 1250)), customer="cust-ada")
    status, order = call(api, "GET", f"/operator/orders/{created['order_id']}", customer=None, operator="oncall")
    assert status == 200
    assert order["customer_id"] == "cust-ada"
    status, trail = call(api, "GET", f"/operator/orders/{created['order_id']}/events", customer=None, operator="oncall")
    assert (status, trail["order_id"]) == (200, created["order_id"])
    assert call(api, "GET", "/operator/orders/nope", customer=None, operator="oncall")[0] == 404


def test_two_customers_with_the_same_idempotency_key_get_two_orders(api: ModuleType) -> None:
    body = order_request(("SKU-RED-MUG", 1, 1250))
    first = call(api, "POST", "/orders", body, headers={"Idempotency-Key": "k-9"}, customer="cust-ada")
    second = call(api, "POST", "/orders", body, headers={"Idempotency-Key": "k-9"}, customer="cust-grace")
    assert first[0] == second[0] == 201
    assert first[1]["order_id"] != second[1]["order_id"]
    assert len(stored_orders()) == 2


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
                occurred_at=datetime(2026, 11, 24, 12, tzinfo=UTC),
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
