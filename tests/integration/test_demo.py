"""The main job: its sample orders keep every invariant, and a broken invariant is reported."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tools.localcloud import ledgers
from tools.localcloud.cloud import LocalCloud
from tools.localcloud.demo import STOCK, Report, build_report, run_demo

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCloud, Report]]:
    with LocalCloud(
        parameter_overrides={"StepTimeoutSeconds": "30"}, stack_name="demo", work_dir=tmp_path_factory.mktemp("demo")
    ) as cloud:
        yield cloud, run_demo(cloud, happy_orders=3)


def test_the_demo_keeps_every_invariant(demo: tuple[LocalCloud, Report]) -> None:
    _, report = demo
    assert report.broken == [], "\n".join(report.lines)
    text = "\n".join(report.lines)
    for section in ("Requests", "Orders", "Consumers", "Notifications sent", "Alarms", "Audit trail of one order"):
        assert section in text
    assert "CANCELLED  PAYMENT_DECLINED" in text
    assert "ALARM  ProjectorDLQAlarm" in text


def test_a_leak_of_stock_breaks_the_stock_invariant(demo: tuple[LocalCloud, Report]) -> None:
    cloud, first = demo
    # Given stock that went missing behind the system's back
    ledgers.seed_stock(cloud, {"SKU-TEAPOT": STOCK["SKU-TEAPOT"] + 7})
    # When the demo's checks run again over the same orders
    report = build_report(cloud, first.responses, waited=0.0)
    # Then exactly the stock invariant is reported broken (so `make demo` would exit non-zero)
    assert report.broken == ["for every SKU: available + reserved for confirmed orders = seeded"]
