"""saga-starter: every OrderPlaced starts the order saga exactly once (execution name = order id)."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from saga_starter_executions import start_saga
from saga_starter_settings import get_settings

from orderflow.catalog import OrderPlaced
from orderflow.idempotency import event_idempotency_config, idempotent_on_event_id
from orderflow.parsing import parse_sqs_record
from orderflow.saga import SagaInput

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def start_order_saga(event: OrderPlaced) -> None:
    settings = get_settings()
    started = start_saga(settings.state_machine_arn, SagaInput.from_order_placed(event, settings.saga_config()))
    metrics.add_metric(name="SagaStarted" if started else "SagaAlreadyStarted", unit=MetricUnit.Count, value=1)
    logger.info("Saga started" if started else "Saga already running or done for this order")


@cache
def _start_once() -> Any:
    return idempotent_on_event_id(start_order_saga, get_settings())


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    event = parse_sqs_record(record, (OrderPlaced,))
    logger.set_correlation_id(event.order_id)
    _start_once()(event=event)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    event_idempotency_config().register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
