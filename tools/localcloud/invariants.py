"""The chaos run's invariants, each checked independently from what the stores hold (observed.py).

None of them asks a service what it did: orders come from the orders table,
stock and reservations from the inventory table, money from the payments
ledger, shipments from theirs, trails from the audit table compared with the
audit stream (every event the bus carried), sagas from their executions.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from tools.localcloud.observed import Snapshot

TERMINAL = ("CONFIRMED", "CANCELLED")
ENDED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
EVIDENCE_SHOWN = 5


@dataclass
class Check:
    """One invariant and the evidence that breaks it (none: it holds)."""

    name: str
    broken: list[str] = field(default_factory=list)
    headline: bool = False  # its breaks are counted in the run's last line (lost, stock leaks)

    @property
    def holds(self) -> bool:
        return not self.broken

    def evidence(self) -> str:
        shown = "; ".join(self.broken[:EVIDENCE_SHOWN])
        more = len(self.broken) - EVIDENCE_SHOWN
        return shown + (f"; and {more} more" if more > 0 else "")


@dataclass
class Verdict:
    """Every check, and the three figures the chaos run's last line reports."""

    checks: list[Check]
    lost: int
    double_charges: int
    stock_leaks: int

    @property
    def broken(self) -> list[Check]:
        return [check for check in self.checks if not check.holds]


def _quantities(lines: Iterable[tuple[str, int]]) -> Counter[str]:
    totals: Counter[str] = Counter()
    for sku, quantity in lines:
        totals[sku] += quantity
    return totals


def order_lines(order: dict[str, object]) -> list[tuple[str, int]]:
    items = order.get("items")
    return [(str(item["sku"]), int(item["quantity"])) for item in items] if isinstance(items, list) else []


def _status(snapshot: Snapshot, order_id: str) -> str:
    return str(snapshot.orders.get(order_id, {}).get("status", "MISSING"))


def check_terminal(snapshot: Snapshot, accepted: set[str]) -> Check:
    check = Check("every accepted order is CONFIRMED or CANCELLED (none lost, none PENDING)", headline=True)
    for order_id in sorted(accepted | set(snapshot.orders)):
        if _status(snapshot, order_id) not in TERMINAL:
            check.broken.append(f"{order_id} {_status(snapshot, order_id)}")
    return check


def check_sagas(snapshot: Snapshot, accepted: set[str]) -> list[Check]:
    ended, succeeded = Check("every order has one saga execution, and it ended"), Check("no saga execution failed")
    for order_id in sorted(accepted):
        statuses = snapshot.executions.get(order_id, [])
        if len(statuses) != 1 or statuses[0] not in ENDED:
            ended.broken.append(f"{order_id}: {statuses or 'no execution'}")
    for name, statuses in sorted(snapshot.executions.items()):
        succeeded.broken += [f"{name} {status}" for status in statuses if status not in ("SUCCEEDED", "RUNNING")]
    return [ended, succeeded]


def check_applied_once(snapshot: Snapshot) -> Check:
    check = Check("each event applied once (projector history: each event id once)")
    for order_id, order in sorted(snapshot.orders.items()):
        history = order.get("history")
        ids = [str(entry.get("event_id")) for entry in history] if isinstance(history, list) else []
        repeated = sorted(event_id for event_id, count in Counter(ids).items() if count > 1)
        if repeated:
            check.broken.append(f"{order_id}: {', '.join(repeated)}")
    return check


def check_stock(snapshot: Snapshot, seeded: dict[str, int]) -> tuple[Check, Check]:
    """Seeded = available + reserved by confirmed orders, per SKU; reservations agree with the orders."""
    confirmed = [order for order in snapshot.orders.values() if order.get("status") == "CONFIRMED"]
    taken = _quantities(line for order in confirmed for line in order_lines(order))
    stock = Check("per SKU: seeded = available + reserved by confirmed orders, never negative", headline=True)
    for sku, units in sorted(seeded.items()):
        available = snapshot.stock.get(sku, 0)
        if available < 0 or available + taken[sku] != units:
            stock.broken.append(f"{sku}: seeded {units}, available {available}, confirmed {taken[sku]}")
    reserved = _quantities(
        line
        for reservation in snapshot.reservations.values()
        if reservation.get("state") == "RESERVED"
        for line in reservation["lines"]
    )
    agree = Check("RESERVED reservations are exactly the confirmed orders' lines")
    for sku in sorted(set(reserved) | set(taken)):
        if reserved[sku] != taken[sku]:
            agree.broken.append(f"{sku}: reserved {reserved[sku]}, confirmed {taken[sku]}")
    return stock, agree


def _owed(order: dict[str, object]) -> int:
    return int(str(order.get("total_cents", 0))) if order.get("status") == "CONFIRMED" else 0


def check_payments(snapshot: Snapshot) -> tuple[Check, Check, int]:
    """Charges - refunds = totals of confirmed orders; each order pays exactly what it owes."""
    orders = snapshot.orders
    charged = sum(entries.get("CHARGE", 0) for entries in snapshot.ledger.values())
    refunded = sum(entries.get("REFUND", 0) for entries in snapshot.ledger.values())
    confirmed_total = sum(_owed(order) for order in orders.values())
    books = Check("charges - refunds = totals of confirmed orders")
    if charged - refunded != confirmed_total:
        books.broken.append(f"charged {charged} - refunded {refunded} != confirmed {confirmed_total}")
    each = Check("each order's net charge is what it owes (confirmed: its total; cancelled: nothing)")
    overcharged = 0
    for order_id in sorted(set(orders) | set(snapshot.ledger)):
        entries = snapshot.ledger.get(order_id, {})
        net = entries.get("CHARGE", 0) - entries.get("REFUND", 0)
        owed = _owed(orders.get(order_id, {}))
        if net != owed:
            each.broken.append(f"{order_id} {_status(snapshot, order_id)}: net {net}, owes {owed}")
            overcharged += net > owed
    return books, each, overcharged


