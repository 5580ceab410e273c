"""The inventory table: stock per SKU and a reservation per order, changed only by conditional writes.

Items: `pk=SKU#<sku>, sk=STOCK` with `available`; `pk=ORDER#<order id>, sk=RESERVATION`
with `state` (RESERVED | RELEASED) and `lines`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from inventory.rules import Reservation, ReservationState, aggregate
from orderflow import aws
from orderflow.catalog import Shortage, StockLine

STOCK = "STOCK"
RESERVATION = "RESERVATION"


def stock_key(sku: str) -> dict[str, Any]:
    """The key of a SKU's stock item (its `available` count)."""
    return {"pk": {"S": f"SKU#{sku}"}, "sk": {"S": STOCK}}


def _reservation_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": RESERVATION}}


@dataclass(frozen=True)
class ReserveResult:
    reserved: bool
    shortages: list[Shortage] = field(default_factory=list)
    lost_race: bool = False  # a reservation or tombstone appeared meanwhile: decide again


class InventoryStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _dynamodb(self) -> Any:
        return aws.client("dynamodb")

    def available(self, sku: str) -> int:
        item = self._dynamodb.get_item(TableName=self.table_name, Key=stock_key(sku), ConsistentRead=True).get("Item")
        return int(item["available"]["N"]) if item else 0

    def reservation(self, order_id: str) -> Reservation | None:
        item = self._dynamodb.get_item(
            TableName=self.table_name, Key=_reservation_key(order_id), ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        lines = [
            StockLine(sku=line["M"]["sku"]["S"], quantity=int(line["M"]["quantity"]["N"]))
            for line in item["lines"]["L"]
        ]
        return Reservation(order_id=order_id, state=ReservationState(item["state"]["S"]), lines=lines)

    def reserve(self, order_id: str, lines: list[StockLine]) -> ReserveResult:
        """Take every line's stock and record the reservation, all or nothing; stock never goes negative."""
        wanted = aggregate(lines)
        writes = [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": stock_key(line.sku),
                    "UpdateExpression": "SET available = available - :quantity",
                    "ConditionExpression": "available >= :quantity",
                    "ExpressionAttributeValues": {":quantity": {"N": str(line.quantity)}},
                }
            }
            for line in wanted
        ]
        writes.append({"Put": self._reservation_put(order_id, ReservationState.RESERVED, wanted)})
        try:
            self._dynamodb.transact_write_items(TransactItems=writes)
        except ClientError as error:
            if not aws.is_error(error, aws.TRANSACTION_CANCELLED):
                raise
            reasons = aws.cancellation_reasons(error)
            if len(reasons) == len(writes) and reasons[-1] == aws.CONDITION_CHECK_FAILED:
                return ReserveResult(reserved=False, lost_race=True)
            return ReserveResult(reserved=False, shortages=self._shortages(wanted))
        return ReserveResult(reserved=True)

    def release(self, reservation: Reservation) -> None:
        """Give a RESERVED order's stock back and mark it RELEASED, in one transaction."""
        writes: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": _reservation_key(reservation.order_id),
                    "UpdateExpression": "SET #state = :released",
                    "ConditionExpression": "#state = :reserved",
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": {
                        ":released": {"S": ReservationState.RELEASED.value},
                        ":reserved": {"S": ReservationState.RESERVED.value},
                    },
                }
            }
        ]
        writes += [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": stock_key(line.sku),
                    "UpdateExpression": "ADD available :quantity",
                    "ExpressionAttributeValues": {":quantity": {"N": str(line.quantity)}},
                }
            }
            for line in reservation.lines
        ]
        self._dynamodb.transact_write_items(TransactItems=writes)

    def record_release_without_reservation(self, order_id: str) -> bool:
        """Write a RELEASED tombstone; False when a reservation appeared meanwhile."""
        return self._record_without_stock(order_id, ReservationState.RELEASED)

    def record_refusal(self, order_id: str) -> bool:
        """Remember that the order was refused for lack of stock; False when a reservation appeared meanwhile."""
        return self._record_without_stock(order_id, ReservationState.REFUSED)

    def _record_without_stock(self, order_id: str, state: ReservationState) -> bool:
        return aws.succeeded(
            lambda: self._dynamodb.put_item(**self._reservation_put(order_id, state, [])), aws.CONDITION_FAILED
        )

    def _reservation_put(self, order_id: str, state: ReservationState, lines: list[StockLine]) -> dict[str, Any]:
        return {
            "TableName": self.table_name,
            "Item": {
                **_reservation_key(order_id),
                "state": {"S": state.value},
                "lines": {
                    "L": [{"M": {"sku": {"S": line.sku}, "quantity": {"N": str(line.quantity)}}} for line in lines]
                },
            },
            "ConditionExpression": "attribute_not_exists(pk)",
        }

    def _shortages(self, wanted: list[StockLine]) -> list[Shortage]:
        shortages = []
        for line in wanted:
            available = self.available(line.sku)
            if available < line.quantity:
                shortages.append(Shortage(sku=line.sku, requested=line.quantity, available=available))
        return shortages
