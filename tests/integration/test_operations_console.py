"""Issue 10 through the local cloud: the `orderflow` console finds, explains and repairs what went wrong.

The module runs its own local cloud (the DLQs and alarms it asserts on hold nothing another test
left), with the live alarm evaluator, as `serve` runs it, and the console attached as `serve`
attaches it (console.json, metrics published to moto's CloudWatch). The console is called through
its main(argv), and once as the installed `.venv/bin/orderflow` script.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import ADDRESS_REFUSED_BY_CARRIER, Shop, history_types, order_request, running_cloud
from tests.support.waiting import wait_for
from tools.console.cli import main
from tools.localcloud.cloud import LocalCloud
from tools.localcloud.console_target import console_attached
from tools.localcloud.faults import FaultKind

pytestmark = pytest.mark.integration

PRICE = 1250
CONFIRMED_FACTS = ["OrderPlaced", "InventoryReserved", "PaymentCharged", "ShipmentCreated", "OrderConfirmed"]
INSTALLED = Path(sys.executable).with_name("orderflow")


class Console:
    """`orderflow --local` against this module's local cloud."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def argv(self, *arguments: str) -> list[str]:
        return ["--local", "--local-dir", str(self.directory), *arguments]

    def run(self, *arguments: str) -> tuple[int, str]:
        output, width = io.StringIO(), os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "220"  # ids are not folded across lines
        try:
            with redirect_stdout(output):
                code = main(self.argv(*arguments))
        finally:
            os.environ.pop("COLUMNS") if width is None else os.environ.update(COLUMNS=width)
        return code, output.getvalue()

    def json(self, *arguments: str) -> tuple[int, Any]:
        code, text = self.run(*arguments, "--json")
        return code, json.loads(text)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    """This module's own local cloud (it overrides the session one for this module's tests)."""
    yield from running_cloud(tmp_path_factory, "ops-cloud")


@pytest.fixture(scope="module")
def console(cloud: LocalCloud) -> Iterator[Console]:
    with console_attached(cloud) as path:
        yield Console(path.parent)


def alarm_state(cloud: LocalCloud, logical_id: str) -> str:
    assert cloud.alarm_evaluator is not None
    return cloud.alarm_evaluator.state(logical_id)


def processed(cloud: LocalCloud) -> int:
    return sum(mapping.stats.processed for mapping in cloud.mappings.values())


