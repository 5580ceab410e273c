"""Kinesis batches as Lambda delivers them (base64 data)."""

from __future__ import annotations

import base64
import json
from typing import Any

from orderflow.envelope import Event
from tests.support.factories import eventbridge_event

STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/orderflow-AuditStream"


def kinesis_record(data: str, sequence_number: str, partition_key: str) -> dict[str, Any]:
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": sequence_number,
            "data": base64.b64encode(data.encode()).decode(),
            "approximateArrivalTimestamp": 1795000000.0,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:{sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/auditor",
        "awsRegion": "us-east-1",
        "eventSourceARN": STREAM_ARN,
    }


def kinesis_event(*items: Event | str, first_sequence: int = 1000) -> dict[str, Any]:
    """A batch; strings are raw (poison) payloads. Sequence numbers increase by 10."""
    records = []
    for index, item in enumerate(items):
        sequence = str(first_sequence + 10 * index).zfill(56)
        if isinstance(item, str):
            records.append(kinesis_record(item, sequence, "poison"))
        else:
            records.append(kinesis_record(json.dumps(eventbridge_event(item)), sequence, item.order_id))
    return {"Records": records}
