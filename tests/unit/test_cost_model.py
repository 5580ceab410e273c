"""The cost and capacity model counts what the template and the ASL say, and README.md quotes it as it is now."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from orderflow.catalog import CATALOG
from orderflow.envelope import Command
from tools.cost.__main__ import main
from tools.cost.model import (
    ORDER_MIX,
    SERVICE,
    TEMPLATE,
    Assumptions,
    Ceiling,
    Topology,
    ceilings,
    costs,
    functions,
    load_prices,
    stream_month,
    topology,
    usage,
)
from tools.cost.report import MIN_CEILING_ORDERS_PER_SECOND
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


def _ceilings(template: Template, examples: dict[str, dict[str, Any]]) -> list[Ceiling]:
    topo = _topology(template, examples)
    happy = paths(load_definition(load_template()))[0]
    return ceilings(usage(happy, topo, Assumptions()), topo, Assumptions(), load_prices())


def _ceiling(found: list[Ceiling], words: str) -> float:
    return next(c.orders_per_second for c in found if words in c.limit)


def _provisioned(resources: dict[str, Any], shards: int) -> dict[str, Any]:
    changed = copy.deepcopy(resources)
    changed["AuditStream"]["Properties"].pop("StreamModeDetails")
    changed["AuditStream"]["Properties"]["ShardCount"] = shards
    return changed


def test_the_on_demand_stream_and_its_auditor_are_no_limit_below_the_goal(examples: dict[str, dict[str, Any]]) -> None:
    template = load_template()
    assert template.sam["Resources"]["AuditStream"]["Properties"]["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    found = _ceilings(template, examples)
    ours = [c for c in found if c.kind in (TEMPLATE, SERVICE)]
    assert {c.limit.split(" ")[0] for c in ours} == {"Kinesis", "AuditorFunction"}
    assert all(c.orders_per_second >= MIN_CEILING_ORDERS_PER_SECOND for c in ours)


def test_a_provisioned_stream_caps_the_system_by_its_shards(examples: dict[str, dict[str, Any]]) -> None:
    resources: dict[str, Any] = load_template().sam["Resources"]
    one = _ceilings(_with_resources(_provisioned(resources, 1)), examples)
    four = _ceilings(_with_resources(_provisioned(resources, 4)), examples)
    # 8 records an order, 1,000 records/s a shard
    assert _ceiling(one, "1,000 records/s") == pytest.approx(125)
    assert _ceiling(four, "1,000 records/s") == pytest.approx(4 * 125)
    assert next(c for c in one if c.counted).orders_per_second == pytest.approx(125)
    # the auditor drains 10 batches of 100 records a shard, 10 at once at 50 ms, or its CPU time if longer
    auditor_work = consumer_work("AuditorFunction", Sizes())
    assert auditor_work is not None
    assert auditor_work.cpu_ms is not None
    cpu_ms = auditor_work.cpu_ms
    batch = max(10 * 0.050, 100 * cpu_ms / 1000 * 1769 / 512)
    assert _ceiling(one, "AuditorFunction drains") == pytest.approx(10 * 100 / batch / 8)


def test_the_auditors_writers_come_from_the_template_and_one_at_a_time_it_falls_behind_a_shard(
    examples: dict[str, dict[str, Any]],
) -> None:
    resources: dict[str, Any] = copy.deepcopy(load_template().sam["Resources"])
    assert functions(load_template())["AuditorFunction"].in_flight == 10
    resources["AuditorFunction"]["Properties"]["Environment"]["Variables"]["AUDIT_WRITERS"] = "1"
    found = _ceilings(_with_resources(resources), examples)
    # 10 batches of 100 records at 50 ms each: 200 records/s a shard, counted on a new stream's 4 shards
    auditor = next(c for c in found if c.limit.startswith("AuditorFunction"))
    assert auditor.orders_per_second == pytest.approx(4 * 200 / 8)
    assert next(c for c in found if c.counted) == auditor


def test_the_auditors_memory_sets_the_cpu_its_writers_share(examples: dict[str, dict[str, Any]]) -> None:
    template = load_template()
    cfn = copy.deepcopy(template.cfn)  # memory is read after translation (Globals applied)
    cfn["Resources"]["AuditorFunction"]["Properties"]["MemorySize"] = 256
    found = _ceilings(Template(sam=template.sam, cfn=cfn, path=template.path), examples)
    # At 256 MB (0.14 vCPU) a batch of 100 puts is CPU-bound: it falls behind a full shard
    auditor = next(c for c in found if c.limit.startswith("AuditorFunction"))
    assert "less than the 1,000 a shard can take" in auditor.limit
    assert auditor.orders_per_second < MIN_CEILING_ORDERS_PER_SECOND


def test_the_documented_quota_increases_are_known_adjustable_quotas_raised_above_their_defaults() -> None:
    documented = load_template().sam["Metadata"]["QuotaIncreases"]
    quotas = load_prices()["quotas"]
    assert documented
    for name, value in documented.items():
        assert name in quotas, f"QuotaIncreases.{name} is no quota of tools/cost/prices-us-east-1.yaml"
        assert quotas[name]["adjustable"], f"{name} cannot be raised"
        assert value > quotas[name]["value"], f"{name}: {value} is no increase"


def test_with_the_documented_increases_the_ceiling_reaches_the_goal_and_each_is_needed(
    examples: dict[str, dict[str, Any]],
) -> None:
    template = load_template()
    found = _ceilings(template, examples)
    assert min(c.with_increases for c in found if c.counted) >= MIN_CEILING_ORDERS_PER_SECOND
    assert next(c for c in found if c.counted).orders_per_second < MIN_CEILING_ORDERS_PER_SECOND
    for name in template.sam["Metadata"]["QuotaIncreases"]:
        # Without it, the ceiling with the others falls below the goal: no increase is requested for nothing.
        fewer = copy.deepcopy(template.sam)
        del fewer["Metadata"]["QuotaIncreases"][name]
        without = _ceilings(Template(sam=fewer, cfn=template.cfn, path=template.path), examples)
        raised = min(c.with_increases for c in without if c.counted)
        assert raised < MIN_CEILING_ORDERS_PER_SECOND, f"QuotaIncreases.{name} is not needed: remove it"


def test_the_per_sku_limit_is_the_order_mixs_not_the_systems(examples: dict[str, dict[str, Any]]) -> None:
    found = _ceilings(load_template(), examples)
    hot = next(c for c in found if c.kind == ORDER_MIX)
    assert hot.orders_per_second == pytest.approx(500)
    assert not hot.counted


def test_on_demand_kinesis_is_priced_per_kb_written_and_read_and_a_month_per_stream(
    examples: dict[str, dict[str, Any]],
) -> None:
    prices = load_prices()
    price = {name: float(entry["usd"]) for name, entry in prices["prices"].items()}
    happy = paths(load_definition(load_template()))[0]
    topo = _topology(load_template(), examples)
    used = usage(happy, topo, Assumptions())
    assert used.kinesis_kb == sum(-(-topo.sizes[event] // 1024) for event in used.events)
    per_gb = price["kinesis_on_demand_gb_ingested"] + price["kinesis_on_demand_gb_retrieved"]
    assert costs(used, topo, Assumptions(), prices)["Kinesis"] == pytest.approx(used.kinesis_kb / 1024**2 * per_gb)
    assert stream_month(topo, prices)[0] == pytest.approx(0.04 * 730)
    provisioned = _topology(_with_resources(_provisioned(load_template().sam["Resources"], 2)), examples)
    assert costs(used, provisioned, Assumptions(), prices)["Kinesis"] == pytest.approx(
        used.kinesis_units * price["kinesis_put_payload_unit"]
    )
    assert stream_month(provisioned, prices)[0] == pytest.approx(2 * 0.015 * 730)


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
