"""The local cloud's moto server dead-letters SNS deliveries it cannot make (tools/localcloud/moto_sns.py).

moto delivers to a subscribed queue inside Publish: when the queue is gone, the publisher's call
fails and the subscription's RedrivePolicy is never used. SNS accepts the message and moves the
failed delivery to the subscription's DLQ (or drops it without one).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tools.localcloud.moto_sns import dead_letter_failed_deliveries

ACCOUNT_ARN = "arn:aws:sqs:us-east-1:123456789012"


@pytest.fixture
def sns(aws: None) -> Iterator[dict[str, Any]]:
    undo = dead_letter_failed_deliveries()
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="notifications")["TopicArn"]
    urls = {name: sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("channel", "channel-dlq", "plain")}
    redrive = json.dumps({"deadLetterTargetArn": f"{ACCOUNT_ARN}:channel-dlq"})
    attributes = {"RawMessageDelivery": "true", "RedrivePolicy": redrive}
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"{ACCOUNT_ARN}:channel", Attributes=attributes)
    try:
        yield {"sns": sns, "sqs": sqs, "topic": topic, "urls": urls}
    finally:
        undo()


def bodies(sqs: Any, url: str) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [message["Body"] for message in messages]


def test_a_delivery_to_a_queue_that_is_gone_goes_to_the_subscriptions_dlq_and_publish_succeeds(
    sns: dict[str, Any],
) -> None:
    sns["sqs"].delete_queue(QueueUrl=sns["urls"]["channel"])
    message_id = sns["sns"].publish(TopicArn=sns["topic"], Message="hello")["MessageId"]
    assert message_id
    assert bodies(sns["sqs"], sns["urls"]["channel-dlq"]) == ["hello"]  # raw, as the subscription delivers


def test_a_delivery_that_works_never_reaches_the_dlq(sns: dict[str, Any]) -> None:
    sns["sns"].publish(TopicArn=sns["topic"], Message="hello")
    assert bodies(sns["sqs"], sns["urls"]["channel"]) == ["hello"]
    assert bodies(sns["sqs"], sns["urls"]["channel-dlq"]) == []


def test_without_a_redrive_policy_a_failed_delivery_is_dropped_and_publish_still_succeeds(
    sns: dict[str, Any],
) -> None:
    subscribed = {"Protocol": "sqs", "Endpoint": f"{ACCOUNT_ARN}:plain"}
    sns["sns"].subscribe(TopicArn=sns["topic"], **subscribed)
    sns["sqs"].delete_queue(QueueUrl=sns["urls"]["plain"])
    assert sns["sns"].publish(TopicArn=sns["topic"], Message="hello")["MessageId"]
    assert bodies(sns["sqs"], sns["urls"]["channel"]) == ["hello"]
