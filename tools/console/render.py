"""The console's human output: rich tables, one function per command's report."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

DASH = "—"


def age(seconds: float | None) -> str:
    if seconds is None:
        return DASH
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return DASH
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def clock(moment: str | None) -> str:
    """An ISO timestamp as its time of day to the millisecond (the trace's header carries the date)."""
    if not moment:
        return DASH
    time_part = moment.split("T", 1)[-1]
    return time_part[:12].rstrip("Z")


def _alarms(names: list[str]) -> Text:
    return Text(", ".join(names), style="bold red") if names else Text("OK", style="green")


def _short(text: str | None, width: int = 90) -> str:
    if not text:
        return DASH
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(title: str, columns: dict[str, str]) -> Table:
    """A table whose columns fold rather than cut (names and ids stay whole); columns: name -> justify."""
    table = Table(title=title, title_justify="left")
    for name, justify in columns.items():
        table.add_column(name, justify="right" if justify == "r" else "left", overflow="fold")
    return table


def status(console: Console, report: dict[str, Any]) -> None:
    firing = report["alarms_in_alarm"]
    verdict = Text("HEALTHY", style="bold green") if report["healthy"] else Text(f"{len(firing)} IN ALARM", "bold red")
    console.print(Text.assemble("orderflow status: ", (report["target"], "bold"), "  ", verdict))
    columns = {
        "consumer": "l",
        "waiting": "r",
        "in flight": "r",
        "oldest": "r",
        "DLQ": "l",
        "in DLQ": "r",
        "alarms": "l",
    }
    table = _table("Queues (by consumer) and their DLQs", columns)
    for row in report["consumers"]:
        dlq_depth = DASH if row["dlq_depth"] is None else str(row["dlq_depth"])
        table.add_row(
            row["consumer"],
            str(row["visible"]),
            str(row["in_flight"]),
            age(row["oldest_age_seconds"]),
            row["dlq"] or DASH,
            Text(dlq_depth, style="bold red" if row["dlq_depth"] else ""),
            _alarms(row["alarms_in_alarm"]),
        )
    console.print(table)
    others = _table("Other dead-letter queues", {"DLQ": "l", "depth": "r", "alarms": "l"})
    for row in report["other_dead_letter_queues"]:
        depth = Text(str(row["depth"]), "bold red" if row["depth"] else "")
        others.add_row(row["dlq"], depth, _alarms(row["alarms_in_alarm"]))
    console.print(others)
    saga = _table(
        "Saga executions",
        {"state machine": "l", "running": "r", "failed (1 h)": "r", "timed out (1 h)": "r", "aborted (1 h)": "r"},
    )
    for row in report["saga"]:
        ended = (str(row[f"{status}_last_hour"]) for status in ("failed", "timed_out", "aborted"))
        saga.add_row(row["state_machine"], str(row["running"]), *ended)
    console.print(saga)
    streams = _table("Streams", {"stream": "l", "read by": "l", "iterator age": "r", "alarms": "l"})
    for row in report["streams"]:
        iterator = DASH if row["iterator_age_ms"] is None else f"{row['iterator_age_ms']:.0f} ms"
        streams.add_row(row["stream"], row["function"], iterator, _alarms(row["alarms_in_alarm"]))
    console.print(streams)
    console.print("oldest, iterator age: the metric's latest one-minute maximum")
    if firing:
        alarms = _table("Alarms in ALARM", {"alarm": "l", "since": "l", "reason": "l"})
        for alarm in firing:
            alarms.add_row(Text(alarm["name"], "bold red"), alarm["since"] or DASH, _short(alarm["reason"], 72))
        console.print(alarms)
        console.print("runbook: docs/runbook.md, the section each alarm's description links")
    states = report["alarm_states"]
    console.print(
        f"alarms: {states['ALARM']} in ALARM, {states['OK']} OK, {states['INSUFFICIENT_DATA']} insufficient data"
    )


def _messages(title: str, messages: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    with_dlq = any("dlq" in message for message in messages)
    for column in ("DLQ",) * with_dlq + ("event type", "order id", "event id", "receives", "first received", "reason"):
        table.add_column(column, overflow="fold")
    for message in messages:
        table.add_row(
            *((message["dlq"],) if with_dlq else ()),
            message["event_type"] or DASH,
            message["order_id"] or DASH,
            message["event_id"] or DASH,
            str(message["receive_count"]),
            message["first_received"] or DASH,
            _short(message["reason"], 60),
        )
    return table


def dlq_list(console: Console, report: dict[str, Any]) -> None:
    table = Table(title=f"Dead-letter queues: {report['target']}", title_justify="left")
    for column in ("DLQ", "depth", "redrives to"):
        table.add_column(column)
    for row in report["dead_letter_queues"]:
        depth = Text(str(row["depth"]), "bold red" if row["depth"] else "")
        table.add_row(row["dlq"], depth, ", ".join(row["redrives_to"]) or DASH)
    console.print(table)
    for row in report["dead_letter_queues"]:
        if row["messages"]:
            console.print(_messages(f"{row['dlq']} (first {len(row['messages'])})", row["messages"]))


def dlq_peek(console: Console, report: dict[str, Any]) -> None:
    title = f"{report['dlq']}: {report['depth']} message(s), showing {len(report['messages'])}"
    console.print(_messages(title, report["messages"]))


def redrive(console: Console, report: dict[str, Any]) -> None:
    verb = "would move" if report["dry_run"] else "moved"
    scope = f" for order {report['order']}" if report["order"] else ""
    console.print(f"{report['dlq']}{scope}: {verb} {report['moved_count']} message(s) ({report['mode']})")
    if report.get("move_task_unavailable"):
        console.print(f"  SQS message move task not used: {report['move_task_unavailable']}")
    moved = report.get("moved") or []
    if moved:
        table = Table(title=verb, title_justify="left")
        for column in ("event type", "order id", "event id", "to"):
            table.add_column(column, overflow="fold")
        for message in moved:
            table.add_row(
                message["event_type"] or DASH, message["order_id"] or DASH, message["event_id"] or DASH, message["to"]
            )
        console.print(table)
    for message in report.get("skipped") or []:
        console.print(f"  left in the DLQ: {message['message_id']} ({message['why']})")
    console.print(f"{report['dlq']} now holds {report['remaining']} message(s)")


def replay(console: Console, report: dict[str, Any]) -> None:
    console.print(
        f"replay {report['replay']} of {report['archive']}: {report['state']} in {report['seconds']} s "
        f"({report['since']} .. {report['until']})"
    )
    console.print(f"  rules: {', '.join(report['rules'])}")
    if report.get("reason"):
        console.print(f"  reason: {report['reason']}")


def trace(console: Console, report: dict[str, Any]) -> None:
    """The order, then its saga step by step, its audit trail and its dead letters; times of day in UTC."""
    saga = report["saga"]
    day = (saga["started"] if saga else "")[:10]
    console.print(Text.assemble("order ", (report["order_id"], "bold"), f"  (times UTC{', ' + day if day else ''})"))
    view = report["view"]
    if view is None:
        console.print("  projector: no view of this order")
    else:
        reason = f" ({view['cancellation_reason']})" if view.get("cancellation_reason") else ""
        total = f"{view.get('total_cents', 0) / 100:.2f} {view.get('currency', '')}"
        console.print(f"  projector: {view['status']}{reason}, {total}")
        if view.get("unresolved_compensations"):
            console.print(Text(f"  unresolved compensations: {view['unresolved_compensations']}", "bold red"))
        history = Table(title="History (projector)", title_justify="left")
        for column in ("at", "event", "summary"):
            history.add_column(column)
        for entry in sorted(view.get("history", []), key=lambda entry: str(entry.get("occurred_at"))):
            history.add_row(clock(entry.get("occurred_at")), entry.get("detail_type", DASH), entry.get("summary") or "")
        console.print(history)
    if saga is None:
        console.print("  saga: no execution for this order")
    else:
        steps = Table(title=f"Saga {saga['status']} in {duration(saga['seconds'])}", title_justify="left")
        for column in ("#", "state", "kind", "entered", "time in state", "outcome"):
            steps.add_column(column, justify="right" if column in ("#", "time in state") else "left")
        for number, step in enumerate(saga["steps"], 1):
            style = "yellow" if step["kind"] == "compensation" else "dim" if step["kind"] == "bookkeeping" else ""
            outcome = Text(step["outcome"], "red" if step["outcome"] not in ("ok", "running") else "")
            steps.add_row(
                str(number),
                Text(step["state"], style),
                step["kind"],
                clock(step["entered"]),
                duration(step["seconds"]),
                outcome,
            )
        console.print(steps)
        console.print(f"  compensations: {', '.join(saga['compensations']) or 'none'}")
    trail = Table(title=f"Audit trail ({len(report['audit_trail'])} events; … is the order id)", title_justify="left")
    for column in ("#", "at", "event", "source", "event id"):
        trail.add_column(column, overflow="fold")
    for number, entry in enumerate(report["audit_trail"], 1):
        trail.add_row(
            str(number),
            clock(entry["occurred_at"]),
            str(entry["detail_type"]),
            str(entry["source"]),
            str(entry["event_id"]).replace(report["order_id"], "…"),  # the saga's ids start with the order id
        )
    console.print(trail)
    if report["dead_letters"]:
        console.print(_messages("In dead-letter queues", report["dead_letters"]))
        console.print("  fix the cause, then: orderflow dlq redrive <DLQ> --order " + report["order_id"])
    else:
        console.print("  dead-letter queues: nothing about this order")
