"""Why a message failed, from the consuming function's own log line ("Record failed", one per failed record).

Every consumer logs a failed record once, as structured JSON naming the SQS message id, the event type,
ids and the error (orderflow.consumer). On AWS that line is in the function's CloudWatch log group; in the
local cloud, in the function's log file. A message id keeps its value when SQS moves it to the DLQ.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tools.console.target import Target

FAILED = "Record failed"


def _reason(line: dict[str, Any]) -> str:
    error_type, error = line.get("error_type"), line.get("error")
    return f"{error_type}: {error}" if error_type else str(error or line.get("message"))


def _from_file(path: Path, wanted: set[str]) -> dict[str, str]:
    reasons: dict[str, str] = {}
    if not path.exists():
        return reasons
    with path.open(errors="replace") as lines:
        for text in lines:
            if FAILED not in text or not any(message_id in text for message_id in wanted):
                continue
            try:
                line = json.loads(text)
            except ValueError:
                continue
            if isinstance(line, dict) and line.get("message_id") in wanted:
                reasons[str(line["message_id"])] = _reason(line)  # the last failure is the one that dead-lettered
    return reasons


def _from_cloudwatch(target: Target, function: str, wanted: set[str]) -> dict[str, str]:
    logs = target.client("logs")
    reasons: dict[str, str] = {}
    for message_id in sorted(wanted):
        try:
            events = logs.filter_log_events(
                logGroupName=f"/aws/lambda/{function}", filterPattern=f'{{ $.message_id = "{message_id}" }}', limit=10
            ).get("events", [])
        except Exception:  # no log group, no permission: the reason is simply not known
            return reasons
        for event in events:
            try:
                line = json.loads(event["message"])
            except ValueError:
                continue
            if isinstance(line, dict) and line.get("message") == FAILED:
                reasons[message_id] = _reason(line)
    return reasons


def failure_reasons(target: Target, functions: list[str], message_ids: list[str]) -> dict[str, str]:
    """message id -> "ErrorType: message" as the consumer logged it, for the ids a log line names."""
    wanted = set(message_ids)
    reasons: dict[str, str] = {}
    for function in functions:
        if target.local:
            logical = next(
                (r.logical_id for r in target.of_type("AWS::Lambda::Function") if r.physical_id == function), None
            )
            if logical and target.log_dir:
                reasons |= _from_file(target.log_dir / f"{logical}.log", wanted - set(reasons))
        else:
            reasons |= _from_cloudwatch(target, function, wanted - set(reasons))
    return reasons
