"""The local cloud's end-to-end throughput: N orders placed at once, orders/s from first POST to last terminal event.

It also reads moto's own accounting (LOCALCLOUD_MOTO_PROFILE, see moto_server.py): how many AWS calls an order
costs and where moto's core goes, per operation.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from tools.localcloud.load import TERMINAL_STATUSES, PlacedOrder, Slot, place_all
from tools.localcloud.load_stats import latency_percentiles

SKUS = ("SKU-BENCH-A", "SKU-BENCH-B", "SKU-BENCH-C", "SKU-BENCH-D")


@dataclass
class ThroughputResult:
    orders: list[PlacedOrder]
    moto_calls: dict[str, dict[str, float]]  # operation -> {"calls", "cpu_seconds"}
    moto_cpu_seconds: float  # the moto process's whole CPU time during the run
    functions_cpu_seconds: float  # the functions' execution environments
    driver_cpu_seconds: float  # this process: mappings, bridges, HTTP API, alarms, and the bench's own client

    @property
    def accepted(self) -> list[PlacedOrder]:
        return [order for order in self.orders if order.accepted]

    @property
    def terminal(self) -> list[PlacedOrder]:
        return [order for order in self.orders if order.terminal_at is not None]

    @property
    def seconds(self) -> float:
        ends = [order.terminal_at for order in self.terminal if order.terminal_at is not None]
        if not ends:
            return 0.0
        return max(ends) - min(order.sent_at for order in self.orders)

    @property
    def orders_per_second(self) -> float:
        return len(self.terminal) / self.seconds if self.seconds else 0.0


def _process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_throughput(
    orders: int, concurrency: int, drain_timeout: float, function_concurrency: int | None = None
) -> ThroughputResult:
    from tools.localcloud import ledgers
    from tools.localcloud.cloud import DEFAULT_CONCURRENCY, LocalCloud
    from tools.localcloud.template import REPO_ROOT

    work_dir = REPO_ROOT / ".localcloud" / "bench"
    profile = work_dir / "moto-profile.json"
    work_dir.mkdir(parents=True, exist_ok=True)
    profile.unlink(missing_ok=True)
    os.environ["LOCALCLOUD_MOTO_PROFILE"] = str(profile)
    try:
        with LocalCloud(work_dir=work_dir, concurrency=function_concurrency or DEFAULT_CONCURRENCY) as cloud:
            ledgers.seed_stock(cloud, dict.fromkeys(SKUS, orders))
            moto_pid = cloud.moto_pid
            before_calls = _read_profile(profile)
            before_cpu = _process_cpu_seconds(moto_pid)
            before_functions = _functions_cpu_seconds(cloud)
            before_driver = _process_cpu_seconds(os.getpid())
            slots = [Slot(index, 0.0, "bench") for index in range(orders)]
            token = cloud.customers.token("bench")
            placed = place_all(cloud.api_url, slots, SKUS, concurrency, token)
            await_terminal_in_table(cloud, placed, drain_timeout)
            time.sleep(1.5)  # the profile file is written every second
            cpu = _process_cpu_seconds(moto_pid) - before_cpu
            functions_cpu = _functions_cpu_seconds(cloud) - before_functions
            driver_cpu = _process_cpu_seconds(os.getpid()) - before_driver
            calls = _subtract(_read_profile(profile), before_calls)
    finally:
        os.environ.pop("LOCALCLOUD_MOTO_PROFILE", None)
    return ThroughputResult(placed, calls, cpu, functions_cpu, driver_cpu)


def await_terminal_in_table(cloud: Any, orders: list[PlacedOrder], timeout: float, interval: float = 2.0) -> None:
    """Wait until every accepted order is shown CONFIRMED or CANCELLED, reading the orders table with one small
    projected scan a round (a GET per waiting order per round would make the bench's polling a large part of
    the load it measures). The terminal moment is the view's `updated_at`: when a customer could see it."""
    from tools.localcloud.observed import scan

    deadline = time.monotonic() + timeout
    waiting = {order.order_id: order for order in orders if order.order_id}
    while waiting and time.monotonic() < deadline:
        for item in scan(cloud, "OrdersTable", "order_id", "status", "updated_at"):
            order = waiting.get(str(item["order_id"]))
            if order is None or item.get("status") not in TERMINAL_STATUSES:
                continue
            order.terminal_at = datetime.fromisoformat(str(item["updated_at"])).timestamp()
            order.final_status = str(item["status"])
            del waiting[str(item["order_id"])]
        if waiting:
            time.sleep(interval)