def test_a_consumer_failing_for_one_order_is_found_redriven_and_the_order_completes_exactly_once(
    cloud: LocalCloud, shop: Shop, console: Console
) -> None:
    # Given the projector failing every record about one order (its other orders are fine)
    skus = shop.seed(mug=5)
    with cloud.outage("ProjectorFunction"):  # nothing about the order reaches it before the fault names it
        order_id = shop.place(order_request((skus["mug"], 2, PRICE)))
        cloud.faults.set(FaultKind.FAIL_RECORDS, 1.0, ["ProjectorFunction"], match=[order_id])
    try:
        # Then its five events reach ProjectorDLQ after their retries, and the DLQ's alarm fires
        wait_for(lambda: cloud.queue_depths("ProjectorDLQ")[0] == 5, timeout=90, what="5 messages in ProjectorDLQ")
        wait_for(lambda: alarm_state(cloud, "ProjectorDLQAlarm") == "ALARM", timeout=30, what="ProjectorDLQAlarm")
        assert shop.order(order_id)["status"] == "PENDING"  # the saga confirmed it; the view never heard

        # And `orderflow status` exits 1 and names it
        code, text = console.run("status")
        assert code == 1
        assert "ProjectorDLQAlarm" in text
        code, report = console.json("status")
        assert code == 1
        assert "ProjectorDLQAlarm" in [alarm["name"] for alarm in report["alarms_in_alarm"]]
        projector = next(row for row in report["consumers"] if row["consumer"] == "Projector")
        assert (projector["dlq"], projector["dlq_depth"]) == ("ProjectorDLQ", 5)

        # And `orderflow dlq peek` shows the order's events, with the reason the projector logged
        code, text = console.run("dlq", "peek", "ProjectorDLQ")
        assert code == 0
        assert order_id in text
        _, peeked = console.json("dlq", "peek", "projector", "--limit", "10")
        assert sorted(message["event_type"] for message in peeked["messages"]) == sorted(CONFIRMED_FACTS)
        assert {message["order_id"] for message in peeked["messages"]} == {order_id}
        assert all("injected fault: fail-records" in message["reason"] for message in peeked["messages"])

        # And `orderflow trace` finds the order's messages in the DLQ
        _, traced = console.json("trace", order_id)
        assert {(letter["dlq"], letter["order_id"]) for letter in traced["dead_letters"]} == {
            ("ProjectorDLQ", order_id)
        }
    finally:
        # When the fault is switched off
        cloud.faults.clear(FaultKind.FAIL_RECORDS)

    # And the DLQ is redriven (a dry run first moves nothing)
    code, dry = console.json("dlq", "redrive", "ProjectorDLQ", "--dry-run")
    assert (code, dry["moved_count"], dry["remaining"]) == (0, 5, 5)
    code, redriven = console.json("dlq", "redrive", "ProjectorDLQ")
    assert (code, redriven["moved_count"], redriven["remaining"]) == (0, 5, 0)
    assert {message["to"] for message in redriven["moved"]} == {"ProjectorQueue"}

    # Then the order reaches its terminal state, the alarm returns to OK, and each effect happened once
    view = shop.wait_terminal(order_id)
    assert view["status"] == "CONFIRMED"
    wait_for(lambda: alarm_state(cloud, "ProjectorDLQAlarm") == "OK", timeout=30, what="ProjectorDLQAlarm back to OK")
    _, report = console.json("status")
    assert "ProjectorDLQAlarm" not in [alarm["name"] for alarm in report["alarms_in_alarm"]]
    assert cloud.queue_depths("ProjectorDLQ") == (0, 0)
    assert shop.stock(skus["mug"]) == {skus["mug"]: 3}
    assert shop.ledger(order_id) == (2 * PRICE, 0)
    assert Counter(history_types(view)) == Counter(CONFIRMED_FACTS)
    trail = [entry["event_id"] for entry in shop.audit_trail(order_id)]
    assert len(trail) == len(set(trail)) == 8  # 5 facts and 3 commands, each once


def test_replaying_a_window_of_completed_orders_changes_nothing(
    cloud: LocalCloud, shop: Shop, console: Console
) -> None:
    # Given two orders that completed, one confirmed, one cancelled
    skus = shop.seed(lamp=5)
    since = datetime.now(UTC) - timedelta(seconds=1)
    confirmed = shop.place(order_request((skus["lamp"], 1, 900)))
    cancelled = shop.place(order_request((skus["lamp"], 1, 900), address=ADDRESS_REFUSED_BY_CARRIER))
    orders = {order_id: shop.wait_terminal(order_id) for order_id in (confirmed, cancelled)}
    until = datetime.now(UTC) + timedelta(seconds=1)

    def state() -> dict[str, Any]:
        return {
            "views": {order_id: shop.order(order_id) for order_id in orders},
            "trails": {order_id: shop.audit_trail(order_id) for order_id in orders},
            "stock": shop.stock(skus["lamp"]),
            "ledger": {order_id: shop.ledger(order_id) for order_id in orders},
            "executions": {order_id: len(shop.saga_executions(order_id)) for order_id in orders},
            "dead letters": sum(sum(cloud.queue_depths(dlq)) for dlq in cloud.dead_letter_queue_ids()),
        }

    before, delivered = state(), processed(cloud)
    # When that window of the archive is replayed to every rule
    code, report = console.json("replay", "--since", since.isoformat(), "--until", until.isoformat())
    assert (code, report["state"]) == (0, "COMPLETED")
    cloud.wait_until_quiet(timeout=60)  # moto's replay has queued every event before StartReplay returns
    # Then the consumers saw them again, and nothing changed
    assert processed(cloud) >= delivered + 20
    assert state() == before


