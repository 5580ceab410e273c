"""`python -m tools.localcloud chaos`: many orders through the local cloud while things go wrong, then invariants.

The run starts the local cloud from template.yaml, seeds stock (with SKUs of one
unit that several orders race for), places orders concurrently over HTTP while
the faults of chaos_faults.py happen, redrives commands late once the orders
ended, waits until the system is quiet, and checks invariants.py against what
the stores hold. It prints what was injected and what held, and ends with one
line: `chaos: N orders, F faults injected, L lost, D double charges, S stock leaks`.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tools.localcloud import ledgers
from tools.localcloud.chaos_faults import POISON_MARKER, ChaosConfig, FaultSchedule, redrive_late_commands
from tools.localcloud.chaos_orders import OrderPlacer, Placement, plan_orders
from tools.localcloud.cloud import LocalCloud
from tools.localcloud.invariants import Check, Verdict, verdict
from tools.localcloud.observed import observe, scan
from tools.localcloud.template import load_template


@dataclass
class ChaosOutcome:
    """A finished run: what was placed, injected and checked."""

    config: ChaosConfig
    seed: int
    placement: Placement
    faults: list[tuple[str, str, int]]
    verdict: Verdict
    client_checks: list[Check] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # seconds each part of the run took

    @property
    def seconds(self) -> float:
        return sum(self.phases.values())

    @property
    def checks(self) -> list[Check]:
        return [*self.client_checks, *self.verdict.checks]

    @property
    def broken(self) -> list[Check]:
        return [check for check in self.checks if not check.holds]

    @property
    def faults_injected(self) -> int:
        return sum(count for _, _, count in self.faults)

    def summary(self) -> str:
        """The run's last line."""
        line = (
            f"chaos: {self.config.orders} orders, {self.faults_injected} faults injected, "
            f"{self.verdict.lost} lost, {self.verdict.double_charges} double charges, "
            f"{self.verdict.stock_leaks} stock leaks"
        )
        others = [check for check in self.broken if not check.headline]
        if others:
            line += f", {len(others)} other invariant(s) broken"
        return line


def parameter_overrides(cloud_parameters: dict[str, object], config: ChaosConfig) -> dict[str, str]:
    """Short saga timeouts, so a run takes minutes; CompensationTimeoutSeconds only if the template has it."""
    overrides = {"StepTimeoutSeconds": str(config.step_timeout)}
    if "CompensationTimeoutSeconds" in cloud_parameters:
        overrides["CompensationTimeoutSeconds"] = str(config.compensation_timeout)
    return overrides


def settle(cloud: LocalCloud, checks: list[Check], timeout: float = 600) -> None:
    """Wait until the system is quiet; a system that never settles is a broken invariant, not a crash."""
    try:
        cloud.wait_until_quiet(timeout=timeout)
    except TimeoutError as error:
        checks.append(Check("the system went quiet once the orders ended", [str(error)]))


def client_checks(placement: Placement, still_pending: list[str]) -> list[Check]:
    accepted = Check("every order placed was accepted (201), retrying 5xx with the same Idempotency-Key")
    accepted.broken = list(placement.rejected)
    repeated = Check("a repeated Idempotency-Key gives one order")
    repeated.broken = list(placement.repeat_mismatches)
    ended = Check("every accepted order ended within the run's time limit")
    ended.broken = list(still_pending)
    return [accepted, repeated, ended]


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _outcomes(cloud: LocalCloud) -> dict[str, str]:
    """Each order's status and cancellation reason, from the orders table."""
    return {
        str(item["order_id"]): f"{item.get('status', 'MISSING')} {item.get('cancellation_reason', '')}".strip()
        for item in scan(cloud, "OrdersTable", "order_id", "status", "cancellation_reason")
    }


