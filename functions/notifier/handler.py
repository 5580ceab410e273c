"""notifier: one customer notification per OrderConfirmed, OrderCancelled or ShipmentCreated."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from notifier.messages import Notifiable, notification_for
from notifier.settings import get_settings
from notifier.topic import publish_notification
from orderflow.catalog import OrderCancelled, OrderConfirmed, ShipmentCreated
from orderflow.consumer import SqsConsumer
from orderflow.observability import metrics


def notify_customer(event: Notifiable) -> None:
    notification = notification_for(event)
    publish_notification(get_settings().notifications_topic_arn, notification)
    metrics.add_metric(name=f"Notification{notification.channel.value.capitalize()}", unit=MetricUnit.Count, value=1)


consumer = SqsConsumer[Notifiable](
    accepts=(OrderConfirmed, OrderCancelled, ShipmentCreated), apply=notify_customer, settings=get_settings
)
lambda_handler = consumer.lambda_handler
