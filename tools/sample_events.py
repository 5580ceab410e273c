"""Sample events for every function, in the exact shape AWS delivers them (written to events/).

Built from the event models, with fixed ids and times so the files are stable
(`python -m tools.generate_sample_events` writes them). All samples follow one order,
whose id the orders-api derives from the sample Idempotency-Key, so they can be invoked
one after another against the local cloud.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from orderflow import catalog
from orderflow.envelope import CommandMetadata, Event, EventMetadata, derive_event_id
from orders_api.intake import new_order_id
from tools.lambda_code import REPO_ROOT

EVENTS_DIR = REPO_ROOT / "events"
ACCOUNT, REGION = "123456789012", "us-east-1"
IDEMPOTENCY_KEY = "sample-order-1"
# The sample customer: the subject of the sample access token (a Cognito user's sub).
CUSTOMER_ID = "3f0c1f8e-5b7a-4c2d-9e61-2a4b8c9d0e1f"
USER_POOL_ID = "us-east-1_Sample0rd"
APP_CLIENT_ID = "4sampleappclient0rderf1ow"
ORDER_ID = new_order_id(CUSTOMER_ID, IDEMPOTENCY_KEY)
T0 = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
ADDRESS = catalog.Address(
    name="Ada Lovelace", line1="12 Analytical Row", city="London", postal_code="N1 9GU", country="GB"
)
ITEMS = [catalog.LineItem(sku="SKU-RED-MUG", quantity=2, unit_price_cents=1250)]
LINES = [catalog.StockLine(sku="SKU-RED-MUG", quantity=2)]
PLACE_ORDER_BODY = {
    "items": [item.model_dump() for item in ITEMS],
    "currency": "EUR",
    "payment_token": "tok_visa",
    "shipping_address": ADDRESS.model_dump(),
}
# A task token in the shape Step Functions issues; sam local invoke gets "invalid token" for it,
# which the services log and drop, exactly as they do for an expired token.
TASK_TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAS" + "x" * 40


def stable_uuid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"orderflow-sample/{name}"))


PLACED_ID = derive_event_id(f"order/{ORDER_ID}", "OrderPlaced")


def fact(event_type: type[Event], data: Any, minutes: int, cause: str | None = None) -> Event:
    event_id = derive_event_id(cause, event_type.DETAIL_TYPE) if cause else PLACED_ID
    metadata = EventMetadata(
        event_id=event_id,
        correlation_id=ORDER_ID,
        causation_id=cause,
        occurred_at=T0 + timedelta(minutes=minutes),
        schema_version=event_type.VERSION,
        producer=event_type.SOURCE.split(".")[1],
    )
    return event_type(metadata=metadata, data=data)


def command(event_type: type[Event], data: Any, minutes: int) -> Event:
    metadata = CommandMetadata(
        event_id=f"{ORDER_ID}/{event_type.DETAIL_TYPE}/0",
        correlation_id=ORDER_ID,
        causation_id=PLACED_ID,
        occurred_at=T0 + timedelta(minutes=minutes),
        schema_version=event_type.VERSION,
        producer="orderflow.saga",
        task_token=TASK_TOKEN,
    )
    return event_type(metadata=metadata, data=data)


def eventbridge(event: Event) -> dict[str, Any]:
    return {
        "version": "0",
        "id": stable_uuid(event.event_id),
        "detail-type": event.DETAIL_TYPE,
        "source": event.SOURCE,
        "account": ACCOUNT,
        "time": event.metadata.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [],
        "detail": json.loads(event.detail()),
    }


def sqs_batch(queue: str, *bodies: Event | str) -> dict[str, Any]:
    records = []
    for index, body in enumerate(bodies):
        text = body if isinstance(body, str) else json.dumps(eventbridge(body))
        message_id = stable_uuid(f"{queue}/{index}/{text}")
        records.append(
            {
                "messageId": message_id,
                "receiptHandle": f"AQEB{message_id.replace('-', '')}",
                "body": text,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795003200000",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1795003200001",
                },
                "messageAttributes": {},
                "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:orderflow-{queue}",
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


def jwt_authorizer() -> dict[str, Any]:
    """requestContext.authorizer as API Gateway's JWT authorizer delivers it for a Cognito access token."""
    issued = 1795003200
    claims = {
        "sub": CUSTOMER_ID,
        "iss": f"https://cognito-idp.{REGION}.amazonaws.com/{USER_POOL_ID}",
        "client_id": APP_CLIENT_ID,
        "origin_jti": stable_uuid("origin-jti"),
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "auth_time": str(issued),
        "exp": str(issued + 3600),
        "iat": str(issued),
        "jti": stable_uuid("jti"),
        "username": "ada",
    }
    return {"jwt": {"claims": claims, "scopes": ["aws.cognito.signin.user.admin"]}}


