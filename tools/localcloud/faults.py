"""Fault injection the template and the handlers know nothing about, switched at run time.

The local cloud owns one `Faults` (`cloud.faults`). FunctionRuntime sends a
function's active faults with every invocation request, and the worker applies
them around botocore's API calls, so switching a fault takes effect on the next
invocation with no code or template change. SqsMapping asks it whether to
deliver a message twice, FunctionRuntime which SQS records to fail (fail-records).
Every injection is counted per kind and per function.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

ALL_FUNCTIONS = "*"


class FaultKind(StrEnum):
    """What can go wrong; the worker-side kinds act on the AWS calls a handler makes."""

    RAISE = "raise"  # an AWS call fails with a retryable error (ServiceUnavailable)
    KILL = "kill"  # the worker process exits (137) before an AWS call, mid-record
    PUT_EVENTS_PARTIAL = "put-events-partial"  # some PutEvents entries come back InternalFailure
    TRANSACTION_CONFLICT = "transaction-conflict"  # TransactWriteItems cancelled with TransactionConflict
    DUPLICATE = "duplicate"  # an SQS mapping delivers a received message twice
    # SQS records whose body mentions one of the rule's `match` strings (an order id) reach the handler with
    # their detail-type marked, so the consumer refuses them: they fail alone and, in time, are dead-lettered.
    # The message on the queue is untouched, so once the fault is off a redrive applies it.
    FAIL_RECORDS = "fail-records"
    # The bus refuses a pipe's PutEvents (every entry), as in an EventBridge outage; the pipe retries.
    BUS_OUTAGE = "bus-outage"


WORKER_KINDS = frozenset(
    {FaultKind.RAISE, FaultKind.KILL, FaultKind.PUT_EVENTS_PARTIAL, FaultKind.TRANSACTION_CONFLICT}
)


@dataclass
class FaultRule:
    """One switched-on fault: how often it fires, how many more times it may, and on which calls."""

    rate: float
    remaining: int | None = None  # None: no limit
    operations: tuple[str, ...] = ()  # "service.Operation" names it is limited to; empty: every call
    match: tuple[str, ...] = ()  # fail-records: the strings a record's body must mention

    def exhausted(self) -> bool:
        return self.remaining is not None and self.remaining <= 0

    def for_worker(self) -> dict[str, Any]:
        return {"rate": self.rate, "remaining": self.remaining, "operations": list(self.operations)}


class Faults:
    """The switchboard: rules per (kind, function), a seeded random source, and the counts."""

    def __init__(self, seed: int | None = None) -> None:
        # A seed per run: print it, and the same seed makes the same choices for the same calls.
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        self._random = random.Random(self.seed)
        self._rules: dict[tuple[str, str], FaultRule] = {}
        self._lock = threading.Lock()
        self.counts: Counter[tuple[str, str]] = Counter()

    # ------------------------------------------------------------ switching --
    def set(
        self,
        kind: FaultKind,
        rate: float,
        functions: Iterable[str] = (ALL_FUNCTIONS,),
        limit: int | None = None,
        operations: Iterable[str] = (),
        match: Iterable[str] = (),
    ) -> None:
        """Switch a fault on for some functions (logical ids, or "*" for every function)."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"a fault rate is a probability, got {rate}")
        with self._lock:
            for function in functions:
                self._rules[(kind.value, function)] = FaultRule(rate, limit, tuple(operations), tuple(match))

    def clear(self, kind: FaultKind | None = None, functions: Iterable[str] | None = None) -> None:
        """Switch faults off: one kind, some functions, or everything."""
        wanted = None if functions is None else set(functions)
        with self._lock:
            for key in list(self._rules):
                if (kind is None or key[0] == kind.value) and (wanted is None or key[1] in wanted):
                    del self._rules[key]

    @contextmanager
    def injected(
        self,
        kind: FaultKind,
        rate: float,
        functions: Iterable[str] = (ALL_FUNCTIONS,),
        limit: int | None = None,
        operations: Iterable[str] = (),
        match: Iterable[str] = (),
    ) -> Iterator[Faults]:
        """A fault switched on for the duration of a `with` block."""
        targets = tuple(functions)
        self.set(kind, rate, targets, limit, operations, match)
        try:
            yield self
        finally:
            self.clear(kind, targets)

    # ------------------------------------------------------------- applying --
    def _rule(self, kind: str, function: str) -> FaultRule | None:
        """The function's own rule, else the every-function rule (caller holds the lock)."""
        return self._rules.get((kind, function)) or self._rules.get((kind, ALL_FUNCTIONS))

    def for_worker(self, function: str) -> dict[str, Any]:
        """What travels with one invocation: the function's live worker-side rules and a seed."""
        with self._lock:
            rules = {}
            for kind in WORKER_KINDS:
                rule = self._rule(kind.value, function)
                if rule is not None and rule.rate > 0 and not rule.exhausted():
                    rules[kind.value] = rule.for_worker()
            return {"seed": self._random.getrandbits(32), "rules": rules}

    def chance(self, kind: FaultKind, function: str) -> bool:
        """Decide (and count) one local-cloud-side injection, e.g. a duplicate delivery."""
        with self._lock:
            rule = self._rule(kind.value, function)
            fires = rule is not None and not rule.exhausted() and self._random.random() < rule.rate
        if fires:
            self.record(kind.value, function)
        return fires

    def fail_records(self, function: str, event: Any) -> Any:
        """The fail-records fault: the invocation's event with each matching SQS record's detail-type marked."""
        with self._lock:
            rule = self._rule(FaultKind.FAIL_RECORDS.value, function)
            match = rule.match if rule is not None and not rule.exhausted() else ()
        if not match or not isinstance(event, dict) or not isinstance(event.get("Records"), list):
            return event

        def failing(record: Any) -> Any:
            body = record.get("body") if isinstance(record, dict) else None
            if not isinstance(body, str) or not any(text in body for text in match):
                return record
            if not self.chance(FaultKind.FAIL_RECORDS, function):
                return record
            try:
                parsed = json.loads(body)
            except ValueError:
                return {**record, "body": "injected fault: fail-records"}
            if not isinstance(parsed, dict):
                return {**record, "body": "injected fault: fail-records"}
            parsed["detail-type"] = f"{parsed.get('detail-type')} (injected fault: fail-records)"
            return {**record, "body": json.dumps(parsed)}

        return {**event, "Records": [failing(record) for record in event["Records"]]}

    def record(self, kind: str, function: str, count: int = 1) -> None:
        """Count injections (reported by a worker, or made by the local cloud or a driver)."""
        if count <= 0:
            return
        with self._lock:
            self.counts[(kind, function)] += count
            rule = self._rule(kind, function)
            if rule is not None and rule.remaining is not None:
                rule.remaining = max(0, rule.remaining - count)

    # ------------------------------------------------------------ reporting --
    def count(self, kind: str | None = None, function: str | None = None) -> int:
        with self._lock:
            return sum(
                number
                for (counted_kind, counted_function), number in self.counts.items()
                if (kind is None or counted_kind == kind) and (function is None or counted_function == function)
            )

    @property
    def total(self) -> int:
        return self.count()

    def summary(self) -> list[tuple[str, str, int]]:
        """(kind, function, count) rows, sorted, for a report."""
        with self._lock:
            return sorted((kind, function, number) for (kind, function), number in self.counts.items())
