"""The load test's arithmetic: percentiles, the open-loop schedule, and the per-phase figures."""

from __future__ import annotations

import math
import random
import statistics

import pytest
from rich.console import Console

from tools.localcloud.load import LoadResult, Phase, PlacedOrder, Slot, schedule, standard_phases
from tools.localcloud.load_stats import latency_percentiles, per_second, percentile, render, summarize


def test_percentiles_of_one_to_a_hundred() -> None:
    values = [float(n) for n in range(1, 101)]
    assert latency_percentiles(values) == pytest.approx((50.5, 95.05, 99.01))


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([7.0], 0.99, 7.0),
        ([3.0, 1.0, 2.0], 0.5, 2.0),  # unsorted input
        ([1.0, 2.0, 3.0, 4.0], 0.5, 2.5),  # between the two middle values
        ([1.0, 2.0, 3.0, 4.0], 0.0, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 1.0, 4.0),
        ([0.1, 0.1, 0.1, 5.0], 0.95, 4.265),  # one slow request pulls the tail, not the median
    ],
)
def test_percentile_known_values(values: list[float], fraction: float, expected: float) -> None:
    assert percentile(values, fraction) == pytest.approx(expected)


def test_percentile_of_nothing_is_none() -> None:
    assert percentile([], 0.5) is None
    assert latency_percentiles([]) == (None, None, None)


def test_percentile_agrees_with_statistics_inclusive_quantiles() -> None:
    rng = random.Random(7)
    values = [rng.expovariate(2.0) for _ in range(501)]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    for point in (50, 95, 99):
        assert percentile(values, point / 100) == pytest.approx(cuts[point - 1])


def test_a_constant_rate_is_evenly_spaced_at_the_middle_of_each_interval() -> None:
    slots = schedule([Phase("base", 5.0, 2.0, 2.0)], max_orders=100, max_seconds=100)
    assert [slot.due for slot in slots] == pytest.approx([0.25 + 0.5 * n for n in range(10)])


def test_a_ramp_from_zero_follows_the_integral_of_its_rate() -> None:
    # rate(t) = t / 2, so t^2 / 4 orders are due by t; order n is due when that reaches n + 0.5.
    slots = schedule([Phase("ramp", 4.0, 0.0, 2.0)], max_orders=100, max_seconds=100)
    assert [slot.due for slot in slots] == pytest.approx([math.sqrt(4 * (n + 0.5)) for n in range(4)])


def test_standard_phases_ramp_hold_then_spike_at_eight_times_the_rate() -> None:
    phases = standard_phases(rate=1.0, ramp=4.0, hold=4.0, spike=2.0, multiplier=8.0)
    slots = schedule(phases, max_orders=1000, max_seconds=1000)
    per_phase = {name: [slot for slot in slots if slot.phase == name] for name in ("ramp", "base", "spike")}
    assert {name: len(found) for name, found in per_phase.items()} == {"ramp": 2, "base": 4, "spike": 16}
    assert [slot.due for slot in slots] == sorted(slot.due for slot in slots)
    assert all(8.0 <= slot.due <= 10.0 for slot in per_phase["spike"])
    assert [slot.index for slot in slots] == list(range(22))


def test_the_schedule_is_capped_in_count_and_in_time() -> None:
    phases = [Phase("base", 100.0, 10.0, 10.0)]
    assert len(schedule(phases, max_orders=5, max_seconds=1000)) == 5
    capped = schedule(phases, max_orders=10_000, max_seconds=3.0)
    assert capped
    assert max(slot.due for slot in capped) <= 3.0
    assert len(capped) == 30


def order(
    index: int, phase: str, status: str, post_seconds: float, completes_after: float | None = None
) -> PlacedOrder:
    sent_at = 1000.0 + index
    placed = PlacedOrder(Slot(index, float(index), phase), sent_at, post_seconds, 0.01 * index, status)
    if status == "201":
        placed.order_id = f"order-{index}"
    if completes_after is not None:
        placed.terminal_at = sent_at + completes_after
        placed.final_status = "CONFIRMED"
    return placed


def test_a_phase_summary_counts_every_request_once() -> None:
    orders = [
        order(0, "base", "201", 0.2, completes_after=4.0),
        order(1, "base", "201", 0.4, completes_after=6.0),
        order(2, "base", "201", 0.6),
        order(3, "base", "503", 1.0),
        order(4, "base", "error: timed out", 30.0),
    ]
    row = summarize("base", "1", orders, since=1000.0)
    assert (row.sent, row.accepted, row.completed) == (5, 3, 2)
    assert row.rejected == {"503": 1, "error: timed out": 1}
    assert row.sent == row.accepted + sum(row.rejected.values())
    assert row.post_latency.p50 == pytest.approx(0.6)
    assert row.completion_latency.p50 == pytest.approx(5.0)
    # 3 accepted by the last 201 at 1002.6; 2 completed by the last terminal event at 1007.
    assert row.placed_per_second == pytest.approx(3 / 2.6)
    assert row.completed_per_second == pytest.approx(2 / 7.0)
    assert row.max_send_lag == pytest.approx(0.04)


def test_per_second_with_nothing_to_count_is_zero() -> None:
    assert per_second(0, [], since=10.0) == 0.0


def test_the_run_summary_has_a_row_per_phase_and_a_total() -> None:
    phases = [Phase("ramp", 2.0, 0.0, 1.0), Phase("base", 2.0, 1.0, 1.0)]
    orders = [order(0, "ramp", "201", 0.1, 3.0), order(1, "base", "201", 0.2, 2.0), order(2, "base", "422", 0.1)]
    result = LoadResult(phases, orders, started_at=1000.0, queue_peaks={"PaymentQueue": (3, 1)})
    rows = result.summaries()
    assert [row.name for row in rows] == ["ramp", "base", "all"]
    assert [row.target_rate for row in rows] == ["0→1", "1", ""]
    assert [row.sent for row in rows] == [1, 2, 3]
    assert rows[-1].accepted == sum(row.accepted for row in rows[:-1])
    assert result.not_terminal == []

    console = Console(record=True, width=120)
    render(result, console)
    text = console.export_text()
    for expected in ("Throughput per phase", "Latency per phase", "PaymentQueue", "422 x 1", "CONFIRMED x 2"):
        assert expected in text
    assert "moto has no ApproximateAgeOfOldestMessage" in text
