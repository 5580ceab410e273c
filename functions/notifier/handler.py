"""notifier: one customer notification per OrderConfirmed, OrderCancelled or ShipmentCreated."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from notifier_messages import Notifiable, notification_for
from notifier_settings import get_settings
from notifier_topic import publish_notification

from orderflow.catalog import OrderCancelled, OrderConfirmed, ShipmentCreated
from orderflow.idempotency import event_idempotency_config, idempotent_on_event_id
from orderflow.parsing import parse_sqs_record

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def notify_customer(event: Notifiable) -> None:
    notification = notification_for(event)
    publish_notification(get_settings().notifications_topic_arn, notification)
    metrics.add_metric(name=f"Notification{notification.channel.value.capitalize()}", unit=MetricUnit.Count, value=1)


@cache
def _notify_once() -> Any:
    return idempotent_on_event_id(notify_customer, get_settings())


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    event = parse_sqs_record(record, (OrderConfirmed, OrderCancelled, ShipmentCreated))
    logger.set_correlation_id(event.order_id)
    _notify_once()(event=event)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    event_idempotency_config().register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
