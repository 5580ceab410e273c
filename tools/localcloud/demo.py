"""The main job: run orderflow on the local cloud, place a batch of orders over HTTP, report, check invariants."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tools.localcloud.cloud import LocalCloud
from tools.localcloud.orders_client import ADDRESS, operator_request, order_request, request

STOCK = {"SKU-RED-MUG": 20, "SKU-BLUE-MUG": 10, "SKU-TEAPOT": 5, "SKU-LAST-ONE": 1}
# The demo's customers, signed in to the template's user pool (moto's Cognito).
ADA, GRACE = "ada", "grace"


@dataclass
class Request:
    """One HTTP request the demo makes, and what it expects to happen to the order."""

    label: str
    body: Any
    expect_status: int
    idempotency_key: str | None = None
    expect_final: str | None = None  # CONFIRMED / CANCELLED for accepted orders
    expect_reason: str | None = None
    raw: bool = False  # body is sent as-is (malformed JSON)
    # Orders racing for the same last unit: nothing orders their sagas, so exactly one of them wins.
    race: str | None = None
    customer: str | None = ADA  # who is signed in; None: no token at all


@dataclass
class Response:
    request: Request
    status: int
    body: Any

    @property
    def order_id(self) -> str | None:
        return self.body.get("order_id") if isinstance(self.body, dict) else None


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)

    def section(self, title: str) -> None:
        self.lines.append("")
        self.lines.append(title)
        self.lines.append("-" * len(title))

    def add(self, text: str) -> None:
        self.lines.append(text)

    def check(self, invariant: str, holds: bool, detail: str = "") -> None:
        self.lines.append(f"  [{'ok' if holds else 'BROKEN'}] {invariant}{f' ({detail})' if detail else ''}")
        if not holds:
            self.broken.append(invariant)


def sample_requests(happy_orders: int) -> list[Request]:
    """A mix that exercises every path: confirmed, out of stock, declined, shipping refused, bad input, duplicates."""
    requests = [
        Request(
            f"order {n + 1}",
            order_request(
                ("SKU-RED-MUG", 1 + n % 2, 1250), ("SKU-TEAPOT", 1, 3900) if n % 3 == 0 else ("SKU-BLUE-MUG", 1, 1100)
            ),
            201,
            expect_final="CONFIRMED",
        )
        for n in range(happy_orders)
    ]
    repeated = order_request(("SKU-BLUE-MUG", 2, 1100))
    requests += [
        Request("last unit, one buyer", order_request(("SKU-LAST-ONE", 1, 9900)), 201, race="SKU-LAST-ONE"),
        Request(
            "last unit, another buyer",
            order_request(("SKU-LAST-ONE", 1, 9900)),
            201,
            race="SKU-LAST-ONE",
            customer=GRACE,
        ),
        Request(
            "more than in stock",
            order_request(("SKU-TEAPOT", 50, 3900)),
            201,
            expect_final="CANCELLED",
            expect_reason="OUT_OF_STOCK",
        ),
        Request(
            "card declined",
            order_request(("SKU-RED-MUG", 1, 1250), token="tok_declined"),
            201,
            expect_final="CANCELLED",
            expect_reason="PAYMENT_DECLINED",
            customer=GRACE,
        ),
        Request(
            "carrier refuses address",
            order_request(("SKU-BLUE-MUG", 1, 1100), address={**ADDRESS, "postal_code": "00000"}),
            201,
            expect_final="CANCELLED",
            expect_reason="SHIPPING_FAILED",
        ),
        Request("retry with same key", repeated, 201, idempotency_key="demo-key-1", expect_final="CONFIRMED"),
        Request(
            "retry with same key (duplicate)", repeated, 201, idempotency_key="demo-key-1", expect_final="CONFIRMED"
        ),
        Request(
            "same key, different body", order_request(("SKU-BLUE-MUG", 3, 1100)), 422, idempotency_key="demo-key-1"
        ),
        Request("malformed JSON", "{not json", 400, raw=True),
        Request("quantity zero", order_request(("SKU-RED-MUG", 0, 1250)), 422),
        Request(
            "missing address",
            {k: v for k, v in order_request(("SKU-RED-MUG", 1, 1250)).items() if k != "shipping_address"},
            422,
        ),
        Request("unknown currency format", {**order_request(("SKU-RED-MUG", 1, 1250)), "currency": "euro"}, 422),
        Request("total beyond the bound", order_request(("SKU-RED-MUG", 2, 100_000_000)), 422),
        Request("customer id in the body", {**order_request(("SKU-RED-MUG", 1, 1250)), "customer_id": GRACE}, 422),
        Request("no token", order_request(("SKU-RED-MUG", 1, 1250)), 401, customer=None),
    ]
    return requests


def send(cloud: LocalCloud, order: Request) -> Response:
    headers = {"Idempotency-Key": order.idempotency_key} if order.idempotency_key else None
    token = cloud.customers.token(order.customer) if order.customer else None
    response = request("POST", f"{cloud.api_url}/orders", order.body, headers=headers, raw=order.raw, token=token)
    return Response(order, response.status, response.body)


def order_view(cloud: LocalCloud, order_id: str) -> dict[str, Any]:
    """The order's view, read as an operator (any customer's), or {} when the API has none."""
    response = operator_request("GET", f"{cloud.api_url}/operator/orders/{order_id}", cloud.environment())
    return dict(response.body) if response.status == 200 else {}


def check_isolation(report: Report, cloud: LocalCloud, responses: list[Response]) -> None:
    """One customer cannot read another's order or its trail: the same 404 as an order that does not exist."""
    report.section("Customers see only their own orders")
    order_id = next(r.order_id for r in responses if r.status == 201 and r.request.customer == ADA and r.order_id)
    lines = []
    for customer in (ADA, GRACE):
        for suffix in ("", "/events"):
            answer = request("GET", f"{cloud.api_url}/orders/{order_id}{suffix}", token=cloud.customers.token(customer))
            lines.append((customer, suffix, answer.status))
            report.add(f"  {customer:6} GET /orders/{order_id}{suffix:8} -> {answer.status}")
    report.check(
        f"{GRACE} gets 404 for {ADA}'s order and its trail; {ADA} gets 200",
        [status for _, _, status in lines] == [200, 200, 404, 404],
    )


