"""saga-starter on moto: one execution per order, however often and however concurrently OrderPlaced arrives."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from tests.support.capture import BusCapture
from tests.support.factories import an_order_placed, sqs_event
from tests.support.handlers import load_handler
from tests.support.lambda_context import FakeLambdaContext


@pytest.fixture
def state_machine(function_env: Callable[..., BusCapture], monkeypatch: pytest.MonkeyPatch) -> str:
    function_env()
    definition = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 600, "End": True}}})
    arn: str = boto3.client("stepfunctions").create_state_machine(
        name="saga", definition=definition, roleArn="arn:aws:iam::123456789012:role/saga"
    )["stateMachineArn"]
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    monkeypatch.setenv("STEP_TIMEOUT_SECONDS", "300")
    monkeypatch.setenv("COMPENSATION_TIMEOUT_SECONDS", "900")
    return arn


def executions(arn: str) -> list[str]:
    listed = boto3.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"]
    return [execution["name"] for execution in listed]


def test_a_duplicate_a_redelivery_and_a_concurrent_twin_start_one_execution(state_machine: str) -> None:
    handler = load_handler("saga_starter").lambda_handler
    placed, other = an_order_placed(), an_order_placed()
    assert handler(sqs_event(placed, placed, other), FakeLambdaContext()) == {"batchItemFailures": []}
    assert handler(sqs_event(placed), FakeLambdaContext()) == {"batchItemFailures": []}  # redelivered later
    with ThreadPoolExecutor(max_workers=2) as pool:  # two deliveries of one event at once
        results = list(pool.map(lambda _: handler(sqs_event(other), FakeLambdaContext()), range(2)))
    assert results == [{"batchItemFailures": []}] * 2
    assert sorted(executions(state_machine)) == sorted([placed.order_id, other.order_id])
    # Step Functions' execution name is the idempotency: no Powertools record (two writes per record) is kept
    idempotency = boto3.resource("dynamodb").Table(os.environ["IDEMPOTENCY_TABLE_NAME"])
    assert idempotency.scan()["Items"] == []