def check_cancelled_undone(snapshot: Snapshot) -> Check:
    check = Check("no cancelled order keeps a reservation (RESERVED) or a shipment (CREATED)")
    for order_id, order in sorted(snapshot.orders.items()):
        if order.get("status") != "CANCELLED":
            continue
        if snapshot.reservations.get(order_id, {}).get("state") == "RESERVED":
            check.broken.append(f"{order_id}: reservation RESERVED")
        if snapshot.shipments.get(order_id) == "CREATED":
            check.broken.append(f"{order_id}: shipment CREATED")
    return check


def check_confirmed_complete(snapshot: Snapshot) -> Check:
    check = Check("every confirmed order has its reservation (RESERVED) and its shipment (CREATED)")
    for order_id, order in sorted(snapshot.orders.items()):
        if order.get("status") != "CONFIRMED":
            continue
        reservation = snapshot.reservations.get(order_id, {})
        if reservation.get("state") != "RESERVED" or _quantities(reservation.get("lines", [])) != _quantities(
            order_lines(order)
        ):
            check.broken.append(f"{order_id}: reservation {reservation or 'missing'}")
        if snapshot.shipments.get(order_id) != "CREATED":
            check.broken.append(f"{order_id}: shipment {snapshot.shipments.get(order_id, 'missing')}")
    return check


def check_audit(snapshot: Snapshot, poison_marker: str) -> Check:
    """Each trail: stream order, each event id once, exactly the events the bus carried for the order."""
    check = Check("each audit trail is its order's events in stream order, each event id once")
    for order_id in sorted(set(snapshot.stream) | set(snapshot.audit)):
        if poison_marker in order_id:
            continue  # an injected poison event is refused by the auditor: it has no trail
        trail = [event_id for _, event_id, _ in snapshot.audit.get(order_id, [])]
        first_seen = list(dict.fromkeys(event_id for event_id, _ in snapshot.stream.get(order_id, [])))
        if len(trail) != len(set(trail)):
            repeated = sorted(event_id for event_id, count in Counter(trail).items() if count > 1)
            check.broken.append(f"{order_id}: repeated {', '.join(repeated)}")
        elif trail != first_seen:
            missing = [event_id for event_id in first_seen if event_id not in trail]
            detail = f"missing {', '.join(missing)}" if missing else "out of stream order"
            check.broken.append(f"{order_id}: {detail}")
    return check


def _in_trail(snapshot: Snapshot, text: str) -> bool:
    """Whether a stream record's event is in its order's audit trail (the auditor's one effect)."""
    try:
        detail = json.loads(text)["detail"]
        order_id, event_id = detail["data"]["order_id"], detail["metadata"]["event_id"]
    except (ValueError, KeyError, TypeError):
        return False
    return any(entry[1] == event_id for entry in snapshot.audit.get(str(order_id), []))


def check_dead_letters(snapshot: Snapshot, poison_marker: str) -> tuple[Check, Check]:
    """Only poison is dead-lettered; a Kinesis on-failure batch may also name records that were applied.

    Lambda gives up a stream batch from its first failing record to its end, and describes that range
    to the on-failure destination, so the records after a poison one are named there even though the
    same invocation stored them; a named record is lost only if it is missing from its trail.
    """
    only_poison = Check("every dead letter is an injected poison message (or a stream record that was applied)")
    alarmed = Check("every DLQ holding messages has its alarm in ALARM")
    for queue_id, messages in sorted(snapshot.dead_letters.items()):
        from_stream = queue_id in snapshot.stream_failure_queues
        innocent = [
            text
            for message in messages
            for text in message
            if poison_marker not in text and not (from_stream and _in_trail(snapshot, text))
        ]
        only_poison.broken += [f"{queue_id}: {text[:160]}" for text in innocent]
        if snapshot.dlq_alarms.get(queue_id) != "ALARM":
            alarmed.broken.append(f"{queue_id} ({len(messages)}): alarm {snapshot.dlq_alarms.get(queue_id, 'none')}")
    return only_poison, alarmed


def verdict(snapshot: Snapshot, accepted: set[str], seeded: dict[str, int], poison_marker: str) -> Verdict:
    """Check every invariant over the snapshot."""
    terminal = check_terminal(snapshot, accepted)
    stock, reservations = check_stock(snapshot, seeded)
    books, each_order, overcharged = check_payments(snapshot)
    checks = [
        terminal,
        *check_sagas(snapshot, accepted),
        check_applied_once(snapshot),
        stock,
        reservations,
        books,
        each_order,
        check_cancelled_undone(snapshot),
        check_confirmed_complete(snapshot),
        check_audit(snapshot, poison_marker),
        *check_dead_letters(snapshot, poison_marker),
    ]
    return Verdict(checks, lost=len(terminal.broken), double_charges=overcharged, stock_leaks=len(stock.broken))
