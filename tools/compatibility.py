"""The compatibility gate: a published contract only changes in ways its readers and writers survive.

schemas/baseline/<detail type>.v<N>.json holds the schema of every published version of every event
(`make schemas` records it). A change to a published version is breaking when it removes or renames
a field, narrows a type (a JSON type, an enum, a bound, a pattern or format, an object that closes),
or adds a required field; such a change needs the event's VERSION raised and an upcaster from the
version before (orderflow.versions), so consumers still read what producers on the old version send.
Adding an optional field and widening are not breaking: consumers ignore unknown fields.

python -m tools.compatibility   # exit 1 and name each breaking change (`make schemas` and its test run it too)
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.lambda_code import REPO_ROOT, use_lambda_code

if TYPE_CHECKING:
    from orderflow.envelope import Event

BASELINE_DIR = REPO_ROOT / "schemas" / "baseline"
Schema = dict[str, Any]

# A lower bound that rises or an upper bound that falls refuses what was valid.
LOWER_BOUNDS = ("minimum", "minLength", "minItems", "minProperties")
UPPER_BOUNDS = ("maximum", "maxLength", "maxItems", "maxProperties")
EXACT = ("pattern", "format")


def baseline_path(baseline_dir: Path, detail_type: str, version: int) -> Path:
    return baseline_dir / f"{detail_type}.v{version}.json"


def published_versions(baseline_dir: Path, detail_type: str) -> list[int]:
    found = (re.fullmatch(rf"{re.escape(detail_type)}\.v(\d+)\.json", path.name) for path in baseline_dir.iterdir())
    return sorted(int(match.group(1)) for match in found if match)


def resolve_ref(schema: Schema, root: Schema) -> Schema:
    """The schema a `$ref` (to `#/definitions/...`, draft 4) points at; any other schema as it is."""
    while "$ref" in schema:
        schema = root["definitions"][schema["$ref"].removeprefix("#/definitions/")]
    return schema


def _alternatives(schema: Schema, root: Schema) -> dict[str, Schema]:
    """The schema's branches by JSON type (a nullable field is a string branch and a null one)."""
    schema = resolve_ref(schema, root)
    branches = [resolve_ref(branch, root) for branch in schema.get("anyOf", [schema])]
    return {str(branch.get("type", "any")): branch for branch in branches}


def breaking_changes(published: Schema, current: Schema) -> list[str]:
    """Each way `current` breaks a reader or writer of `published` (two schemas of one event version)."""
    return list(_compare(published, published, current, current, "detail"))


def _compare(old: Schema, old_root: Schema, new: Schema, new_root: Schema, where: str) -> Iterator[str]:
    old_branches, new_branches = _alternatives(old, old_root), _alternatives(new, new_root)
    for kind, old_branch in old_branches.items():
        new_branch = new_branches.get(kind, new_branches.get("any"))
        if new_branch is None:
            yield f"{where}: no longer accepts a JSON {kind} (narrowed type)"
            continue
        yield from _compare_branch(old_branch, old_root, new_branch, new_root, where)


def _compare_branch(old: Schema, old_root: Schema, new: Schema, new_root: Schema, where: str) -> Iterator[str]:
    if "enum" in new and not set(map(json.dumps, old.get("enum", [None]))) <= set(map(json.dumps, new["enum"])):
        removed = [value for value in old.get("enum", ["any value"]) if value not in new["enum"]]
        yield f"{where}: no longer accepts {', '.join(map(repr, removed))} (narrowed enum)"
    for bound in LOWER_BOUNDS:
        if bound in new and new[bound] > old.get(bound, float("-inf")):
            yield f"{where}: {bound} {old.get(bound, 'none')} -> {new[bound]} (narrowed)"
    for bound in UPPER_BOUNDS:
        if bound in new and new[bound] < old.get(bound, float("inf")):
            yield f"{where}: {bound} {old.get(bound, 'none')} -> {new[bound]} (narrowed)"
    for keyword in EXACT:
        if keyword in new and new[keyword] != old.get(keyword):
            yield f"{where}: {keyword} {old.get(keyword)!r} -> {new[keyword]!r} (narrowed)"
    if old.get("type") == "object":
        yield from _compare_object(old, old_root, new, new_root, where)
    if old.get("type") == "array" and "items" in old and "items" in new:
        yield from _compare(old["items"], old_root, new["items"], new_root, f"{where}[]")


def _compare_object(old: Schema, old_root: Schema, new: Schema, new_root: Schema, where: str) -> Iterator[str]:
    old_properties, new_properties = old.get("properties", {}), new.get("properties", {})
    for name, old_property in old_properties.items():
        if name not in new_properties:
            yield f"{where}.{name}: removed or renamed"
        else:
            yield from _compare(old_property, old_root, new_properties[name], new_root, f"{where}.{name}")
    for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        yield f"{where}.{name}: newly required"
    old_extra, new_extra = old.get("additionalProperties", True), new.get("additionalProperties", True)
    if new_extra is False and old_extra is not False:
        yield f"{where}: no longer accepts other fields (closed)"
    elif isinstance(old_extra, dict) and isinstance(new_extra, dict):
        yield from _compare(old_extra, old_root, new_extra, new_root, f"{where}.*")


def gate(
    event_types: Iterable[type[Event]], schemas: Mapping[str, Schema], baseline_dir: Path, upcasters: Iterable[Any]
) -> list[str]:
    """Every reason the current contracts may not be published over the baseline."""
    steps = set(upcasters)
    problems = []
    for event_type in event_types:
        name, version = event_type.DETAIL_TYPE, event_type.VERSION
        published = published_versions(baseline_dir, name)
        if published and version < published[-1]:
            problems.append(f"{name}: version {version} is older than the published version {published[-1]}")
        if version in published:
            baseline = json.loads(baseline_path(baseline_dir, name, version).read_text())
            problems += [
                f"{name} v{version}: {change}; raise {name}.VERSION and register an upcaster from v{version}"
                for change in breaking_changes(baseline, schemas[name])
            ]
        for older in (v for v in published if v < version):
            missing = [step for step in range(older, version) if (name, step) not in steps]
            if missing:
                problems.append(
                    f"{name}: v{older} is published but no upcaster reads it as v{version} "
                    f"(missing from v{', v'.join(map(str, missing))}; see orderflow.versions)"
                )
    return problems


def main() -> int:
    use_lambda_code()
    from tools.generate_schemas import compatibility_problems

    problems = compatibility_problems()
    for problem in problems:
        print(problem)
    if not problems:
        print("every contract is compatible with its published baseline")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
