"""Create a DynamoDB table as a template's AWS::DynamoDB::Table declares it (the local cloud and the tests)."""

from __future__ import annotations

from typing import Any

TABLE_KEYS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes")


def create_table(dynamodb: Any, name: str, properties: dict[str, Any]) -> str:
    """Create the table `name` with the declared keys, indexes and stream (on demand) and its TTL; returns its ARN."""
    arguments = {key: properties[key] for key in TABLE_KEYS if key in properties}
    if "StreamSpecification" in properties:
        arguments["StreamSpecification"] = {"StreamEnabled": True, **properties["StreamSpecification"]}
    description = dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **arguments)
    if properties.get("TimeToLiveSpecification"):
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=properties["TimeToLiveSpecification"])
    return str(description["TableDescription"]["TableArn"])
