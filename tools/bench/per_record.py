"""Per-record cost: orderflow's consumer layer against a plain Powertools consumer doing the same work.

The plain consumer is the documented Powertools pattern: Logger, Tracer and Metrics around
`process_partial_response` with a `BatchProcessor`, the record parsed with the Powertools parser's
EventBridge envelope, and `idempotent_function` on DynamoDB keyed on the event id. orderflow's
`SqsConsumer`, with its idempotency records on as every saga service has them, applies the
projector's business function (`project`) on the same tables, so the difference is what
orderflow's consumer layer adds. The projector as deployed keeps no idempotency records (decision
0021) and is measured too. All run on one moto backend (in process), batch for batch, in rotating
order; every batch has fresh event ids, so idempotency writes its records each time.

Run as `python -m tools.bench.per_record` (a fresh interpreter: the function's environment is set
before anything is imported, as Lambda's is).
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import sys
import time
import uuid
import warnings
from collections.abc import Callable
from typing import Any

from tools.lambda_code import REPO_ROOT, use_lambda_code

BATCH_SIZE = 10
ORDERFLOW = "orderflow consumer, idempotent"
PLAIN = "plain Powertools"
DEPLOYED = "projector as deployed"
ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_SERVICE_NAME": "projector",
    "POWERTOOLS_METRICS_NAMESPACE": "orderflow",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "AWS_LAMBDA_FUNCTION_NAME": "ProjectorFunction",
    "IDEMPOTENCY_TABLE_NAME": "bench-idempotency",
    "ORDERS_TABLE_NAME": "bench-orders",
}


class Context:
    """The Lambda context the handlers read."""

    function_name = "ProjectorFunction"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ProjectorFunction"
    aws_request_id = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def _sample_body(detail_type: str) -> dict[str, Any]:
    records = json.loads((REPO_ROOT / "events" / "projector-batch.json").read_text())["Records"]
    bodies = [json.loads(record["body"]) for record in records]
    return next(body for body in bodies if body["detail-type"] == detail_type)


def _for_order(body: dict[str, Any], order_id: str) -> dict[str, Any]:
    """The sample event for another order, with a fresh event id."""
    body = copy.deepcopy(body)
    body["detail"]["metadata"].update(event_id=str(uuid.uuid4()), correlation_id=order_id)
    body["detail"]["data"]["order_id"] = order_id
    return body


def sample_batch() -> dict[str, Any]:
    """BATCH_SIZE InventoryReserved records, each for a new order placed (stored PENDING) beforehand."""
    from orderflow.catalog import OrderPlaced
    from orderflow.orders_table import OrdersTable
    from orders_api.intake import place_order

    orders = OrdersTable(os.environ["ORDERS_TABLE_NAME"])
    placed, reserved = _sample_body("OrderPlaced"), _sample_body("InventoryReserved")
    template = json.loads((REPO_ROOT / "events" / "projector-batch.json").read_text())["Records"][0]
    records = []
    for _ in range(BATCH_SIZE):
        order_id = str(uuid.uuid4())
        place_order(OrderPlaced.model_validate_json(json.dumps(_for_order(placed, order_id)["detail"])), orders)
        body = json.dumps(_for_order(reserved, order_id))
        records.append({**template, "messageId": str(uuid.uuid4()), "body": body})
    return {"Records": records}


def plain_powertools_handler() -> Callable[[dict[str, Any], Any], Any]:
    from aws_lambda_powertools import Logger, Metrics, Tracer
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

    from orderflow.catalog import InventoryReserved
    from orderflow.orders_table import OrdersTable
    from projector.projection import project

    logger, tracer, metrics = Logger(), Tracer(), Metrics()
    processor = BatchProcessor(event_type=EventType.SQS)
    config = IdempotencyConfig(event_key_jmespath="metadata.event_id")
    persistence = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE_NAME"])

    @idempotent_function(  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
        data_keyword_argument="event", persistence_store=persistence, config=config
    )
    def apply(event: InventoryReserved) -> None:
        project(event, OrdersTable(os.environ["ORDERS_TABLE_NAME"]))

    def record_handler(record: SQSRecord) -> None:
        # The Powertools parser validates a dict, in which a strict model's datetimes are still strings,
        # so the detail is validated in lax mode: the same model, the same fields checked.
        envelope = EventBridgeModel.model_validate_json(record.body)
        apply(event=InventoryReserved.model_validate(envelope.detail, strict=False))

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> Any:
        config.register_lambda_context(context)
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    return handler


def create_tables() -> None:
    import boto3

    from tools.localcloud.tables import create_table
    from tools.localcloud.template import load_template

    resources = load_template().sam["Resources"]
    dynamodb = boto3.client("dynamodb")
    for logical_id, variable in (("IdempotencyTable", "IDEMPOTENCY_TABLE_NAME"), ("OrdersTable", "ORDERS_TABLE_NAME")):
        create_table(dynamodb, os.environ[variable], resources[logical_id]["Properties"])


def measure(batches: int) -> dict[str, list[float]]:
    """Seconds per record of each consumer, one figure per batch, alternating which goes first."""
    from moto import mock_aws

    with mock_aws():
        create_tables()
        from orderflow.consumer import SqsConsumer
        from projector.handler import ACCEPTED, apply_to_order
        from projector.handler import lambda_handler as deployed_projector
        from projector.settings import get_settings

        idempotent = SqsConsumer(accepts=ACCEPTED, apply=apply_to_order, settings=get_settings)
        consumers = {
            ORDERFLOW: idempotent.lambda_handler,
            PLAIN: plain_powertools_handler(),
            DEPLOYED: deployed_projector,
        }
        for handler in consumers.values():  # warm each: clients, models, the tables' first writes
            _run(handler, sample_batch())
        timings: dict[str, list[float]] = {name: [] for name in consumers}
        order = list(consumers.items())
        for round_number in range(batches):
            rotated = order[round_number % len(order) :] + order[: round_number % len(order)]
            for name, handler in rotated:
                timings[name].append(_run(handler, sample_batch()) / BATCH_SIZE)
    return timings


def _run(handler: Callable[[dict[str, Any], Any], Any], batch: dict[str, Any]) -> float:
    started = time.perf_counter()
    response = handler(batch, Context())
    elapsed = time.perf_counter() - started
    if response.get("batchItemFailures"):
        raise RuntimeError(f"the bench batch failed: {response}")
    return elapsed


def main() -> int:
    os.environ.update(ENVIRONMENT)
    use_lambda_code()
    import logging

    logging.disable(logging.CRITICAL)  # both consumers log alike; the bench's output is its figures
    warnings.simplefilter("ignore")  # Metrics warns of a flush with no metrics, alike for both
    batches = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    timings = measure(batches)
    medians = {name: statistics.median(values) for name, values in timings.items()}
    print(json.dumps(medians))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
