"""The cost and capacity model counts what the template and the ASL say, and README.md quotes it as it is now."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from orderflow.catalog import CATALOG
from orderflow.envelope import Command
from tools.cost.__main__ import main
from tools.cost.model import Assumptions, Topology, ceilings, costs, functions, load_prices, topology, usage
from tools.cost.saga import load_definition, paths, walk
from tools.cost.work import ANSWERED, Sizes, command_work, consumer_work, known_commands
from tools.event_topology import example_events, routes
from tools.localcloud.template import Template, load_template


@pytest.fixture(scope="module")
def examples() -> dict[str, dict[str, Any]]:
    return example_events()


def _topology(template: Template, examples: dict[str, dict[str, Any]]) -> Topology:
    return topology(template, routes(template.sam["Resources"], examples), examples)


def _with_resources(resources: dict[str, Any]) -> Template:
    """The repository's template with other SAM resources (the translated part is kept)."""
    template = load_template()
    return Template(sam={**template.sam, "Resources": resources}, cfn=template.cfn, path=template.path)


def test_the_readme_region_is_what_make_cost_prints_now() -> None:
    assert main(["--check"]) == 0, "run `make cost`"


def test_the_happy_path_enters_the_four_steps_in_order_and_bills_four_transitions() -> None:
    happy = walk(load_definition(load_template()), "confirmed")
    assert [entered.name for entered in happy.entered] == [
        "ReserveInventory",
        "ChargePayment",
        "CreateShipment",
        "ConfirmOrder",
    ]
    assert happy.transitions == 4


def test_a_declined_payment_releases_the_stock_then_cancels() -> None:
    declined = walk(load_definition(load_template()), "declined", {"ChargePayment": "PaymentDeclined"})
    assert [entered.name for entered in declined.entered] == [
        "ReserveInventory",
        "ChargePayment",
        "CancelForPaymentDeclined",
        "ReleaseInventory",
        "CancelOrder",
        "CheckCompensations",
        "Cancelled",
    ]


def test_a_walk_follows_catches_and_counts_each_state_once() -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Task", "Next": "B", "Catch": [{"ErrorEquals": ["Boom"], "Next": "Undo"}]},
            "B": {"Type": "Pass", "End": True},
            "Undo": {"Type": "Pass", "Next": "Gate"},
            "Gate": {"Type": "Choice", "Choices": [], "Default": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }
    assert walk(definition, "ok").transitions == 2
    assert [e.name for e in walk(definition, "boom", {"A": "Boom"}).entered] == ["A", "Undo", "Gate", "Done"]
    with pytest.raises(ValueError, match="no Catch"):
        walk(definition, "other", {"A": "Other"})


def test_paths_are_derived_from_the_asl_catches() -> None:
    names = [path.name for path in paths(load_definition(load_template()))]
    assert names == ["confirmed", "OutOfStock", "PaymentDeclined", "ShipmentFailed", "CreateShipment timed out"]


def test_a_confirmed_order_puts_eight_events_and_each_rule_that_matches_gets_one(
    examples: dict[str, dict[str, Any]],
) -> None:
    topo = _topology(load_template(), examples)
    used = usage(paths(load_definition(load_template()))[0], topo, Assumptions())
    assert len(used.events) == 8
    # every event to the audit stream, plus each SQS rule that matches it
    sqs_deliveries = sum(
        1
        for event in used.events
        for route in topo.routes
        if event in route.delivered and route.target != "AuditStream"
    )
    assert used.deliveries == 8 + sqs_deliveries
    assert used.kinesis_records == 8
    # Powertools idempotency: two writes for the API request and for each SQS record of a function that
    # may write the table (the projector and the saga starter keep no records)
    sqs_records = sum(
        n
        for name, n in used.records.items()
        if topo.functions[name].source == "SQS" and topo.functions[name].keeps_idempotency
    )
    assert {name for name, spec in topo.functions.items() if spec.source == "SQS" and not spec.keeps_idempotency} == {
        "ProjectorFunction",
        "SagaStarterFunction",
    }
    assert used.write_units["IdempotencyTable"] == 2 * (sqs_records + 1)


