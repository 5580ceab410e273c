"""The orders table adapter: the only code that reads or writes order items."""

from __future__ import annotations

from typing import Any

from orderflow import aws
from orderflow.catalog import OrderPlaced
from orderflow.orders import OrderView

# The attribute of a new order's item that holds its OrderPlaced event (the transactional outbox): the
# table's stream carries the insert to the OrderPlaced pipe. The projector's first replace drops it.
OUTBOX_ATTRIBUTE = "order_placed"


class UnknownOrderError(LookupError):
    """No order with that id."""


class ConcurrentUpdateError(RuntimeError):
    """Someone else changed the order between our read and our write."""


class OrdersTable(aws.DynamoDBTable):
    """The read model: one item per order, written PENDING by orders-api and kept by the projector."""

    def create(self, view: OrderView, placed: OrderPlaced) -> bool:
        """Write a new order with its OrderPlaced in one put; False if it already exists (an earlier attempt's)."""
        item = {**view.to_item(), OUTBOX_ATTRIBUTE: placed.detail()}
        return aws.succeeded(
            lambda: self._table.put_item(Item=item, ConditionExpression=aws.attribute("order_id").not_exists()),
            aws.CONDITION_FAILED,
        )

    def get(self, order_id: str) -> OrderView:
        item = self._table.get_item(Key={"order_id": order_id}, ConsistentRead=True).get("Item")
        if item is None:
            raise UnknownOrderError(order_id)
        item.pop(OUTBOX_ATTRIBUTE, None)  # the event (payment token included) is never part of the view
        # Stored state, not a message: DynamoDB gives datetimes and enums back as strings, so not strict.
        return OrderView.model_validate(_plain(item), strict=False)

    def replace(self, view: OrderView, expected_version: int) -> None:
        """Write `view` only if the stored version is still `expected_version` (optimistic concurrency)."""
        item = {**view.to_item(), "version": expected_version + 1}
        if not aws.succeeded(
            lambda: self._table.put_item(Item=item, ConditionExpression=aws.attribute("version").eq(expected_version)),
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
