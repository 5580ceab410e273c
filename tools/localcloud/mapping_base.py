"""What every event source mapping shares: a polling thread that can be paused and stopped."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from moto.events.models import EventPattern

from tools.localcloud.functions import FunctionRuntime, InvocationResult
from tools.localcloud.provision_runtime import MappingSpec

REGION = "us-east-1"
LONG_POLL_SECONDS = 1


@dataclass
class MappingStats:
    """What one mapping delivered: records the function processed, failed, and sent on."""

    processed: int = 0
    failed: int = 0
    batches: int = 0
    sent_to_on_failure: int = 0
    filtered: int = 0  # records FilterCriteria kept from the function


class EventSourceMapping:
    """Base: the template's settings, and a polling thread that can be paused (to simulate an outage) and stopped.

    Times in the spec are on AWS's clock; `time_scale` turns them into the local cloud's.
    """

    idle_interval = 0.1  # seconds between polls that found nothing

    def __init__(self, spec: MappingSpec, function: FunctionRuntime, time_scale: float, pollers: int = 1) -> None:
        self.spec = spec
        self.logical_id = spec.logical_id
        self.function = function
        self.time_scale = time_scale
        self.batch_size = spec.batch_size
        self.report_batch_item_failures = spec.report_batch_item_failures
        self.filter = RecordFilter(spec.filters)
        self.stats = MappingStats()
        self._working_pollers = 0
        self._counting = threading.Lock()  # pollers share the stats and the busy count
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._threads = [
            threading.Thread(target=self._loop, name=f"esm-{spec.logical_id}-{index}", daemon=True)
            for index in range(max(1, pollers))
        ]

    @property
    def busy(self) -> bool:
        """Some poller holds a batch it has not finished with."""
        return self._working_pollers > 0

    @contextmanager
    def _working(self) -> Iterator[None]:
        with self._counting:
            self._working_pollers += 1
        try:
            yield
        finally:
            with self._counting:
                self._working_pollers -= 1

    @property
    def batching_deadline(self) -> float:
        """When a batch started now must be invoked (MaximumBatchingWindowInSeconds, scaled), on time.monotonic()."""
        return time.monotonic() + self.spec.batching_window * self.time_scale

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def request_stop(self) -> None:
        """Ask the poller to stop after its current poll; `stop` also waits for it."""
        self._stop.set()
        self._running.set()

    def stop(self) -> None:
        self.request_stop()
        for thread in self._threads:
            thread.join(timeout=10)

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def _loop(self) -> None:
        poll_until_stopped(self.poll_once, self._stop, self.idle_interval, running=self._running)

    def poll_once(self) -> bool:
        raise NotImplementedError

    def _invoke(self, event: dict[str, Any], transient_faults: bool = True) -> InvocationResult:
        """Invoke the function; a runtime that cannot even start fails the batch, which Lambda retries."""
        try:
            return self.function.invoke(event, transient_faults)
        except Exception as error:
            return InvocationResult(ok=False, error={"errorType": type(error).__name__, "errorMessage": str(error)})


def poll_until_stopped(
    poll_once: Callable[[], bool],
    stop: threading.Event,
    idle_interval: float,
    running: threading.Event | None = None,
) -> None:
    """Poll until `stop` is set, resting `idle_interval` after a poll that found nothing, and waiting while
    `running` is clear (an outage). A failing poll is retried, as the Lambda and Pipes services keep polling."""
    while not stop.is_set():
        if running is not None:
            running.wait()
            if stop.is_set():
                return
        try:
            worked = poll_once()
        except Exception:
            worked = False
            time.sleep(0.5)
        if not worked:
            stop.wait(idle_interval)


def failed_item_ids(result: InvocationResult, item_ids: Sequence[str], report_batch_item_failures: bool) -> set[str]:
    """The batch's items Lambda counts as failed, by the rules of "Reporting batch item failures".

    An invocation error fails the batch. Without ReportBatchItemFailures the response is ignored.
    With it, a null or empty response or `batchItemFailures` list is complete success; a response
    that is not a partial batch response (not a JSON object, `batchItemFailures` not a list, an
    item that is not an object, a missing, null, empty or unknown `itemIdentifier`) fails the batch.
    """
    everything = set(item_ids)
    if not result.ok:
        return everything
    payload = result.result
    if not report_batch_item_failures or payload is None:
        return set()
    if not isinstance(payload, dict):
        return everything
    failures = payload.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return everything
    ids = [failure.get("itemIdentifier") if isinstance(failure, dict) else None for failure in failures]
    if not all(isinstance(item, str) and item in everything for item in ids):
        return everything
    return {str(item) for item in ids}


class RecordFilter:
    """FilterCriteria: a record reaches the function if any pattern matches it (EventBridge pattern syntax)."""

    def __init__(self, patterns: Sequence[dict[str, Any]]) -> None:
        self.patterns = [EventPattern(None, pattern) for pattern in patterns]

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, record: dict[str, Any]) -> bool:
        return not self.patterns or any(pattern.matches_event(record) for pattern in self.patterns)  # type: ignore[arg-type]


def json_or_text(text: str) -> Any:
    """A record body or data as filtering sees it: its JSON value when it is JSON, else the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text
