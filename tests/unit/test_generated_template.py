"""template.yaml's generated parts are up to date, and a newly declared consumer gets every template rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support import template_rules as rules
from tests.support.throwaway import template_with_throwaway_consumer
from tools.generate_template import main
from tools.localcloud.template import decode_template, translate

THROWAWAY_RESOURCES = {
    f"Throwaway{suffix}" for suffix in ("Rule", "Queue", "DLQ", "QueuePolicy", "DLQAlarm", "QueueAgeAlarm", "Function")
}


def test_the_generated_parts_of_template_yaml_are_up_to_date() -> None:
    assert main(["--check"]) == 0, "run `make template`"


def throwaway_template(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    path = template_with_throwaway_consumer(tmp_path)
    sam = decode_template(path)
    cfn, _ = translate(sam, path.parent)
    return sam, cfn


def test_a_declared_consumer_gets_its_eight_resources_and_every_template_rule_holds(tmp_path: Path) -> None:
    sam, cfn = throwaway_template(tmp_path)
    assert set(sam["Resources"]) >= THROWAWAY_RESOURCES
    for check in rules.CHECKS:
        assert check(cfn) == [], check.__name__
    # its DLQ and queue are on the dashboard, like every other consumer's
    body = sam["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert "${ThrowawayDLQ.QueueName}" in body
    assert "${ThrowawayFunction}" in body


def test_a_declared_consumer_may_touch_only_the_idempotency_table(tmp_path: Path) -> None:
    _, cfn = throwaway_template(tmp_path)
    role = cfn["Resources"]["ThrowawayFunctionRole"]["Properties"]
    resources = json.dumps([policy["PolicyDocument"] for policy in role.get("Policies", [])])
    assert "IdempotencyTable" in resources
    for other in ("OrdersTable", "InventoryTable", "PaymentsTable", "ShipmentsTable", "AuditTable", "EventBus"):
        assert other not in resources, f"the throwaway consumer may reach {other}"


def test_a_consumer_keeps_idempotency_records_exactly_when_the_template_lets_it_write_them() -> None:
    """consumers.yaml's applies_each_event_once and the handler's SqsConsumer flag say the same thing."""
    from tests.support.handlers import load_handler
    from tools.generate_template import load_declarations
    from tools.localcloud.template import load_template

    resources = load_template().sam["Resources"]
    keeping: dict[str, bool] = {}
    for name, declaration in load_declarations().items():
        policies = json.dumps(resources[f"{name}Function"]["Properties"]["Policies"])
        consumer = load_handler(declaration["handler"].split(".")[0]).consumer
        assert consumer.keeps_idempotency_records == ("IdempotencyTable" in policies), name
        keeping[name] = consumer.keeps_idempotency_records
    # the two whose apply is a no-op for an applied event; the saga services and the notifier keep records
    assert [name for name, keeps in keeping.items() if not keeps] == ["Projector", "SagaStarter"]


def test_the_schema_registry_holds_each_event_schema_exactly_as_schemas_holds_it() -> None:
    from orderflow.catalog import CATALOG
    from tools.generate_schemas import SCHEMAS_DIR
    from tools.localcloud.template import load_template

    resources = load_template().sam["Resources"]
    schemas = {
        props["SchemaName"]: props
        for props in (r["Properties"] for r in resources.values() if r["Type"] == "AWS::EventSchemas::Schema")
    }
    assert set(schemas) == {f"{event.SOURCE}@{event.DETAIL_TYPE}" for event in CATALOG}
    for event in CATALOG:
        schema = schemas[f"{event.SOURCE}@{event.DETAIL_TYPE}"]
        assert schema["Type"] == "JSONSchemaDraft4"
        assert schema["RegistryName"] == {"Fn::GetAtt": ["EventSchemaRegistry", "RegistryName"]}
        assert json.loads(schema["Content"]) == json.loads((SCHEMAS_DIR / f"{event.DETAIL_TYPE}.json").read_text())
