"""`make bench` (`python -m tools.bench`): cold start, per-record cost and local-cloud throughput, as figures.

Timing is measured side by side (ratios to a baseline from alternating runs), printed, and never turned into a
pass or a fail: a loaded machine changes the figures, not the build.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import warnings

from rich.console import Console
from rich.table import Table

from tools.bench import imports, throughput
from tools.bench import per_record as per_record_bench
from tools.lambda_code import REPO_ROOT

COLD_START_GOAL = 1.4  # x `import boto3`
PER_RECORD_GOAL = 1.1  # x a plain Powertools consumer


def cold_start(console: Console, rounds: int) -> None:
    baseline, figures = imports.measure(rounds)
    traced_baseline, traced = imports.measure(rounds, tracing=True)
    table = Table(title=f"Cold start: handler import vs `import boto3` (median of {rounds} alternating runs)")
    columns = ("function", "handler module", "import s", "x boto3", "peak MiB", "x boto3 ", "traced: x boto3")
    for column in columns:
        table.add_column(column, justify="left" if column in ("function", "handler module") else "right")
    seconds, peak = f"{baseline.median_seconds:.3f}", f"{baseline.median_peak_mib:.1f}"
    table.add_row("(baseline)", "boto3", seconds, "1.00", peak, "1.00", "1.00")
    modules = {logical_id: module for logical_id, (module, _) in imports.template_functions().items()}
    for logical_id, measured in figures.items():
        table.add_row(
            logical_id,
            modules[logical_id],
            f"{measured.median_seconds:.3f}",
            f"{measured.median_seconds / baseline.median_seconds:.2f}",
            f"{measured.median_peak_mib:.1f}",
            f"{measured.median_peak_mib / baseline.median_peak_mib:.2f}",
            f"{traced[logical_id].median_seconds / traced_baseline.median_seconds:.2f}",
        )
    console.print(table)
    worst = max(figures.values(), key=lambda measured: measured.median_seconds)
    console.print(
        f"cold start: worst {worst.median_seconds / baseline.median_seconds:.2f} x import boto3 "
        f"(goal <= {COLD_START_GOAL}); with tracing on (Tracing: Active in Lambda) the X-Ray SDK is imported too"
    )


def per_record(console: Console, batches: int) -> None:
    # Its own interpreter: the function's environment must be set before Powertools is imported.
    finished = subprocess.run(
        [sys.executable, "-m", "tools.bench.per_record", str(batches)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    medians: dict[str, float] = json.loads(finished.stdout.strip().splitlines()[-1])
    ours, plain, deployed = (
        medians[name] for name in (per_record_bench.ORDERFLOW, per_record_bench.PLAIN, per_record_bench.DEPLOYED)
    )
    console.print(
        f"per record ({batches} batches of 10, rotating): orderflow's consumer with idempotency records "
        f"{ours * 1000:.1f} ms, plain Powertools consumer {plain * 1000:.1f} ms = {ours / plain:.2f} x "
        f"(goal <= {PER_RECORD_GOAL}); the projector as deployed, no idempotency records (decision 0021): "
        f"{deployed * 1000:.1f} ms = {deployed / plain:.2f} x"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7, help="alternating import runs per function")
    parser.add_argument("--batches", type=int, default=40, help="batches for the per-record comparison")
    parser.add_argument("--orders", type=int, default=100, help="orders for the throughput run (0 skips it)")
    parser.add_argument("--concurrency", type=int, default=16, help="POSTs in flight for the throughput run")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    console = Console() if sys.stdout.isatty() else Console(width=120)
    cold_start(console, args.rounds)
    per_record(console, args.batches)
    if args.orders:
        console.print(f"local cloud: {args.orders} orders placed at once ({args.concurrency} in flight) ...")
        throughput.render(throughput.run_throughput(args.orders, args.concurrency, drain_timeout=900), console)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
