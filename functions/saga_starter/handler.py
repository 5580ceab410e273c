"""saga-starter: on OrderPlaced, starts the order saga exactly once (execution name = order id)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from orderflow.catalog import OrderPlaced
from orderflow.consumer import SqsConsumer
from orderflow.observability import logger, metrics
from orderflow.saga import SagaInput
from saga_starter.executions import start_saga
from saga_starter.settings import get_settings


def start_order_saga(event: OrderPlaced) -> None:
    settings = get_settings()
    started = start_saga(settings.state_machine_arn, SagaInput.from_order_placed(event, settings.saga_config()))
    metrics.add_metric(name="SagaStarted" if started else "SagaAlreadyStarted", unit=MetricUnit.Count, value=1)
    logger.info("Saga started" if started else "Saga already running or done for this order")


# One execution per order: Step Functions refuses a second with the order's name (ExecutionAlreadyExists).
consumer = SqsConsumer(
    accepts=(OrderPlaced,), apply=start_order_saga, settings=get_settings, applies_each_event_once=True
)
lambda_handler = consumer.lambda_handler
