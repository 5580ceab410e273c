"""Idempotency on DynamoDB through Powertools, keyed on the producer's `metadata.event_id`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from orderflow.settings import IdempotencySettings

F = TypeVar("F", bound=Callable[..., Any])


# Longer than any redelivery or redrive window (SQS retention is at most 14 days in a DLQ,
# but a redriven message is re-checked by the services' own state rules as well).
EVENT_IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="metadata.event_id",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=24 * 60 * 60,
)


def event_idempotency_config() -> IdempotencyConfig:
    """The one config of the container: handlers call `register_lambda_context` on it before the batch."""
    return EVENT_IDEMPOTENCY


def persistence_layer(table_name: str) -> DynamoDBPersistenceLayer:
    """A persistence layer for ONE idempotent function: Powertools configures it once, from that
    function's config, so two functions with different keys must not share one."""
    return DynamoDBPersistenceLayer(table_name=table_name)


def idempotent_on_event_id(func: F, settings: IdempotencySettings, data_keyword_argument: str = "event") -> F:
    """Wrap `func` so a second call with the same `metadata.event_id` returns the first result."""
    wrapped: F = idempotent_function(
        data_keyword_argument=data_keyword_argument,
        persistence_store=persistence_layer(settings.idempotency_table_name),
        config=EVENT_IDEMPOTENCY,
    )(func)
    return wrapped
