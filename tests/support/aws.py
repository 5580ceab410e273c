"""Create moto resources exactly as template.yaml declares them."""

from __future__ import annotations

from typing import Any

import boto3

from tools.localcloud.template import load_template

_TABLE_KEYS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes")


def create_table(logical_id: str, name: str | None = None) -> str:
    """Create the DynamoDB table `logical_id` from the template's key schema; returns its name."""
    properties: dict[str, Any] = load_template().resources[logical_id]["Properties"]
    table_name = name or logical_id
    arguments = {key: properties[key] for key in _TABLE_KEYS if key in properties}
    boto3.client("dynamodb").create_table(TableName=table_name, BillingMode="PAY_PER_REQUEST", **arguments)
    return table_name
