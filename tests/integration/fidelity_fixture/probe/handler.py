"""Probe functions for the local cloud's fidelity tests: they record what they were given."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import boto3


def _remember(record_id: str, detail: dict[str, Any]) -> None:
    boto3.client("dynamodb").put_item(
        TableName=os.environ["SEEN_TABLE_NAME"],
        Item={"id": {"S": record_id}, "detail": {"S": json.dumps(detail)}},
    )


def remember(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Records every SQS record it is given."""
    for record in event["Records"]:
        detail = json.loads(record["body"])["detail"]
        _remember(f"{context.function_name}:{detail['n']}", detail)
    return {"batchItemFailures": []}


def stream_records(event: dict[str, Any], context: Any) -> None:
    """Raises on a poison record, so the mapping must bisect, retry and give up on it alone."""
    details = [json.loads(base64.b64decode(record["kinesis"]["data"]))["detail"] for record in event["Records"]]
    if any(detail.get("poison") for detail in details):
        raise ValueError("poison record in batch")
    for record, detail in zip(event["Records"], details, strict=True):
        _remember(f"stream:{record['kinesis']['sequenceNumber']}", detail)


def hello(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "body": "hello"}
