"""The JSON Schemas in schemas/ say exactly what the models accept.

Every event type's example (tools/sample_events.examples) is mutated at each boundary its schema
names (tests/support/schema_cases.py); each case is given to the model, strictly from JSON as
consumers parse, and to the committed draft 4 schema (jsonschema, with format checks), and both
must agree. The one rule a schema cannot state, a cross-field one, is named in the model's
description and is the only disagreement allowed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft4Validator
from pydantic import ValidationError

from orderflow.catalog import EVENT_TYPES
from tests.support.schema_cases import boundary_cases
from tools.generate_schemas import SCHEMAS_DIR
from tools.sample_events import examples

# Rules across fields, which JSON Schema draft 4 cannot express: (event type, message the model gives).
CROSS_FIELD_RULES = {("OrderPlaced", "does not match the items' total")}


def model_accepts(detail_type: str, document: Any) -> tuple[bool, str]:
    try:
        EVENT_TYPES[detail_type].model_validate_json(json.dumps(document))
    except ValidationError as error:
        return False, str(error)
    return True, ""


def schema_accepts(detail_type: str, document: Any) -> bool:
    schema = json.loads((SCHEMAS_DIR / f"{detail_type}.json").read_text())
    return bool(Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER).is_valid(document))


@pytest.mark.parametrize("detail_type", sorted(EVENT_TYPES))
def test_the_schema_accepts_exactly_what_the_model_accepts_at_every_boundary(detail_type: str) -> None:
    example = json.loads(examples()[detail_type].detail())
    schema = json.loads((SCHEMAS_DIR / f"{detail_type}.json").read_text())
    cases = boundary_cases(schema, example)
    disagreements = []
    verdicts = set()
    for label, document in [("the example", example), *cases]:
        by_model, error = model_accepts(detail_type, document)
        by_schema = schema_accepts(detail_type, document)
        verdicts.add(by_model)
        allowed = any(detail_type == rule_type and message in error for rule_type, message in CROSS_FIELD_RULES)
        if by_model != by_schema and not (by_schema and allowed):
            disagreements.append(f"{label}: model {'accepts' if by_model else 'refuses'}, schema does not")
    assert disagreements == []
    assert verdicts == {True, False}, "the cases should include documents both accept and both refuse"
    assert len(cases) > 40


def test_a_schema_that_says_less_than_its_model_is_caught() -> None:
    """The comparison can fail: a schema that forgot a bound disagrees with the model at that bound."""
    example = json.loads(examples()["ChargePayment"].detail())
    schema = json.loads((SCHEMAS_DIR / "ChargePayment.json").read_text())
    del schema["definitions"]["ChargePaymentData"]["properties"]["amount_cents"]["maximum"]
    [(_, past_maximum)] = [
        (label, doc) for label, doc in boundary_cases(schema, example) if label == "data/amount_cents: a huge integer"
    ]
    assert Draft4Validator(schema).is_valid(past_maximum)
    assert not model_accepts("ChargePayment", past_maximum)[0]


def test_every_event_type_has_an_example() -> None:
    assert set(examples()) == set(EVENT_TYPES)
