"""A probe for the local cloud's fault injection: it counts deliveries and makes the calls faults act on."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from botocore.exceptions import ClientError


def _table() -> str:
    return os.environ["SEEN_TABLE_NAME"]


def _count_delivery(n: int) -> None:
    boto3.client("dynamodb").update_item(
        TableName=_table(),
        Key={"id": {"S": f"deliveries:{n}"}},
        UpdateExpression="ADD deliveries :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )


def _note(key: str, value: Any) -> None:
    boto3.client("dynamodb").put_item(TableName=_table(), Item={"id": {"S": key}, "value": {"S": json.dumps(value)}})


def _publish(n: int, count: int) -> None:
    """Publish `count` Echo events, retrying only the entries PutEvents reports failed (as orderflow's publisher)."""
    events = boto3.client("events")
    pending = [
        {
            "EventBusName": os.environ["BUS_NAME"],
            "Source": "probe",
            "DetailType": "Echo",
            "Detail": json.dumps({"n": n, "i": i}),
        }
        for i in range(count)
    ]
    for attempt in range(10):
        response = events.put_events(Entries=pending)
        results = response["Entries"]
        _note(
            f"put:{n}:{attempt}",
            {
                "failed": response["FailedEntryCount"],
                "codes": [r.get("ErrorCode") for r in results],
                "sent": [json.loads(e["Detail"])["i"] for e in pending],
            },
        )
        pending = [entry for entry, result in zip(pending, results, strict=True) if result.get("ErrorCode")]
        if not pending:
            return
    raise RuntimeError("entries still failing")


def _transact(n: int) -> None:
    try:
        boto3.client("dynamodb").transact_write_items(
            TransactItems=[
                {"Put": {"TableName": _table(), "Item": {"id": {"S": f"tx:{n}:a"}}}},
                {"Put": {"TableName": _table(), "Item": {"id": {"S": f"tx:{n}:b"}}}},
            ]
        )
    except ClientError as error:
        reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
        _note(f"cancelled:{n}", {"code": error.response["Error"]["Code"], "reasons": reasons})
        raise


def work(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Each record: count the delivery, then publish and/or transact as its detail asks."""
    failures = []
    for record in event["Records"]:
        detail = json.loads(record["body"])["detail"]
        try:
            _count_delivery(detail["n"])
            if detail.get("publish"):
                _publish(detail["n"], int(detail["publish"]))
            if detail.get("transact"):
                _transact(detail["n"])
            _note(f"remaining:{detail['n']}", context.get_remaining_time_in_millis())
        except ClientError:
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
