"""`python -m tools.localcloud load`: a bounded, open-loop load test of POST /orders.

It ramps up to a base rate, holds it, spikes to eight times that rate, then stops placing and waits (bounded)
for every accepted order to reach CONFIRMED or CANCELLED. It runs against a local cloud it starts itself, or,
given ORDERFLOW_API_URL, against a deployed stack, where it only calls POST /orders and GET /orders/{id} as the
customer whose bearer token ORDERFLOW_API_TOKEN (or --token) holds; locally it signs a customer in itself.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from rich.console import Console

from tools.localcloud.load_stats import PhaseSummary, render, summarize
from tools.localcloud.orders_client import order_request, request

if TYPE_CHECKING:
    from tools.localcloud.cloud import LocalCloud

TERMINAL_STATUSES = {"CONFIRMED", "CANCELLED"}
TERMINAL_EVENTS = {"OrderConfirmed", "OrderCancelled"}
SPIKE_MULTIPLIER = 8.0  # the burst this product is sized for: eight times the usual rate
# Measured: the whole local cloud on 2 cores completes about 0.5 orders/s, so the base rate stays below that
# and the spike is a burst its queues must absorb and drain.
DEFAULT_RATE = 0.4
STATUS_POLLERS = 2  # few, so polling adds little load to the API whose latency we measure


@dataclass(frozen=True)
class Phase:
    """A stretch of the schedule whose rate moves linearly from start_rate to end_rate (orders/s)."""

    name: str
    seconds: float
    start_rate: float
    end_rate: float

    def seconds_to_reach(self, orders: float) -> float:
        """Seconds into the phase at which `orders` orders have come due (solves the rate's integral)."""
        slope = (self.end_rate - self.start_rate) / self.seconds
        if abs(slope) < 1e-12:
            return orders / self.start_rate
        return (-self.start_rate + math.sqrt(self.start_rate**2 + 2 * slope * orders)) / slope


def standard_phases(rate: float, ramp: float, hold: float, spike: float, multiplier: float) -> list[Phase]:
    return [
        Phase("ramp", ramp, 0.0, rate),
        Phase("base", hold, rate, rate),
        Phase("spike", spike, rate * multiplier, rate * multiplier),
    ]


@dataclass(frozen=True)
class Slot:
    """One order of the schedule: when it is due (seconds after the start) and in which phase."""

    index: int
    due: float
    phase: str


def schedule(phases: Sequence[Phase], max_orders: int, max_seconds: float) -> list[Slot]:
    """Due times for an open-loop run: order n is due when the rate's integral reaches n + 0.5; hard-capped."""
    slots: list[Slot] = []
    phase_start = orders_due_before = 0.0
    for phase in phases:
        phase_orders = (phase.start_rate + phase.end_rate) / 2 * phase.seconds
        while len(slots) < max_orders and len(slots) + 0.5 <= orders_due_before + phase_orders:
            due = phase_start + phase.seconds_to_reach(len(slots) + 0.5 - orders_due_before)
            if due > max_seconds:
                return slots
            slots.append(Slot(len(slots), due, phase.name))
        orders_due_before += phase_orders
        phase_start += phase.seconds
    return slots


@dataclass
class PlacedOrder:
    """What happened to one scheduled order; times are epoch seconds so they compare with the server's."""

    slot: Slot
    sent_at: float
    post_seconds: float
    send_lag: float  # how late the request left against its schedule (the open loop's own health)
    status: str  # the HTTP status, or "error: <exception>" when no response came back
    order_id: str | None = None
    final_status: str | None = None
    terminal_at: float | None = None

    @property
    def accepted(self) -> bool:
        return self.status == "201"


def place(api_url: str, slot: Slot, sku: str, key: str, started: float, token: str | None = None) -> PlacedOrder:
    clock = time.monotonic()
    order = PlacedOrder(slot, time.time(), 0.0, clock - started - slot.due, status="")
    try:
        # An Idempotency-Key, as a well-behaved client sends so that a retry cannot place the order twice.
        body = order_request((sku, 1, 1250))
        response = request("POST", f"{api_url}/orders", body, {"Idempotency-Key": key}, token=token)
        order.status = str(response.status)
        order.order_id = str(response.body["order_id"]) if response.status == 201 else None
    except OSError as error:  # timeouts and refused connections are results too, not crashes
        order.status = f"error: {error}"[:60]
    order.post_seconds = time.monotonic() - clock
    return order


def place_all(
    api_url: str, slots: Sequence[Slot], skus: Sequence[str], concurrency: int, token: str | None = None
) -> list[PlacedOrder]:
    """Send each order at its due time from a pool, whatever earlier requests are doing: a slow server shows
    up as latency, not as fewer requests."""
    run = uuid.uuid4().hex[:8]
    started = time.monotonic()
    with ThreadPoolExecutor(concurrency, thread_name_prefix="load") as pool:
        futures = []
        for slot in slots:
            time.sleep(max(0.0, started + slot.due - time.monotonic()))
            sku = skus[slot.index % len(skus)]
            futures.append(pool.submit(place, api_url, slot, sku, f"load-{run}-{slot.index}", started, token))
        return [future.result() for future in futures]


def poll_status(api_url: str, order: PlacedOrder, deadline: float, token: str | None = None) -> None:
    if time.monotonic() > deadline:
        return
    try:
        response = request("GET", f"{api_url}/orders/{order.order_id}", token=token)
    except OSError:
        return  # asked again next round
    view = response.body
    if response.status != 200 or not isinstance(view, dict) or view.get("status") not in TERMINAL_STATUSES:
        return
    # The terminal event's own time, so the completion latency does not depend on how often we poll.
    ends = [entry["occurred_at"] for entry in view.get("history", []) if entry.get("detail_type") in TERMINAL_EVENTS]
    order.terminal_at = datetime.fromisoformat(ends[0]).timestamp() if ends else time.time()
    reason = view.get("cancellation_reason")
    order.final_status = f"{view['status']} {reason}" if reason else str(view["status"])


def await_terminal(
    api_url: str, orders: Sequence[PlacedOrder], timeout: float, interval: float = 2.0, token: str | None = None
) -> None:
    """Poll the accepted orders until each is CONFIRMED or CANCELLED, or until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    waiting = [order for order in orders if order.order_id]
    with ThreadPoolExecutor(STATUS_POLLERS, thread_name_prefix="poll") as pool:
        while waiting and time.monotonic() < deadline:
            list(pool.map(lambda order: poll_status(api_url, order, deadline, token), waiting))
            waiting = [order for order in waiting if order.final_status is None]
            if waiting:
                time.sleep(max(0.0, min(interval, deadline - time.monotonic())))


@dataclass
class LoadResult:
    phases: list[Phase]
    orders: list[PlacedOrder]
    started_at: float
    queue_peaks: dict[str, tuple[int, int]] = field(default_factory=dict)  # queue -> (max visible, max in flight)
    dead_letters: dict[str, int] = field(default_factory=dict)

    def summaries(self) -> list[PhaseSummary]:
        rows, offset = [], 0.0
        for phase in self.phases:
            rate = (
                f"{phase.start_rate:g}→{phase.end_rate:g}"
                if phase.start_rate != phase.end_rate
                else f"{phase.end_rate:g}"
            )
            mine = [order for order in self.orders if order.slot.phase == phase.name]
            rows.append(summarize(phase.name, rate, mine, self.started_at + offset))
            offset += phase.seconds
        return [*rows, summarize("all", "", self.orders, self.started_at)]

    @property
    def not_terminal(self) -> list[PlacedOrder]:
        return [order for order in self.orders if order.accepted and order.final_status is None]


class QueueWatch:
    """Samples each consumer queue's depth once a second. moto has no ApproximateAgeOfOldestMessage, and
    receiving messages to read their age would disturb delivery, so peak depth stands in for age."""

    def __init__(self, depth_of: Callable[[str], tuple[int, int]], queue_ids: Sequence[str]) -> None:
        self.depth_of = depth_of
        self.peaks = dict.fromkeys(queue_ids, (0, 0))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="queue-watch", daemon=True)

    def _sample(self) -> None:
        while True:
            for queue_id, (visible_peak, in_flight_peak) in self.peaks.items():
                try:
                    visible, in_flight = self.depth_of(queue_id)
                except Exception:  # a slow or busy moto: skip this sample rather than stop watching
                    continue
                self.peaks[queue_id] = (max(visible_peak, visible), max(in_flight_peak, in_flight))
            if self._stop.wait(1.0):
                return

    def __enter__(self) -> QueueWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


@dataclass(frozen=True)
class LoadPlan:
    phases: list[Phase]
    max_orders: int = 300
    max_seconds: float = 120.0
    drain_timeout: float = 180.0
    concurrency: int = 32


def run_load(
    api_url: str, plan: LoadPlan, skus: Sequence[str], say: Callable[[str], None] = print, token: str | None = None
) -> LoadResult:
    """Place the plan's orders as the customer whose bearer token is `token`, then wait for them to end."""
    slots = schedule(plan.phases, plan.max_orders, plan.max_seconds)
    seconds = slots[-1].due if slots else 0.0
    say(f"placing {len(slots)} orders over {seconds:.0f}s at {api_url} ...")
    started_at = time.time()
    orders = place_all(api_url, slots, skus, plan.concurrency, token)
    accepted = sum(order.accepted for order in orders)
    say(f"waiting (at most {plan.drain_timeout:.0f}s) for {accepted} accepted orders to be CONFIRMED or CANCELLED ...")
    await_terminal(api_url, orders, plan.drain_timeout, token=token)
    return LoadResult(list(plan.phases), orders, started_at)


def load_local_cloud(
    cloud: LocalCloud, plan: LoadPlan, skus: Sequence[str], say: Callable[[str], None] = print
) -> LoadResult:
    """Seed plenty of stock for `skus`, run the load while watching the consumer queues, read the DLQs."""
    from tools.localcloud import ledgers
    from tools.localcloud.mappings import SqsMapping

    ledgers.seed_stock(cloud, dict.fromkeys(skus, plan.max_orders))
    consumer_urls = {mapping.queue_url for mapping in cloud.mappings.values() if isinstance(mapping, SqsMapping)}
    queues = sorted(lid for lid, physical in cloud.physical.items() if physical.ref in consumer_urls)
    with QueueWatch(cloud.queue_depths, queues) as watch:
        result = run_load(cloud.api_url, plan, skus, say, cloud.customers.token("load-tester"))
    result.queue_peaks = dict(watch.peaks)
    result.dead_letters = {queue: sum(cloud.queue_depths(queue)) for queue in sorted(cloud.dead_letter_queue_ids())}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.localcloud load", description=__doc__)
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE, help="base rate, orders/s")
    parser.add_argument("--ramp-seconds", type=float, default=10.0, help="ramp from 0 to the base rate")
    parser.add_argument("--hold-seconds", type=float, default=20.0, help="hold the base rate")
    parser.add_argument("--spike-seconds", type=float, default=5.0, help="spike at --spike-multiplier x the base rate")
    parser.add_argument("--spike-multiplier", type=float, default=SPIKE_MULTIPLIER)
    parser.add_argument("--max-orders", type=int, default=300, help="hard cap on orders placed")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="hard cap on the placing window")
    parser.add_argument("--drain-timeout", type=float, default=180.0, help="max wait for orders to finish")
    parser.add_argument("--concurrency", type=int, default=32, help="max requests in flight")
    parser.add_argument("--sku", action="append", help="SKU to order (repeatable); seeded on the local cloud")
    parser.add_argument("--api-url", default=os.environ.get("ORDERFLOW_API_URL"), help="a deployed stack's API")
    parser.add_argument(
        "--token",
        default=os.environ.get("ORDERFLOW_API_TOKEN"),
        help="with --api-url: a customer's bearer token (README: 'Load against a deployed stack')",
    )
    args = parser.parse_args(argv)
    phases = standard_phases(args.rate, args.ramp_seconds, args.hold_seconds, args.spike_seconds, args.spike_multiplier)
    plan = LoadPlan(phases, args.max_orders, args.max_seconds, args.drain_timeout, args.concurrency)
    skus = args.sku or ["SKU-LOAD-A", "SKU-LOAD-B"]
    # Piped output (make, CI) would otherwise be 80 columns, too narrow for the tables.
    console = Console() if sys.stdout.isatty() else Console(width=120)
    if args.api_url:
        console.print(f"ordering {', '.join(skus)}: orders for a SKU without stock end CANCELLED (--sku to choose)")
        if not args.token:
            parser.error("--api-url needs a customer's bearer token: --token or ORDERFLOW_API_TOKEN")
        result = run_load(args.api_url.rstrip("/"), plan, skus, console.print, args.token)
    else:
        from tools.localcloud.cloud import LocalCloud
        from tools.localcloud.template import REPO_ROOT

        console.print("starting the local cloud from template.yaml ...")
        # Its own work directory, so a `make demo` or `make serve` alongside keeps its logs.
        with LocalCloud(work_dir=REPO_ROOT / ".localcloud" / "load") as cloud:
            result = load_local_cloud(cloud, plan, skus, console.print)
    render(result, console)
    if result.not_terminal:
        console.print(f"FAILED: {len(result.not_terminal)} accepted orders did not reach a terminal state in time")
        return 1
    return 0