def _functions_cpu_seconds(cloud: Any) -> float:
    """The live execution environments' CPU time (an environment that died takes its share with it)."""
    total = 0.0
    for runtime in cloud.functions.values():
        for pid in runtime.pids:
            try:
                total += _process_cpu_seconds(pid)
            except OSError:
                continue
    return total


def _read_profile(path: Path) -> dict[str, dict[str, float]]:
    try:
        loaded: dict[str, dict[str, float]] = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return loaded


def _subtract(after: dict[str, dict[str, float]], before: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    zero = {"calls": 0.0, "cpu_seconds": 0.0}
    return {
        operation: {key: value - before.get(operation, zero)[key] for key, value in figures.items()}
        for operation, figures in after.items()
    }


def render(result: ThroughputResult, console: Console, top: int = 15) -> None:
    completion = latency_percentiles(
        [order.terminal_at - order.sent_at for order in result.terminal if order.terminal_at is not None]
    )
    post = latency_percentiles([order.post_seconds for order in result.accepted])
    placed = len(result.orders)
    console.print(
        f"throughput: {len(result.terminal)}/{placed} orders terminal in {result.seconds:.1f} s = "
        f"{result.orders_per_second:.2f} orders/s end to end"
    )
    console.print(f"  POST latency p50/p95/p99: {_triple(post)} s")
    console.print(f"  POST to terminal p50/p95/p99: {_triple(completion)} s")
    statuses: dict[str, int] = {}
    for order in result.orders:
        key = order.final_status or f"not terminal (HTTP {order.status})"
        statuses[key] = statuses.get(key, 0) + 1
    console.print("  outcomes: " + ", ".join(f"{status} {count}" for status, count in sorted(statuses.items())))
    total_calls = sum(figures["calls"] for figures in result.moto_calls.values())
    profiled_cpu = sum(figures["cpu_seconds"] for figures in result.moto_calls.values())
    per_order = max(1, len(result.terminal))
    console.print(
        f"  moto: {total_calls:.0f} AWS calls ({total_calls / per_order:.0f} per order), "
        f"{result.moto_cpu_seconds:.1f} s CPU ({result.moto_cpu_seconds / per_order * 1000:.0f} ms per order; "
        f"{profiled_cpu:.1f} s inside requests)"
    )
    table = Table(title=f"moto's CPU by operation (top {top})")
    for column in ("operation", "calls", "per order", "CPU s", "ms per call"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    ranked = sorted(result.moto_calls.items(), key=lambda item: -item[1]["cpu_seconds"])
    for operation, figures in ranked[:top]:
        calls = figures["calls"]
        table.add_row(
            operation,
            f"{calls:.0f}",
            f"{calls / per_order:.1f}",
            f"{figures['cpu_seconds']:.2f}",
            f"{figures['cpu_seconds'] / calls * 1000:.1f}" if calls else "-",
        )
    console.print(table)
    if profiled_cpu:
        # moto keeps every service's state in one Python process: one core (the GIL), whatever the machine has.
        inside_ms = profiled_cpu / per_order * 1000
        console.print(
            f"  moto's own bound: {inside_ms:.0f} ms of CPU inside requests per order, on one core, allows at most "
            f"{1000 / inside_ms:.1f} orders/s however cheap the functions and the HTTP around it"
        )
    console.print(
        f"  CPU per order: moto {result.moto_cpu_seconds / per_order * 1000:.0f} ms, functions "
        f"{result.functions_cpu_seconds / per_order * 1000:.0f} ms, local cloud and client "
        f"{result.driver_cpu_seconds / per_order * 1000:.0f} ms"
    )


def _triple(values: Any) -> str:
    return "/".join("-" if value is None else f"{value:.2f}" for value in values)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tools.bench.throughput", description=__doc__)
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--drain-timeout", type=float, default=600)
    parser.add_argument("--function-concurrency", type=int, help="execution environments per function at most")
    args = parser.parse_args(argv)
    console = Console(width=120)
    result = run_throughput(args.orders, args.concurrency, args.drain_timeout, args.function_concurrency)
    render(result, console)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
