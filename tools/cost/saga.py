"""The saga's paths, walked through its ASL: which states an order enters on each way it can end.

A path is named by the one step that fails and how (its error, as the step's Catch names it);
every other step succeeds, and a Choice takes its Default (no compensation gave up). Retry
attempts are not walked: each entered state counts once, as Step Functions bills the happy path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TIMEOUT = "States.Timeout"
CALLBACK = ".waitForTaskToken"


@dataclass(frozen=True)
class Entered:
    """A state the order's execution enters, and how it leaves it."""

    name: str
    state: dict[str, Any]
    error: str | None = None  # the error it fails with on this path (caught), None when it succeeds

    @property
    def puts(self) -> tuple[str, ...]:
        """The detail types this state puts on the bus (its putEvents entries)."""
        if "events:putEvents" not in str(self.state.get("Resource", "")):
            return ()
        return tuple(entry["DetailType"] for entry in self.state.get("Parameters", {}).get("Entries", []))

    @property
    def waits_for_callback(self) -> bool:
        return str(self.state.get("Resource", "")).endswith(CALLBACK)


@dataclass(frozen=True)
class SagaPath:
    name: str
    entered: tuple[Entered, ...] = field(default_factory=tuple)

    @property
    def transitions(self) -> int:
        """State transitions billed for the path: one per state entered."""
        return len(self.entered)


def load_definition(template: Any) -> dict[str, Any]:
    """The ASL of the template's (only) state machine."""
    machines = [r for r in template.sam["Resources"].values() if r["Type"] == "AWS::Serverless::StateMachine"]
    if len(machines) != 1:
        raise ValueError(f"expected one state machine in the template, found {len(machines)}")
    path = Path(template.path).parent / machines[0]["Properties"]["DefinitionUri"]
    return dict(json.loads(path.read_text()))


def walk(definition: dict[str, Any], name: str, failures: dict[str, str] | None = None) -> SagaPath:
    """Enter states from StartAt until the execution ends; `failures` maps a state to the error it raises."""
    failures = failures or {}
    states = definition["States"]
    entered: list[Entered] = []
    current: str | None = definition["StartAt"]
    while current is not None:
        if len(entered) > len(states) * 4:
            raise ValueError(f"path {name} does not end: {[e.name for e in entered]}")
        state = states[current]
        error = failures.get(current)
        entered.append(Entered(current, state, error))
        current = _next(current, state, error)
    return SagaPath(name, tuple(entered))


def _next(name: str, state: dict[str, Any], error: str | None) -> str | None:
    if error is not None:
        for catch in state.get("Catch", []):
            if error in catch["ErrorEquals"] or "States.ALL" in catch["ErrorEquals"]:
                return str(catch["Next"])
        raise ValueError(f"{name} raises {error}, which no Catch handles")
    if state["Type"] == "Choice":
        return str(state["Default"])
    if state["Type"] in ("Succeed", "Fail") or state.get("End"):
        return None
    return str(state["Next"])


def forward_steps(definition: dict[str, Any]) -> list[str]:
    """The steps that wait for a service on the way to confirmation, in order."""
    happy = walk(definition, "confirmed")
    return [entered.name for entered in happy.entered if entered.waits_for_callback]


def named_errors(state: dict[str, Any]) -> list[str]:
    """The business errors a step catches by name (not the States.* ones)."""
    return [
        error for catch in state.get("Catch", []) for error in catch["ErrorEquals"] if not error.startswith("States.")
    ]


def paths(definition: dict[str, Any]) -> list[SagaPath]:
    """Confirmed; each named business error of each forward step; the last step that can time out, timing out."""
    found = [walk(definition, "confirmed")]
    steps = forward_steps(definition)
    for step in steps:
        for error in named_errors(definition["States"][step]):
            found.append(walk(definition, error, {step: error}))
    timing_out = [
        step
        for step in steps
        if any(TIMEOUT in catch["ErrorEquals"] for catch in definition["States"][step].get("Catch", []))
    ]
    if timing_out:
        found.append(walk(definition, f"{timing_out[-1]} timed out", {timing_out[-1]: TIMEOUT}))
    return found
