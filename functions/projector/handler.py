"""projector: keeps each order's status and history from the lifecycle events and facts on its queue."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from projector_settings import get_settings
from projector_store import project

from orderflow import catalog
from orderflow.envelope import Event
from orderflow.idempotency import event_idempotency_config, idempotent_on_event_id
from orderflow.orders_table import OrdersTable
from orderflow.parsing import parse_sqs_record

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)

# What ProjectorRule routes here: lifecycle events and facts, never commands.
ACCEPTED: tuple[type[Event], ...] = tuple(event for event in catalog.CATALOG if event.KIND == "fact")


def apply_to_order(event: Event) -> None:
    view = project(event, OrdersTable(get_settings().orders_table_name))
    logger.info("Order projected", extra={"detail_type": event.DETAIL_TYPE, "status": view.status.value})


@cache
def _apply_once() -> Any:
    return idempotent_on_event_id(apply_to_order, get_settings())


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    event = parse_sqs_record(record, ACCEPTED)
    logger.set_correlation_id(event.order_id)
    _apply_once()(event=event)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    event_idempotency_config().register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
