"""auditor: appends every orderflow event on the Kinesis audit stream to the audit table."""

from __future__ import annotations

from typing import Any

from auditor_settings import get_settings
from auditor_trail import audit_entry
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from orderflow.audit import AuditTable

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)


@tracer.capture_method
def record_handler(record: KinesisStreamRecord) -> None:
    # A poison record raises here: it is reported alone, and Lambda retries from it, bisects,
    # and finally sends it to the on-failure destination while the shard moves on.
    entry = audit_entry(record.kinesis.data_as_text(), record.kinesis.sequence_number)
    logger.set_correlation_id(entry.order_id)
    if not AuditTable(get_settings().audit_table_name).append(entry):
        logger.info("Audit record already stored", extra={"position": entry.position})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
