"""events/: up to date with the models, and each sample does what the README says when invoked."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.aws import literal_environment
from tests.support.capture import BusCapture, CallbackRecorder, record_callbacks
from tests.support.handlers import load_handler
from tests.support.lambda_context import FakeLambdaContext
from tools.localcloud.ledgers import put_stock
from tools.sample_events import EVENTS_DIR, ORDER_ID, samples

ALL_TABLES = {
    "ORDERS_TABLE_NAME": "OrdersTable",
    "AUDIT_TABLE_NAME": "AuditTable",
    "INVENTORY_TABLE_NAME": "InventoryTable",
    "PAYMENTS_TABLE_NAME": "PaymentsTable",
    "SHIPMENTS_TABLE_NAME": "ShipmentsTable",
}


def sample(name: str) -> Any:
    return json.loads(Path(EVENTS_DIR / name).read_text())


def test_the_committed_samples_are_what_the_generator_writes() -> None:
    generated = samples()
    assert sorted(path.name for path in EVENTS_DIR.glob("*.json")) == sorted(generated)
    for name, content in generated.items():
        assert sample(name) == json.loads(json.dumps(content)), (
            f"{name} is stale: run python -m tools.generate_sample_events"
        )


@pytest.fixture
def world(function_env: Callable[..., BusCapture], monkeypatch: pytest.MonkeyPatch) -> CallbackRecorder:
    """Every table, the bus, a topic and a state machine, as template.yaml declares them."""
    function_env(**ALL_TABLES)
    monkeypatch.setenv("NOTIFICATIONS_TOPIC_ARN", boto3.client("sns").create_topic(Name="notifications")["TopicArn"])
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    machine = boto3.client("stepfunctions").create_state_machine(
        name="saga", definition=definition, roleArn="arn:aws:iam::123456789012:role/saga"
    )
    monkeypatch.setenv("STATE_MACHINE_ARN", machine["stateMachineArn"])
    monkeypatch.setenv("STEP_TIMEOUT_SECONDS", "300")
    monkeypatch.setenv("COMPENSATION_TIMEOUT_SECONDS", "900")
    for name, value in literal_environment("OrdersApiFunction").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AUDIT_WRITERS", literal_environment("AuditorFunction")["AUDIT_WRITERS"])
    put_stock(os.environ["INVENTORY_TABLE_NAME"], {"SKU-RED-MUG": 10})
    return record_callbacks(monkeypatch)


def invoke(service: str, name: str) -> Any:
    return load_handler(service).lambda_handler(sample(name), FakeLambdaContext())


def failures(result: Any) -> int:
    return len(result["batchItemFailures"])


def test_the_orders_api_samples(world: CallbackRecorder) -> None:
    placed = invoke("orders_api", "orders-api-place-order.json")
    assert placed["statusCode"] == 201
    assert json.loads(placed["body"])["order_id"] == ORDER_ID
    assert invoke("orders_api", "orders-api-place-order-invalid.json")["statusCode"] == 422
    assert invoke("orders_api", "orders-api-get-order.json")["statusCode"] == 200
    assert invoke("orders_api", "orders-api-get-order-events.json")["statusCode"] == 200


def test_the_outbox_relay_sample_is_the_sample_order_placed(world: CallbackRecorder) -> None:
    [detail] = invoke("outbox_relay", "outbox-relay-new-order.json")
    assert detail == json.loads(sample("projector-batch.json")["Records"][0]["body"])["detail"]


def test_the_projector_samples(world: CallbackRecorder) -> None:
    invoke("orders_api", "orders-api-place-order.json")
    assert failures(invoke("projector", "projector-batch.json")) == 0
    order = json.loads(invoke("orders_api", "orders-api-get-order.json")["body"])
    assert order["status"] == "CONFIRMED"
    assert failures(invoke("projector", "projector-batch-with-malformed.json")) == 1


@pytest.mark.parametrize(
    ("service", "name"),
    [
        ("saga_starter", "saga-starter-order-placed.json"),
        ("inventory", "inventory-reserve.json"),
        ("inventory", "inventory-release.json"),
        ("payment", "payment-charge.json"),
        ("payment", "payment-refund.json"),
        ("shipping", "shipping-create.json"),
        ("shipping", "shipping-cancel.json"),
        ("notifier", "notifier-batch.json"),
    ],
)
def test_each_consumer_sample_is_processed_without_failures(world: CallbackRecorder, service: str, name: str) -> None:
    assert failures(invoke(service, name)) == 0


def test_the_command_samples_answer_the_saga(world: CallbackRecorder) -> None:
    invoke("inventory", "inventory-reserve.json")
    invoke("payment", "payment-charge.json")
    invoke("shipping", "shipping-create.json")
    assert len(world.successes) == 3


def test_the_auditor_sample_has_one_poison_record(world: CallbackRecorder) -> None:
    assert failures(invoke("auditor", "auditor-batch.json")) == 1
