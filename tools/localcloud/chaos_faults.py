"""What goes wrong during a chaos run, and when: the faults' schedule, poison messages, late commands.

Everything is switched through `cloud.faults` (tools/localcloud/faults.py) or
done from outside the system (poison on the bus and on queues, an outage of
one function, commands redriven late), so the template and the handlers know
nothing about it. The schedule is tied to how many orders have been placed,
so a run of any size goes through every fault, in the same order.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from tools.localcloud.cloud import LocalCloud
from tools.localcloud.faults import ALL_FUNCTIONS, FaultKind
from tools.localcloud.mappings import KinesisMapping, SqsMapping

POISON_MARKER = "chaos-poison"
FORWARD_COMMANDS = ("ReserveInventory", "ChargePayment", "CreateShipment")
COMPENSATED_REASONS = ("STEP_TIMED_OUT", "PAYMENT_DECLINED", "SHIPPING_FAILED")


@dataclass(frozen=True)
class ChaosConfig:
    """How big and how rough a chaos run is."""

    orders: int = 1000
    seed: int | None = None
    in_flight: int = 12  # orders outstanding at once
    client_threads: int = 4
    step_timeout: int = 30  # StepTimeoutSeconds
    compensation_timeout: int = 5  # CompensationTimeoutSeconds (one attempt; the saga retries it)
    raise_rate: float = 0.01  # of the AWS calls a handler makes (about 8% of the records)
    duplicate_rate: float = 0.03  # of the messages an SQS mapping receives
    poison_rate: float = 0.01  # poison messages per order
    put_events_rate: float = 0.3  # of the entries, while PutEvents fails partially (20% to 50% of the orders)
    transaction_conflict_rate: float = 0.0  # off unless asked for
    kills: int = 0  # workers killed mid-record; 0: one per 50 orders, at least 2
    outage_function: str = "PaymentFunction"

    @property
    def outage_seconds(self) -> int:
        """Past a step timeout, and past the first attempts of the compensation it triggers."""
        return self.step_timeout + 2 * self.compensation_timeout + 5

    @property
    def kill_count(self) -> int:
        return self.kills or max(2, self.orders // 50)


PUT_EVENTS_WINDOW_MAX_SECONDS = 30.0


class FaultSchedule:
    """Switches the background faults on and fires the scheduled ones as orders are placed."""

    def __init__(self, cloud: LocalCloud, config: ChaosConfig, rng: random.Random) -> None:
        self.cloud = cloud
        self.config = config
        self.rng = rng
        self.functions = sorted(cloud.functions)
        self.outage_over = threading.Event()
        self.outage_over.set()
        self.events: dict[int, list[str]] = {}
        self._plan()

    def _at(self, fraction: float, action: str) -> None:
        self.events.setdefault(int(self.config.orders * fraction), []).append(action)

    def _plan(self) -> None:
        orders = self.config.orders
        for n in range(self.config.kill_count):
            self._at((n + 0.5) / self.config.kill_count, "kill")
        for _ in range(max(1, round(orders * self.config.poison_rate))):
            self._at(self.rng.random(), "poison")
        self._at(0.20, "put-events-on")
        self._at(0.50, "put-events-off")
        self._at(0.55, "outage")

    def switch_on_background(self) -> None:
        """Faults that run all along: handlers raising, duplicate deliveries (and conflicts, if asked)."""
        faults, config = self.cloud.faults, self.config
        streams = {m.function.spec.logical_id for m in self.cloud.mappings.values() if isinstance(m, KinesisMapping)}
        # A stream consumer retries a whole batch from its first failure: the same per-call rate
        # would fail far more of its batches than of a queue consumer's records.
        faults.set(FaultKind.RAISE, config.raise_rate, [f for f in self.functions if f not in streams])
        faults.set(FaultKind.RAISE, config.raise_rate / 10, sorted(streams))
        queue_consumers = [
            m.function.spec.logical_id for m in self.cloud.mappings.values() if isinstance(m, SqsMapping)
        ]
        faults.set(FaultKind.DUPLICATE, config.duplicate_rate, queue_consumers)
        if config.transaction_conflict_rate:
            faults.set(FaultKind.TRANSACTION_CONFLICT, config.transaction_conflict_rate)

    def before_order(self, index: int) -> None:
        for action in self.events.get(index, []):
            getattr(self, "_" + action.replace("-", "_"))()

    def _kill(self) -> None:
        # Armed for one death, which comes within the function's next few AWS calls.
        self.cloud.faults.set(FaultKind.KILL, 0.3, [self.rng.choice(self.functions)], limit=1)

    def _put_events_on(self) -> None:
        self.cloud.faults.set(FaultKind.PUT_EVENTS_PARTIAL, self.config.put_events_rate, [ALL_FUNCTIONS])

    def _put_events_off(self) -> None:
        # A small run can place the window's orders in under a second, before any handler publishes:
        # keep the window open (bounded) until at least one entry has failed, so the fault is real.
        deadline = time.monotonic() + PUT_EVENTS_WINDOW_MAX_SECONDS
        while self.cloud.faults.count(FaultKind.PUT_EVENTS_PARTIAL) == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        self.cloud.faults.clear(FaultKind.PUT_EVENTS_PARTIAL)

    def _outage(self) -> None:
        self.outage_over.clear()
        threading.Thread(target=self._run_outage, name="chaos-outage", daemon=True).start()

    def _run_outage(self) -> None:
        function = self.config.outage_function
        try:
            with self.cloud.outage(function):
                self.cloud.faults.record("outage", function)
                threading.Event().wait(self.config.outage_seconds)
        finally:
            self.outage_over.set()

    def _poison(self) -> None:
        inject_poison(self.cloud, self.rng)

    def finish(self) -> None:
        """Let a running outage end; every scheduled fault is then over (the background ones stay on)."""
        self.outage_over.wait()
        self.cloud.faults.clear(FaultKind.PUT_EVENTS_PARTIAL)


def inject_poison(cloud: LocalCloud, rng: random.Random) -> None:
    """One poison message: a malformed event claiming to be orderflow's, or a body that is not JSON at all."""
    marker = f"{POISON_MARKER}-{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}"
    kind = rng.choice(("event", "command", "body"))
    if kind == "body":
        queues = sorted(m.queue_url for m in cloud.mappings.values() if isinstance(m, SqsMapping))
        cloud.client("sqs").send_message(QueueUrl=rng.choice(queues), MessageBody=f"{marker}: not JSON {{")
    else:
        source, detail_type = (
            ("orderflow.orders", "OrderPlaced") if kind == "event" else ("orderflow.saga", "ChargePayment")
        )
        detail = {"metadata": {"event_id": marker, "correlation_id": marker}, "data": {"order_id": marker}}
        entry = {"EventBusName": cloud.ref("EventBus"), "Source": source, "DetailType": detail_type}
        cloud.client("events").put_events(Entries=[{**entry, "Detail": json.dumps(detail)}])
    cloud.faults.record(f"poison-{kind}", "bus" if kind != "body" else "queue")


