"""Factories for orders and events, and the AWS delivery shapes around them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar

from orderflow.catalog import (
    Address,
    CancellationReason,
    CompensatedService,
    CompensationFailure,
    LineItem,
    OrderCancelled,
    OrderCancelledData,
    OrderPlaced,
    OrderPlacedData,
)
from orderflow.envelope import Command, CommandMetadata, Event

ACCOUNT = "123456789012"
REGION = "us-east-1"


def an_address(**overrides: Any) -> Address:
    values = {
        "name": "Ada Lovelace",
        "line1": "12 Analytical Row",
        "city": "London",
        "postal_code": "N1 9GU",
        "country": "GB",
    }
    return Address(**(values | overrides))


def an_order_placed(order_id: str | None = None, **overrides: Any) -> OrderPlaced:
    order_id = order_id or f"ord-{uuid.uuid4().hex[:12]}"
    items = overrides.pop("items", [LineItem(sku="SKU-RED-MUG", quantity=2, unit_price_cents=1250)])
    values: dict[str, Any] = {
        "order_id": order_id,
        "customer_id": "cust-42",
        "items": items,
        "currency": "EUR",
        "total_cents": sum(item.quantity * item.unit_price_cents for item in items),
        "payment_token": "tok_visa",
        "shipping_address": an_address(),
    }
    data = OrderPlacedData(**(values | overrides))
    return OrderPlaced.create(data, correlation_id=order_id, producer="orders-api")


def eventbridge_event(event: Event, bus_name: str = "orderflow-bus") -> dict[str, Any]:
    """The event as EventBridge delivers it to a target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": event.DETAIL_TYPE,
        "source": event.SOURCE,
        "account": ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [],
        "detail": json.loads(event.detail()),
    }


def sqs_record(body: str, queue_name: str = "orderflow-queue") -> dict[str, Any]:
    """One SQS record as Lambda's event source mapping delivers it."""
    message_id = str(uuid.uuid4())
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1700000000000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1700000000001",
        },
        "messageAttributes": {},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_name}",
        "awsRegion": REGION,
    }


def sqs_event(*bodies: Event | str) -> dict[str, Any]:
    """An SQS batch whose bodies are EventBridge events (or raw strings, for malformed records)."""
    records = [sqs_record(body if isinstance(body, str) else json.dumps(eventbridge_event(body))) for body in bodies]
    return {"Records": records}


C = TypeVar("C", bound=Command)


def a_command(
    command_type: type[C], data: Any, order_id: str, task_token: str = "token-1", event_id: str | None = None
) -> C:
    """A saga command as the ASL builds it (deterministic id, task token)."""
    metadata = CommandMetadata(
        event_id=event_id or f"{order_id}/{command_type.DETAIL_TYPE}/0",
        correlation_id=order_id,
        causation_id=f"placed-{order_id}",
        occurred_at=datetime.now(UTC),
        schema_version=command_type.VERSION,
        producer="orderflow.saga",
        task_token=task_token,
    )
    return command_type(metadata=metadata, data=data)


def an_oversized_order_cancelled(order_id: str | None = None) -> OrderCancelled:
    """A valid event too large for the bus (295 KB): three compensations that gave up, each with a Cause of
    32,768 three-byte characters (the longest Step Functions gives)."""
    order_id = order_id or f"ord-{uuid.uuid4().hex[:12]}"
    services: tuple[CompensatedService, ...] = ("inventory", "payment", "shipping")
    failures = {service: CompensationFailure(Error="States.Timeout", Cause="€" * 32768) for service in services}
    data = OrderCancelledData(
        order_id=order_id, reason=CancellationReason.STEP_FAILED, unresolved_compensations=failures
    )
    return OrderCancelled.create(data, correlation_id=order_id, producer="test")
