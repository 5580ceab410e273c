"""`orderflow replay --since T --until T [--detail-type X]`: the bus archive's window, put through the rules again.

EventBridge's StartReplay from the stack's archive to its bus, followed until the replay ends. A replay
is delivered to rules, not to event types: --detail-type X narrows it to the rules whose pattern can
match X (Destination.FilterArns), and each of those rules receives every archived event of the window
that its pattern matches. That is safe by design: every consumer applies an event id once, so a
replayed event that was applied changes nothing, and one that was lost downstream is applied now.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tools.console.target import Target, TargetError

Progress = Callable[[int, int], None]
POLL_SECONDS = 2.0
ENDED = ("COMPLETED", "FAILED", "CANCELLED")
_RELATIVE = re.compile(r"^-?(\d+(?:\.\d+)?)\s*([smhd])(?:\s+ago)?$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """`now`, a duration back from now (`90s`, `15m`, `2h ago`, `1d`), or ISO 8601 (UTC when no offset)."""
    now = now or datetime.now(UTC)
    value = text.strip().lower()
    if value == "now":
        return now
    relative = _RELATIVE.match(value)
    if relative:
        return now - timedelta(**{_UNITS[relative.group(2)]: float(relative.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise TargetError(f"not a time: {text!r} (ISO 8601, `now`, or a duration back such as 15m or 2h)") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _rules(target: Target) -> list[dict[str, Any]]:
    events = target.client("events")
    found = []
    for resource in target.of_type("AWS::Events::Rule"):
        bus, _, name = resource.physical_id.rpartition("|")
        described = events.describe_rule(Name=name, **({"EventBusName": bus} if bus else {}))
        pattern = json.loads(described.get("EventPattern") or "{}")
        found.append({"name": resource.logical_id, "arn": described["Arn"], "pattern": pattern})
    return found


def _takes(pattern: dict[str, Any], detail_type: str) -> bool:
    """Whether a rule's pattern can match an event of this detail-type (content filters count as maybe)."""
    wanted = pattern.get("detail-type")
    if wanted is None:
        return True
    return any(not isinstance(value, str) or value == detail_type for value in wanted)


def replay(
    target: Target,
    since: datetime,
    until: datetime,
    detail_type: str | None,
    rule: str | None,
    progress: Progress,
) -> dict[str, Any]:
    until = min(until, datetime.now(UTC))
    if since >= until:
        raise TargetError(f"--since ({since.isoformat()}) must be before --until ({until.isoformat()})")
    archives = target.of_type("AWS::Events::Archive")
    if not archives:
        raise TargetError(f"{target.name} has no event archive")
    events = target.client("events")
    archive = events.describe_archive(ArchiveName=archives[0].physical_id)
    rules = _rules(target)
    chosen = [r for r in rules if (detail_type is None or _takes(r["pattern"], detail_type))]
    chosen = [r for r in chosen if rule is None or r["name"].lower() == rule.lower()]
    if not chosen:
        raise TargetError(f"no rule of {target.name} takes {detail_type or rule!r}")
    destination: dict[str, Any] = {"Arn": archive["EventSourceArn"]}
    if len(chosen) < len(rules):
        destination["FilterArns"] = [r["arn"] for r in chosen]
    name = f"orderflow-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    started = time.monotonic()
    events.start_replay(
        ReplayName=name,
        Description=f"orderflow replay {since.isoformat()} .. {until.isoformat()}",
        EventSourceArn=archive["ArchiveArn"],
        EventStartTime=since,
        EventEndTime=until,
        Destination=destination,
    )
    span = max(1, int((until - since).total_seconds()))
    progress(span, 0)
    while True:
        described = events.describe_replay(ReplayName=name)
        state = described.get("State", "STARTING")
        last = described.get("EventLastReplayedTime")
        done = span if state in ENDED else int((last - since).total_seconds()) if isinstance(last, datetime) else 0
        progress(span, max(0, min(span, done)))
        if state in ENDED:
            break
        time.sleep(POLL_SECONDS)
    return {
        "target": target.name,
        "replay": name,
        "state": state,
        "reason": described.get("StateReason"),
        "archive": archives[0].logical_id,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "detail_type": detail_type,
        "rules": [r["name"] for r in chosen],
        "seconds": round(time.monotonic() - started, 1),
    }
