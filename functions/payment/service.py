"""Apply ChargePayment / RefundPayment against the provider and the ledger."""

from __future__ import annotations

from orderflow.catalog import (
    ChargePayment,
    PaymentCharged,
    PaymentChargedData,
    PaymentDeclined,
    PaymentDeclinedData,
    PaymentRefunded,
    PaymentRefundedData,
    RefundPayment,
)
from orderflow.commands import CommandOutcome
from orderflow.saga import SagaError
from payment.ledger import CHARGE, DECLINE, REFUND, LedgerEntry, PaymentsLedger
from payment.provider import PaymentProvider

PRODUCER = "payment"
MAX_RACES = 3


def _charged(command: ChargePayment, charge: LedgerEntry) -> CommandOutcome:
    data = PaymentChargedData(
        order_id=charge.order_id,
        charge_id=charge.reference,
        amount_cents=charge.amount_cents,
        currency=charge.currency or "EUR",
    )
    return CommandOutcome.succeeded(
        {"charge_id": charge.reference, "amount_cents": charge.amount_cents},
        PaymentCharged.in_reaction_to(command, data, producer=PRODUCER),
    )


def _declined(command: ChargePayment, reason: str) -> CommandOutcome:
    data = PaymentDeclinedData(order_id=command.data.order_id, reason=reason)
    declined = PaymentDeclined.in_reaction_to(command, data, producer=PRODUCER)
    return CommandOutcome.failed(SagaError.PAYMENT_DECLINED, reason, declined)


def charge_payment(command: ChargePayment, ledger: PaymentsLedger, provider: PaymentProvider) -> CommandOutcome:
    """Charge once per order; never after the order's refund (its compensation) was recorded."""
    data = command.data
    for _ in range(MAX_RACES):
        entries = ledger.entries(data.order_id)
        if REFUND in entries:
            return CommandOutcome.failed(
                SagaError.ORDER_COMPENSATED, f"order {data.order_id} was already compensated; not charging"
            )
        if CHARGE in entries:
            return _charged(command, entries[CHARGE])
        if DECLINE in entries:
            return _declined(command, entries[DECLINE].reference)
        result = provider.charge(data.order_id, data.amount_cents, data.currency, data.payment_token)
        if not result.approved:
            decline = LedgerEntry(order_id=data.order_id, kind=DECLINE, reference=result.decline_reason, amount_cents=0)
            if ledger.record(decline, unless=CHARGE):
                return _declined(command, result.decline_reason)
            continue
        charge = LedgerEntry(
            order_id=data.order_id,
            kind=CHARGE,
            reference=result.charge_id,
            amount_cents=data.amount_cents,
            currency=data.currency,
        )
        if ledger.record(charge, unless=REFUND):
            return _charged(command, charge)
    raise RuntimeError(f"charge for {data.order_id} kept racing; retrying the message")


def refund_payment(command: RefundPayment, ledger: PaymentsLedger, provider: PaymentProvider) -> CommandOutcome:
    """Refund the charge once; with nothing charged, record a zero refund that also refuses later charges."""
    order_id = command.data.order_id
    for _ in range(MAX_RACES):
        entries = ledger.entries(order_id)
        refund = entries.get(REFUND)
        if refund is None:
            charge = entries.get(CHARGE)
            if charge is not None:
                reference = provider.refund(charge.reference, charge.amount_cents)
                refund = LedgerEntry(
                    order_id=order_id,
                    kind=REFUND,
                    reference=reference,
                    amount_cents=charge.amount_cents,
                    currency=charge.currency,
                )
                recorded = ledger.record(refund)
            else:
                refund = LedgerEntry(order_id=order_id, kind=REFUND, reference="nothing-charged", amount_cents=0)
                recorded = ledger.record(refund, unless=CHARGE)
            if not recorded:
                continue
        data = PaymentRefundedData(order_id=order_id, amount_cents=refund.amount_cents, currency=refund.currency)
        fact = PaymentRefunded.in_reaction_to(command, data, producer=PRODUCER)
        return CommandOutcome.succeeded({"refunded_cents": refund.amount_cents}, fact)
    raise RuntimeError(f"refund for {order_id} kept racing; retrying the message")
