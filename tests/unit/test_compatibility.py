"""The compatibility gate: breaking a published contract fails, unless the version is raised with an upcaster.

Each change is made to a copy: a throwaway model derived from ShipmentCreated, checked against a
copy of the committed baseline, as `make schemas` / the schemas test check the real catalog.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import Field, create_model

from orderflow import catalog
from orderflow.envelope import Contract, Event
from orderflow.versions import UPCASTERS, JsonObject
from tools.compatibility import BASELINE_DIR, breaking_changes, gate
from tools.compatibility import main as compatibility_main
from tools.generate_schemas import event_schema, main


def test_the_catalog_is_compatible_with_the_committed_baseline() -> None:
    assert main(["--check"]) == 0, "run `make schemas`; a breaking change needs a new version and an upcaster"
    assert compatibility_main() == 0


def test_every_event_type_has_its_current_version_recorded() -> None:
    for event_type in catalog.CATALOG:
        assert (BASELINE_DIR / f"{event_type.DETAIL_TYPE}.v{event_type.VERSION}.json").exists()


def shipment_created(version: int = 1, **fields: Any) -> type[Event]:
    """A copy of ShipmentCreated whose data has `fields` (name -> (type, default) or None to drop it)."""
    base = dict(catalog.ShipmentCreatedData.model_fields)
    definitions: dict[str, Any] = {name: (info.annotation, info) for name, info in base.items()}
    for name, field in fields.items():
        if field is None:
            definitions.pop(name)
        else:
            definitions[name] = field
    data = create_model("ShipmentCreatedData", __base__=Contract, **definitions)
    return type(
        "ShipmentCreated",
        (catalog.ShipmentCreated,),
        {"__annotations__": {"data": data}, "VERSION": version, "__module__": __name__},
    )


@pytest.fixture
def baseline(tmp_path: Path) -> Path:
    copy = tmp_path / "baseline"
    shutil.copytree(BASELINE_DIR, copy)
    return copy


def problems_of(event_type: type[Event], baseline: Path, upcasters: Any = ()) -> list[str]:
    return gate([event_type], {"ShipmentCreated": event_schema(event_type)}, baseline, upcasters)


@pytest.mark.parametrize(
    ("change", "fields", "expected"),
    [
        ("removed", {"carrier": None}, "detail.data.carrier: removed or renamed"),
        ("renamed", {"carrier": None, "courier": (catalog.Reference, ...)}, "detail.data.carrier: removed or renamed"),
        ("type narrowed", {"tracking_number": (int, ...)}, "tracking_number: no longer accepts a JSON string"),
        ("bound narrowed", {"carrier": (str, Field(min_length=1, max_length=16))}, "maxLength 128 -> 16"),
        ("new required field", {"service_level": (str, ...)}, "detail.data.service_level: newly required"),
    ],
)
def test_a_breaking_change_to_a_published_version_fails_the_gate(
    baseline: Path, change: str, fields: dict[str, Any], expected: str
) -> None:
    problems = problems_of(shipment_created(**fields), baseline)
    assert any(expected in problem for problem in problems), problems
    assert all("raise ShipmentCreated.VERSION" in problem for problem in problems)


def test_additive_and_widening_changes_pass(baseline: Path) -> None:
    widened = shipment_created(
        carrier=(str, Field(min_length=1, max_length=256)),
        service_level=(Literal["standard", "express"] | None, None),
    )
    assert problems_of(widened, baseline) == []


def test_an_enum_that_loses_a_member_is_narrowed() -> None:
    published = event_schema(catalog.OrderCancelled)
    current = event_schema(catalog.OrderCancelled)
    reasons = current["definitions"]["CancellationReason"]
    reasons["enum"] = [reason for reason in reasons["enum"] if reason != "STEP_FAILED"]
    assert breaking_changes(published, current) == [
        "detail.data.reason: no longer accepts 'STEP_FAILED' (narrowed enum)"
    ]


def add_service_level(detail: JsonObject) -> JsonObject:
    return {**detail, "data": {**detail["data"], "service_level": "standard"}}


def test_the_breaking_change_passes_once_the_version_is_raised_with_an_upcaster(baseline: Path) -> None:
    v2 = shipment_created(version=2, service_level=(str, ...))
    # version 2 alone: consumers on it could not read what producers on version 1 still send
    [problem] = problems_of(v2, baseline)
    assert "v1 is published but no upcaster reads it as v2" in problem
    # with the upcaster from version 1 registered, the gate passes
    assert problems_of(v2, baseline, {**UPCASTERS, ("ShipmentCreated", 1): add_service_level}) == []


def test_a_version_may_not_go_back(baseline: Path) -> None:
    (baseline / "ShipmentCreated.v2.json").write_text((baseline / "ShipmentCreated.v1.json").read_text())
    assert any("older than the published version 2" in p for p in problems_of(shipment_created(), baseline))
