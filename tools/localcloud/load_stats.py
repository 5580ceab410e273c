"""The figures a load run reports (percentiles, per-phase throughput and latency) and their tables."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from tools.localcloud.load import LoadResult, PlacedOrder


class Percentiles(NamedTuple):
    p50: float | None
    p95: float | None
    p99: float | None


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The `fraction` quantile, interpolating between closest ranks (statistics.quantiles' inclusive method)."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def latency_percentiles(values: Sequence[float]) -> Percentiles:
    return Percentiles(percentile(values, 0.50), percentile(values, 0.95), percentile(values, 0.99))


def per_second(count: int, moments: Sequence[float], since: float) -> float:
    span = max(moments, default=since) - since
    return count / span if span > 0 else 0.0


@dataclass(frozen=True)
class PhaseSummary:
    name: str
    target_rate: str
    sent: int
    accepted: int
    rejected: dict[str, int]
    completed: int
    placed_per_second: float  # accepted orders over phase start -> last 201 of the phase
    completed_per_second: float  # terminal orders over phase start -> last terminal event of the phase
    post_latency: Percentiles
    completion_latency: Percentiles  # POST sent -> the order's terminal event
    max_send_lag: float


def summarize(name: str, target_rate: str, orders: Sequence[PlacedOrder], since: float) -> PhaseSummary:
    accepted = [order for order in orders if order.accepted]
    completion = {id(order): order.terminal_at - order.sent_at for order in accepted if order.terminal_at}
    terminal_at = [order.terminal_at for order in accepted if order.terminal_at]
    rejected = Counter(order.status for order in orders if not order.accepted)
    answered_at = [order.sent_at + order.post_seconds for order in accepted]
    lag = max((order.send_lag for order in orders), default=0.0)
    return PhaseSummary(
        name=name,
        target_rate=target_rate,
        sent=len(orders),
        accepted=len(accepted),
        rejected=dict(sorted(rejected.items())),
        completed=len(completion),
        placed_per_second=per_second(len(accepted), answered_at, since),
        completed_per_second=per_second(len(completion), terminal_at, since),
        post_latency=latency_percentiles([order.post_seconds for order in orders]),
        completion_latency=latency_percentiles(list(completion.values())),
        max_send_lag=lag,
    )


def seconds_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def table(title: str, columns: Sequence[str]) -> Table:
    """A table whose first column is a label and whose others are right-aligned figures."""
    made = Table(title=title)
    for index, column in enumerate(columns):
        made.add_column(column, justify="left" if index == 0 else "right")
    return made


def render(result: LoadResult, console: Console) -> None:
    # Short titles and the definitions as lines below: rich wraps a title to its table's width.
    throughput_columns = ("phase", "target/s", "sent", "accepted", "rejected", "placed/s", "completed/s", "max lag s")
    throughput = table("Throughput per phase", throughput_columns)
    latency = table("Latency per phase, seconds", ("phase", "POST p50", "p95", "p99", "completion p50", "p95", "p99"))
    summaries = result.summaries()
    for row in summaries:
        counts = (row.sent, row.accepted, sum(row.rejected.values()))
        rates = (row.placed_per_second, row.completed_per_second, row.max_send_lag)
        throughput.add_row(row.name, row.target_rate, *map(str, counts), *(f"{rate:.2f}" for rate in rates))
        latency.add_row(row.name, *map(seconds_text, row.post_latency), *map(seconds_text, row.completion_latency))
    console.print(throughput)
    console.print("placed/s and completed/s: the phase's accepted (completed) orders over the time from the phase's")
    console.print("start to its last 201 (terminal event); max lag: how late a request left against its schedule")
    console.print(latency)
    console.print("completion: from sending POST /orders to the order's OrderConfirmed or OrderCancelled event")
    rejected = ", ".join(f"{status} x {count}" for status, count in summaries[-1].rejected.items())
    outcomes = Counter(order.final_status or "not terminal in time" for order in result.orders if order.accepted)
    console.print(f"rejected by status: {rejected or 'none'}")
    console.print("outcomes: " + ", ".join(f"{status} x {count}" for status, count in sorted(outcomes.items())))
    if result.queue_peaks:
        queues = table("Consumer queues, sampled every second", ("queue", "max visible", "max in flight"))
        for queue, (visible, in_flight) in result.queue_peaks.items():
            queues.add_row(queue, str(visible), str(in_flight))
        full = {queue: depth for queue, depth in result.dead_letters.items() if depth}
        console.print(queues, "moto has no ApproximateAgeOfOldestMessage: peak depth stands in for queue age")
        console.print(f"dead-letter queues: {full or 'all empty'}")
