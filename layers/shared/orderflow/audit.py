"""The audit trail's record: written by the auditor, read by GET /orders/{id}/events.

An event can reach the stream twice with the same id (a producer's retry after a crash
between publish and acknowledge, a replay from the archive): the trail records it once,
at its first position. The table's key is the order and the event id, so one conditional
put records an event once (a second put of the id is refused), and the trail is read by
order and sorted by stream position, which each entry carries. One write per event: a
transaction of the entry and an event-id marker cost four times the write units.
"""

from __future__ import annotations

from typing import Any

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
    """One event in an order's audit trail (AuditTable: order_id + event_id; sorted by position)."""

    order_id: str
    position: str
    event_id: str
    detail_type: str
    source: str
    occurred_at: AwareDatetime
    detail: str  # the event's detail JSON, exactly as it was on the stream


class AuditTable(aws.DynamoDBTable):
    """The append-only audit store: one item per event of an order, each with its stream position."""

    def append(self, entry: AuditEntry) -> bool:
        """Write the entry once; False when the order's trail already holds its event id."""
        item = {key: {"S": value} for key, value in entry.model_dump(mode="json").items()}
        # Only a refused condition means "already recorded"; a throttle raises, and the record is retried.
        return aws.succeeded(
            lambda: self._dynamodb.put_item(
                TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(event_id)"
            ),
            aws.CONDITION_FAILED,
        )

    def trail(self, order_id: str) -> list[AuditEntry]:
        """The order's events in stream order."""
        entries: list[AuditEntry] = []
        arguments: dict[str, Any] = {"KeyConditionExpression": aws.key("order_id").eq(order_id), "ConsistentRead": True}
        while True:
            page = self._table.query(**arguments)
            entries.extend(AuditEntry.model_validate(item, strict=False) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return sorted(entries, key=lambda entry: entry.position)
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
