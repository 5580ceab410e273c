"""The saga's ASL, run in moto's Step Functions interpreter: every command it sends parses as its contract.

The test plays the services: it reads each command from the bus, parses it with
the catalog model, and answers the task token as the service would.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from orderflow.catalog import EVENT_TYPES, OrderCancelled
from orderflow.envelope import Command, Event
from orderflow.saga import STEP_REFUSALS, SagaConfig, SagaError, SagaInput
from tests.support.factories import an_order_placed
from tools.localcloud.moto_task_tokens import keep_early_task_token_signals
from tools.localcloud.template import REPO_ROOT, load_template

DEFINITION = REPO_ROOT / "statemachines" / "order_saga.asl.json"
BUS = "saga-contract-bus"


def rendered_definition() -> str:
    """The definition with every DefinitionSubstitutions key the template declares filled in."""
    substitutions = load_template().sam["Resources"]["OrderSaga"]["Properties"]["DefinitionSubstitutions"]
    text = Path(DEFINITION).read_text()
    for key in substitutions:
        assert key == "EventBusName", f"test knows no value for substitution {key}"
        text = text.replace("${" + key + "}", BUS)
    assert "${" not in text
    return text


@dataclass
class Run:
    """What one execution sent and how it ended."""

    commands: list[str] = field(default_factory=list)
    command_ids: list[str] = field(default_factory=list)
    facts: list[Event] = field(default_factory=list)
    status: str = ""
    output: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def saga() -> Iterator[tuple[Any, str, str]]:
    # As the local cloud's moto runs it: a test answering before moto's task waits is heard.
    undo = keep_early_task_token_signals()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        events, sqs, stepfunctions = boto3.client("events"), boto3.client("sqs"), boto3.client("stepfunctions")
        events.create_event_bus(Name=BUS)
        queue_url = sqs.create_queue(QueueName="saga-out")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="saga-out", EventBusName=BUS, EventPattern=json.dumps({"source": ["orderflow.saga"]}))
        events.put_targets(Rule="saga-out", EventBusName=BUS, Targets=[{"Id": "q", "Arn": queue_arn}])
        arn = stepfunctions.create_state_machine(
            name="order-saga", definition=rendered_definition(), roleArn="arn:aws:iam::123456789012:role/saga"
        )["stateMachineArn"]
        try:
            yield stepfunctions, arn, queue_url
        finally:
            undo()


def play(
    saga: tuple[Any, str, str],
    answers: dict[str, str],
    step_timeout: int = 30,
    compensation_timeout: int = 30,
    deadline: float = 60,
) -> Run:
    """Run one order; `answers` maps a command to 'ok', an error name to fail with, 'silent', or
    'silent-once' (no answer to the first send, 'ok' to the retry)."""
    stepfunctions, arn, queue_url = saga
    placed = an_order_placed()
    config = SagaConfig.with_timeouts(step_timeout, compensation_timeout)
    saga_input = SagaInput.from_order_placed(placed, config)
    execution = stepfunctions.start_execution(
        stateMachineArn=arn, name=placed.order_id, input=saga_input.model_dump_json()
    )
    run, sqs, end = Run(), boto3.client("sqs"), time.monotonic() + deadline
    while time.monotonic() < end:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        ):
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            envelope = json.loads(message["Body"])
            # The contract check, strictly from JSON as consumers parse (moto's delivery lacks `account`).
            event = EVENT_TYPES[envelope["detail-type"]].model_validate_json(json.dumps(envelope["detail"]))
            assert event.order_id == placed.order_id
            if not isinstance(event, Command):
                run.facts.append(event)
                continue
            run.commands.append(event.DETAIL_TYPE)
            run.command_ids.append(event.event_id)
            answer = answers.get(event.DETAIL_TYPE, "ok")
            if answer == "silent-once":
                answers[event.DETAIL_TYPE] = "ok"
            else:
                answer_token(stepfunctions, event.metadata.task_token, answer)
        described = stepfunctions.describe_execution(executionArn=execution["executionArn"])
        if (
            described["status"] != "RUNNING"
            and sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])[
                "Attributes"
            ]["ApproximateNumberOfMessages"]
            == "0"
        ):
            run.status = described["status"]
            run.output = json.loads(described.get("output") or "{}")
            return run
        time.sleep(0.05)
    raise AssertionError(f"execution still running after {deadline}s; commands so far: {run.commands}")


def answer_token(stepfunctions: Any, token: str, answer: str) -> None:
    """Answer as a service does: a token that died meanwhile (a slow answer) is dropped."""
    try:
        if answer == "ok":
            stepfunctions.send_task_success(taskToken=token, output=json.dumps({"done": True}))
        elif answer != "silent":
            stepfunctions.send_task_failure(taskToken=token, error=answer, cause="test")
    except (stepfunctions.exceptions.InvalidToken, stepfunctions.exceptions.TaskTimedOut):
        pass


def cancelled_event(run: Run) -> OrderCancelled:
    [cancelled] = [fact for fact in run.facts if isinstance(fact, OrderCancelled)]
    return cancelled


def cancellation(run: Run) -> str:
    return str(cancelled_event(run).data.reason)


def test_happy_path_sends_three_commands_then_confirms(saga: tuple[Any, str, str]) -> None:
    run = play(saga, {})
    assert run.commands == ["ReserveInventory", "ChargePayment", "CreateShipment"]
    assert [fact.DETAIL_TYPE for fact in run.facts] == ["OrderConfirmed"]
    assert (run.status, run.output["outcome"]["status"]) == ("SUCCEEDED", "CONFIRMED")


def test_out_of_stock_cancels_with_nothing_to_undo(saga: tuple[Any, str, str]) -> None:
    run = play(saga, {"ReserveInventory": "OutOfStock"})
    assert run.commands == ["ReserveInventory"]
    assert cancellation(run) == "OUT_OF_STOCK"
    assert (run.status, run.output["outcome"]["status"]) == ("SUCCEEDED", "CANCELLED")


def test_payment_declined_releases_the_inventory(saga: tuple[Any, str, str]) -> None:
    run = play(saga, {"ChargePayment": "PaymentDeclined"})
    assert run.commands == ["ReserveInventory", "ChargePayment", "ReleaseInventory"]
    assert cancellation(run) == "PAYMENT_DECLINED"


def test_shipment_failure_refunds_then_releases(saga: tuple[Any, str, str]) -> None:
    run = play(saga, {"CreateShipment": "ShipmentFailed"})
    assert run.commands == ["ReserveInventory", "ChargePayment", "CreateShipment", "RefundPayment", "ReleaseInventory"]
    assert cancellation(run) == "SHIPPING_FAILED"
    assert run.status == "SUCCEEDED"


def test_a_step_that_times_out_is_compensated_including_itself(saga: tuple[Any, str, str]) -> None:
    # Every step shares the timeout; 5 s leaves the steps this test answers ample time on a loaded machine.
    run = play(saga, {"CreateShipment": "silent"}, step_timeout=5)
    assert run.commands == [
        "ReserveInventory",
        "ChargePayment",
        "CreateShipment",
        "CancelShipment",
        "RefundPayment",
        "ReleaseInventory",
    ]
    assert cancellation(run) == "STEP_TIMED_OUT"


def test_a_compensation_that_gives_up_does_not_stop_the_others_and_fails_the_execution(
    saga: tuple[Any, str, str],
) -> None:
    # Given the payment service answers its compensation with a failure
    run = play(saga, {"CreateShipment": "ShipmentFailed", "RefundPayment": "RefundUnavailable"})
    # Then the inventory is still released, the order is cancelled naming what is unresolved,
    # and the execution ends FAILED so ExecutionsFailed alarms
    assert run.commands[-2:] == ["RefundPayment", "ReleaseInventory"]
    cancelled = cancelled_event(run)
    assert cancelled.data.reason == "SHIPPING_FAILED"
    assert list(cancelled.data.unresolved_compensations) == ["payment"]
    assert cancelled.data.unresolved_compensations["payment"].Error == "RefundUnavailable"
    assert run.status == "FAILED"


def test_a_compensation_that_times_out_is_retried_with_a_new_command_id(saga: tuple[Any, str, str]) -> None:
    # Given the inventory service does not answer the first ReleaseInventory (it is down)
    run = play(
        saga,
        {"ChargePayment": "PaymentDeclined", "ReleaseInventory": "silent-once"},
        compensation_timeout=4,
        deadline=90,
    )
    # Then the saga sends it again (a new id, so it is not deduplicated) and the order is cancelled cleanly
    releases = [cid for cid, name in zip(run.command_ids, run.commands, strict=True) if name == "ReleaseInventory"]
    assert len(releases) >= 2
    assert len(set(releases)) == len(releases)
    assert releases[0].endswith("/ReleaseInventory/0")
    assert cancelled_event(run).data.unresolved_compensations == {}
    assert (run.status, run.output["outcome"]["status"]) == ("SUCCEEDED", "CANCELLED")


def test_the_happy_path_takes_four_state_transitions() -> None:
    definition = json.loads(DEFINITION.read_text())
    state, visited = definition["StartAt"], []
    while state:
        visited.append(state)
        state = definition["States"][state].get("Next")
    assert visited == ["ReserveInventory", "ChargePayment", "CreateShipment", "ConfirmOrder"]


def test_every_transition_target_exists() -> None:
    states = json.loads(DEFINITION.read_text())["States"]
    targets = [s["Next"] for s in states.values() if "Next" in s] + [
        catch["Next"] for s in states.values() for catch in s.get("Catch", [])
    ]
    assert set(targets) <= set(states)


def test_the_execution_timeout_outlasts_the_longest_path_the_parameters_allow() -> None:
    # ExecutionsTimedOut can only alarm if the saga has a timeout; it must never cut a path that is still working.
    definition = json.loads(DEFINITION.read_text())
    parameters = load_template().sam["Parameters"]
    step_max = int(parameters["StepTimeoutSeconds"]["MaxValue"])
    compensation_max = int(parameters["CompensationTimeoutSeconds"]["MaxValue"])
    longest = 0
    for state in definition["States"].values():
        path = state.get("TimeoutSecondsPath", "")
        if path.endswith("step_timeout_seconds"):
            longest += step_max
        elif path.endswith("compensation_timeout_seconds"):
            [retry] = [r for r in state["Retry"] if r["ErrorEquals"] == ["States.Timeout"]]
            backoff = sum(
                min(retry["IntervalSeconds"] * retry["BackoffRate"] ** attempt, retry["MaxDelaySeconds"])
                for attempt in range(retry["MaxAttempts"])
            )
            longest += (retry["MaxAttempts"] + 1) * compensation_max + backoff
    assert longest > 0
    assert longest < definition["TimeoutSeconds"] <= 2 * longest


def caught_names(state: dict[str, Any]) -> set[str]:
    return {name for catch in state.get("Catch", []) for name in catch["ErrorEquals"]}


def test_the_error_names_the_services_answer_are_the_ones_the_asl_catches_and_raises() -> None:
    """SagaError is the one list; the ASL and it agree both ways."""
    states = json.loads(DEFINITION.read_text())["States"]
    named_in_asl = {name for state in states.values() for name in caught_names(state) if not name.startswith("States.")}
    raised_by_asl = {state["Error"] for state in states.values() if state["Type"] == "Fail"}
    # every name the ASL uses is in the shared list ...
    assert named_in_asl == set(STEP_REFUSALS.values())
    assert raised_by_asl == {SagaError.COMPENSATION_INCOMPLETE}
    # ... and each refusal is caught by name on the step that answers it, never on another
    for step, refusal in STEP_REFUSALS.items():
        assert {name for name in caught_names(states[step]) if not name.startswith("States.")} == {refusal}
    # a name the ASL does not catch by name (OrderCompensated) ends the step through its States.ALL catch
    for name in set(SagaError) - named_in_asl - raised_by_asl:
        assert name == SagaError.ORDER_COMPENSATED
        assert all("States.ALL" in caught_names(states[step]) for step in STEP_REFUSALS)