def test_replaying_a_window_completes_an_order_whose_events_were_lost_downstream(
    cloud: LocalCloud, shop: Shop, console: Console
) -> None:
    # Given an order the saga confirmed while every event the projector should have had was lost
    skus = shop.seed(kettle=4)
    since = datetime.now(UTC) - timedelta(seconds=1)
    with cloud.outage("ProjectorFunction"):
        order_id = shop.place(order_request((skus["kettle"], 1, 4500)))
        wait_for(
            lambda: [e["status"] for e in shop.saga_executions(order_id)] == ["SUCCEEDED"],
            timeout=60,
            what="the saga to confirm the order",
        )
        cloud.wait_until_quiet(timeout=60)
        cloud.client("sqs").purge_queue(QueueUrl=cloud.ref("ProjectorQueue"))
    assert shop.order(order_id)["history"] == []
    until = datetime.now(UTC)
    trail_before = shop.audit_trail(order_id)

    # When the window is replayed to the rules that take OrderConfirmed
    code, report = console.json(
        "replay", "--since", since.isoformat(), "--until", until.isoformat(), "--detail-type", "OrderConfirmed"
    )
    assert (code, report["state"]) == (0, "COMPLETED")
    assert report["rules"] == ["AuditRule", "NotifierRule", "ProjectorRule"]

    # Then the order's view is completed, each event once, and nothing else changed
    view = shop.wait_terminal(order_id)
    assert view["status"] == "CONFIRMED"
    assert Counter(history_types(view)) == Counter(CONFIRMED_FACTS)
    assert shop.audit_trail(order_id) == trail_before
    assert shop.stock(skus["kettle"]) == {skus["kettle"]: 3}
    assert shop.ledger(order_id) == (4500, 0)


def test_trace_of_a_cancelled_order_prints_each_saga_step_with_its_duration_and_the_compensations(
    cloud: LocalCloud, shop: Shop, console: Console
) -> None:
    # Given an order the carrier refuses: charged, then refunded and released
    skus = shop.seed(vase=2)
    order_id = shop.place(order_request((skus["vase"], 1, 2000), address=ADDRESS_REFUSED_BY_CARRIER))
    assert shop.wait_terminal(order_id)["cancellation_reason"] == "SHIPPING_FAILED"

    # When its trace is asked for
    code, traced = console.json("trace", order_id)
    assert code == 0
    steps = traced["saga"]["steps"]
    assert [(s["state"], s["kind"]) for s in steps if s["kind"] != "bookkeeping"] == [
        ("ReserveInventory", "step"),
        ("ChargePayment", "step"),
        ("CreateShipment", "step"),
        ("RefundPayment", "compensation"),
        ("ReleaseInventory", "compensation"),
    ]
    assert all(step["seconds"] is not None and step["seconds"] >= 0 for step in steps)
    assert next(s["outcome"] for s in steps if s["state"] == "CreateShipment") == "ShipmentFailed"
    assert traced["saga"]["compensations"] == ["RefundPayment", "ReleaseInventory"]
    assert traced["view"]["status"] == "CANCELLED"
    assert len(traced["audit_trail"]) == len(shop.audit_trail(order_id))
    # It read them as an operator: the IAM-authorized routes, signed with the local cloud's credentials
    access_log = (cloud.work_dir / "logs" / "http-api-access.log").read_text().splitlines()
    operator_reads = [json.loads(line) for line in access_log if "/operator/" in line]
    assert {(read["routeKey"], read["status"], read["caller"]) for read in operator_reads} >= {
        ("GET /operator/orders/{order_id}", "200", "localcloud"),
        ("GET /operator/orders/{order_id}/events", "200", "localcloud"),
    }

    # Then the installed script prints each step with its duration, and the compensations
    assert INSTALLED.exists(), f"{INSTALLED} is missing: `make` installs the project (pip install -e .)"
    run = subprocess.run(
        [str(INSTALLED), *console.argv("trace", order_id)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    for step in steps:
        row = next(line for line in lines if f" {step['state']} " in line and step["kind"] in line)
        assert " ms " in row or " s " in row, row
    assert "compensations: RefundPayment, ReleaseInventory" in run.stdout
