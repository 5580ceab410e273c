"""Issue 4 through the local cloud: notifications by channel, the Kinesis audit trail, alarms."""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import Shop, order_request
from tools.localcloud.alarms import evaluate_alarms
from tools.localcloud.cloud import LocalCloud

pytestmark = pytest.mark.integration


def channel_messages(cloud: LocalCloud, queue_id: str, order_id: str) -> list[dict[str, object]]:
    """Notifications for one order in a channel queue (nothing consumes those queues locally)."""
    sqs = cloud.client("sqs")
    found: list[dict[str, object]] = []
    while True:
        # Each read hides what it saw for a minute, so the next read returns the rest of the queue.
        messages = sqs.receive_message(QueueUrl=cloud.ref(queue_id), MaxNumberOfMessages=10, VisibilityTimeout=60).get(
            "Messages", []
        )
        if not messages:
            return found
        found += [body for body in (json.loads(m["Body"]) for m in messages) if body.get("order_id") == order_id]


def test_the_audit_trail_holds_every_event_of_the_order_in_order(shop: Shop, cloud: LocalCloud) -> None:
    skus = shop.seed(mug=2)
    order_id = shop.place(order_request((skus["mug"], 1, 1250)))
    assert shop.wait_terminal(order_id)["status"] == "CONFIRMED"
    kinds = [entry["detail_type"] for entry in shop.audit_trail(order_id)]
    # Commands and facts alike, in the order they happened on the bus
    expected_order = [
        "OrderPlaced",
        "ReserveInventory",
        "InventoryReserved",
        "ChargePayment",
        "PaymentCharged",
        "CreateShipment",
        "ShipmentCreated",
        "OrderConfirmed",
    ]
    assert [kind for kind in kinds if kind in expected_order] == expected_order
    assert len(kinds) == len(set(kinds)), f"duplicates in {kinds}"
    # ...on the template's on-demand stream, which moto starts with four shards
    stream = cloud.client("kinesis").describe_stream_summary(StreamName=cloud.ref("AuditStream"))
    assert stream["StreamDescriptionSummary"]["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert stream["StreamDescriptionSummary"]["OpenShardCount"] == 4


def test_notifications_reach_the_channel_their_filter_policy_selects(shop: Shop, cloud: LocalCloud) -> None:
    skus = shop.seed(mug=2)
    order_id = shop.place(order_request((skus["mug"], 1, 1250)))
    assert shop.wait_terminal(order_id)["status"] == "CONFIRMED"
    email = {message["event_type"] for message in channel_messages(cloud, "EmailChannelQueue", order_id)}
    sms = {message["event_type"] for message in channel_messages(cloud, "SmsChannelQueue", order_id)}
    assert email == {"OrderConfirmed"}
    assert sms == {"ShipmentCreated"}


def test_a_message_in_a_dlq_puts_its_alarm_in_alarm(cloud: LocalCloud) -> None:
    # Given a message sitting in the notifier's DLQ
    cloud.client("sqs").send_message(QueueUrl=cloud.ref("NotifierDLQ"), MessageBody=json.dumps({"dead": "letter"}))
    # When the local cloud evaluates the template's alarms
    states = {evaluation.logical_id: evaluation.state for evaluation in evaluate_alarms(cloud)}
    # Then that DLQ's alarm fires, and moto's CloudWatch says so too
    assert states["NotifierDLQAlarm"] == "ALARM"
    alarms = cloud.client("cloudwatch").describe_alarms(StateValue="ALARM")["MetricAlarms"]
    assert cloud.ref("NotifierDLQAlarm") in {alarm["AlarmName"] for alarm in alarms}
    # And an empty DLQ's alarm does not
    assert states["ShippingDLQAlarm"] == "OK"
