"""Turn an audit stream record into an audit entry.

The audit store is DynamoDB (AuditTable): the trail is always read per order
and in order, which is a query on `order_id` sorted by `position` (the record's
Kinesis sequence number, zero-padded). Appends are conditional puts keyed on the
event id, so the store is append-only and a redelivered record is a no-op; point-in-time
recovery protects it. S3 would need an object per event and a listing per
read, and could not refuse an overwrite as simply.
"""

from __future__ import annotations

import json
from typing import Any

from orderflow.audit import AuditEntry, audit_position
from orderflow.catalog import EVENT_TYPES
from orderflow.parsing import MalformedEventError, UndecodableError, decode_json, parse_eventbridge_event

ANY_EVENT = tuple(EVENT_TYPES.values())


def audit_entry(data: str, sequence_number: str) -> AuditEntry:
    """The entry for one stream record; MalformedEventError for anything that is not an orderflow event."""
    try:
        raw: Any = decode_json(data)
    except UndecodableError as error:
        raise MalformedEventError(f"audit record is not JSON: {error}") from error
    event = parse_eventbridge_event(raw, ANY_EVENT)
    return AuditEntry(
        order_id=event.order_id,
        position=audit_position(sequence_number),
        event_id=event.event_id,
        detail_type=event.DETAIL_TYPE,
        source=event.SOURCE,
        occurred_at=event.metadata.occurred_at,
        detail=json.dumps(raw["detail"], separators=(",", ":")),
    )
