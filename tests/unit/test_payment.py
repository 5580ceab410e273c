"""payment: the sandbox provider's documented rules, the ledger, and the handler on moto."""

from __future__ import annotations

import os

import pytest

from orderflow.catalog import ChargePayment, ChargePaymentData, RefundPayment, RefundPaymentData
from payment.ledger import PaymentsLedger
from payment.provider import SANDBOX_LIMIT_CENTS, SandboxProvider
from tests.support.capture import BusCapture, CallbackRecorder
from tests.support.factories import a_command, sqs_event
from tests.support.handlers import load_handler
from tests.support.lambda_context import FakeLambdaContext
from tools.localcloud.ledgers import charged_and_refunded


def charge(order_id: str, amount: int = 2500, token: str = "tok_visa", event_id: str | None = None) -> ChargePayment:
    data = ChargePaymentData(order_id=order_id, amount_cents=amount, currency="EUR", payment_token=token)
    return a_command(ChargePayment, data, order_id, event_id=event_id)


def refund(order_id: str, event_id: str | None = None) -> RefundPayment:
    return a_command(RefundPayment, RefundPaymentData(order_id=order_id), order_id, event_id=event_id)


@pytest.mark.parametrize(
    ("token", "amount", "approved"),
    [
        ("tok_visa", 2500, True),
        ("tok_declined", 2500, False),
        ("tok_insufficient_funds", 2500, False),
        ("tok_visa", SANDBOX_LIMIT_CENTS, True),
        ("tok_visa", SANDBOX_LIMIT_CENTS + 1, False),
    ],
)
def test_sandbox_provider_declines_documented_tokens_and_amounts(token: str, amount: int, approved: bool) -> None:
    assert SandboxProvider().charge("o1", amount, "EUR", token).approved is approved


def test_sandbox_charge_ids_are_deterministic() -> None:
    provider = SandboxProvider()
    assert provider.charge("o1", 1, "EUR", "t").charge_id == provider.charge("o1", 1, "EUR", "t").charge_id


TABLES = {"PAYMENTS_TABLE_NAME": "PaymentsTable"}


@pytest.fixture
def ledger(bus: BusCapture) -> PaymentsLedger:
    return PaymentsLedger(os.environ["PAYMENTS_TABLE_NAME"])


def run(*commands: object) -> dict[str, object]:
    return dict(load_handler("payment").lambda_handler(sqs_event(*commands), FakeLambdaContext()))  # type: ignore[arg-type]


def test_charge_records_the_ledger_and_publishes_charged(
    ledger: PaymentsLedger, bus: BusCapture, callbacks: CallbackRecorder
) -> None:
    run(charge("o1", 2500))
    assert charged_and_refunded(ledger.table_name, ["o1"]) == ({"o1": 2500}, {})
    assert bus.detail_types() == ["PaymentCharged"]
    assert len(callbacks.successes) == 1


def test_a_declined_card_charges_nothing_and_answers_payment_declined(
    ledger: PaymentsLedger, bus: BusCapture, callbacks: CallbackRecorder
) -> None:
    run(charge("o1", token="tok_declined"))
    assert charged_and_refunded(ledger.table_name, ["o1"]) == ({}, {})
    assert bus.detail_types() == ["PaymentDeclined"]
    assert [error for _, error, _ in callbacks.failures] == ["PaymentDeclined"]


def test_a_declined_order_is_declined_again_by_a_late_charge_without_asking_the_provider(
    ledger: PaymentsLedger, bus: BusCapture, callbacks: CallbackRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(charge("o1", token="tok_declined"))
    # A late charge for the same order, redriven with a fresh id and a card that would be approved
    provider_calls: list[str] = []
    monkeypatch.setattr(SandboxProvider, "charge", lambda *args: provider_calls.append("charge"))
    run(charge("o1", token="tok_visa", event_id="o1/ChargePayment/redriven"))
    assert provider_calls == []
    assert charged_and_refunded(ledger.table_name, ["o1"]) == ({}, {})
    assert [error for _, error, _ in callbacks.failures] == ["PaymentDeclined", "PaymentDeclined"]


def test_a_charge_whose_token_is_dead_charges_nothing(
    ledger: PaymentsLedger, bus: BusCapture, callbacks: CallbackRecorder
) -> None:
    callbacks.dead_tokens.add("token-1")
    run(charge("o1", 2500))
    assert charged_and_refunded(ledger.table_name, ["o1"]) == ({}, {})
    assert bus.detail_types() == []
    assert (callbacks.successes, callbacks.failures) == ([], [])


def test_a_second_charge_command_for_the_order_charges_once(
    ledger: PaymentsLedger, callbacks: CallbackRecorder
) -> None:
    run(charge("o1", 2500))
    run(charge("o1", 2500, event_id="o1/ChargePayment/1"))  # a retried step: new token, new id
    assert charged_and_refunded(ledger.table_name, ["o1"]) == ({"o1": 2500}, {})
    assert len(callbacks.successes) == 2


def test_refund_happens_once(ledger: PaymentsLedger, callbacks: CallbackRecorder) -> None:
    run(charge("o1", 2500))
    run(refund("o1"))
    run(refund("o1", event_id="o1/RefundPayment/1"))
    assert charged_and_refunded(ledger.table_name, ["o1"]) == ({"o1": 2500}, {"o1": 2500})


def test_refund_with_nothing_charged_is_a_no_op_that_refuses_a_late_charge(
    ledger: PaymentsLedger, bus: BusCapture, callbacks: CallbackRecorder
) -> None:
    run(refund("o1"))
    run(charge("o1", 2500))  # redriven from a DLQ after the compensation
    assert charged_and_refunded(ledger.table_name, ["o1"]) == ({}, {"o1": 0})
    assert bus.detail_types() == ["PaymentRefunded"]
    assert [error for _, error, _ in callbacks.failures] == ["OrderCompensated"]


def test_a_malformed_record_fails_alone(ledger: PaymentsLedger, callbacks: CallbackRecorder) -> None:
    event = sqs_event("not json", charge("o1"))
    result = load_handler("payment").lambda_handler(event, FakeLambdaContext())
    assert result["batchItemFailures"] == [{"itemIdentifier": event["Records"][0]["messageId"]}]
    assert charged_and_refunded(ledger.table_name, ["o1"]) == ({"o1": 2500}, {})
