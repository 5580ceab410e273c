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
