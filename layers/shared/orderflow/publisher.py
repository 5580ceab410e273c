"""Publish events to the bus: batches of ten, failed entries retried, never silently lost; an event too large
for the bus goes as a claim-check reference (orderflow.claim_check)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from orderflow import aws
from orderflow.claim_check import ClaimCheckStore, detail_for_bus
from orderflow.envelope import Event

MAX_ENTRIES_PER_CALL = 10  # PutEvents limit


class PublishError(RuntimeError):
    """Some events were still rejected by PutEvents after every retry."""

    def __init__(self, failures: list[dict[str, Any]]) -> None:
        codes = sorted({str(failure.get("ErrorCode")) for failure in failures})
        super().__init__(f"{len(failures)} event(s) not published: {', '.join(codes)}")
        self.failures = failures


def to_entry(event: Event, bus_name: str, claim_checks: ClaimCheckStore | None = None) -> dict[str, Any]:
    """The PutEvents entry for an event (its detail in the claim-check bucket when it is too large)."""
    return {
        "EventBusName": bus_name,
        "Source": event.SOURCE,
        "DetailType": event.DETAIL_TYPE,
        "Detail": detail_for_bus(event, claim_checks),
    }


class EventPublisher:
    """Sends events to one bus; an unchecked FailedEntryCount would lose events, so it is checked."""

    def __init__(
        self,
        bus_name: str,
        *,
        max_attempts: int = 4,
        base_delay_seconds: float = 0.05,
        events_client: Any | None = None,
        claim_checks: ClaimCheckStore | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.bus_name = bus_name
        self.max_attempts = max_attempts
        self.base_delay_seconds = base_delay_seconds
        self._events_client = events_client
        self._claim_checks = claim_checks  # None: the bucket the environment names, read only when needed
        self._sleep = sleep

    @property
    def events_client(self) -> Any:
        return self._events_client or aws.client("events")

    def publish(self, events: Sequence[Event]) -> None:
        """Publish all events or raise PublishError naming those that failed."""
        # Objects are stored before their references are published: a reference never points at nothing.
        entries = [to_entry(event, self.bus_name, self._claim_checks) for event in events]
        for start in range(0, len(entries), MAX_ENTRIES_PER_CALL):
            self._put_with_retries(entries[start : start + MAX_ENTRIES_PER_CALL])

    def _put_with_retries(self, entries: list[dict[str, Any]]) -> None:
        pending = entries
        failures: list[dict[str, Any]] = []
        for attempt in range(self.max_attempts):
            if attempt:
                self._sleep(self.base_delay_seconds * 2 ** (attempt - 1))
            response = self.events_client.put_events(Entries=pending)
            if not response.get("FailedEntryCount"):
                return
            # Results are positional: retry exactly the entries that carry an ErrorCode.
            failures = [result for result in response["Entries"] if result.get("ErrorCode")]
            pending = [
                entry for entry, result in zip(pending, response["Entries"], strict=True) if result.get("ErrorCode")
            ]
        raise PublishError(failures)
