"""`make chaos` kept honest: a small chaos run through the real template, and the checks themselves.

The run places a few dozen orders while every fault kind is injected and must
report zero broken invariants. The checks are proven on hand-made snapshots:
each one catches the break it names, so a green run means something.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from rich.console import Console

from tools.localcloud.chaos import ChaosOutcome, render, run_chaos
from tools.localcloud.chaos_faults import POISON_MARKER, ChaosConfig
from tools.localcloud.invariants import verdict
from tools.localcloud.observed import Snapshot

pytestmark = pytest.mark.integration

# Small and quick: short saga timeouts (the payment outage lasts 8 + 2 x 2 + 5 = 17 s), a fixed seed.
SMALL_RUN = ChaosConfig(orders=50, seed=20261129, in_flight=16, step_timeout=8, compensation_timeout=2, kills=2)


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> tuple[ChaosOutcome, str]:
    console = Console(file=io.StringIO(), width=160)
    outcome = run_chaos(SMALL_RUN, console, work_dir=tmp_path_factory.mktemp("chaos"))
    render(outcome, console)
    assert isinstance(console.file, io.StringIO)
    return outcome, console.file.getvalue()


def test_a_small_chaos_run_breaks_no_invariant(chaos: tuple[ChaosOutcome, str]) -> None:
    outcome, report = chaos
    assert [check.name for check in outcome.broken] == [], report
    faults = outcome.faults_injected
    assert outcome.summary() == (
        f"chaos: {SMALL_RUN.orders} orders, {faults} faults injected, 0 lost, 0 double charges, 0 stock leaks"
    )


def test_every_kind_of_fault_was_injected(chaos: tuple[ChaosOutcome, str]) -> None:
    outcome, report = chaos
    kinds = {kind for kind, _, _ in outcome.faults}
    expected = {"raise", "duplicate", "kill", "put-events-partial", "outage", "late-command", "late-command-fresh-id"}
    assert expected <= kinds, report
    assert any(kind.startswith("poison-") for kind in kinds), report
    assert re.search(r"Faults injected \(seed 20261129\)", report)


# ------------------------------------------------------------- the checks --
def order(order_id: str, status: str, total: int = 1000, **extra: Any) -> dict[str, Any]:
    history = extra.pop("history", [{"event_id": f"{order_id}/placed"}])
    return {"order_id": order_id, "status": status, "total_cents": total, "history": history, **extra}


def healthy() -> Snapshot:
    """Two orders: one confirmed (1 mug, paid, shipped), one cancelled and undone."""
    snapshot = Snapshot()
    snapshot.orders = {
        "o1": order("o1", "CONFIRMED", items=[{"sku": "MUG", "quantity": 1}]),
        "o2": order("o2", "CANCELLED", items=[{"sku": "MUG", "quantity": 1}]),
    }
    snapshot.stock = {"MUG": 4}
    snapshot.reservations = {
        "o1": {"state": "RESERVED", "lines": [("MUG", 1)]},
        "o2": {"state": "RELEASED", "lines": [("MUG", 1)]},
    }
    snapshot.ledger = {"o1": {"CHARGE": 1000}, "o2": {"CHARGE": 1000, "REFUND": 1000}}
    snapshot.shipments = {"o1": "CREATED", "o2": "CANCELLED"}
    snapshot.stream = {"o1": [("e1", "OrderPlaced"), ("e2", "OrderConfirmed"), ("e1", "OrderPlaced")]}
    snapshot.stream[f"{POISON_MARKER}-1"] = [(f"{POISON_MARKER}-1", "OrderPlaced")]  # refused by the auditor
    snapshot.audit = {"o1": [("001", "e1", "OrderPlaced"), ("002", "e2", "OrderConfirmed")]}
    snapshot.executions = {"o1": ["SUCCEEDED"], "o2": ["SUCCEEDED"]}
    snapshot.dead_letters = {"ProjectorDLQ": [[f'{{"id": "{POISON_MARKER}-1"}}']]}
    snapshot.dlq_alarms = {"ProjectorDLQ": "ALARM"}
    return snapshot


def stream_record(order_id: str, event_id: str) -> str:
    return json.dumps({"detail": {"metadata": {"event_id": event_id}, "data": {"order_id": order_id}}})


def test_a_stream_batch_given_up_may_name_records_that_were_applied() -> None:
    snapshot = healthy()
    snapshot.dead_letters["AuditFailureQueue"] = [[f'{{"id": "{POISON_MARKER}-2"}}', stream_record("o1", "e2")]]
    snapshot.dlq_alarms["AuditFailureQueue"] = "ALARM"
    snapshot.stream_failure_queues.add("AuditFailureQueue")
    assert broken(snapshot) == []
    snapshot.dead_letters["AuditFailureQueue"][0].append(stream_record("o1", "e3"))  # never stored: lost
    assert broken(snapshot) == ["every dead letter is an injected poison message (or a stream record that was applied)"]


def broken(snapshot: Snapshot) -> list[str]:
    return [check.name for check in verdict(snapshot, {"o1", "o2"}, {"MUG": 5}, POISON_MARKER).broken]


def test_the_healthy_snapshot_keeps_every_invariant() -> None:
    assert broken(healthy()) == []


def test_a_pending_order_is_lost() -> None:
    snapshot = healthy()
    snapshot.orders["o2"]["status"] = "PENDING"
    result = verdict(snapshot, {"o1", "o2"}, {"MUG": 5}, POISON_MARKER)
    assert result.lost == 1


def test_a_second_charge_is_a_double_charge() -> None:
    snapshot = healthy()
    snapshot.ledger["o2"] = {"CHARGE": 1000}
    result = verdict(snapshot, {"o1", "o2"}, {"MUG": 5}, POISON_MARKER)
    assert result.double_charges == 1
    assert "charges - refunds = totals of confirmed orders" in [check.name for check in result.broken]


def test_stock_that_went_missing_is_a_leak() -> None:
    snapshot = healthy()
    snapshot.stock["MUG"] = 3
    assert verdict(snapshot, {"o1", "o2"}, {"MUG": 5}, POISON_MARKER).stock_leaks == 1


@pytest.mark.parametrize(
    ("breakage", "invariant"),
    [
        (lambda s: s.reservations["o2"].update(state="RESERVED"), "no cancelled order keeps a reservation"),
        (lambda s: s.shipments.update(o2="CREATED"), "no cancelled order keeps a reservation"),
        (lambda s: s.shipments.pop("o1"), "every confirmed order has its reservation"),
        (lambda s: s.audit["o1"].append(("003", "e1", "OrderPlaced")), "each audit trail"),
        (lambda s: s.audit["o1"].pop(), "each audit trail"),
        (lambda s: s.audit["o1"].reverse(), "each audit trail"),
        (lambda s: s.orders["o1"]["history"].append({"event_id": "o1/placed"}), "each event applied once"),
        (lambda s: s.executions.update(o2=["RUNNING"]), "every order has one saga execution"),
        (lambda s: s.executions.update(o2=["FAILED"]), "no saga execution failed"),
        (lambda s: s.dead_letters["ProjectorDLQ"].append(['{"id": "a real order"}']), "every dead letter"),
        (lambda s: s.dlq_alarms.update(ProjectorDLQ="OK"), "every DLQ holding messages"),
        (lambda s: s.dead_letters.update(AuditFailureQueue=[[stream_record("o1", "e9")]]), "every dead letter"),
    ],
)
def test_each_check_catches_its_break(breakage: Any, invariant: str) -> None:
    snapshot = healthy()
    breakage(snapshot)
    assert [name for name in broken(snapshot) if name.startswith(invariant)], broken(snapshot)
