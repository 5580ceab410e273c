"""The orders table adapter: the only code that reads or writes order items."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr

from orderflow import aws
from orderflow.orders import OrderView


class UnknownOrderError(LookupError):
    """No order with that id."""


class ConcurrentUpdateError(RuntimeError):
    """Someone else changed the order between our read and our write."""


class OrdersTable(aws.DynamoDBTable):
    """The read model: one item per order, written PENDING by orders-api and kept by the projector."""

    def create(self, view: OrderView) -> bool:
        """Write a new order; False if it already exists (an earlier attempt wrote it)."""
        return aws.succeeded(
            lambda: self._table.put_item(Item=view.to_item(), ConditionExpression=Attr("order_id").not_exists()),
            aws.CONDITION_FAILED,
        )

    def get(self, order_id: str) -> OrderView:
        item = self._table.get_item(Key={"order_id": order_id}, ConsistentRead=True).get("Item")
        if item is None:
            raise UnknownOrderError(order_id)
        return OrderView.model_validate(_plain(item))

    def replace(self, view: OrderView, expected_version: int) -> None:
        """Write `view` only if the stored version is still `expected_version` (optimistic concurrency)."""
        item = {**view.to_item(), "version": expected_version + 1}
        if not aws.succeeded(
            lambda: self._table.put_item(Item=item, ConditionExpression=Attr("version").eq(expected_version)),
            aws.CONDITION_FAILED,
        ):
            raise ConcurrentUpdateError(view.order_id)


def _plain(value: Any) -> Any:
    """DynamoDB's Decimals back to ints, recursively."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
