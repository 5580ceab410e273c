"""The chaos run's customers: a seeded mix of orders, placed concurrently over HTTP as real clients would.

Clients send an Idempotency-Key with every order and retry a 5xx (or a 409
"in progress", or a dropped connection) with the same key. At most `in_flight`
orders are outstanding at once (placed and not yet CONFIRMED or CANCELLED), so
step timeouts measure the system, not a queue the driver built up.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tools.localcloud.cloud import LocalCloud
from tools.localcloud.orders_client import ADDRESS, HttpResponse, order_request, request

PRICES = {"SKU-CHAOS-MUG": 1250, "SKU-CHAOS-TEAPOT": 3900, "SKU-CHAOS-CUP": 800, "SKU-CHAOS-KETTLE": 5400}
PRICES |= {"SKU-CHAOS-TRAY": 2100, "SKU-CHAOS-SPOON": 300}
RACERS = 3  # orders racing for each last unit
MAX_ATTEMPTS = 10  # a client's patience with 5xx answers


CUSTOMERS = 8  # the signed-in customers a run's orders are spread over


@dataclass(frozen=True)
class PlannedOrder:
    key: str  # the Idempotency-Key
    body: dict[str, Any]
    scenario: str  # ordinary | last-unit | declined | refused-address | repeated
    sends: int = 1  # a repeated order is sent twice with the same key

    @property
    def customer(self) -> str:
        """Who places it: one of a few signed-in customers (the same for an order's repeats, which share a key)."""
        return f"chaos-customer-{zlib.crc32(self.key.encode()) % CUSTOMERS}"


def _lines(rng: random.Random) -> list[tuple[str, int, int]]:
    skus = rng.sample(sorted(PRICES), rng.choice((1, 1, 2)))
    return [(sku, rng.choice((1, 1, 2)), PRICES[sku]) for sku in skus]


def _planned(rng: random.Random, key: str) -> PlannedOrder:
    roll = rng.random()
    if roll < 0.05:
        return PlannedOrder(key, order_request(*_lines(rng), token="tok_declined"), "declined")
    if roll < 0.10:
        refused = {**ADDRESS, "postal_code": "00000"}  # the sandbox carrier refuses it
        return PlannedOrder(key, order_request(*_lines(rng), address=refused), "refused-address")
    if roll < 0.13:
        return PlannedOrder(key, order_request(*_lines(rng)), "repeated", sends=2)
    return PlannedOrder(key, order_request(*_lines(rng)), "ordinary")


def plan_orders(count: int, rng: random.Random) -> tuple[list[PlannedOrder], dict[str, int]]:
    """The orders, in the order they are placed, and the stock to seed (some SKUs run out; some have 1 unit)."""
    run = uuid.UUID(int=rng.getrandbits(128)).hex[:8]
    groups = min(max(2, count // 30), count // RACERS)
    plan = [_planned(rng, f"chaos-{run}-{index}") for index in range(count - groups * RACERS)]
    stock = {sku: max(3, round(count * 0.25)) for sku in PRICES}  # about 10% of the demand goes unmet
    for group in range(groups):
        sku = f"SKU-CHAOS-LAST-{group}"
        stock[sku] = 1
        racers = [
            PlannedOrder(f"chaos-{run}-last-{group}-{n}", order_request((sku, 1, 9900)), "last-unit")
            for n in range(RACERS)
        ]
        at = rng.randrange(len(plan) + 1)
        plan[at:at] = racers  # adjacent, so they are in flight together
    return plan, stock


@dataclass
class Placement:
    """What the clients saw."""

    accepted: dict[str, PlannedOrder] = field(default_factory=dict)  # order id -> its plan
    rejected: list[str] = field(default_factory=list)
    retries: int = 0
    repeat_mismatches: list[str] = field(default_factory=list)
    stalls: int = 0  # times no outstanding order ended for a long while


class OrderPlacer:
    """Places a plan with a few client threads, never more than `in_flight` orders outstanding."""

    def __init__(
        self, cloud: LocalCloud, in_flight: int, threads: int, on_change: Callable[[int, int], None], seed: int
    ) -> None:
        self.cloud = cloud
        self.placement = Placement()
        # Not bounded: an order that never ends must not stall the run, so a slot may be taken without waiting.
        self._slots = threading.Semaphore(in_flight)
        self._stall_seconds = 120.0
        self._threads = threads
        self._on_change = on_change
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._pending: set[str] = set()
        self._ended = 0
        self._stop = threading.Event()

    # ------------------------------------------------------------- clients --
    def _post(self, order: PlannedOrder) -> HttpResponse | None:
        """POST with the order's key, retried like a client: 5xx, 409 and dropped connections."""
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                with self._lock:
                    self.placement.retries += 1
                    jitter = 0.5 + self._random.random() / 2
                time.sleep(min(3.0, 0.2 * 2**attempt) * jitter)
            try:
                response = request(
                    "POST",
                    f"{self.cloud.api_url}/orders",
                    order.body,
                    {"Idempotency-Key": order.key},
                    token=self.cloud.customers.token(order.customer),
                )
            except OSError:
                continue
            if response.status < 500 and response.status != 409:
                return response
        return None

    def _place(self, order: PlannedOrder) -> None:
        order_ids = set()
        for _ in range(order.sends):
            response = self._post(order)
            if response is None or response.status != 201:
                self._reject(order, response)
                return
            order_ids.add(str(response.body["order_id"]))
        if len(order_ids) > 1:
            self.placement.repeat_mismatches.append(f"{order.key}: {sorted(order_ids)}")
        with self._lock:
            for order_id in order_ids:
                self.placement.accepted[order_id] = order
                self._pending.add(order_id)
        self._changed()

    def _reject(self, order: PlannedOrder, response: HttpResponse | None) -> None:
        answer = f"{response.status} {response.body}" if response else "no answer"
        with self._lock:
            self.placement.rejected.append(f"{order.key} ({order.scenario}): {answer}"[:200])
        self._slots.release()

    # ------------------------------------------------------------ watching --
    def _watch(self) -> None:
        """Free a slot for each order that reached a terminal status (read from the orders table)."""
        dynamodb, table = self.cloud.client("dynamodb"), self.cloud.ref("OrdersTable")
        while not self._stop.wait(1.0):
            with self._lock:
                pending = sorted(self._pending)
            for start in range(0, len(pending), 100):
                keys = [{"order_id": {"S": order_id}} for order_id in pending[start : start + 100]]
                wanted = {
                    "Keys": keys,
                    "ProjectionExpression": "order_id, #s",
                    "ExpressionAttributeNames": {"#s": "status"},
                }
                try:
                    items = dynamodb.batch_get_item(RequestItems={table: wanted})["Responses"].get(table, [])
                except Exception:  # a busy moto: the next poll asks again (unprocessed keys too)
                    continue
                for item in items:
                    if item["status"]["S"] in ("CONFIRMED", "CANCELLED"):
                        self._ended_one(item["order_id"]["S"])

    def _ended_one(self, order_id: str) -> None:
        with self._lock:
            if order_id not in self._pending:
                return
            self._pending.discard(order_id)
            self._ended += 1
        self._slots.release()
        self._changed()

    def _changed(self) -> None:
        with self._lock:
            placed, ended = len(self.placement.accepted), self._ended
        self._on_change(placed, ended)

    # ---------------------------------------------------------------- runs --
    def place_all(self, plan: list[PlannedOrder], before_each: Callable[[int], None]) -> None:
        """Place every order (`before_each(index)` lets a fault schedule act), returning once all are sent."""
        watcher = threading.Thread(target=self._watch, name="chaos-watcher", daemon=True)
        watcher.start()
        with ThreadPoolExecutor(self._threads, thread_name_prefix="chaos-client") as clients:
            futures: list[Future[None]] = []
            for index, order in enumerate(plan):
                before_each(index)
                if not self._slots.acquire(timeout=self._stall_seconds):
                    self.placement.stalls += 1  # every outstanding order is stuck: place this one anyway
                futures.append(clients.submit(self._place, order))
            for future in futures:
                future.result()

    def wait_all_ended(self, timeout: float) -> list[str]:
        """Wait for every accepted order to end; the ids still pending when the time is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending:
                    break
            time.sleep(0.5)
        self._stop.set()
        with self._lock:
            return sorted(self._pending)
