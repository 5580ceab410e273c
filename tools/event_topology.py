"""Who publishes each event and who listens to it, derived from template.yaml, the saga's ASL and the handlers.

Nothing here is typed by hand: a listener is a rule whose pattern matches the event (EventBridge's
matcher, as moto implements it), through the rule's target (a queue or a stream) to the function
that reads it; a publisher is a saga state that puts the event (`events:putEvents`), a pipe whose
target parameters name it, or a function allowed to put events whose service is the event's source.
The event catalog (docs/events.md) is rendered from this, and a test holds the routing to what each
consumer accepts, both ways.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.lambda_code import REPO_ROOT, use_lambda_code

Resources = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Route:
    """A rule that delivers some event types to a function, through a queue or a stream."""

    rule: str
    target: str  # the queue's or the stream's logical id
    function: str
    handler: str
    delivered: tuple[str, ...]  # the detail types the rule's pattern matches


@dataclass(frozen=True)
class Publisher:
    name: str  # a logical id
    how: str  # what in it puts the event on the bus


def _getatt(value: Any) -> str | None:
    """The logical id a `Fn::GetAtt` (long or short form) or `Ref` names."""
    if isinstance(value, dict):
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return str(target[0] if isinstance(target, list) else str(target).split(".")[0])
        if "Ref" in value:
            return str(value["Ref"])
    return None


def _of_type(resources: Resources, kind: str) -> Resources:
    return {lid: r for lid, r in resources.items() if r["Type"] == kind}


def example_events() -> dict[str, dict[str, Any]]:
    """One EventBridge event per detail type (the catalog's examples), to match rule patterns against."""
    use_lambda_code()
    from tools.sample_events import eventbridge, examples

    return {name: eventbridge(event) for name, event in examples().items()}


def _readers(resources: Resources) -> dict[str, tuple[str, str]]:
    """Queue or stream logical id -> (function logical id, handler) of the function that reads it."""
    found = {}
    for lid, function in _of_type(resources, "AWS::Serverless::Function").items():
        for event in function["Properties"].get("Events", {}).values():
            source = event.get("Properties", {}).get("Queue") or event.get("Properties", {}).get("Stream")
            if event.get("Type") in ("SQS", "Kinesis") and _getatt(source):
                found[str(_getatt(source))] = (lid, function["Properties"]["Handler"])
    return found


def routes(resources: Resources, events: dict[str, dict[str, Any]] | None = None) -> list[Route]:
    """Every rule target that a function reads, with the event types the rule's pattern matches."""
    from moto.events.models import EventPattern

    events = events if events is not None else example_events()
    readers = _readers(resources)
    found = []
    for rule, resource in _of_type(resources, "AWS::Events::Rule").items():
        pattern = EventPattern(None, resource["Properties"].get("EventPattern") or {})
        delivered = tuple(name for name, event in events.items() if pattern.matches_event(event))  # type: ignore[arg-type]
        for target in resource["Properties"].get("Targets", []):
            target_id = _getatt(target.get("Arn"))
            if target_id in readers:
                function, handler = readers[target_id]
                found.append(Route(rule, target_id, function, handler, delivered))
    return found


def accepted(handler: str) -> tuple[str, ...]:
    """The detail types a handler accepts: its SqsConsumer's `accepts`, or its module's ACCEPTS."""
    use_lambda_code()
    module = importlib.import_module(handler.rsplit(".", 1)[0])
    consumer = getattr(module, "consumer", None)
    models = consumer.accepts if consumer is not None else module.ACCEPTS
    return tuple(model.DETAIL_TYPE for model in models)


def routing_problems(found: list[Route]) -> list[str]:
    """A rule that sends a consumer what it does not accept, or a consumer that accepts what no rule sends it."""
    problems = []
    for function in sorted({route.function for route in found}):
        its_routes = [route for route in found if route.function == function]
        takes = set(accepted(its_routes[0].handler))
        for route in its_routes:
            for name in sorted(set(route.delivered) - takes):
                problems.append(f"{route.rule} sends {name} to {function}, which does not accept it")
        sent = {name for route in its_routes for name in route.delivered}
        for name in sorted(takes - sent):
            problems.append(f"{function} accepts {name}, which no rule sends it")
    return problems


def _asl_puts(definition: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(state, detail type) for every event a state machine's putEvents states put on the bus."""
    for name, state in definition.get("States", {}).items():
        if "events:putEvents" in str(state.get("Resource", "")):
            for entry in state.get("Parameters", {}).get("Entries", []):
                yield name, entry["DetailType"]


def publishers(resources: Resources, root: Path = REPO_ROOT) -> dict[str, list[Publisher]]:
    """Detail type -> who puts it on the bus."""
    found: dict[str, list[Publisher]] = {}
    for lid, machine in _of_type(resources, "AWS::Serverless::StateMachine").items():
        definition = json.loads((root / machine["Properties"]["DefinitionUri"]).read_text())
        for state, detail_type in _asl_puts(definition):
            found.setdefault(detail_type, []).append(Publisher(lid, f"state `{state}`"))
    for lid, pipe in _of_type(resources, "AWS::Pipes::Pipe").items():
        bus = pipe["Properties"].get("TargetParameters", {}).get("EventBridgeEventBusParameters", {})
        if "DetailType" in bus:
            source = _getatt(pipe["Properties"].get("Source"))
            found.setdefault(bus["DetailType"], []).append(Publisher(lid, f"from `{source}`'s stream"))
    use_lambda_code()
    from orderflow.catalog import CATALOG

    for lid, function in _of_type(resources, "AWS::Serverless::Function").items():
        properties = function["Properties"]
        service = properties.get("Environment", {}).get("Variables", {}).get("POWERTOOLS_SERVICE_NAME")
        may_publish = any("EventBridgePutEventsPolicy" in policy for policy in properties.get("Policies", []))
        for event_type in CATALOG:
            if may_publish and f"orderflow.{service}" == event_type.SOURCE:
                found.setdefault(event_type.DETAIL_TYPE, []).append(Publisher(lid, "publishes it"))
    return found
