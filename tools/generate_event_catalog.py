"""Generate docs/events.md, the event catalog: per event its publishers, listeners, fields and an example.

python -m tools.generate_event_catalog          # (re)write docs/events.md
python -m tools.generate_event_catalog --check  # exit 1 if it is stale

Everything comes from the models (fields, types, bounds: their draft 4 schemas), template.yaml and
the saga's ASL (who publishes, which rule takes it to which function: tools/event_topology.py) and
tools/sample_events.py (the examples). Nothing in the page is typed by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any

from tools.compatibility import resolve_ref
from tools.event_topology import Publisher, Route, publishers, routes
from tools.generate_schemas import event_schema
from tools.generated_file import write_or_check
from tools.lambda_code import REPO_ROOT, use_lambda_code

CATALOG_PAGE = REPO_ROOT / "docs" / "events.md"
Schema = dict[str, Any]


def _type_and_constraints(schema: Schema, root: Schema) -> tuple[str, list[str]]:
    schema = resolve_ref(schema, root)
    if "anyOf" in schema:
        parts = [_type_and_constraints(branch, root) for branch in schema["anyOf"]]
        types = " or ".join(kind for kind, _ in parts)
        return types, [constraint for _, constraints in parts for constraint in constraints]
    kind = str(schema.get("type", "any"))
    constraints = []
    if "enum" in schema:
        constraints.append("one of " + ", ".join(f"`{json.dumps(value)}`" for value in schema["enum"]))
    if kind == "array":
        item_kind, _ = _type_and_constraints(schema.get("items", {}), root)
        kind = f"array of {item_kind}"
    if kind == "object" and "title" in schema and "properties" in schema:
        kind = f"object ({schema['title']})"
    for low, high, unit in (
        ("minLength", "maxLength", "characters"),
        ("minimum", "maximum", ""),
        ("minItems", "maxItems", "items"),
    ):
        if low in schema or high in schema:
            span = f"{schema.get(low, 0)} to {schema[high]}" if high in schema else f"at least {schema[low]}"
            constraints.append(f"{span} {unit}".strip())
    if "pattern" in schema:
        constraints.append(f"pattern `{schema['pattern']}`")
    if "format" in schema:
        constraints.append(f"format {schema['format']}")
    if schema.get("additionalProperties") is False and "properties" in schema:
        constraints.append("only these names")
    return kind, constraints


def _fields(schema: Schema, root: Schema, prefix: str) -> Iterator[tuple[str, str, bool, str]]:
    """(path, type, required, constraints and description) for every field under `schema`, depth first."""
    schema = resolve_ref(schema, root)
    required = set(schema.get("required", []))
    for name, field in schema.get("properties", {}).items():
        path = f"{prefix}.{name}"
        kind, constraints = _type_and_constraints(field, root)
        description = field.get("description") or resolve_ref(field, root).get("description", "")
        if "default" in field:
            constraints.append(f"default `{json.dumps(field['default'])}`")
        notes = "; ".join(constraints + ([description] if description else []))
        yield path, kind, name in required, notes
        target = resolve_ref(field, root)
        branches = [resolve_ref(branch, root) for branch in target.get("anyOf", [target])]
        for branch in branches:
            if branch.get("type") == "object" and "properties" in branch:
                yield from _fields(branch, root, path)
            if branch.get("type") == "array":
                items = resolve_ref(branch.get("items", {}), root)
                if items.get("type") == "object":
                    yield from _fields(items, root, f"{path}[]")
            if branch.get("type") == "object" and isinstance(branch.get("additionalProperties"), dict):
                yield from _fields(branch["additionalProperties"], root, f"{path}.*")


def _field_table(schema: Schema, part: str) -> list[str]:
    rows = ["| field | type | required | constraints |", "| --- | --- | --- | --- |"]
    for path, kind, required, notes in _fields(schema["properties"][part], schema, part):
        cell = notes.replace("|", "\\|")
        rows.append(f"| `{path}` | {kind} | {'yes' if required else 'no'} | {cell} |")
    return rows


def _listeners(detail_type: str, found: list[Route]) -> list[Route]:
    return [route for route in found if detail_type in route.delivered]


def _node(name: str) -> str:
    return name.replace("Function", "").replace("-", "_")


def mermaid(found: list[Route], published: dict[str, list[Publisher]], every: int) -> list[str]:
    """Publishers put events on the bus; each rule takes some to its function."""
    lines = ["```mermaid", "flowchart LR", "  bus{{EventBridge bus}}"]
    by_publisher: dict[str, list[str]] = {}
    for detail_type, publishers_of in published.items():
        for publisher in publishers_of:
            by_publisher.setdefault(publisher.name, []).append(detail_type)
    for name, detail_types in by_publisher.items():
        lines.append(f'  {_node(name)}[{name}] -- "{", ".join(sorted(set(detail_types)))}" --> bus')
    for route in found:
        label = f"every event ({every})" if len(route.delivered) == every else ", ".join(route.delivered)
        lines.append(f'  bus -- "{route.rule}: {label}" --> {_node(route.function)}_in[{route.function}]')
    lines.append("```")
    return lines


def render() -> str:
    use_lambda_code()
    from orderflow.catalog import CATALOG
    from tools.localcloud.template import load_template
    from tools.sample_events import examples

    resources = load_template().sam["Resources"]
    found, published, example = routes(resources), publishers(resources), examples()
    out = [
        "# Event catalog",
        "",
        "<!-- Generated by `make catalog` (python -m tools.generate_event_catalog) from the event models,",
        "     template.yaml and the saga's ASL; a test fails when it is stale. Do not edit by hand. -->",
        "",
        "Every event on the orderflow bus: who publishes it, which rule takes it to which function, its",
        "fields with their types and bounds (the model's, as its JSON Schema in `schemas/` states them) and",
        "an example. Events are strict and versioned (README, Events; decision 0015).",
        "",
        *mermaid(found, published, len(CATALOG)),
        "",
        "| event | kind | source | version | published by | listened to by |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for event_type in CATALOG:
        name = event_type.DETAIL_TYPE
        by = ", ".join(sorted({p.name for p in published.get(name, [])})) or "nobody"
        to = ", ".join(route.function for route in _listeners(name, found)) or "nobody"
        anchor = name.lower()
        out.append(
            f"| [{name}](#{anchor}) | {event_type.KIND} | `{event_type.SOURCE}` | {event_type.VERSION} | {by} | {to} |"
        )
    out += ["", "## The envelope", ""]
    out += [
        "Each event is an EventBridge event whose `detail-type` is the event's name, whose `source` is the",
        'publisher\'s, and whose `detail` is `{"metadata": {...}, "data": {...}}`. Unknown fields are',
        "ignored. A command's metadata also carries the saga's `task_token`.",
        "",
    ]
    command = next(event_type for event_type in CATALOG if event_type.KIND == "command")
    out += _field_table(event_schema(command), "metadata")
    for event_type in CATALOG:
        name, schema = event_type.DETAIL_TYPE, event_schema(event_type)
        out += ["", f"## {name}", ""]
        out.append(
            f"A {event_type.KIND} from `{event_type.SOURCE}`, version {event_type.VERSION}; "
            f"schema [`schemas/{name}.json`](../schemas/{name}.json)."
        )
        out += ["", "Published by:", ""]
        out += [f"- {p.name}: {p.how}" for p in published.get(name, [])] or ["- nobody"]
        out += ["", "Listened to by:", ""]
        out += [
            f"- {route.function} (`{route.handler}`), through `{route.rule}` and `{route.target}`"
            for route in _listeners(name, found)
        ] or ["- nobody"]
        data = resolve_ref(schema["properties"]["data"], schema)
        out += ["", *([data["description"], ""] if "description" in data else [])]
        out += [*_field_table(schema, "data"), "", "Example `detail`:", "", "```json"]
        out += [json.dumps(json.loads(example[name].detail()), indent=2), "```"]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/events.md is stale")
    args = parser.parse_args(argv)
    return write_or_check(CATALOG_PAGE, render(), args.check, make_target="catalog")


if __name__ == "__main__":
    sys.exit(main())
