"""payment: charges and refunds for the saga's commands, through the payment-provider port."""

from __future__ import annotations

from orderflow.catalog import ChargePayment, RefundPayment
from orderflow.commands import CommandOutcome, answering_saga
from orderflow.consumer import SqsConsumer
from payment.ledger import PaymentsLedger
from payment.provider import provider_named
from payment.service import charge_payment, refund_payment
from payment.settings import get_settings


def decide(command: ChargePayment | RefundPayment) -> CommandOutcome:
    settings = get_settings()
    ledger, provider = PaymentsLedger(settings.payments_table_name), provider_named(settings.payment_provider)
    if isinstance(command, ChargePayment):
        return charge_payment(command, ledger, provider)
    return refund_payment(command, ledger, provider)


consumer = SqsConsumer[ChargePayment | RefundPayment](
    accepts=(ChargePayment, RefundPayment), apply=answering_saga(decide, get_settings), settings=get_settings
)
lambda_handler = consumer.lambda_handler
