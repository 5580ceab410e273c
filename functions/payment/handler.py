"""payment: charges and refunds for the saga's commands, through the payment-provider port."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from payment_ledger import PaymentsLedger
from payment_provider import provider_named
from payment_service import charge_payment, refund_payment
from payment_settings import get_settings

from orderflow.catalog import ChargePayment, RefundPayment
from orderflow.commands import conclude, should_apply
from orderflow.idempotency import event_idempotency_config, idempotent_on_event_id
from orderflow.parsing import parse_sqs_record
from orderflow.publisher import EventPublisher

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def apply_command(event: ChargePayment | RefundPayment) -> None:
    if not should_apply(event):
        logger.warning("Command not applied: the saga no longer waits for it", extra={"command": event.DETAIL_TYPE})
        return
    settings = get_settings()
    ledger, provider = PaymentsLedger(settings.payments_table_name), provider_named(settings.payment_provider)
    if isinstance(event, ChargePayment):
        outcome = charge_payment(event, ledger, provider)
    else:
        outcome = refund_payment(event, ledger, provider)
    logger.info("Payment command applied", extra={"command": event.DETAIL_TYPE, "error": outcome.error})
    conclude(event, outcome, EventPublisher(settings.event_bus_name))


@cache
def _apply_once() -> Any:
    return idempotent_on_event_id(apply_command, get_settings())


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    command = parse_sqs_record(record, (ChargePayment, RefundPayment))
    logger.set_correlation_id(command.order_id)
    _apply_once()(event=command)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    event_idempotency_config().register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
