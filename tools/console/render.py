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


def _alarms(names: list[str]) -> Text:
    return Text(", ".join(names), style="bold red") if names else Text("OK", style="green")


def _short(text: str | None, width: int = 90) -> str:
    if not text:
        return DASH
    return text if len(text) <= width else text[: width - 1] + "…"


def status(console: Console, report: dict[str, Any]) -> None:
    firing = report["alarms_in_alarm"]
    verdict = Text("HEALTHY", style="bold green") if report["healthy"] else Text(f"{len(firing)} IN ALARM", "bold red")
    console.print(Text.assemble("orderflow status: ", (report["target"], "bold"), "  ", verdict))
    table = Table(title="Consumers", title_justify="left")
    for column in ("consumer", "waiting", "in flight", "oldest", "DLQ", "DLQ depth", "alarms"):
        table.add_column(
            column, justify="right" if column in ("waiting", "in flight", "oldest", "DLQ depth") else "left"
        )
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
    others = Table(title="Other dead-letter queues", title_justify="left")
    for column in ("DLQ", "depth", "alarms"):
        others.add_column(column)
    for row in report["other_dead_letter_queues"]:
        others.add_row(
            row["dlq"], Text(str(row["depth"]), "bold red" if row["depth"] else ""), _alarms(row["alarms_in_alarm"])
        )
    console.print(others)
    saga = Table(title="Saga executions", title_justify="left")
    for column in ("state machine", "running", "failed (1 h)", "timed out (1 h)", "aborted (1 h)"):
        saga.add_column(column, justify="left" if column == "state machine" else "right")
    for row in report["saga"]:
        saga.add_row(
            row["state_machine"],
            str(row["running"]),
            *(str(row[f"{status}_last_hour"]) for status in ("failed", "timed_out", "aborted")),
        )
    console.print(saga)
    streams = Table(title="Streams", title_justify="left")
    for column in ("stream", "function", "iterator age", "alarms"):
        streams.add_column(column)
    for row in report["streams"]:
        iterator = DASH if row["iterator_age_ms"] is None else f"{row['iterator_age_ms']:.0f} ms"
        streams.add_row(row["stream"], row["function"], iterator, _alarms(row["alarms_in_alarm"]))
    console.print(streams)
    if firing:
        alarms = Table(title="Alarms in ALARM", title_justify="left")
        for column in ("alarm", "since", "reason"):
            alarms.add_column(column)
        for alarm in firing:
            alarms.add_row(Text(alarm["name"], "bold red"), alarm["since"] or DASH, _short(alarm["reason"]))
        console.print(alarms)
        console.print("Runbook: docs/runbook.md (each alarm's description links its section)")
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
    console.print(Text.assemble("order ", (report["order_id"], "bold")))
    view = report["view"]
    if view is None:
        console.print("  projector: no view of this order")
    else:
        reason = f" ({view['cancellation_reason']})" if view.get("cancellation_reason") else ""
        console.print(
            f"  projector: {view['status']}{reason}, {view.get('total_cents', 0)} {view.get('currency', '')} cents"
        )
        if view.get("unresolved_compensations"):
            console.print(Text(f"  unresolved compensations: {view['unresolved_compensations']}", "bold red"))
        history = Table(title="History (projector)", title_justify="left")
        for column in ("occurred at", "event", "summary"):
            history.add_column(column)
        for entry in sorted(view.get("history", []), key=lambda entry: str(entry.get("occurred_at"))):
            history.add_row(str(entry.get("occurred_at")), entry.get("detail_type", DASH), entry.get("summary") or "")
        console.print(history)
    saga = report["saga"]
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
                step["entered"] or DASH,
                duration(step["seconds"]),
                outcome,
            )
        console.print(steps)
        console.print(f"  compensations: {', '.join(saga['compensations']) or 'none'}")
    trail = Table(title=f"Audit trail ({len(report['audit_trail'])} events)", title_justify="left")
    for column in ("#", "occurred at", "event", "source", "event id"):
        trail.add_column(column, overflow="fold")
    for number, entry in enumerate(report["audit_trail"], 1):
        trail.add_row(
            str(number),
            str(entry["occurred_at"]),
            str(entry["detail_type"]),
            str(entry["source"]),
            str(entry["event_id"]),
        )
    console.print(trail)
    if report["dead_letters"]:
        letters = _messages("In dead-letter queues", report["dead_letters"])
        console.print(letters)
        console.print("  fix the cause, then: orderflow dlq redrive <DLQ> --order " + report["order_id"])
    else:
        console.print("  dead-letter queues: nothing about this order")
