"""Turn what AWS delivers into typed events: the only way consumers read events."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import ValidationError

from orderflow.catalog import EVENT_TYPES
from orderflow.envelope import Event

E = TypeVar("E", bound=Event)


class MalformedEventError(ValueError):
    """The payload is not an orderflow event this consumer accepts; retrying will not help."""


def parse_eventbridge_event(raw: dict[str, Any] | str, accepted: tuple[type[E], ...]) -> E:
    """Validate an EventBridge event and return its detail as one of the `accepted` models."""
    try:
        envelope = (
            EventBridgeModel.model_validate_json(raw) if isinstance(raw, str) else EventBridgeModel.model_validate(raw)
        )
    except ValidationError as error:
        raise MalformedEventError(f"not an EventBridge event: {error}") from error
    event_type = EVENT_TYPES.get(envelope.detail_type)
    if event_type is None:
        raise MalformedEventError(f"unknown detail-type {envelope.detail_type!r}")
    if event_type not in accepted:
        names = ", ".join(accepted_type.DETAIL_TYPE for accepted_type in accepted)
        raise MalformedEventError(f"{envelope.detail_type} is not one of {names}")
    if envelope.source != event_type.SOURCE:
        raise MalformedEventError(f"{envelope.detail_type} from {envelope.source!r}, expected {event_type.SOURCE!r}")
    try:
        return event_type.model_validate(envelope.detail)  # type: ignore[return-value]
    except ValidationError as error:
        raise MalformedEventError(f"invalid {envelope.detail_type}: {error}") from error


def parse_sqs_record(record: SQSRecord, accepted: tuple[type[E], ...]) -> E:
    """An SQS record whose body is an EventBridge event (a rule's SQS target) as a typed event."""
    try:
        body = json.loads(record.body)
    except json.JSONDecodeError as error:
        raise MalformedEventError(f"SQS body is not JSON: {error}") from error
    if not isinstance(body, dict):
        raise MalformedEventError("SQS body is not a JSON object")
    return parse_eventbridge_event(body, accepted)
