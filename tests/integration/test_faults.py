"""The local cloud's fault injection: each fault does what it says, is counted, and switches off.

A probe topology (tests/integration/faults_fixture) counts every delivery and
makes the calls the faults act on; the last test kills a real handler mid-record
on the real template.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Shop, history_types, order_request
from tests.support.waiting import wait_for
from tools.localcloud.cloud import LocalCloud
from tools.localcloud.faults import FaultKind
from tools.localcloud.template import load_template

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).with_name("faults_fixture") / "template.yaml"
WORK = "WorkFunction"


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    template = load_template(FIXTURE)
    with LocalCloud(template, stack_name="faults", work_dir=tmp_path_factory.mktemp("faults"), fault_seed=7) as cloud:
        yield cloud


def work(cloud: LocalCloud, **detail: Any) -> int:
    """Put one Work event on the bus; returns its number."""
    n = uuid.uuid4().int % 10**9
    entry = {
        "EventBusName": "faults-bus",
        "Source": "probe",
        "DetailType": "Work",
        "Detail": json.dumps({"n": n, **detail}),
    }
    assert cloud.client("events").put_events(Entries=[entry])["FailedEntryCount"] == 0
    return n


def item(cloud: LocalCloud, key: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (
        cloud.client("dynamodb")
        .get_item(TableName=cloud.ref("SeenTable"), Key={"id": {"S": key}}, ConsistentRead=True)
        .get("Item")
    )
    return found


def deliveries(cloud: LocalCloud, n: int) -> int:
    found = item(cloud, f"deliveries:{n}")
    return int(found["deliveries"]["N"]) if found else 0


def note(cloud: LocalCloud, key: str) -> Any:
    found = item(cloud, key)
    return json.loads(found["value"]["S"]) if found else None


def drain(cloud: LocalCloud, queue_id: str) -> list[dict[str, Any]]:
    """Every message in a queue nobody consumes (consumed here)."""
    sqs, url, bodies = cloud.client("sqs"), cloud.ref(queue_id), []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def test_a_raised_fault_fails_aws_calls_until_its_limit_then_the_record_succeeds(probe: LocalCloud) -> None:
    before = probe.faults.count("raise", WORK)
    with probe.faults.injected(FaultKind.RAISE, 1.0, [WORK], limit=2):
        n = work(probe)
        probe.wait_until_quiet(timeout=60)
    # The first two AWS calls failed (two failed deliveries), the third delivery got through.
    assert probe.faults.count("raise", WORK) - before == 2
    assert note(probe, f"remaining:{n}") is not None
    assert probe.mapping_for_function(WORK).stats.failed >= 2


def test_a_switched_off_fault_injects_nothing(probe: LocalCloud) -> None:
    with probe.faults.injected(FaultKind.RAISE, 1.0, [WORK]):
        pass
    before = probe.faults.total
    n = work(probe, publish=3, transact=True)
    probe.wait_until_quiet(timeout=60)
    assert deliveries(probe, n) == 1
    assert probe.faults.total == before


def test_a_killed_worker_fails_the_invocation_and_the_message_is_redelivered_to_a_new_environment(
    probe: LocalCloud,
) -> None:
    runtime = probe.functions[WORK]
    first_environment = runtime.pid
    with probe.faults.injected(FaultKind.KILL, 1.0, [WORK], limit=1, operations=["dynamodb.TransactWriteItems"]):
        n = work(probe, transact=True)
        probe.wait_until_quiet(timeout=60)
    assert probe.faults.count("kill", WORK) == 1
    # Killed after counting its first delivery and before the transaction; the retry did both.
    assert deliveries(probe, n) == 2
    assert item(probe, f"tx:{n}:a") is not None
    assert runtime.pid not in (None, first_environment)  # a fresh environment serves on
    assert drain(probe, "WorkDLQ") == []


def test_the_context_reports_the_function_timeout_on_the_local_clouds_clock(probe: LocalCloud) -> None:
    n = work(probe)
    probe.wait_until_quiet(timeout=60)
    # Timeout 5 s at time scale 0.02: the handler's context starts from 100 ms, like the 30 s visibility's 0.6 s.
    assert 0 <= note(probe, f"remaining:{n}") <= 5 * probe.time_scale * 1000


def test_put_events_fails_some_entries_in_place_and_the_retried_ones_arrive_once(probe: LocalCloud) -> None:
    drain(probe, "EchoQueue")
    with probe.faults.injected(FaultKind.PUT_EVENTS_PARTIAL, 0.5, [WORK], limit=4):
        n = work(probe, publish=8)
        probe.wait_until_quiet(timeout=60)
    first = note(probe, f"put:{n}:0")
    failed_positions = [index for index, code in enumerate(first["codes"]) if code]
    assert first["failed"] == len(failed_positions) > 0
    assert {first["codes"][index] for index in failed_positions} == {"InternalFailure"}
    # The probe retried exactly the entries marked failed; each event arrived exactly once.
    assert note(probe, f"put:{n}:1")["sent"] == [first["sent"][index] for index in failed_positions]
    arrived = sorted(body["detail"]["i"] for body in drain(probe, "EchoQueue") if body["detail"]["n"] == n)
    assert arrived == list(range(8))
    assert probe.faults.count("put-events-partial", WORK) >= first["failed"]


def test_a_transaction_conflict_cancels_the_whole_transaction(probe: LocalCloud) -> None:
    with probe.faults.injected(FaultKind.TRANSACTION_CONFLICT, 1.0, [WORK], limit=1):
        n = work(probe, transact=True)
        probe.wait_until_quiet(timeout=60)
    cancelled = note(probe, f"cancelled:{n}")
    assert cancelled["code"] == "TransactionCanceledException"
    assert sorted(cancelled["reasons"]) == ["None", "TransactionConflict"]
    assert probe.faults.count("transaction-conflict", WORK) == 1
    assert deliveries(probe, n) == 2  # the retry wrote both items
    assert item(probe, f"tx:{n}:b") is not None


def test_a_duplicated_delivery_delivers_the_message_twice(probe: LocalCloud) -> None:
    with probe.faults.injected(FaultKind.DUPLICATE, 1.0, [WORK], limit=1):
        n = work(probe)
        probe.wait_until_quiet(timeout=60)
    assert deliveries(probe, n) == 2
    assert probe.faults.count("duplicate", WORK) == 1


def test_a_worker_killed_mid_record_on_the_real_template_applies_the_command_exactly_once(shop: Shop) -> None:
    # Given stock, and the inventory worker dying after its idempotency record is IN_PROGRESS,
    # before the reservation transaction (the first TransactWriteItems it makes)
    cloud = shop.cloud
    skus = shop.seed(mug=3)
    reservation = ["dynamodb.TransactWriteItems"]
    with cloud.faults.injected(FaultKind.KILL, 1.0, ["InventoryFunction"], limit=1, operations=reservation):
        order_id = shop.place(order_request((skus["mug"], 2, 1250)))
        wait_for(lambda: cloud.faults.count("kill", "InventoryFunction") == 1, timeout=60, what="the injected kill")
    # Then the redelivered command is applied once: the order is confirmed, stock taken once, nothing dead-lettered
    view = shop.wait_terminal(order_id)
    assert view["status"] == "CONFIRMED"
    assert shop.stock(skus["mug"]) == {skus["mug"]: 1}
    assert history_types(view).count("InventoryReserved") == 1
    dead = (
        cloud.client("sqs")
        .receive_message(QueueUrl=cloud.ref("InventoryDLQ"), MaxNumberOfMessages=10, VisibilityTimeout=0)
        .get("Messages", [])
    )
    assert [message for message in dead if order_id in message["Body"]] == []
