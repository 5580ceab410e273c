"""Against a deployed stack: place an order through the real API and watch it reach a terminal state.

Skipped unless ORDERFLOW_API_URL is set (the stack's ApiUrl output) with ORDERFLOW_API_TOKEN, a customer's
bearer token (README, "Load against a deployed stack", shows how to get both), e.g.
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
    pytest.mark.skipif(
        not (os.environ.get("ORDERFLOW_API_URL") and os.environ.get("ORDERFLOW_API_TOKEN")),
        reason="needs a deployed stack: set ORDERFLOW_API_URL and ORDERFLOW_API_TOKEN",
    ),
]


def test_an_order_placed_on_the_deployed_api_reaches_a_terminal_state() -> None:
    api, token = os.environ["ORDERFLOW_API_URL"].rstrip("/"), os.environ["ORDERFLOW_API_TOKEN"]
    assert request("POST", f"{api}/orders", order_request(("SKU-RED-MUG", 1, 1250))).status == 401
    placed = request("POST", f"{api}/orders", order_request(("SKU-RED-MUG", 1, 1250)), token=token)
    assert placed.status == 201, placed.body
    order_id = placed.body["order_id"]

    final = wait_for(
        lambda: (
            (view := request("GET", f"{api}/orders/{order_id}", token=token).body)
            and view["status"] != "PENDING"
            and view
        ),
        timeout=120,
        what=f"order {order_id} to leave PENDING",
    )
    assert final["status"] in {"CONFIRMED", "CANCELLED"}