class Laps:
    """Seconds per phase of the run."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self._last = time.monotonic()

    def lap(self, phase: str) -> None:
        now = time.monotonic()
        self.phases[phase] = now - self._last
        self._last = now


def drive(cloud: LocalCloud, config: ChaosConfig, console: Console) -> ChaosOutcome:
    """The run itself, on a started local cloud."""
    laps = Laps()
    rng = random.Random(cloud.faults.seed)
    plan, stock = plan_orders(config.orders, rng)
    ledgers.seed_stock(cloud, stock)
    schedule = FaultSchedule(cloud, config, rng)
    schedule.switch_on_background()
    with _progress(console) as progress:
        placed_task = progress.add_task("placed", total=config.orders, note="")
        ended_task = progress.add_task("ended", total=config.orders, note="")

        def changed(placed: int, ended: int) -> None:
            note = f"faults injected: {cloud.faults.total}"
            progress.update(placed_task, completed=placed, note=note)
            progress.update(ended_task, completed=ended, total=max(placed, 1), note="")

        placer = OrderPlacer(cloud, config.in_flight, config.client_threads, changed, seed=rng.getrandbits(32))
        placer.place_all(plan, schedule.before_order)
        schedule.finish()
        still_pending = placer.wait_all_ended(timeout=max(300.0, config.orders * 1.5))
    laps.lap("orders")
    checks = client_checks(placer.placement, still_pending)
    cloud.faults.clear()  # the system settles; late commands then arrive on a healthy system
    settle(cloud, checks)
    laps.lap("settling")
    accepted = sorted(placer.placement.accepted)
    console.print("redriving late commands ...")
    redrive_late_commands(cloud, _outcomes(cloud), max(3, config.orders // 50), rng)
    settle(cloud, checks)
    laps.lap("late commands")
    console.print("checking invariants ...")
    result = verdict(observe(cloud), set(accepted), stock, POISON_MARKER)
    laps.lap("checks")
    faults = cloud.faults.summary()
    return ChaosOutcome(config, cloud.faults.seed, placer.placement, faults, result, checks, laps.phases)


def run_chaos(config: ChaosConfig, console: Console, work_dir: Path | None = None) -> ChaosOutcome:
    """Start the local cloud from template.yaml and drive a chaos run through it."""
    template = load_template()
    overrides = parameter_overrides(template.parameter_defaults, config)
    console.print(
        f"starting the local cloud from template.yaml ({', '.join(f'{k}={v}' for k, v in overrides.items())})"
    )
    with LocalCloud(
        template, stack_name="chaos", parameter_overrides=overrides, fault_seed=config.seed, work_dir=work_dir
    ) as cloud:
        console.print(f"seed {cloud.faults.seed}: {config.orders} orders, at most {config.in_flight} in flight")
        return drive(cloud, config, console)


def render(outcome: ChaosOutcome, console: Console) -> None:
    """The tables of faults injected and invariants, then the one-line summary."""
    faults = Table(title=f"Faults injected (seed {outcome.seed})")
    for column in ("fault", "where", "count"):
        faults.add_column(column, justify="right" if column == "count" else "left")
    for kind, where, count in outcome.faults:
        faults.add_row(kind, where, str(count))
    faults.add_row("[bold]total", "", f"[bold]{outcome.faults_injected}")
    console.print(faults)
    placement = outcome.placement
    laps = ", ".join(f"{phase} {seconds:.0f} s" for phase, seconds in outcome.phases.items())
    title = f"Invariants ({laps}; {placement.retries} client retries, {placement.stalls} stalls)"
    invariants = Table(title=title)
    invariants.add_column("invariant")
    invariants.add_column("held")
    invariants.add_column("evidence", overflow="fold")
    for check in outcome.checks:
        invariants.add_row(check.name, "[green]yes" if check.holds else "[red]NO", check.evidence())
    console.print(invariants)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.localcloud chaos", description=__doc__)
    parser.add_argument("--orders", type=int, default=1000, help="how many orders to place (default 1000)")
    parser.add_argument("--seed", type=int, default=None, help="the run's seed (default: a random one, printed)")
    parser.add_argument("--in-flight", type=int, default=ChaosConfig.in_flight, help="orders outstanding at once")
    parser.add_argument("--step-timeout", type=int, default=ChaosConfig.step_timeout, help="StepTimeoutSeconds")
    parser.add_argument(
        "--compensation-timeout", type=int, default=ChaosConfig.compensation_timeout, help="CompensationTimeoutSeconds"
    )
    parser.add_argument("--transaction-conflicts", type=float, default=0.0, help="rate of TransactionConflict")
    args = parser.parse_args(argv)
    config = ChaosConfig(
        orders=args.orders,
        seed=args.seed,
        in_flight=args.in_flight,
        step_timeout=args.step_timeout,
        compensation_timeout=args.compensation_timeout,
        transaction_conflict_rate=args.transaction_conflicts,
    )
    console = Console(width=None if sys.stdout.isatty() else 140)  # a log file gets readable tables
    outcome = run_chaos(config, console)
    render(outcome, console)
    print(outcome.summary(), flush=True)
    return 1 if outcome.broken else 0


__all__ = ["ChaosConfig", "ChaosOutcome", "main", "run_chaos"]

if __name__ == "__main__":
    sys.exit(main())
