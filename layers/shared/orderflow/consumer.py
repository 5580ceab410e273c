"""The one shape of a batch consumer, so a service's handler is its accepted events and one apply function.

    consumer = SqsConsumer(accepts=(ReserveInventory, ReleaseInventory), apply=apply_command, settings=get_settings)
    lambda_handler = consumer.lambda_handler

Every record is handled on its own (Powertools `BatchProcessor` + `process_partial_response`): it is
parsed into one of the accepted event models, then applied at most once per producer's
`metadata.event_id` (Powertools idempotency on DynamoDB), unless the apply function is itself a no-op
for an event it has applied (the projector's history, the saga starter's execution name): then a
Powertools record would only add two writes per record. A record that fails, malformed or not, is
logged in one structured line and reported in `batchItemFailures`, so it alone is retried and, after
`maxReceiveCount`, dead-lettered; a batch whose every record fails is reported the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    BatchProcessor,
    EventType,
    async_process_partial_response,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.base import BasePartialBatchProcessor
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from orderflow.envelope import Event
from orderflow.observability import logger, metrics, tracer
from orderflow.parsing import UndecodableError, decode_json, parse_sqs_record
from orderflow.settings import IdempotencySettings

E = TypeVar("E", bound=Event)
LambdaHandler = Callable[[dict[str, Any], LambdaContext], PartialItemFailureResponse]


def batch_lambda_handler(
    processor: BasePartialBatchProcessor,
    record_handler: Callable[[Any], Any],  # async for an AsyncBatchProcessor
    before_batch: Callable[[LambdaContext], None] | None = None,
) -> LambdaHandler:
    """The Lambda entry point of a batch consumer: logger, tracer and metrics around the partial batch.

    An AsyncBatchProcessor runs the (async) record handler on every record at once: its records are
    not traced one by one, because the X-Ray SDK's subsegments nest per thread, not per coroutine.
    """
    process: Callable[..., PartialItemFailureResponse]
    if isinstance(processor, AsyncBatchProcessor):
        process = functools.partial(async_process_partial_response, record_handler=record_handler, processor=processor)
    else:
        traced_record_handler = tracer.capture_method(record_handler)
        process = functools.partial(process_partial_response, record_handler=traced_record_handler, processor=processor)

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        if before_batch is not None:
            before_batch(context)
        return process(event=event, context=context)

    return lambda_handler


@contextmanager
def failure_logged(payload: str, **extra: str) -> Iterator[None]:
    """Around one record: a failure is logged in one structured line, then raised so the record fails alone.

    The line names the record's event type, event id and order id as far as its payload says, and the error.
    """
    try:
        yield
    except Exception as error:
        known = _describe_payload(payload)
        logger.exception(
            "Record failed", extra={**known, **extra, "error_type": type(error).__name__, "error": str(error)}
        )
        raise


def _describe_payload(payload: str) -> dict[str, str]:
    """What a record says about itself, as far as it is an EventBridge event (a malformed one says less)."""
    try:
        body = decode_json(payload)
    except UndecodableError:
        return {}
    if not isinstance(body, dict):
        return {}
    detail = body.get("detail")
    metadata = detail.get("metadata") if isinstance(detail, dict) else None
    if not isinstance(metadata, dict):
        metadata = {}
    found = {
        "event_type": body.get("detail-type"),
        "event_id": metadata.get("event_id"),
        "order_id": metadata.get("correlation_id"),
    }
    return {name: value for name, value in found.items() if isinstance(value, str)}


def _register_context(context: LambdaContext) -> None:
    # Powertools idempotency imports boto3: on the first batch, not in the function's init.
    from orderflow.idempotency import event_idempotency_config

    # Idempotency records expire with the invocation's remaining time while IN_PROGRESS.
    event_idempotency_config().register_lambda_context(context)


class SqsConsumer(Generic[E]):
    """A queue of EventBridge events: parse each record into `accepts`, then `apply` it once per event id."""

    def __init__(
        self,
        accepts: tuple[type[E], ...],
        apply: Callable[[E], None],
        settings: Callable[[], IdempotencySettings],
        applies_each_event_once: bool = False,
    ) -> None:
        """`applies_each_event_once`: `apply` itself changes nothing for an event id it has applied, also
        when two deliveries run at once (a conditional write or the service decides), so no idempotency
        record is kept."""
        self.accepts = accepts
        self._apply = apply
        self._settings = settings
        self._apply_once: Callable[..., None] | None = None
        self.keeps_idempotency_records = not applies_each_event_once
        # Every record failing is still a partial response: each is retried and dead-lettered on its own.
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        before_batch = _register_context if self.keeps_idempotency_records else None
        self.lambda_handler = batch_lambda_handler(processor, self.handle_record, before_batch=before_batch)

    def handle_record(self, record: SQSRecord) -> None:
        """Parse and apply one record; a failure is logged and raised, so the record fails alone."""
        logger.set_correlation_id(None)
        with failure_logged(record.body, message_id=record.message_id):
            event = parse_sqs_record(record, self.accepts)
            logger.set_correlation_id(event.order_id)
            if self.keeps_idempotency_records:
                self._idempotent_apply()(event=event)
            else:
                self._apply(event)

    def _idempotent_apply(self) -> Callable[..., None]:
        """Built on first use: its persistence layer creates a DynamoDB client and needs the settings."""
        if self._apply_once is None:
            from orderflow.idempotency import idempotent_on_event_id

            apply = self._apply

            @functools.wraps(apply)  # the idempotency key names the apply function
            def apply_event(event: E) -> None:
                apply(event)

            self._apply_once = idempotent_on_event_id(apply_event, self._settings())
        return self._apply_once
