"""Generate the JSON Schemas of every event in the catalog (schemas/, the template's schema registry, the docs).

python -m tools.generate_schemas          # (re)write schemas/ and record the contracts in schemas/baseline/
python -m tools.generate_schemas --check  # exit 1 if schemas/ is stale or a change breaks a published contract

A change that breaks a published version (tools/compatibility.py) is not recorded: raise the event's
VERSION and register an upcaster from the version before (orderflow.versions).

The schemas are JSON Schema draft 4, the dialect EventBridge's schema registry takes (JSONSchemaDraft4),
generated from the models and rewritten only where draft 4 spells a keyword differently. They say what
the models accept of a JSON document, exactly (tests/unit/test_schema_boundaries.py); what JSON Schema
cannot say (a cross-field rule) is in the model's description.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from tools.compatibility import BASELINE_DIR, baseline_path, gate
from tools.lambda_code import REPO_ROOT, use_lambda_code

if TYPE_CHECKING:
    from orderflow.envelope import Event

SCHEMAS_DIR = REPO_ROOT / "schemas"
DRAFT_4 = "http://json-schema.org/draft-04/schema#"


def _to_draft_4(node: Any) -> Any:
    """Pydantic's schema (2020-12) in draft 4's words: definitions, and properties for an enum of names."""
    if isinstance(node, list):
        return [_to_draft_4(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _to_draft_4(value) for key, value in node.items()}
    if "$ref" in converted:
        converted["$ref"] = converted["$ref"].replace("#/$defs/", "#/definitions/")
    if "$defs" in converted:
        converted["definitions"] = converted.pop("$defs")
    if "const" in converted:
        converted["enum"] = [converted.pop("const")]
    names = converted.pop("propertyNames", None)
    if names is not None:
        # draft 4 has no propertyNames: a closed set of names is the same as those properties and no others
        if set(names) != {"enum"}:
            raise ValueError(f"no draft 4 equivalent for propertyNames {names}")
        value_schema = converted.pop("additionalProperties", {})
        converted["properties"] = dict.fromkeys(names["enum"], value_schema)
        converted["additionalProperties"] = False
    return converted


def event_schema(event_type: type[Event]) -> dict[str, Any]:
    """The draft 4 schema of one event type's `detail`."""
    schema: dict[str, Any] = _to_draft_4(event_type.model_json_schema())
    schema["$schema"] = DRAFT_4
    schema["id"] = f"https://orderflow.example/schemas/{event_type.SOURCE}/{event_type.DETAIL_TYPE}.json"
    schema["title"] = event_type.DETAIL_TYPE
    schema["description"] = (
        f"detail of '{event_type.DETAIL_TYPE}' events from '{event_type.SOURCE}' ({event_type.KIND}), "
        f"version {event_type.VERSION}"
    )
    return schema


def dumps(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def render() -> dict[str, str]:
    """File name → content for every schema and the catalog index."""
    from orderflow.catalog import CATALOG

    files: dict[str, str] = {}
    index = []
    for event_type in CATALOG:
        name = f"{event_type.DETAIL_TYPE}.json"
        files[name] = dumps(event_schema(event_type))
        index.append(
            {
                "detail_type": event_type.DETAIL_TYPE,
                "source": event_type.SOURCE,
                "kind": event_type.KIND,
                "version": event_type.VERSION,
                "schema": name,
            }
        )
    files["catalog.json"] = json.dumps({"events": index}, indent=2) + "\n"
    return files


def stale(files: dict[str, str]) -> list[str]:
    existing = {path.name for path in SCHEMAS_DIR.glob("*.json")} if SCHEMAS_DIR.exists() else set()
    differing = [
        name
        for name, text in files.items()
        if not (SCHEMAS_DIR / name).exists() or (SCHEMAS_DIR / name).read_text() != text
    ]
    return sorted(differing + sorted(existing - set(files)))


def baseline_files() -> dict[str, str]:
    """schemas/baseline/: the current version of every event as published (older versions stay as they are)."""
    from orderflow.catalog import CATALOG

    return {
        baseline_path(BASELINE_DIR, event_type.DETAIL_TYPE, event_type.VERSION).name: dumps(event_schema(event_type))
        for event_type in CATALOG
    }


def compatibility_problems() -> list[str]:
    from orderflow.catalog import CATALOG
    from orderflow.versions import UPCASTERS

    schemas = {event_type.DETAIL_TYPE: event_schema(event_type) for event_type in CATALOG}
    return gate(CATALOG, schemas, BASELINE_DIR, UPCASTERS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if schemas/ is stale or a change is breaking")
    args = parser.parse_args(argv)
    use_lambda_code()
    files, baseline = render(), baseline_files()
    BASELINE_DIR.mkdir(parents=True, exist_ok=True)
    problems = compatibility_problems()
    if args.check:
        unrecorded = [
            name
            for name, text in baseline.items()
            if not (BASELINE_DIR / name).exists() or (BASELINE_DIR / name).read_text() != text
        ]
        for problem in problems:
            print(problem)
        stale_files = stale(files) + [f"baseline/{name}" for name in unrecorded]
        if stale_files:
            print(f"schemas/ is stale ({', '.join(stale_files)}): run `make schemas`")
        if problems or stale_files:
            return 1
        print(f"schemas/ matches the event models and every published contract ({len(files)} files)")
        return 0
    SCHEMAS_DIR.mkdir(exist_ok=True)
    for path in SCHEMAS_DIR.glob("*.json"):
        if path.name not in files:
            path.unlink()
    for name, text in files.items():
        (SCHEMAS_DIR / name).write_text(text)
    print(f"wrote {len(files)} files to {SCHEMAS_DIR.relative_to(REPO_ROOT)}/")
    if problems:
        # The published contract stays as it was: the change needs a new version, not a new baseline.
        for problem in problems:
            print(problem)
        return 1
    for name, text in baseline.items():
        (BASELINE_DIR / name).write_text(text)
    print(f"recorded {len(baseline)} published contracts in {BASELINE_DIR.relative_to(REPO_ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
