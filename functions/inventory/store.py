"""The inventory table: stock per SKU and a reservation per order, changed only by conditional writes.

Items: `pk=SKU#<sku>, sk=STOCK` with `available`; `pk=ORDER#<order id>, sk=RESERVATION`
with `state` (RESERVED | RELEASED | REFUSED) and `lines`.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from botocore.exceptions import ClientError

from inventory.rules import Reservation, ReservationState, aggregate
from orderflow import aws
from orderflow.catalog import Shortage, StockLine

STOCK = "STOCK"
RESERVATION = "RESERVATION"

# Two transactions on the same SKU at once: DynamoDB cancels one with TransactionConflict. That is
# no shortage; the reservation is tried again, a few times with jittered backoff, then the message.
MAX_RESERVE_ATTEMPTS = 4
CONFLICT_BACKOFF_SECONDS = 0.05
# Retrying with the same ClientRequestToken while the first attempt is still in flight.
TRANSACTION_IN_PROGRESS = "TransactionInProgressException"
RESERVATION_TOKEN_NAMESPACE = uuid.UUID("5d1f8a3c-7e2b-5c9d-a4f6-1b3e8c7d2a90")


def stock_key(sku: str) -> dict[str, Any]:
    """The key of a SKU's stock item (its `available` count)."""
    return {"pk": {"S": f"SKU#{sku}"}, "sk": {"S": STOCK}}


def _reservation_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": RESERVATION}}


def reservation_token(order_id: str) -> str:
    """The ClientRequestToken of the order's reservation: for 10 minutes DynamoDB applies it at most once."""
    return str(uuid.uuid5(RESERVATION_TOKEN_NAMESPACE, order_id))


class Cancellation(Enum):
    """Why DynamoDB cancelled a reservation transaction (stock lines first, the reservation item last)."""

    RESERVATION_EXISTS = "reservation exists"  # a reservation or tombstone appeared meanwhile
    SHORTAGE = "shortage"  # a stock line's `available >= quantity` failed
    CONFLICT = "conflict"  # another transaction held an item: try again
    OTHER = "other"


def why_cancelled(reasons: list[str]) -> Cancellation:
    """Read a cancelled reservation's reasons; only a failed condition on a stock line is a shortage."""
    if reasons[-1:] == [aws.CONDITION_CHECK_FAILED]:
        return Cancellation.RESERVATION_EXISTS
    if aws.CONDITION_CHECK_FAILED in reasons[:-1]:
        return Cancellation.SHORTAGE
    if aws.TRANSACTION_CONFLICT in reasons:
        return Cancellation.CONFLICT
    return Cancellation.OTHER


@dataclass(frozen=True)
class ReserveResult:
    reserved: bool
    shortages: list[Shortage] = field(default_factory=list)
    lost_race: bool = False  # a reservation or tombstone appeared meanwhile: decide again


class InventoryStore(aws.DynamoDBTable):
    """Stock per SKU and one reservation per order."""

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
        token = reservation_token(order_id)  # the same for every attempt: a lost answer's retry is a no-op
        for attempt in range(1, MAX_RESERVE_ATTEMPTS + 1):
            try:
                self._dynamodb.transact_write_items(TransactItems=writes, ClientRequestToken=token)
            except ClientError as error:
                cancellation = self._cancellation(error)
                if cancellation is Cancellation.RESERVATION_EXISTS:
                    return ReserveResult(reserved=False, lost_race=True)
                if cancellation is Cancellation.SHORTAGE:
                    return ReserveResult(reserved=False, shortages=self._shortages(wanted))
                if cancellation is not Cancellation.CONFLICT or attempt == MAX_RESERVE_ATTEMPTS:
                    raise  # the message is retried; nothing was written
                time.sleep(random.uniform(0, CONFLICT_BACKOFF_SECONDS * 2**attempt))
                continue
            return ReserveResult(reserved=True)
        raise AssertionError("unreachable: the last attempt returns or raises")

    @staticmethod
    def _cancellation(error: ClientError) -> Cancellation:
        if aws.is_error(error, TRANSACTION_IN_PROGRESS):
            return Cancellation.CONFLICT
        if aws.is_error(error, aws.TRANSACTION_CANCELLED):
            return why_cancelled(aws.cancellation_reasons(error))
        return Cancellation.OTHER

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
