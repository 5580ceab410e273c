"""Publish notifications to the customer notifications topic, with the attributes subscriptions filter on."""

from __future__ import annotations

from notifier.messages import Notification
from orderflow import aws


def publish_notification(topic_arn: str, notification: Notification) -> str:
    response = aws.client("sns").publish(
        TopicArn=topic_arn,
        Subject=notification.subject,
        Message=notification.model_dump_json(),
        MessageAttributes={
            "event_type": {"DataType": "String", "StringValue": notification.event_type},
            "channel": {"DataType": "String", "StringValue": notification.channel.value},
        },
    )
    return str(response["MessageId"])
