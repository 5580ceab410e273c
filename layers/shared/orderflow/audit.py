"""The audit trail's record: written by the auditor, read by GET /orders/{id}/events."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from pydantic import AwareDatetime

from orderflow import aws
from orderflow.envelope import Contract

# Kinesis sequence numbers are decimal strings of up to 128 digits; padding them
# makes the table's string sort key sort in stream order.
POSITION_WIDTH = 128


def audit_position(sequence_number: str) -> str:
    """The sort key for a record: its Kinesis sequence number, zero-padded."""
    return sequence_number.zfill(POSITION_WIDTH)


class AuditEntry(Contract):
    """One event in an order's audit trail (AuditTable: order_id + position)."""

    order_id: str
    position: str
    event_id: str
    detail_type: str
    source: str
    occurred_at: AwareDatetime
    detail: str  # the event's detail JSON, exactly as it was on the stream


class AuditTable:
    """The append-only audit store: one item per event, sorted by stream position within an order."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _table(self) -> Any:
        return aws.resource("dynamodb").Table(self.table_name)

    def append(self, entry: AuditEntry) -> bool:
        """Write the entry once; False when that position is already recorded (a redelivery)."""
        try:
            self._table.put_item(
                Item=entry.model_dump(mode="json"),
                ConditionExpression="attribute_not_exists(order_id) AND attribute_not_exists(#position)",
                ExpressionAttributeNames={"#position": "position"},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def trail(self, order_id: str) -> list[AuditEntry]:
        """The order's events in stream order."""
        entries: list[AuditEntry] = []
        arguments: dict[str, Any] = {
            "KeyConditionExpression": Key("order_id").eq(order_id),
            "ScanIndexForward": True,
            "ConsistentRead": True,
        }
        while True:
            page = self._table.query(**arguments)
            entries.extend(AuditEntry.model_validate(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return entries
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
