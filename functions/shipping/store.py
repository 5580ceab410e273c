"""The shipments table: one item per order, `pk=ORDER#<order id>`, `sk=SHIPMENT`, state CREATED or CANCELLED.

A CANCELLED item without a shipment id is the tombstone a cancellation leaves
when nothing was shipped: it refuses a late CreateShipment. A REFUSED item
records the carrier's refusal, so a late CreateShipment is refused the same way.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from orderflow import aws
from orderflow.envelope import Contract


class ShipmentState(StrEnum):
    CREATED = "CREATED"
    CANCELLED = "CANCELLED"
    # The carrier refused the order: it is over, and a late CreateShipment gets the same answer.
    REFUSED = "REFUSED"


class Shipment(Contract):
    order_id: str
    state: ShipmentState
    shipment_id: str | None = None
    tracking_number: str | None = None
    refusal: str | None = None


def _key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "SHIPMENT"}}


class ShipmentsStore(aws.DynamoDBTable):
    """One shipment item per order."""

    def get(self, order_id: str) -> Shipment | None:
        item = self._dynamodb.get_item(TableName=self.table_name, Key=_key(order_id), ConsistentRead=True).get("Item")
        if item is None:
            return None
        return Shipment(
            order_id=order_id,
            state=ShipmentState(item["state"]["S"]),
            shipment_id=item.get("shipment_id", {}).get("S"),
            tracking_number=item.get("tracking_number", {}).get("S"),
            refusal=item.get("refusal", {}).get("S"),
        )

    def create(self, shipment: Shipment) -> bool:
        """Record a new item; False when the order already has one."""
        item = {**_key(shipment.order_id), "state": {"S": shipment.state.value}}
        if shipment.shipment_id:
            item["shipment_id"] = {"S": shipment.shipment_id}
        if shipment.tracking_number:
            item["tracking_number"] = {"S": shipment.tracking_number}
        if shipment.refusal:
            item["refusal"] = {"S": shipment.refusal}
        return aws.succeeded(
            lambda: self._dynamodb.put_item(
                TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(pk)"
            ),
            aws.CONDITION_FAILED,
        )

    def cancel(self, order_id: str) -> bool:
        """CREATED → CANCELLED; False when it was not CREATED any more."""
        return aws.succeeded(
            lambda: self._dynamodb.update_item(
                TableName=self.table_name,
                Key=_key(order_id),
                UpdateExpression="SET #state = :cancelled",
                ConditionExpression="#state = :created",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={":cancelled": {"S": "CANCELLED"}, ":created": {"S": "CREATED"}},
            ),
            aws.CONDITION_FAILED,
        )