def inject_malformed_event(cloud: LocalCloud) -> None:
    """One event that claims to be OrderPlaced but breaks the contract: it must fail alone into DLQs."""
    cloud.client("events").put_events(
        Entries=[
            {
                "EventBusName": cloud.ref("EventBus"),
                "Source": "orderflow.orders",
                "DetailType": "OrderPlaced",
                "Detail": json.dumps({"metadata": {"event_id": "malformed-demo-event"}, "data": {"order_id": "???"}}),
            }
        ]
    )


def run_demo(cloud: LocalCloud, happy_orders: int = 8) -> Report:
    """Seed stock, place the sample orders, wait for quiet, and report with the invariant checks."""
    from tools.localcloud import ledgers

    ledgers.seed_stock(cloud, STOCK)
    responses = [send(cloud, request) for request in sample_requests(happy_orders)]
    inject_malformed_event(cloud)
    waited = cloud.wait_until_quiet(timeout=300)
    return build_report(cloud, responses, waited)


def build_report(cloud: LocalCloud, responses: list[Response], waited: float) -> Report:
    """The report of what the system did with `responses`' orders, and whether every invariant holds."""
    from tools.localcloud import report as sections

    report = Report(responses=responses)
    report.section("Requests")
    accepted = [response for response in responses if response.status == 201]
    for response in responses:
        outcome = response.order_id or (
            response.body.get("message") if isinstance(response.body, dict) else response.body
        )
        mark = "" if response.status == response.request.expect_status else "   <-- unexpected"
        report.add(f"  {response.status}  {response.request.label:34} {str(outcome)[:90]}{mark}")
    rejected = Counter(response.status for response in responses if response.status >= 400)
    distinct = len({response.order_id for response in accepted})
    by_status = ", ".join(f"{count} x {status}" for status, count in sorted(rejected.items()))
    report.add(
        f"  accepted {len(accepted)} ({distinct} distinct orders), rejected {sum(rejected.values())}: {by_status}"
    )
    report.add(f"  system quiet after {waited:.1f}s")

    orders = {response.order_id: response for response in accepted if response.order_id}
    views = {order_id: order_view(cloud, order_id) for order_id in orders}
    sections.report_orders(report, cloud, orders, views)
    sections.report_consumers(report, cloud)
    sections.report_notifications(report, cloud)
    sections.report_alarms(report, cloud)
    sections.report_audit_trail(report, cloud, orders)

    check_isolation(report, cloud, responses)
    report.section("Invariants")
    report.check(
        "every request got the status it should",
        all(response.status == response.request.expect_status for response in responses),
    )
    sections.check_invariants(report, cloud, orders, views, STOCK)
    return report
