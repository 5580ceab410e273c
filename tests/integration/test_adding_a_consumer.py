"""Adding a consumer is one declaration: the local cloud runs a consumer that only a test declared."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from orderflow.catalog import OrderConfirmed, OrderConfirmedData
from tests.support.throwaway import template_with_throwaway_consumer
from tests.support.waiting import wait_for
from tools.localcloud.cloud import LocalCloud
from tools.localcloud.template import load_template

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cloud_with_throwaway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    template = load_template(template_with_throwaway_consumer(tmp_path_factory.mktemp("throwaway-template")))
    with LocalCloud(template, stack_name="throwaway", work_dir=tmp_path_factory.mktemp("throwaway")) as cloud:
        yield cloud


def put(cloud: LocalCloud, detail_type: str, detail: str) -> None:
    entry = {"EventBusName": cloud.ref("EventBus"), "Source": "orderflow.saga", "DetailType": detail_type}
    cloud.client("events").put_events(Entries=[{**entry, "Detail": detail}])


def test_the_local_cloud_runs_a_newly_declared_consumer_with_its_rule_queue_and_dlq(
    cloud_with_throwaway: LocalCloud,
) -> None:
    cloud = cloud_with_throwaway
    mapping = cloud.mapping_for_function("ThrowawayFunction")
    # When an event it takes and a malformed one reach the bus
    confirmed = OrderConfirmed.create(
        OrderConfirmedData(order_id="throwaway-order"), correlation_id="throwaway-order", producer="orderflow.saga"
    )
    put(cloud, "OrderConfirmed", confirmed.detail())
    put(cloud, "OrderConfirmed", json.dumps({"metadata": {"event_id": "broken"}, "data": {}}))
    # Then its rule routes both to its queue: the good one is processed, the bad one lands in its DLQ
    wait_for(lambda: mapping.stats.processed >= 1, timeout=60, what="the throwaway consumer to process its event")
    wait_for(lambda: cloud.queue_depths("ThrowawayDLQ")[0] == 1, timeout=60, what="the malformed event in ThrowawayDLQ")
    assert mapping.stats.processed == 1
    assert Path(mapping.function.spec.code_dir).name == "throwaway_consumer"
