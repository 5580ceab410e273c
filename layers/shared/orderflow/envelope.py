"""The event envelope: `{"metadata": {...}, "data": {...}}` inside an EventBridge event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, GetJsonSchemaHandler, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

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
    """Base for every contract model: immutable, strict, and tolerant of fields it does not know.

    Strict: a JSON integer is an integer and a boolean a boolean; nothing is coerced from a string (or
    from 2.0, 1E2, true), so what a model accepts is exactly what its JSON Schema says (docs/decisions/0015).
    Unknown fields are ignored, so a producer may add a field before its consumers know it.

    defer_build: a model's validator is built when it first validates, so a function's init
    builds none of the catalog's models and a function only ever builds the ones it reads.
    """

    model_config = ConfigDict(frozen=True, strict=True, extra="ignore", defer_build=True)


class EventMetadata(Contract):
    event_id: str = Field(min_length=1, max_length=256, description="Idempotency key, set by the producer")
    correlation_id: str = Field(min_length=1, max_length=128, description="The order id")
    causation_id: str | None = Field(default=None, max_length=256, description="event_id of the cause")
    occurred_at: AwareDatetime
    schema_version: int = Field(description="The version of the event type's contract (its model's VERSION)")
    producer: str = Field(min_length=1, max_length=64)


class CommandMetadata(EventMetadata):
    task_token: str = Field(min_length=1, max_length=8192, description="Step Functions callback token")


class Event(Contract):
    """An orderflow event; subclasses name their type, source and data model."""

    DETAIL_TYPE: ClassVar[str]
    SOURCE: ClassVar[str]
    KIND: ClassVar[EventKind] = "fact"
    # The contract's version: raised for a breaking change, with an upcaster from the one before
    # (orderflow.versions); the compatibility gate (tools/compatibility.py) enforces both.
    VERSION: ClassVar[int] = 1

    metadata: EventMetadata
    data: Contract

    @model_validator(mode="after")
    def is_this_version(self) -> Self:
        if self.metadata.schema_version != self.VERSION:
            raise ValueError(
                f"metadata.schema_version {self.metadata.schema_version} is not {self.DETAIL_TYPE}'s version "
                f"{self.VERSION} (an older version must be upcast first)"
            )
        return self

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """The schema says what `is_this_version` checks: schema_version is this event's VERSION."""
        json_schema = handler(core_schema)
        model_schema = handler.resolve_ref_schema(json_schema)
        if "metadata" in model_schema.get("properties", {}):
            metadata = handler.resolve_ref_schema(model_schema["properties"]["metadata"])
            metadata["properties"]["schema_version"] = {
                **metadata["properties"]["schema_version"],
                "enum": [cls.VERSION],
            }
        return json_schema

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
            schema_version=cls.VERSION,
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
