"""notifier: channel rules, and SNS filter policies (read from the template) routing each event type."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from notifier.messages import Channel, notification_for
from orderflow.catalog import (
    CancellationReason,
    OrderCancelled,
    OrderCancelledData,
    OrderConfirmed,
    OrderConfirmedData,
    ShipmentCreated,
    ShipmentCreatedData,
)
from tests.support.capture import BusCapture
from tests.support.factories import sqs_event
from tests.support.handlers import load_handler
from tests.support.lambda_context import FakeLambdaContext
from tools.localcloud.template import load_template


def confirmed(order_id: str = "o1") -> OrderConfirmed:
    return OrderConfirmed.create(
        OrderConfirmedData(order_id=order_id), correlation_id=order_id, producer="orderflow.saga"
    )


def cancelled(order_id: str = "o1") -> OrderCancelled:
    data = OrderCancelledData(order_id=order_id, reason=CancellationReason.OUT_OF_STOCK)
    return OrderCancelled.create(data, correlation_id=order_id, producer="orderflow.saga")


def shipped(order_id: str = "o1") -> ShipmentCreated:
    data = ShipmentCreatedData(order_id=order_id, shipment_id="s", carrier="c", tracking_number="T1")
    return ShipmentCreated.create(data, correlation_id=order_id, producer="shipping")


@pytest.mark.parametrize(
    ("event", "channel"),
    [(confirmed(), Channel.EMAIL), (cancelled(), Channel.EMAIL), (shipped(), Channel.SMS)],
    ids=["confirmed", "cancelled", "shipped"],
)
def test_each_event_type_has_its_channel(event: Any, channel: Channel) -> None:
    notification = notification_for(event)
    assert notification.channel is channel
    assert notification.order_id == "o1"


@pytest.fixture
def channels(function_env: Callable[..., BusCapture], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The notifications topic with the template's subscriptions: channel queue logical id → URL."""
    function_env()
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic_arn = sns.create_topic(Name="notifications")["TopicArn"]
    monkeypatch.setenv("NOTIFICATIONS_TOPIC_ARN", topic_arn)
    resources = load_template().sam["Resources"]
    urls = {}
    for subscription in (
        r for r in resources.values() if r["Type"] == "AWS::SNS::Subscription" and r["Properties"]["Protocol"] == "sqs"
    ):
        properties = subscription["Properties"]
        queue_id = properties["Endpoint"]["Fn::GetAtt"][0]
        urls[queue_id] = sqs.create_queue(QueueName=queue_id)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=urls[queue_id], AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={
                "FilterPolicy": json.dumps(properties["FilterPolicy"]),
                "FilterPolicyScope": properties["FilterPolicyScope"],
                "RawMessageDelivery": str(properties["RawMessageDelivery"]).lower(),
            },
        )
    return urls


def received(queue_url: str) -> list[str]:
    messages = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return sorted(json.loads(message["Body"])["event_type"] for message in messages)


def test_filter_policies_route_each_event_type_to_its_channel_once(channels: dict[str, str]) -> None:
    assert set(channels) == {"EmailChannelQueue", "SmsChannelQueue"}
    notifier = load_handler("notifier")
    batch = sqs_event(confirmed(), cancelled("o2"), shipped())
    assert notifier.lambda_handler(batch, FakeLambdaContext()) == {"batchItemFailures": []}
    notifier.lambda_handler(batch, FakeLambdaContext())  # the same batch delivered again
    assert received(channels["EmailChannelQueue"]) == ["OrderCancelled", "OrderConfirmed"]
    assert received(channels["SmsChannelQueue"]) == ["ShipmentCreated"]


def test_a_malformed_record_fails_alone(channels: dict[str, str]) -> None:
    batch = sqs_event("{}", confirmed())
    result = load_handler("notifier").lambda_handler(batch, FakeLambdaContext())
    assert result["batchItemFailures"] == [{"itemIdentifier": batch["Records"][0]["messageId"]}]
    assert received(channels["EmailChannelQueue"]) == ["OrderConfirmed"]
    assert os.environ["NOTIFICATIONS_TOPIC_ARN"]
