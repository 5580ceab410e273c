"""A tiny load run through the local cloud: every order ends CONFIRMED and the summary adds up."""

from __future__ import annotations

import pytest

from tests.integration.conftest import new_sku
from tools.localcloud.cloud import LocalCloud
from tools.localcloud.load import LoadPlan, load_local_cloud, standard_phases

pytestmark = pytest.mark.integration


def test_a_small_ramp_hold_and_spike_completes_every_order(cloud: LocalCloud) -> None:
    # 2 orders while ramping to 2/s, 2 at 2/s, then 4 in a one-second spike at 4/s: 8 in 4 seconds.
    plan = LoadPlan(standard_phases(rate=2.0, ramp=2.0, hold=1.0, spike=1.0, multiplier=2.0), drain_timeout=60)
    skus = [new_sku("LOAD"), new_sku("LOAD")]
    result = load_local_cloud(cloud, plan, skus, say=lambda _: None)

    assert len(result.orders) == 8
    assert [order.status for order in result.orders] == ["201"] * 8
    assert result.not_terminal == []
    assert {order.final_status for order in result.orders} == {"CONFIRMED"}  # stock was seeded for all of them

    rows = result.summaries()
    assert [row.name for row in rows] == ["ramp", "base", "spike", "all"]
    assert [row.sent for row in rows] == [2, 2, 4, 8]
    for row in rows:
        assert row.sent == row.accepted + sum(row.rejected.values())
        assert row.completed == row.accepted
        for latency in (row.post_latency, row.completion_latency):
            assert latency.p50 is not None
            assert latency.p95 is not None
            assert latency.p99 is not None
            assert 0 < latency.p50 <= latency.p95 <= latency.p99
        assert row.placed_per_second > 0
        assert row.completed_per_second > 0
    total = rows[-1]
    assert total.post_latency.p50 is not None
    assert total.completion_latency.p50 is not None
    assert total.completion_latency.p50 > total.post_latency.p50  # an order completes after it is accepted
    # Every consumer queue was watched (the template's saga, service and subscriber queues).
    assert {"InventoryQueue", "PaymentQueue", "ShippingQueue", "ProjectorQueue"} <= set(result.queue_peaks)
