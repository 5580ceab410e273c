"""The event envelope: `{"metadata": {...}, "data": {...}}` inside an EventBridge event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

# Fixed namespace for ids derived from a causing event: the same cause and
# type always give the same id, on every machine and every re-run.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c2a7e-3b0d-5a8e-9c4f-0d7a1e2b3c4d")

EventKind = Literal["command", "fact"]


def derive_event_id(cause_event_id: str, detail_type: str) -> str:
    """The id of the event of type `detail_type` published in reaction to `cause_event_id`."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{cause_event_id}/{detail_type}"))


def utc_now() -> datetime:
    return datetime.now(UTC)


class Contract(BaseModel):
    """Base for every contract model: immutable, and unknown fields are an error.

    defer_build: a model's validator is built when it first validates, so a function's init
    builds none of the catalog's models and a function only ever builds the ones it reads.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class EventMetadata(Contract):
    event_id: str = Field(min_length=1, max_length=256, description="Idempotency key, set by the producer")
    correlation_id: str = Field(min_length=1, max_length=128, description="The order id")
    causation_id: str | None = Field(default=None, max_length=256, description="event_id of the cause")
    occurred_at: AwareDatetime
    schema_version: int = SCHEMA_VERSION
    producer: str = Field(min_length=1, max_length=64)


class CommandMetadata(EventMetadata):
    task_token: str = Field(min_length=1, max_length=8192, description="Step Functions callback token")


class Event(Contract):
    """An orderflow event; subclasses name their type, source and data model."""

    DETAIL_TYPE: ClassVar[str]
    SOURCE: ClassVar[str]
    KIND: ClassVar[EventKind] = "fact"

    metadata: EventMetadata
    data: Contract

    @classmethod
    def create(
        cls,
        data: Any,
        *,
        correlation_id: str,
        producer: str,
        causation_id: str | None = None,
        event_id: str | None = None,
    ) -> Self:
        """Build the event; without an explicit id it derives one from its cause, else a fresh uuid4."""
        if event_id is None:
            event_id = derive_event_id(causation_id, cls.DETAIL_TYPE) if causation_id else str(uuid.uuid4())
        metadata = EventMetadata(
            event_id=event_id,
            correlation_id=correlation_id,
            causation_id=causation_id,
            occurred_at=utc_now(),
            producer=producer,
        )
        return cls(metadata=metadata, data=data)

    @classmethod
    def in_reaction_to(cls, cause: Event, data: Any, *, producer: str) -> Self:
        """The event a consumer publishes because of `cause`, with an id derived from it."""
        return cls.create(
            data,
            correlation_id=cause.metadata.correlation_id,
            causation_id=cause.metadata.event_id,
            producer=producer,
        )

    @property
    def event_id(self) -> str:
        return self.metadata.event_id

    @property
    def order_id(self) -> str:
        return self.metadata.correlation_id

    def detail(self) -> str:
        """The EventBridge `detail` JSON."""
        return self.model_dump_json()


class Command(Event):
    """A command the saga sends; the receiver answers through `metadata.task_token`."""

    KIND: ClassVar[EventKind] = "command"
    # A compensation undoes a step: applying it late is always right, so it is applied whatever its token.
    COMPENSATES: ClassVar[bool] = False

    metadata: CommandMetadata
