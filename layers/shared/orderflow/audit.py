"""The audit trail's record: written by the auditor, read by GET /orders/{id}/events.

An event can reach the stream twice with the same id (a producer's retry after a crash
between publish and acknowledge, a replay from the archive): the trail records it once,
at its first position. Each entry is written together with a marker item keyed on the
event id (`order_id = EVENT#<event id>`, `position = EVENT`), in one transaction whose
conditions refuse both a repeated position and a repeated event id.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime

from orderflow import aws
from orderflow.envelope import Contract

# Kinesis sequence numbers are decimal strings of up to 128 digits; padding them
# makes the table's string sort key sort in stream order.
POSITION_WIDTH = 128
EVENT_MARKER = "EVENT"


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


class AuditTable(aws.DynamoDBTable):
    """The append-only audit store: one item per event, sorted by stream position within an order."""

    def append(self, entry: AuditEntry) -> bool:
        """Write the entry once; False when its position or its event id is already recorded."""
        marker = {"order_id": {"S": f"{EVENT_MARKER}#{entry.event_id}"}, "position": {"S": EVENT_MARKER}}
        item = {key: {"S": value} for key, value in entry.model_dump(mode="json").items()}
        only_new = {"TableName": self.table_name, "ConditionExpression": "attribute_not_exists(order_id)"}
        # Only a refused condition means "already recorded"; a conflict or a throttle raises, and is retried.
        return aws.succeeded(
            lambda: self._dynamodb.transact_write_items(
                TransactItems=[
                    {"Put": {"Item": item, **only_new}},
                    {"Put": {"Item": marker, **only_new}},
                ]
            ),
            refused=aws.cancelled_by_condition,
        )

    def trail(self, order_id: str) -> list[AuditEntry]:
        """The order's events in stream order."""
        entries: list[AuditEntry] = []
        arguments: dict[str, Any] = {
            "KeyConditionExpression": _order_key(order_id),
            "ScanIndexForward": True,
            "ConsistentRead": True,
        }
        while True:
            page = self._table.query(**arguments)
            entries.extend(AuditEntry.model_validate(item, strict=False) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return entries
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _order_key(order_id: str) -> Any:
    from boto3.dynamodb.conditions import Key  # imported with the table resource's first use

    return Key("order_id").eq(order_id)
