"""`orderflow`: the operations console, the same against a deployed stack and the local cloud.

    orderflow [--stack NAME | --local] [--json] status
    orderflow dlq list [--limit N]
    orderflow dlq peek NAME [--limit N]
    orderflow dlq redrive NAME [--order ID] [--dry-run]
    orderflow replay --since T --until T [--detail-type X] [--rule NAME]
    orderflow trace ORDER_ID

--stack finds every resource through CloudFormation (the usual AWS credentials and region);
--local reads what `make serve` writes in .localcloud/. Without either: ORDERFLOW_STACK_NAME if
set, else the local cloud. `status` exits 1 when any alarm is in ALARM, `trace` when nothing
knows the order; a target that cannot be found exits 2. The runbook is docs/runbook.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from botocore.exceptions import EndpointConnectionError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tools.console import render
from tools.console.target import Target, TargetError, from_local, from_stack

ProgressCallback = Callable[[int, int], None]


def _common() -> argparse.ArgumentParser:
    """Options every command takes, before or after its name (SUPPRESS: the later one wins, none is reset)."""
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    where = common.add_mutually_exclusive_group()
    where.add_argument("--stack", metavar="NAME", help="a deployed stack, found through CloudFormation")
    where.add_argument("--local", action="store_true", help="the running local cloud (make serve)")
    common.add_argument("--local-dir", type=Path, metavar="DIR", help="where the local cloud wrote console.json")
    common.add_argument("--region", help="AWS region of the stack (default: the usual AWS configuration)")
    common.add_argument("--json", action="store_true", help="machine-readable output")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="orderflow", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, parents=[common]
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("status", parents=[common], help="queues, DLQs, alarms in ALARM, saga executions, streams")
    dlq = commands.add_parser("dlq", parents=[common], help="dead-letter queues: list, peek, redrive")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True, metavar="ACTION")
    listing = dlq_commands.add_parser("list", parents=[common], help="every DLQ and what it holds")
    listing.add_argument("--limit", type=int, default=5, help="messages shown per DLQ (default 5)")
    peek = dlq_commands.add_parser("peek", parents=[common], help="a DLQ's messages, decoded, left in place")
    peek.add_argument("name", help="DLQ logical id (ProjectorDLQ), queue name, or consumer (projector)")
    peek.add_argument("--limit", type=int, default=10, help="at most this many messages (default 10)")
    move = dlq_commands.add_parser("redrive", parents=[common], help="move a DLQ's messages back")
    move.add_argument("name", help="DLQ logical id, queue name, or consumer")
    move.add_argument("--order", metavar="ID", help="only the messages about this order")
    move.add_argument("--dry-run", action="store_true", help="show what would move; move nothing")
    replay = commands.add_parser("replay", parents=[common], help="replay a window of the bus archive")
    replay.add_argument("--since", required=True, metavar="T", help="ISO 8601, or a duration back (15m, 2h, 1d)")
    replay.add_argument("--until", default="now", metavar="T", help="ISO 8601, a duration back, or now (default)")
    replay.add_argument("--detail-type", metavar="X", help="only the rules that take this event type")
    replay.add_argument("--rule", metavar="NAME", help="only this rule (logical id, e.g. AuditRule)")
    trace = commands.add_parser("trace", parents=[common], help="one order end to end")
    trace.add_argument("order_id")
    return parser


def select_target(args: argparse.Namespace) -> Target:
    stack = getattr(args, "stack", None) or (
        None if getattr(args, "local", False) else os.environ.get("ORDERFLOW_STACK_NAME")
    )
    if stack:
        return from_stack(stack, getattr(args, "region", None))
    return from_local(getattr(args, "local_dir", None))


@contextmanager
def progress_bar(description: str, enabled: bool) -> Iterator[ProgressCallback]:
    """A rich progress bar on stderr (nothing with --json); yields update(total, done)."""
    if not enabled:
        yield lambda total, done: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task(description, total=None)

        def update(total: int, done: int) -> None:
            progress.update(task, total=total, completed=done)

        yield update


def run(args: argparse.Namespace, target: Target, as_json: bool) -> tuple[dict[str, Any], Callable[..., None], int]:
    """The command's report, its renderer, and the exit code."""
    if args.command == "status":
        from tools.console.status import status

        report = status(target)
        return report, render.status, 0 if report["healthy"] else 1
    if args.command == "trace":
        from tools.console.trace import trace

        report = trace(target, args.order_id)
        return report, render.trace, 0 if report["found"] else 1
    if args.command == "replay":
        from tools.console.replay import parse_time, replay

        since, until = parse_time(args.since), parse_time(args.until)
        with progress_bar("replaying (seconds of the window)", not as_json) as update:
            report = replay(target, since, until, args.detail_type, args.rule, update)
        return report, render.replay, 0 if report["state"] == "COMPLETED" else 1
    from tools.console import dlq

    if args.dlq_command == "list":
        return dlq.list_dlqs(target, args.limit), render.dlq_list, 0
    if args.dlq_command == "peek":
        return dlq.peek_dlq(target, args.name, args.limit), render.dlq_peek, 0
    with progress_bar(f"redriving {args.name}", not as_json) as update:
        report = dlq.redrive(target, args.name, args.order, args.dry_run, update)
    return report, render.redrive, 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    as_json = bool(getattr(args, "json", False))
    console = Console(width=int(os.environ.get("COLUMNS", "0")) or None)
    try:
        target = select_target(args)
        report, renderer, code = run(args, target, as_json)
    except TargetError as error:
        Console(stderr=True).print(f"orderflow: {error}", style="red", markup=False)
        return 2
    except EndpointConnectionError as error:
        Console(stderr=True).print(f"orderflow: {error} (is the local cloud still running?)", style="red", markup=False)
        return 2
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
    else:
        renderer(console, report)
    return code


if __name__ == "__main__":
    sys.exit(main())
