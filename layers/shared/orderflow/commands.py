"""How a service concludes a saga command: publish its facts, then answer the task token."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from orderflow.callback import saga_waits_for, send_task_failure, send_task_success
from orderflow.envelope import Command, Event
from orderflow.observability import logger
from orderflow.publisher import EventPublisher
from orderflow.saga import SagaError
from orderflow.settings import BusSettings

C = TypeVar("C", bound=Command)


@dataclass(frozen=True)
class CommandOutcome:
    """What applying a command produced: facts to publish and the answer for the saga."""

    facts: list[Event] = field(default_factory=list)
    output: BaseModel | dict[str, Any] | None = None
    error: SagaError | None = None  # a named business error (OutOfStock, PaymentDeclined, ...)
    cause: str = ""

    @classmethod
    def succeeded(cls, output: BaseModel | dict[str, Any], *facts: Event) -> CommandOutcome:
        return cls(facts=list(facts), output=output)

    @classmethod
    def failed(cls, error: SagaError, cause: str, *facts: Event) -> CommandOutcome:
        return cls(facts=list(facts), error=error, cause=cause)


def conclude(command: Command, outcome: CommandOutcome, publisher: EventPublisher) -> bool:
    """Publish the facts first (a crash before the answer re-publishes the same ids), then answer.

    Returns False when the saga no longer waits for this token (logged and dropped).
    """
    if outcome.facts:
        publisher.publish(outcome.facts)
    token = command.metadata.task_token
    if outcome.error is not None:
        return send_task_failure(token, outcome.error, outcome.cause)
    return send_task_success(token, outcome.output if outcome.output is not None else {})


def should_apply(command: Command) -> bool:
    """Apply a step only while the saga waits for its answer; a compensation always.

    A step whose token is dead (it timed out, or a late redrive) must change nothing: the
    saga has moved on and compensates that step itself. Undoing is always right, so a late
    compensation still applies (its answer is then dropped).
    """
    return command.COMPENSATES or saga_waits_for(command.metadata.task_token)


def answering_saga(decide: Callable[[C], CommandOutcome], settings: Callable[[], BusSettings]) -> Callable[[C], None]:
    """A saga service's apply function: `decide` the command while the saga waits for it, then conclude.

    `decide` applies the command to the service's state and says what happened; it is never called
    for a forward step whose token is dead (see `should_apply`).
    """

    @functools.wraps(decide)
    def apply_command(command: C) -> None:
        if not should_apply(command):
            logger.warning(
                "Command not applied: the saga no longer waits for it", extra={"command": command.DETAIL_TYPE}
            )
            return
        outcome = decide(command)
        logger.info("Command applied", extra={"command": command.DETAIL_TYPE, "error": outcome.error})
        conclude(command, outcome, EventPublisher(settings().event_bus_name))

    return apply_command
