"""Consumers read events only through the parsers: anything else is a MalformedEventError."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from orderflow.catalog import OrderConfirmed, OrderPlaced
from orderflow.parsing import MalformedEventError, parse_sqs_record
from tests.support.factories import an_order_placed, eventbridge_event, sqs_record


def record_with(body: str) -> SQSRecord:
    return SQSRecord(sqs_record(body))


def test_a_good_record_becomes_its_model() -> None:
    placed = an_order_placed()
    parsed = parse_sqs_record(record_with(json.dumps(eventbridge_event(placed))), (OrderPlaced,))
    assert parsed == placed


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: "not json", "not JSON"),
        (lambda e: json.dumps([e]), "not a JSON object"),
        (lambda e: json.dumps({k: v for k, v in e.items() if k != "detail-type"}), "not an EventBridge event"),
        (lambda e: json.dumps({**e, "detail-type": "Mystery"}), "unknown detail-type"),
        (lambda e: json.dumps({**e, "source": "evil.source"}), "expected 'orderflow.orders'"),
        (
            lambda e: json.dumps({**e, "detail": {"metadata": e["detail"]["metadata"], "data": {}}}),
            "invalid OrderPlaced",
        ),
    ],
    ids=["not-json", "not-object", "not-eventbridge", "unknown-type", "wrong-source", "invalid-detail"],
)
def test_bad_records_are_malformed(mutate: object, message: str) -> None:
    body = mutate(eventbridge_event(an_order_placed()))  # type: ignore[operator]
    with pytest.raises(MalformedEventError, match=message):
        parse_sqs_record(record_with(body), (OrderPlaced,))


def test_a_valid_event_of_a_type_the_consumer_does_not_take_is_malformed() -> None:
    body = json.dumps(eventbridge_event(an_order_placed()))
    with pytest.raises(MalformedEventError, match="not one of OrderConfirmed"):
        parse_sqs_record(record_with(body), (OrderConfirmed,))


def charge_body(**replacements: str) -> str:
    """A ChargePayment as the bus delivers it, with JSON values replaced textually (exactly as sent)."""
    from orderflow.catalog import ChargePayment, ChargePaymentData
    from tests.support.factories import a_command

    command = a_command(
        ChargePayment,
        ChargePaymentData(order_id="o1", amount_cents=2, currency="EUR", payment_token="tok"),
        "o1",
    )
    body = json.dumps(eventbridge_event(command))
    for original, replacement in replacements.items():
        assert original in body
        body = body.replace(original, replacement, 1)
    return body


@pytest.mark.parametrize(
    ("replacements", "message"),
    [
        ({'"amount_cents": 2': '"amount_cents": "2"'}, "valid integer"),
        ({'"amount_cents": 2': '"amount_cents": " 2 "'}, "valid integer"),
        ({'"amount_cents": 2': '"amount_cents": true'}, "valid integer"),
        ({'"amount_cents": 2': '"amount_cents": 2.0'}, "valid integer"),
        ({'"amount_cents": 2': '"amount_cents": 1E2'}, "valid integer"),
        ({'"amount_cents": 2': '"amount_cents": ' + "2" * 5000}, "not JSON: number out of range"),
        ({'"schema_version": 1': '"schema_version": 999'}, "schema_version 999 is not one this consumer knows"),
        ({'"schema_version": 1': '"schema_version": -5'}, "schema_version -5 is not one this consumer knows"),
        ({'"schema_version": 1': '"schema_version": ' + "1" + "0" * 30}, "is not one this consumer knows"),
        ({'"schema_version": 1': '"schema_version": true'}, "valid integer"),
        ({'"schema_version": 1': '"schema_version": "1"'}, "valid integer"),
        ({'"payment_token": "tok"': '"payment_token": "tok\\ud800"'}, "not JSON: .*surrogate|hex escape"),
        ({'"payment_token": "tok"': '"payment_token": ' + "[" * 5000 + "]" * 5000}, "not JSON: recursion limit"),
        ({'"payment_token": "tok"': '"payment_token": "' + "t" * 65 + '"'}, "at most 64 characters"),
    ],
    ids=[
        "string-int",
        "padded-string-int",
        "bool-int",
        "float-int",
        "exponent-int",
        "5000-digits",
        "version-999",
        "version-negative",
        "version-10e30",
        "version-bool",
        "version-string",
        "lone-surrogate",
        "5000-deep",
        "too-long",
    ],
)
def test_what_a_lenient_parser_took_is_one_malformed_event_error(replacements: dict[str, str], message: str) -> None:
    from orderflow.catalog import ChargePayment

    with pytest.raises(MalformedEventError, match=message):
        parse_sqs_record(record_with(charge_body(**replacements)), (ChargePayment,))


def test_the_untouched_charge_parses() -> None:
    from orderflow.catalog import ChargePayment

    assert parse_sqs_record(record_with(charge_body()), (ChargePayment,)).data.amount_cents == 2
