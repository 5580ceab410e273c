"""A service that answers before moto's task starts waiting is heard (tools/localcloud/moto_task_tokens.py).

moto's `.waitForTaskToken` task sends its command, then sets up the heartbeat wait. These tests hold
moto's task between the two, as a loaded machine can, while the "service" heartbeats and answers.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.support.capture import capture_bus
from tools.localcloud.moto_task_tokens import keep_early_task_token_signals

BUS = "task-token-bus"
DEFINITION = {
    "StartAt": "Command",
    "States": {
        "Command": {
            "Type": "Task",
            "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
            "HeartbeatSeconds": 2,
            "TimeoutSeconds": 20,
            "Parameters": {
                "Entries": [
                    {
                        "EventBusName": BUS,
                        "Source": "test.saga",
                        "DetailType": "Command",
                        "Detail": {"task_token.$": "$$.Task.Token"},
                    }
                ]
            },
            "End": True,
        }
    },
}


@pytest.fixture
def held_task(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str, str, threading.Event]]:
    """A state machine whose task is held after sending its command until the returned event is set."""
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        undo = keep_early_task_token_signals()
        answered = threading.Event()
        setup: Callable[..., Any] = CallbackEndpoint.setup_heartbeat_endpoint

        def held_setup(self: Any, heartbeat_seconds: int) -> Any:
            answered.wait(timeout=10)  # the command is on the bus; the service acts before the wait exists
            return setup(self, heartbeat_seconds=heartbeat_seconds)

        monkeypatch.setattr(CallbackEndpoint, "setup_heartbeat_endpoint", held_setup)
        queue_url = capture_bus(BUS).queue_url
        stepfunctions = boto3.client("stepfunctions")
        machine = stepfunctions.create_state_machine(
            name="held", definition=json.dumps(DEFINITION), roleArn="arn:aws:iam::123456789012:role/saga"
        )["stateMachineArn"]
        try:
            yield stepfunctions, machine, queue_url, answered
        finally:
            monkeypatch.undo()
            undo()


def received_token(queue_url: str) -> str:
    sqs, deadline = boto3.client("sqs"), time.monotonic() + 10
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0).get("Messages", []):
            return str(json.loads(message["Body"])["detail"]["task_token"])
        time.sleep(0.02)
    raise AssertionError("the command never arrived")


def finished(stepfunctions: Any, execution_arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        described: dict[str, Any] = stepfunctions.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.05)
    raise AssertionError("the execution is still running")


@pytest.mark.parametrize("heartbeat_first", [True, False], ids=["heartbeat-then-answer", "answer-only"])
def test_a_service_acting_before_the_task_waits_is_heard(
    held_task: tuple[Any, str, str, threading.Event], heartbeat_first: bool
) -> None:
    stepfunctions, machine, queue_url, answered = held_task
    execution = stepfunctions.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    token = received_token(queue_url)
    if heartbeat_first:  # the service asks whether the token is live before it applies the command
        stepfunctions.send_task_heartbeat(taskToken=token)
    stepfunctions.send_task_success(taskToken=token, output=json.dumps({"done": True}))
    answered.set()
    described = finished(stepfunctions, execution)
    # Without the patch: InvalidToken for the heartbeat, or FAILED once the 2 s heartbeat window ran out.
    assert (described["status"], json.loads(described.get("output") or "null")) == ("SUCCEEDED", {"done": True})
