"""Generate JSON Schemas for every event in the catalog (EventBridge Schema Registry / event catalog).

python -m tools.generate_schemas          # (re)write schemas/
python -m tools.generate_schemas --check  # exit 1 if schemas/ is stale
"""

from __future__ import annotations

import argparse
import json
import sys

from tools.lambda_code import REPO_ROOT, use_lambda_code

SCHEMAS_DIR = REPO_ROOT / "schemas"


def render() -> dict[str, str]:
    """File name → content for every schema and the catalog index."""
    from orderflow.catalog import CATALOG

    files: dict[str, str] = {}
    index = []
    for event_type in CATALOG:
        schema = event_type.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://orderflow.example/schemas/{event_type.SOURCE}/{event_type.DETAIL_TYPE}.json"
        schema["title"] = event_type.DETAIL_TYPE
        schema["description"] = (
            f"detail of '{event_type.DETAIL_TYPE}' events from '{event_type.SOURCE}' ({event_type.KIND})"
        )
        name = f"{event_type.DETAIL_TYPE}.json"
        files[name] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
        index.append(
            {
                "detail_type": event_type.DETAIL_TYPE,
                "source": event_type.SOURCE,
                "kind": event_type.KIND,
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if schemas/ differs from the models")
    args = parser.parse_args(argv)
    use_lambda_code()
    files = render()
    if args.check:
        problems = stale(files)
        if problems:
            print(f"schemas/ is stale ({', '.join(problems)}): run `make schemas`")
            return 1
        print(f"schemas/ matches the event models ({len(files)} files)")
        return 0
    SCHEMAS_DIR.mkdir(exist_ok=True)
    for path in SCHEMAS_DIR.glob("*.json"):
        if path.name not in files:
            path.unlink()
    for name, text in files.items():
        (SCHEMAS_DIR / name).write_text(text)
    print(f"wrote {len(files)} files to {SCHEMAS_DIR.relative_to(REPO_ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
