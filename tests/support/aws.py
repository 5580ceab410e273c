"""Create moto resources exactly as template.yaml declares them."""

from __future__ import annotations

from typing import Any

import boto3

from tools.localcloud.tables import create_table as create_declared_table
from tools.localcloud.template import load_template


def create_table(logical_id: str, name: str | None = None) -> str:
    """Create the DynamoDB table `logical_id` from the template's key schema; returns its name."""
    properties: dict[str, Any] = load_template().resources[logical_id]["Properties"]
    table_name = name or logical_id
    create_declared_table(boto3.client("dynamodb"), table_name, properties)
    return table_name


def literal_environment(logical_id: str) -> dict[str, str]:
    """The function's environment variables the template sets to literal values (limits, service names)."""
    variables = load_template().sam["Resources"][logical_id]["Properties"]["Environment"]["Variables"]
    return {name: value for name, value in variables.items() if isinstance(value, str)}