def http(method: str, path: str, route: str, body: Any = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "accept": "application/json",
            "authorization": "Bearer eyJraWQiOiJzYW1wbGUiLCJhbGciOiJSUzI1NiJ9.c2FtcGxl.c2lnbmF0dXJl",
            "content-type": "application/json",
            "host": "api.example.com",
            **(headers or {}),
        },
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "a1b2c3d4e5",
            "authorizer": jwt_authorizer(),
            "domainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "a1b2c3d4e5",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "curl/8.5.0",
            },
            "requestId": stable_uuid(f"{method} {path}"),
            "routeKey": f"{method} {route}",
            "stage": "$default",
            "time": "24/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795003200000,
        },
        "isBase64Encoded": False,
    }
    if "{order_id}" in route:
        event["pathParameters"] = {"order_id": ORDER_ID}
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    return event


def kinesis_batch(*events: Event | str) -> dict[str, Any]:
    records = []
    for index, event in enumerate(events):
        data = event if isinstance(event, str) else json.dumps(eventbridge(event))
        sequence = f"4963152470397063847823729480127{index:025d}"
        records.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "poison" if isinstance(event, str) else ORDER_ID,
                    "sequenceNumber": sequence,
                    "data": base64.b64encode(data.encode()).decode(),
                    "approximateArrivalTimestamp": 1795003200.0 + index,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"shardId-000000000000:{sequence}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/orderflow-AuditorFunctionRole",
                "awsRegion": REGION,
                "eventSourceARN": f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/orderflow-AuditStream",
            }
        )
    return {"Records": records}


def pipe_batch(placed: Event) -> list[dict[str, Any]]:
    """What OrderPlacedPipe sends its enrichment: the new order's stream record (NEW_IMAGE), in a JSON array."""
    from boto3.dynamodb.types import TypeSerializer

    from orderflow.orders import OrderView
    from orderflow.orders_table import OUTBOX_ATTRIBUTE

    assert isinstance(placed, catalog.OrderPlaced)
    item = {**OrderView.pending(placed.data, created_at=T0).to_item(), OUTBOX_ATTRIBUTE: placed.detail()}
    image = {name: TypeSerializer().serialize(value) for name, value in item.items()}
    stream_arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orderflow-OrdersTable/stream/2026-11-24T12:00:00.000"
    return [
        {
            "eventID": stable_uuid("stream-record"),
            "eventName": "INSERT",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "dynamodb": {
                "ApproximateCreationDateTime": 1795003200,
                "Keys": {"order_id": {"S": ORDER_ID}},
                "NewImage": image,
                "SequenceNumber": "100000000000000000001",
                "SizeBytes": len(json.dumps(image)),
                "StreamViewType": "NEW_IMAGE",
            },
            "eventSourceARN": stream_arn,
        }
    ]


