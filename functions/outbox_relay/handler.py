"""outbox-relay: OrderPlacedPipe's enrichment; each new order's stream record becomes its OrderPlaced detail.

The pipe sends each returned detail to the bus as an OrderPlaced event. The event was built and
validated when the order was accepted and stored with it (orderflow.orders_table.OUTBOX_ATTRIBUTE);
it is parsed through its contract again here, so nothing else ever reaches the bus under that name.
Its id derives from the order, so a record the stream delivers twice publishes the same event. An
OrderPlaced too large for the bus goes as a claim-check reference (orderflow.claim_check).
"""

from __future__ import annotations

from typing import Any

import pydantic_core
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from orderflow.catalog import OrderPlaced
from orderflow.claim_check import detail_for_bus
from orderflow.observability import logger
from orderflow.orders_table import OUTBOX_ATTRIBUTE
from orderflow.parsing import parse_detail


def order_placed_detail(record: dict[str, Any]) -> dict[str, Any]:
    """The OrderPlaced detail a new order's stream record carries; raises if it breaks the contract."""
    image = DynamoDBRecord(record).dynamodb.new_image  # type: ignore[union-attr]  # the pipe sends NEW_IMAGE inserts
    # As every consumer reads it: an order stored before a new version of OrderPlaced is upcast.
    placed = parse_detail(OrderPlaced, image[OUTBOX_ATTRIBUTE])
    logger.info("OrderPlaced relayed", extra={"order_id": placed.order_id, "event_id": placed.event_id})
    detail: dict[str, Any] = pydantic_core.from_json(detail_for_bus(placed))
    return detail


@logger.inject_lambda_context
def lambda_handler(event: list[dict[str, Any]], context: LambdaContext) -> list[dict[str, Any]]:
    return [order_placed_detail(record) for record in event]
