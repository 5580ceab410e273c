"""Against a deployed stack: place an order through the real API and watch it reach a terminal state.

Skipped unless ORDERFLOW_API_URL is set (the stack's ApiUrl output), e.g.
ORDERFLOW_API_URL=$(aws cloudformation describe-stacks --stack-name orderflow-dev \
  --query "Stacks[0].Outputs[?OutputKey=='ApiUrl'].OutputValue" --output text) pytest tests/e2e
"""

from __future__ import annotations

import os

import pytest

from tests.support.waiting import wait_for
from tools.localcloud.orders_client import order_request, request

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.environ.get("ORDERFLOW_API_URL"), reason="needs a deployed stack: set ORDERFLOW_API_URL"),
]


def test_an_order_placed_on_the_deployed_api_reaches_a_terminal_state() -> None:
    api = os.environ["ORDERFLOW_API_URL"].rstrip("/")
    placed = request("POST", f"{api}/orders", order_request(("SKU-RED-MUG", 1, 1250)))
    assert placed.status == 201, placed.body
    order_id = placed.body["order_id"]

    final = wait_for(
        lambda: (view := request("GET", f"{api}/orders/{order_id}").body) and view["status"] != "PENDING" and view,
        timeout=120,
        what=f"order {order_id} to leave PENDING",
    )
    assert final["status"] in {"CONFIRMED", "CANCELLED"}
