"""Observe what a unit under test sent: events on a moto bus, and the saga's callbacks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest


@dataclass
class BusCapture:
    """A rule on a moto bus that copies every event to a queue we can read."""

    bus_name: str
    queue_url: str

    def events(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs")
        found: list[dict[str, Any]] = []
        while True:
            messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
                "Messages", []
            )
            if not messages:
                return found
            found += [json.loads(message["Body"]) for message in messages]

    def detail_types(self) -> list[str]:
        return [event["detail-type"] for event in self.events()]


def capture_bus(bus_name: str = "orderflow-test-bus") -> BusCapture:
    """Create the bus and a catch-all rule → SQS queue (inside a moto context)."""
    events, sqs = boto3.client("events"), boto3.client("sqs")
    events.create_event_bus(Name=bus_name)
    queue_url = sqs.create_queue(QueueName=f"{bus_name}-capture")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="capture-all", EventBusName=bus_name, EventPattern=json.dumps({"source": [{"prefix": ""}]}))
    events.put_targets(Rule="capture-all", EventBusName=bus_name, Targets=[{"Id": "capture", "Arn": queue_arn}])
    return BusCapture(bus_name, queue_url)


@dataclass
class CallbackRecorder:
    """Stands in for the Step Functions callback calls (moto has no task to answer here)."""

    successes: list[tuple[str, Any]] = field(default_factory=list)
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    dead_tokens: set[str] = field(default_factory=set)  # tokens the saga no longer waits on

    def waits_for(self, task_token: str) -> bool:
        return task_token not in self.dead_tokens

    def succeed(self, task_token: str, output: Any) -> bool:
        self.successes.append((task_token, output))
        return True

    def fail(self, task_token: str, error: str, cause: str) -> bool:
        self.failures.append((task_token, error, cause))
        return True


def record_callbacks(monkeypatch: pytest.MonkeyPatch) -> CallbackRecorder:
    import orderflow.commands

    recorder = CallbackRecorder()
    monkeypatch.setattr(orderflow.commands, "send_task_success", recorder.succeed)
    monkeypatch.setattr(orderflow.commands, "send_task_failure", recorder.fail)
    monkeypatch.setattr(orderflow.commands, "saga_waits_for", recorder.waits_for)
    return recorder
