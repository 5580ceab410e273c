"""auditor: appends every orderflow event on the Kinesis audit stream to the audit table."""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from auditor.settings import get_settings
from auditor.trail import ANY_EVENT, audit_entry
from auditor.writers import BatchAppends
from orderflow.audit import AuditTable
from orderflow.consumer import batch_lambda_handler, failure_logged
from orderflow.observability import logger

# What AuditRule sends it: every orderflow event (tests/unit/test_event_routing.py holds the two together).
ACCEPTS = ANY_EVENT


@cache
def appends() -> BatchAppends:
    settings = get_settings()
    return BatchAppends(AuditTable(settings.audit_table_name), settings.audit_writers)


def start_batch(_: LambdaContext) -> None:
    appends().start_batch()


async def append_to_trail(record: KinesisStreamRecord) -> None:
    # A poison record raises here: it is reported alone, and Lambda retries from it, bisects,
    # and finally sends it to the on-failure destination while the shard moves on.
    # Records are written concurrently, so each log line names its order rather than setting the logger's.
    data, position = record.kinesis.data_as_text(), record.kinesis.sequence_number
    with failure_logged(data, sequence_number=position):
        entry = audit_entry(data, position)
        if not await appends().append(entry):
            logger.info("Audit record already stored", extra={"order_id": entry.order_id, "position": entry.position})


# Unlike a queue's, a batch that fails whole raises: the stream's mapping bisects a batch on a function error.
lambda_handler = batch_lambda_handler(
    AsyncBatchProcessor(event_type=EventType.KinesisDataStreams), append_to_trail, before_batch=start_batch
)
