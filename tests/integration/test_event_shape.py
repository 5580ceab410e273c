"""A rule's SQS target receives the whole event, in EventBridge's shape."""

from __future__ import annotations

import json

import pytest

from orderflow.catalog import OrderConfirmed, OrderConfirmedData
from tests.support.bus import put_event
from tests.support.waiting import wait_for
from tools.localcloud.cloud import LocalCloud

pytestmark = pytest.mark.integration

EVENTBRIDGE_FIELDS = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}


def test_a_queue_target_receives_every_field_of_the_event(cloud: LocalCloud) -> None:
    confirmed = OrderConfirmed.create(
        OrderConfirmedData(order_id="shape-order"), correlation_id="shape-order", producer="orderflow.saga"
    )
    sqs = cloud.client("sqs")
    # Given the notifier is not draining its queue, so the delivered message can be read as it arrived
    with cloud.outage("NotifierFunction"):
        put_event(cloud, confirmed)

        def delivered() -> dict[str, object] | None:
            for message in sqs.receive_message(
                QueueUrl=cloud.ref("NotifierQueue"), MaxNumberOfMessages=10, VisibilityTimeout=0
            ).get("Messages", []):
                body = json.loads(message["Body"])
                if body.get("detail", {}).get("metadata", {}).get("event_id") == confirmed.event_id:
                    return dict(body)
            return None

        event = wait_for(delivered, timeout=30, what="OrderConfirmed in the notifier's queue")
    # Then it carries every top-level field EventBridge delivers, with the account and region of the bus
    assert set(event) == EVENTBRIDGE_FIELDS
    assert (event["account"], event["region"], event["detail-type"]) == ("123456789012", "us-east-1", "OrderConfirmed")
    assert event["detail"] == json.loads(confirmed.detail())
