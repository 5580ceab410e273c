"""schemas/ is generated from the event models and is up to date; each schema accepts its own events."""

from __future__ import annotations

import json

from tools.generate_schemas import SCHEMAS_DIR, main, render


def test_committed_schemas_match_the_models() -> None:
    assert main(["--check"]) == 0


def test_every_event_type_has_a_schema_in_the_index() -> None:
    index = json.loads(render()["catalog.json"])["events"]
    assert len(index) == 17
    assert all((SCHEMAS_DIR / entry["schema"]).exists() for entry in index)
    assert {entry["kind"] for entry in index} == {"command", "fact"}


def test_a_schema_requires_what_the_model_requires() -> None:
    schema = json.loads((SCHEMAS_DIR / "OrderPlaced.json").read_text())
    assert set(schema["required"]) == {"metadata", "data"}
    assert "task_token" in json.dumps(json.loads((SCHEMAS_DIR / "ReserveInventory.json").read_text()))
