"""Turn what AWS delivers into typed events: the only way consumers read events.

Every body goes through one JSON decoder (pydantic's, `decode_json`), which refuses what is not a
JSON document of valid Unicode: a syntax error, a lone surrogate, nesting deeper than pydantic's
limit, a number too long to convert. The detail is then upcast to the consumer's version of its
type (orderflow.versions) and validated strictly from JSON. A claim-check reference (an event too
large for the bus, orderflow.claim_check) is resolved first: its object is fetched from the bucket,
checked against the reference's sha256 and validated the same way. Whatever goes wrong, the caller
gets one MalformedEventError, so the record fails alone (to its DLQ) instead of crashing the batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import pydantic_core
from pydantic import ValidationError

from orderflow.catalog import EVENT_TYPES
from orderflow.claim_check import REFERENCE_FIELD
from orderflow.envelope import Event
from orderflow.versions import UnknownVersionError, upcast

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

E = TypeVar("E", bound=Event)


class MalformedEventError(ValueError):
    """The payload is not an orderflow event this consumer accepts; retrying will not help."""


class UndecodableError(ValueError):
    """The body is not a JSON document of valid Unicode (or nests too deep, or holds a number too long)."""


def decode_json(body: str | bytes) -> Any:
    """A JSON body as Python values; UndecodableError for anything pydantic's parser refuses."""
    try:
        return pydantic_core.from_json(body)
    except ValueError as error:  # a syntax error, invalid UTF-8 or a lone surrogate, nesting, a number too long
        raise UndecodableError(str(error)) from error


def parse_eventbridge_event(raw: dict[str, Any] | str, accepted: tuple[type[E], ...]) -> E:
    """Validate an EventBridge event and return its detail as one of the `accepted` models."""
    # Powertools' parser models are imported on first use: a function that reads only details never pays for them.
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

    if isinstance(raw, str):
        raw = _decoded_object(raw, "EventBridge event")
    try:
        envelope = EventBridgeModel.model_validate(raw)
    except ValidationError as error:
        raise MalformedEventError(f"not an EventBridge event: {error}") from error
    if envelope.detail_type not in EVENT_TYPES:
        raise MalformedEventError(f"unknown detail-type {envelope.detail_type!r}")
    # The consumer's own model of the type: it may be a newer version than the catalog's (an upgrade in flight).
    event_type = next((model for model in accepted if envelope.detail_type == model.DETAIL_TYPE), None)
    if event_type is None:
        names = ", ".join(accepted_type.DETAIL_TYPE for accepted_type in accepted)
        raise MalformedEventError(f"{envelope.detail_type} is not one of {names}")
    if envelope.source != event_type.SOURCE:
        raise MalformedEventError(f"{envelope.detail_type} from {envelope.source!r}, expected {event_type.SOURCE!r}")
    return parse_detail(event_type, envelope.detail)


def parse_detail(event_type: type[E], detail: Any) -> E:
    """An event's `detail` (decoded, or its JSON text) as `event_type`: upcast from an older version, then
    validated strictly."""
    name = event_type.DETAIL_TYPE
    if isinstance(detail, str):
        detail = _decoded_object(detail, f"{name}'s detail")
    if not isinstance(detail, dict):
        raise MalformedEventError(f"{name}'s detail is not a JSON object")
    if REFERENCE_FIELD in detail:
        detail = _claimed_detail(name, detail)
    try:
        detail = upcast(name, detail, event_type.VERSION)
    except UnknownVersionError as error:
        raise MalformedEventError(str(error)) from error
    except (KeyError, TypeError, ValueError) as error:  # an upcaster reads a detail nothing has validated yet
        raise MalformedEventError(f"{name} could not be upcast: {error!r}") from error
    try:
        # From JSON, strictly: the decoded detail is JSON again, so datetimes and enums arrive as JSON strings.
        return event_type.model_validate_json(pydantic_core.to_json(detail))
    except ValidationError as error:
        raise MalformedEventError(f"invalid {name}: {error}") from error


def parse_sqs_record(record: SQSRecord, accepted: tuple[type[E], ...]) -> E:
    """An SQS record whose body is an EventBridge event (a rule's SQS target) as a typed event."""
    return parse_eventbridge_event(_decoded_object(record.body, "SQS body"), accepted)


def _claimed_detail(name: str, detail: dict[str, Any]) -> dict[str, Any]:
    """The whole detail a claim-check reference points at, checked to be the referenced event's."""
    from orderflow.claim_check import ClaimCheckedDetail, ClaimCheckError, ClaimCheckStore

    try:
        checked = ClaimCheckedDetail.model_validate_json(pydantic_core.to_json(detail))
    except ValidationError as error:
        raise MalformedEventError(f"invalid claim-check reference in {name}: {error}") from error
    try:
        body = ClaimCheckStore.from_environment().check_out(checked.claim_check)
    except ClaimCheckError as error:
        raise MalformedEventError(f"{name}: {error}") from error
    claimed = _decoded_object(body, f"{name}'s claim-checked detail")
    if claimed.get("metadata") != detail["metadata"]:
        raise MalformedEventError(f"{name}'s claim-checked detail is not the event its reference names")
    return claimed


def _decoded_object(body: str | bytes, what: str) -> dict[str, Any]:
    try:
        decoded = decode_json(body)
    except UndecodableError as error:
        raise MalformedEventError(f"{what} is not JSON: {error}") from error
    if not isinstance(decoded, dict):
        raise MalformedEventError(f"{what} is not a JSON object")
    return decoded
