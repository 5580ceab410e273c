"""One local cloud per test session (per xdist worker), started from template.yaml."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.waiting import wait_for
from tools.localcloud import ledgers
from tools.localcloud.cloud import LocalCloud
from tools.localcloud.orders_client import order_request, request

TERMINAL = {"CONFIRMED", "CANCELLED"}
# The sandbox adapters' documented triggers (functions/payment, functions/shipping).
DECLINED_TOKEN = "tok_declined"
ADDRESS_REFUSED_BY_CARRIER = {
    "name": "Nobody",
    "line1": "1 Nowhere Lane",
    "city": "Atlantis",
    "postal_code": "00000",
    "country": "GB",
}


def running_cloud(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[LocalCloud]:
    """A local cloud from template.yaml, with steps that time out in 30 s, in a fresh work directory `name`."""
    with LocalCloud(
        parameter_overrides={"StepTimeoutSeconds": "30"}, work_dir=tmp_path_factory.mktemp(name)
    ) as running:
        yield running


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    yield from running_cloud(tmp_path_factory, "cloud")


def new_sku(label: str = "T") -> str:
    """A SKU no other test touches, so stock assertions are exact."""
    return f"SKU-{label}-{uuid.uuid4().hex[:8].upper()}"


class Shop:
    """What a test does to the running system: seed stock, place orders (as a signed-in customer of its own),
    read outcomes."""

    def __init__(self, cloud: LocalCloud, customer: str | None = None) -> None:
        self.cloud = cloud
        self.customer = customer or f"shopper-{uuid.uuid4().hex[:8]}"

    @property
    def token(self) -> str:
        return self.cloud.customers.token(self.customer)

    @property
    def api(self) -> str:
        return self.cloud.api_url

    def seed(self, **stock: int) -> dict[str, str]:
        """Seed fresh SKUs: seed(mug=3) -> {'mug': 'SKU-MUG-…'} with 3 units."""
        skus = {label: new_sku(label.upper()) for label in stock}
        ledgers.seed_stock(self.cloud, {skus[label]: quantity for label, quantity in stock.items()})
        return skus

    def set_stock(self, sku: str, quantity: int) -> None:
        """Stock that arrives behind the system's back (a delivery from the warehouse)."""
        ledgers.seed_stock(self.cloud, {sku: quantity})

    def place(self, body: dict[str, Any], idempotency_key: str | None = None) -> str:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        response = request("POST", f"{self.api}/orders", body, headers, token=self.token)
        assert response.status == 201, f"POST /orders -> {response.status}: {response.body}"
        return str(response.body["order_id"])

    def order(self, order_id: str) -> dict[str, Any]:
        response = request("GET", f"{self.api}/orders/{order_id}", token=self.token)
        assert response.status == 200, f"GET /orders/{order_id} -> {response.status}: {response.body}"
        return dict(response.body)

    def wait_terminal(self, order_id: str, timeout: float = 90) -> dict[str, Any]:
        wait_for(
            lambda: self.order(order_id)["status"] in TERMINAL,
            timeout=timeout,
            what=f"order {order_id} to reach CONFIRMED or CANCELLED",
        )
        self.cloud.wait_until_quiet(timeout=timeout)
        return self.order(order_id)

    def wait_cancelled(self, order_id: str, reason: str) -> dict[str, Any]:
        """The order's view once it is over, after checking it was cancelled for `reason`."""
        view = self.wait_terminal(order_id)
        assert view["status"] == "CANCELLED"
        assert view["cancellation_reason"] == reason
        return view

    def audit_trail(self, order_id: str) -> list[dict[str, Any]]:
        response = request("GET", f"{self.api}/orders/{order_id}/events", token=self.token)
        assert response.status == 200, f"GET /orders/{order_id}/events -> {response.status}: {response.body}"
        body = response.body
        return list(body["events"] if isinstance(body, dict) else body)

    def stock(self, *skus: str) -> dict[str, int]:
        return ledgers.available_stock(self.cloud, list(skus))

    def ledger(self, order_id: str) -> tuple[int, int]:
        """(charged, refunded) cents for the order."""
        charged, refunded = ledgers.payment_totals(self.cloud, [order_id])
        return charged.get(order_id, 0), refunded.get(order_id, 0)

    def saga_executions(self, order_id: str) -> list[dict[str, Any]]:
        stepfunctions = self.cloud.client("stepfunctions")
        executions = stepfunctions.list_executions(stateMachineArn=self.cloud.ref("OrderSaga"))["executions"]
        return [execution for execution in executions if execution["name"] == order_id]


@pytest.fixture
def shop(cloud: LocalCloud) -> Shop:
    return Shop(cloud)


def history_types(view: dict[str, Any]) -> list[str]:
    return [entry["detail_type"] for entry in view["history"]]


__all__ = ["ADDRESS_REFUSED_BY_CARRIER", "DECLINED_TOKEN", "Shop", "history_types", "new_sku", "order_request"]