def _trail(cloud: LocalCloud, order_id: str) -> list[dict[str, Any]]:
    table = cloud.client("dynamodb")
    items = table.query(
        TableName=cloud.ref("AuditTable"),
        KeyConditionExpression="order_id = :order",
        ExpressionAttributeValues={":order": {"S": order_id}},
        ConsistentRead=True,
    )["Items"]
    return [{key: value["S"] for key, value in item.items() if "S" in value} for item in items]


def redrive_late_commands(cloud: LocalCloud, orders: dict[str, str], count: int, rng: random.Random) -> int:
    """Put forward commands of ended orders back on the bus, with their own and with fresh event ids.

    `orders` maps order id to its final status and reason ("CANCELLED STEP_TIMED_OUT"). Compensated
    orders come first: their late commands must be refused; confirmed ones must not pay twice.
    """
    compensated = sorted(order_id for order_id, outcome in orders.items() if outcome.endswith(COMPENSATED_REASONS))
    confirmed = sorted(order_id for order_id, outcome in orders.items() if outcome == "CONFIRMED")
    chosen = rng.sample(compensated, min(len(compensated), count - count // 3))
    chosen += rng.sample(confirmed, min(len(confirmed), count - len(chosen)))
    entries = []
    for order_id in chosen:
        for entry in _trail(cloud, order_id):
            if entry.get("source") != "orderflow.saga" or entry.get("detail_type") not in FORWARD_COMMANDS:
                continue
            detail = json.loads(entry["detail"])
            fresh = {
                **detail,
                "metadata": {**detail["metadata"], "event_id": f"{entry['event_id']}/late-{uuid.uuid4()}"},
            }
            for redriven, kind in ((detail, "late-command"), (fresh, "late-command-fresh-id")):
                entries.append({"Source": "orderflow.saga", "DetailType": entry["detail_type"], "Detail": redriven})
                cloud.faults.record(kind, entry["detail_type"])
    events = cloud.client("events")
    for start in range(0, len(entries), 10):
        batch = [
            {**e, "EventBusName": cloud.ref("EventBus"), "Detail": json.dumps(e["Detail"])}
            for e in entries[start : start + 10]
        ]
        events.put_events(Entries=batch)
    return len(entries)
