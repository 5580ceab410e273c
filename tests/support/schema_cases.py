"""Boundary cases of a JSON Schema, derived from the schema itself around one valid document.

For every value in the document, the cases its schema names: each bound and one past it (numbers,
string lengths, array lengths), each enum member and a stranger, the other JSON types a lenient
parser would coerce ("2", 2.0, true, null), a missing required property and an unknown one. A test
feeds each case to the model and to the schema and expects the same verdict.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from tools.compatibility import resolve_ref

Path = tuple[str | int, ...]
Case = tuple[str, Any]

# Values of every JSON type, to try where the schema wants another.
OTHER_TYPES: dict[str, Any] = {
    "string": "2",
    "integer": 2,
    "float": 2.0,
    "exponent": 1e2,
    "boolean": True,
    "null": None,
    "object": {"2": 2},
    "array": [2],
}


def _branches(schema: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    schema = resolve_ref(schema, root)
    return [resolve_ref(branch, root) for branch in schema["anyOf"]] if "anyOf" in schema else [schema]


def replaced(document: Any, path: Path, value: Any) -> Any:
    changed = copy.deepcopy(document)
    if not path:
        return value
    node = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return changed


def removed(document: Any, path: Path) -> Any:
    changed = copy.deepcopy(document)
    node = changed
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return changed


def _value_cases(schema: dict[str, Any], value: Any) -> Iterator[Case]:
    """Values to put where `value` (valid under `schema`) is."""
    if "enum" in schema:
        for member in schema["enum"]:
            yield f"enum member {member!r}", member
        yield "not an enum member", "NOT-A-MEMBER" if isinstance(schema["enum"][0], str) else 987654
    kind = schema.get("type")
    if kind == "integer":
        for bound, step in (("minimum", -1), ("maximum", 1)):
            if bound in schema:
                yield f"{bound}", schema[bound]
                yield f"past {bound}", schema[bound] + step
        yield "a huge integer", 10**30
        yield "the integer as a float", float(value)
        yield "the integer as a string", str(value)
        yield "the integer padded in a string", f" {value} "
    if kind == "string":
        filler = (value or "A")[-1]
        for bound, step in (("minLength", -1), ("maxLength", 1)):
            if bound in schema:
                length = schema[bound]
                yield f"{bound} characters", (value * (length // max(len(value), 1) + 1))[:length] or ""
                if length + step >= 0:
                    yield f"past {bound}", (value + filler * (length + 1))[: length + step]
        yield "non-ASCII text", "Ünïcødé ✓"
        yield "an empty string", ""
        if "format" in schema:
            yield "a date without its zone", "2026-01-01T00:00:00"
            yield "not a date", "yesterday"
    if kind == "array":
        items = list(value)
        for bound, step in (("minItems", -1), ("maxItems", 1)):
            if bound in schema and items:
                length = schema[bound]
                yield f"{bound} items", (items * (length + 1))[:length]
                if length + step >= 0:
                    yield f"past {bound}", (items * (length + 2))[: length + step]
    if kind == "object" and schema.get("additionalProperties") is False:
        yield "an unknown name in a closed object", {**value, "NOT-A-NAME": next(iter(value.values()), {})}
    for name, other in OTHER_TYPES.items():
        if name != kind and not (name == "float" and kind == "number"):
            yield f"a JSON {name} instead", other


def boundary_cases(schema: dict[str, Any], document: Any) -> list[Case]:
    """(label, document) for every boundary of every value in `document`."""
    return list(_walk(schema, schema, document, document, ()))


def _walk(schema: dict[str, Any], root: dict[str, Any], document: Any, value: Any, path: Path) -> Iterator[Case]:
    branches = _branches(schema, root)
    # the branch `value` is valid under: for a nullable field, the non-null one when it holds a value
    branch = next((b for b in branches if b.get("type") != "null"), branches[0]) if value is not None else branches[-1]
    where = "/".join(map(str, path)) or "(root)"
    if path:
        for label, replacement in _value_cases(branch, value):
            yield f"{where}: {label}", replaced(document, path, replacement)
    if isinstance(value, dict):
        properties = branch.get("properties", {})
        for name in branch.get("required", []):
            yield f"{where}: without required {name}", removed(document, (*path, name))
        yield f"{where}: with an unknown field", replaced(document, (*path, "zz_unknown"), {"any": [1]})
        for name, child in value.items():
            if name in properties:
                yield from _walk(properties[name], root, document, child, (*path, name))
    if isinstance(value, list) and value and "items" in branch:
        yield from _walk(branch["items"], root, document, value[0], (*path, 0))