def test_a_rule_added_to_a_copy_of_the_template_adds_its_deliveries(examples: dict[str, dict[str, Any]]) -> None:
    resources: dict[str, Any] = copy.deepcopy(load_template().sam["Resources"])
    happy = paths(load_definition(load_template()))[0]
    before = usage(happy, _topology(_with_resources(resources), examples), Assumptions())
    resources["ExtraRule"] = copy.deepcopy(resources["NotifierRule"])
    resources["ExtraRule"]["Properties"]["EventPattern"] = {"detail-type": ["PaymentCharged"]}
    after = usage(happy, _topology(_with_resources(resources), examples), Assumptions())
    assert after.deliveries == before.deliveries + 1
    assert after.records["NotifierFunction"] == before.records["NotifierFunction"] + 1
    assert after.sns_publishes == before.sns_publishes + 1


def test_more_shards_raise_the_stream_ceilings(examples: dict[str, dict[str, Any]]) -> None:
    resources: dict[str, Any] = copy.deepcopy(load_template().sam["Resources"])
    happy = paths(load_definition(load_template()))[0]
    prices = load_prices()

    def stream_ceiling(template: Template) -> float:
        topo = _topology(template, examples)
        found = ceilings(usage(happy, topo, Assumptions()), topo, Assumptions(), prices)
        return next(c.orders_per_second for c in found if "1,000 records/s" in c.limit)

    one = stream_ceiling(_with_resources(resources))
    resources["AuditStream"]["Properties"]["ShardCount"] = 4
    assert stream_ceiling(_with_resources(resources)) == pytest.approx(4 * one)


def test_memory_and_architecture_come_from_the_translated_template() -> None:
    template = load_template()
    globals_ = template.sam["Globals"]["Function"]
    for name, spec in functions(template).items():
        own = template.sam["Resources"][name]["Properties"]
        assert spec.memory_mb == own.get("MemorySize", globals_["MemorySize"])
        assert spec.architecture == own.get("Architectures", globals_["Architectures"])[0]


def test_arm64_costs_less_for_the_same_gb_seconds(examples: dict[str, dict[str, Any]]) -> None:
    topo = _topology(load_template(), examples)
    used = usage(paths(load_definition(load_template()))[0], topo, Assumptions())
    x86 = costs(used, topo, Assumptions(), load_prices(), architecture="x86_64")["Lambda"]
    arm = costs(used, topo, Assumptions(), load_prices(), architecture="arm64")["Lambda"]
    assert 0 < arm < x86
    slower = replace(Assumptions(), record_ms=100.0)
    assert (
        costs(used, topo, slower, load_prices())["Lambda"] > costs(used, topo, Assumptions(), load_prices())["Lambda"]
    )


def test_every_function_and_every_command_on_a_path_has_a_work_profile(examples: dict[str, dict[str, Any]]) -> None:
    template = load_template()
    sizes = Sizes()
    commands = {model.DETAIL_TYPE for model in CATALOG if issubclass(model, Command)}
    answering = {route.function for route in _topology(template, examples).routes if set(route.delivered) & commands}
    for name in functions(template):
        assert consumer_work(name, sizes) is not None or name in answering, f"{name} has no profile in work.py"
    for path in paths(load_definition(template)):
        for entered in path.entered:
            for detail_type in entered.puts if entered.waits_for_callback else ():
                assert command_work(detail_type, entered.error or ANSWERED, sizes) is not None


def test_work_profiles_name_the_templates_tables_and_the_answering_services_facts(
    examples: dict[str, dict[str, Any]],
) -> None:
    template = load_template()
    tables = set(template.of_type("AWS::DynamoDB::Table"))
    sources = {model.DETAIL_TYPE: model.SOURCE for model in CATALOG}
    handler_of = {}
    for route in _topology(template, examples).routes:
        for detail_type in route.delivered:
            if route.function not in ("AuditorFunction", "ProjectorFunction"):
                handler_of[detail_type] = route.function
    for command, outcome in known_commands():
        work = command_work(command, outcome, Sizes())
        assert work is not None
        assert {units.table for units in work.units} <= tables
        service = template.sam["Resources"][handler_of[command]]["Properties"]["Environment"]["Variables"]
        for fact in work.facts:
            assert sources[fact] == f"orderflow.{service['POWERTOOLS_SERVICE_NAME']}", (command, fact)