def examples() -> dict[str, Event]:
    """One example of every event type, each optional field filled, all of one order (the catalog's examples)."""
    placed_data = catalog.OrderPlacedData(
        order_id=ORDER_ID,
        customer_id=CUSTOMER_ID,
        items=ITEMS,
        currency="EUR",
        total_cents=2500,
        payment_token="tok_visa",
        shipping_address=ADDRESS,
    )
    placed = fact(catalog.OrderPlaced, placed_data, 0)
    reserve = command(catalog.ReserveInventory, catalog.ReserveInventoryData(order_id=ORDER_ID, items=LINES), 1)
    reserved = fact(
        catalog.InventoryReserved, catalog.InventoryReservedData(order_id=ORDER_ID, items=LINES), 1, reserve.event_id
    )
    charge = command(
        catalog.ChargePayment,
        catalog.ChargePaymentData(order_id=ORDER_ID, amount_cents=2500, currency="EUR", payment_token="tok_visa"),
        2,
    )
    ship = command(
        catalog.CreateShipment, catalog.CreateShipmentData(order_id=ORDER_ID, address=ADDRESS, items=LINES), 3
    )
    shipped = fact(
        catalog.ShipmentCreated,
        catalog.ShipmentCreatedData(
            order_id=ORDER_ID, shipment_id="shp_sample", carrier="sandbox-post", tracking_number="SP000000000042"
        ),
        3,
        ship.event_id,
    )
    confirmed_meta = EventMetadata(
        event_id=f"{ORDER_ID}/OrderConfirmed",
        correlation_id=ORDER_ID,
        causation_id=PLACED_ID,
        occurred_at=T0 + timedelta(minutes=4),
        schema_version=catalog.OrderConfirmed.VERSION,
        producer="orderflow.saga",
    )
    confirmed = catalog.OrderConfirmed(metadata=confirmed_meta, data=catalog.OrderConfirmedData(order_id=ORDER_ID))
    cancelled_meta = confirmed_meta.model_copy(update={"event_id": f"{ORDER_ID}/OrderCancelled"})
    cancelled = catalog.OrderCancelled(
        metadata=cancelled_meta,
        data=catalog.OrderCancelledData(
            order_id=ORDER_ID,
            reason=catalog.CancellationReason.PAYMENT_DECLINED,
            detail="PaymentDeclined",
            unresolved_compensations={
                "inventory": catalog.CompensationFailure(Error="States.Timeout", Cause="no answer in time")
            },
        ),
    )
    release = command(catalog.ReleaseInventory, catalog.ReleaseInventoryData(order_id=ORDER_ID), 5)
    refund = command(catalog.RefundPayment, catalog.RefundPaymentData(order_id=ORDER_ID), 5)
    cancel_shipment = command(catalog.CancelShipment, catalog.CancelShipmentData(order_id=ORDER_ID), 5)
    shortage = catalog.Shortage(sku="SKU-RED-MUG", requested=2, available=1)
    found = [
        placed,
        reserve,
        reserved,
        fact(
            catalog.InventoryReservationFailed,
            catalog.InventoryReservationFailedData(
                order_id=ORDER_ID, shortages=[shortage], reason="insufficient stock"
            ),
            1,
            reserve.event_id,
        ),
        release,
        fact(
            catalog.InventoryReleased,
            catalog.InventoryReleasedData(order_id=ORDER_ID, items=LINES),
            5,
            release.event_id,
        ),
        charge,
        fact(
            catalog.PaymentCharged,
            catalog.PaymentChargedData(order_id=ORDER_ID, charge_id="ch_sample", amount_cents=2500, currency="EUR"),
            2,
            charge.event_id,
        ),
        fact(
            catalog.PaymentDeclined,
            catalog.PaymentDeclinedData(order_id=ORDER_ID, reason="card declined"),
            2,
            charge.event_id,
        ),
        refund,
        fact(
            catalog.PaymentRefunded,
            catalog.PaymentRefundedData(order_id=ORDER_ID, amount_cents=2500, currency="EUR"),
            5,
            refund.event_id,
        ),
        ship,
        shipped,
        cancel_shipment,
        fact(
            catalog.ShipmentCancelled,
            catalog.ShipmentCancelledData(order_id=ORDER_ID, shipment_id="shp_sample"),
            5,
            cancel_shipment.event_id,
        ),
        confirmed,
        cancelled,
    ]
    return {event.DETAIL_TYPE: event for event in found}


def samples() -> dict[str, Any]:
    example = examples()
    placed, reserve, reserved, charge = (
        example[name] for name in ("OrderPlaced", "ReserveInventory", "InventoryReserved", "ChargePayment")
    )
    ship, shipped, confirmed = (example[name] for name in ("CreateShipment", "ShipmentCreated", "OrderConfirmed"))
    cancelled = example["OrderCancelled"].model_copy(
        update={"data": example["OrderCancelled"].data.model_copy(update={"unresolved_compensations": {}})}
    )
    return {
        "order-request.json": PLACE_ORDER_BODY,
        "orders-api-place-order.json": http(
            "POST", "/orders", "/orders", PLACE_ORDER_BODY, {"idempotency-key": IDEMPOTENCY_KEY}
        ),
        "orders-api-place-order-invalid.json": http(
            "POST", "/orders", "/orders", {**PLACE_ORDER_BODY, "items": [], "currency": "euro"}
        ),
        "orders-api-get-order.json": http("GET", f"/orders/{ORDER_ID}", "/orders/{order_id}"),
        "orders-api-get-order-events.json": http("GET", f"/orders/{ORDER_ID}/events", "/orders/{order_id}/events"),
        "outbox-relay-new-order.json": pipe_batch(placed),
        "projector-batch.json": sqs_batch("ProjectorQueue", placed, reserved, shipped, confirmed),
        "projector-batch-with-malformed.json": sqs_batch(
            "ProjectorQueue", placed, '{"detail-type": "OrderPlaced", "detail": "oops"}'
        ),
        "saga-starter-order-placed.json": sqs_batch("SagaStarterQueue", placed),
        "inventory-reserve.json": sqs_batch("InventoryQueue", reserve),
        "inventory-release.json": sqs_batch("InventoryQueue", example["ReleaseInventory"]),
        "payment-charge.json": sqs_batch("PaymentQueue", charge),
        "payment-refund.json": sqs_batch("PaymentQueue", example["RefundPayment"]),
        "shipping-create.json": sqs_batch("ShippingQueue", ship),
        "shipping-cancel.json": sqs_batch("ShippingQueue", example["CancelShipment"]),
        "notifier-batch.json": sqs_batch("NotifierQueue", confirmed, cancelled, shipped),
        "auditor-batch.json": kinesis_batch(placed, reserve, reserved, "not an orderflow event", confirmed),
    }
