"""The audit trail's record: written by the auditor, read by GET /orders/{id}/events."""

from __future__ import annotations

from pydantic import AwareDatetime

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
