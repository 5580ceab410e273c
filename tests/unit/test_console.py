"""The orderflow console's `--stack` mode against a CloudFormation stack on moto, and its pure parts.

moto's CloudFormation cannot run the SAM transform, so the stack here is a small plain template with
the shapes the console relies on: a working queue with a redrive policy to its DLQ, a rule's own
DLQ, the bus (with a rule that shows what reaches it) and an alarm on the DLQ.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tools.console import cli
from tools.console.cli import main
from tools.console.dlq import _move_task, redrive
from tools.console.queues import Queue, Topology
from tools.console.replay import parse_time
from tools.console.target import Resource, Target, from_stack
from tools.console.trace import state_kinds, steps_from_history
from tools.localcloud.template import REPO_ROOT

STACK = "ops-probe"


def queue(name: str, dlq: str | None = None) -> dict[str, Any]:
    """An SQS queue resource; with `dlq` (a logical id), one that redrives to it after 3 receives."""
    properties: dict[str, Any] = {"QueueName": name}
    if dlq is not None:
        properties["RedrivePolicy"] = {"deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]}, "maxReceiveCount": 3}
    return {"Type": "AWS::SQS::Queue", "Properties": properties}


TEMPLATE: dict[str, Any] = {
    "Resources": {
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "probe-bus"}},
        "WorkDLQ": queue("probe-work-dlq"),
        "WorkQueue": queue("probe-work", dlq="WorkDLQ"),
        "RuleDLQ": queue("probe-rule-dlq"),
        "SeenQueue": queue("probe-seen", dlq="RuleDLQ"),
        "SeenRule": {
            "Type": "AWS::Events::Rule",
            "DependsOn": "Bus",  # moto's CloudFormation cannot pass a Ref to the bus here
            "Properties": {
                "EventBusName": "probe-bus",
                "EventPattern": {"source": [{"prefix": "orderflow."}]},
                "Targets": [{"Id": "seen", "Arn": {"Fn::GetAtt": ["SeenQueue", "Arn"]}}],
            },
        },
    }
}


ALARM: dict[str, Any] = {
    "AlarmName": "probe-work-dlq-alarm",
    "Namespace": "AWS/SQS",
    "MetricName": "ApproximateNumberOfMessagesVisible",
    "Dimensions": [{"Name": "QueueName", "Value": "probe-work-dlq"}],
    "Statistic": "Maximum",
    "Period": 60,
    "EvaluationPeriods": 1,
    "Threshold": 0,
    "ComparisonOperator": "GreaterThanThreshold",
}


def event(order_id: str, detail_type: str = "OrderPlaced") -> dict[str, Any]:
    metadata = {"event_id": f"{order_id}/{detail_type}", "correlation_id": order_id}
    return {
        "version": "0",
        "id": "x",
        "detail-type": detail_type,
        "source": "orderflow.orders",
        "account": "123456789012",
        "time": "2030-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"metadata": metadata, "data": {"order_id": order_id}},
    }


@pytest.fixture
def stack(aws: None, monkeypatch: pytest.MonkeyPatch) -> Target:
    boto3.client("cloudformation").create_stack(StackName=STACK, TemplateBody=json.dumps(TEMPLATE))
    # What moto's CloudFormation leaves out and AWS's gives: the bus's physical id (moto lists ""),
    # and the alarm (moto does not create AWS::CloudWatch::Alarm resources).
    boto3.client("cloudwatch").put_metric_alarm(**ALARM)
    target = from_stack(STACK)
    target.resources["Bus"] = Resource("Bus", "probe-bus", "AWS::Events::EventBus")
    target.resources["WorkDLQAlarm"] = Resource("WorkDLQAlarm", ALARM["AlarmName"], "AWS::CloudWatch::Alarm")
    # `orderflow --stack ops-probe` gets this target, filled in
    monkeypatch.setattr(cli, "from_stack", lambda name, region=None: target if name == STACK else from_stack(name))
    return target


def run(*argv: str) -> tuple[int, Any]:
    output = io.StringIO()
    with redirect_stdout(output):
        code = main(["--stack", STACK, *argv, "--json"])
    return code, json.loads(output.getvalue())


def send(target: Target, logical_id: str, body: dict[str, Any], **attributes: str) -> None:
    target.client("sqs").send_message(
        QueueUrl=target.physical(logical_id),
        MessageBody=json.dumps(body),
        MessageAttributes={name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()},
    )


def test_the_stack_resources_come_from_cloudformation(stack: Target) -> None:
    assert stack.resources["WorkQueue"] == Resource("WorkQueue", stack.physical("WorkQueue"), "AWS::SQS::Queue")
    assert stack.physical("WorkDLQ").endswith("/probe-work-dlq")
    assert {"RuleDLQ", "SeenQueue", "SeenRule"} <= set(stack.resources)


def test_status_names_an_alarm_in_alarm_and_exits_1(stack: Target) -> None:
    send(stack, "WorkDLQ", event("order-1"))
    code, report = run("status")
    assert code == 0  # nothing in ALARM yet: the DLQ holds a message, CloudWatch has not evaluated
    work = next(row for row in report["consumers"] if row["consumer"] == "Work")
    assert (work["dlq"], work["dlq_depth"]) == ("WorkDLQ", 1)
    boto3.client("cloudwatch").set_alarm_state(AlarmName="probe-work-dlq-alarm", StateValue="ALARM", StateReason="x")
    code, report = run("status")
    assert code == 1
    assert [alarm["name"] for alarm in report["alarms_in_alarm"]] == ["WorkDLQAlarm"]
    work = next(row for row in report["consumers"] if row["consumer"] == "Work")
    assert work["alarms_in_alarm"] == ["WorkDLQAlarm"]


def test_peek_decodes_and_leaves_the_messages(stack: Target) -> None:
    send(stack, "WorkDLQ", event("order-1"))
    send(stack, "RuleDLQ", event("order-2", "OrderConfirmed"), ERROR_CODE="SQS.Throttled", ERROR_MESSAGE="slow down")
    _, peeked = run("dlq", "peek", "work")
    assert [(m["event_type"], m["order_id"], m["event_id"]) for m in peeked["messages"]] == [
        ("OrderPlaced", "order-1", "order-1/OrderPlaced")
    ]
    _, listed = run("dlq", "list")
    rule_dlq = next(row for row in listed["dead_letter_queues"] if row["dlq"] == "RuleDLQ")
    assert rule_dlq["messages"][0]["reason"] == "SQS.Throttled: slow down"
    assert rule_dlq["depth"] == 1  # still there


def test_redrive_falls_back_to_one_message_at_a_time_and_moves_only_the_order_asked_for(stack: Target) -> None:
    for order_id in ("order-1", "order-2", "order-1"):
        send(stack, "WorkDLQ", event(order_id))
    code, report = run("dlq", "redrive", "WorkDLQ", "--order", "order-1")
    assert (code, report["moved_count"], report["remaining"]) == (0, 2, 1)
    code, report = run("dlq", "redrive", "WorkDLQ")
    assert (code, report["moved_count"], report["remaining"]) == (0, 1, 0)
    assert "move_task_unavailable" in report  # moto has no StartMessageMoveTask
    messages = stack.client("sqs").receive_message(QueueUrl=stack.physical("WorkQueue"), MaxNumberOfMessages=10)
    assert sorted(json.loads(m["Body"])["detail"]["data"]["order_id"] for m in messages["Messages"]) == [
        "order-1",
        "order-1",
        "order-2",
    ]


def test_a_dlq_without_a_source_queue_redrives_its_events_to_the_bus(stack: Target) -> None:
    # A queue nothing redrives into, like a rule's own DLQ: its events go back on the bus, other bodies stay
    orphan = stack.client("sqs").create_queue(QueueName="probe-orphan")["QueueUrl"]
    stack.resources["OrphanDLQ"] = Resource("OrphanDLQ", orphan, "AWS::SQS::Queue")  # as a stack's own would be
    stack.client("sqs").send_message(QueueUrl=orphan, MessageBody=json.dumps(event("order-3")))
    stack.client("sqs").send_message(QueueUrl=orphan, MessageBody="not an event")
    report = redrive(stack, "OrphanDLQ", None, False, lambda total, done: None)
    assert (report["moved_count"], report["remaining"]) == (1, 1)
    assert report["moved"][0]["to"] == "Bus"
    assert "not an EventBridge event" in report["skipped"][0]["why"]
    seen = stack.client("sqs").receive_message(QueueUrl=stack.physical("SeenQueue"), MaxNumberOfMessages=10)
    assert [json.loads(m["Body"])["detail"]["data"]["order_id"] for m in seen["Messages"]] == ["order-3"]


def test_a_whole_dlq_on_aws_moves_with_sqs_message_move_task() -> None:
    arn = "arn:aws:sqs:us-east-1:123456789012:{}".format
    sqs = boto3.client("sqs")
    target = Target("stubbed", "us-east-1", {}, _clients={"sqs": sqs})
    dlq = Queue("WorkDLQ", "https://dlq", arn("dlq"), visible=2, in_flight=0)
    work = Queue("WorkQueue", "https://work", arn("work"), visible=0, in_flight=0, dead_letter_arn=arn("dlq"))
    topology = Topology({"WorkDLQ": dlq, "WorkQueue": work})
    seen: list[tuple[int, int]] = []
    with Stubber(sqs) as stub:
        stub.add_response(
            "start_message_move_task", {"TaskHandle": "h1"}, {"SourceArn": arn("dlq"), "DestinationArn": arn("work")}
        )
        task = {"TaskHandle": "h1", "ApproximateNumberOfMessagesToMove": 2, "SourceArn": arn("dlq")}
        stub.add_response(
            "list_message_move_tasks",
            {"Results": [{**task, "Status": "COMPLETED"} | {"ApproximateNumberOfMessagesMoved": 2}]},
        )
        result = _move_task(target, topology, dlq, lambda total, done: seen.append((total, done)))
        stub.assert_no_pending_responses()
    assert result == {
        "mode": "SQS message move task",
        "task_status": "COMPLETED",
        "failure": None,
        "moved_count": 2,
        "to": "WorkQueue",
    }
    assert seen[-1] == (2, 2)


def test_times_are_iso_now_or_a_duration_back() -> None:
    now = datetime(2030, 1, 2, 12, 0, tzinfo=UTC)
    assert parse_time("now", now) == now
    assert parse_time("15m", now) == now - timedelta(minutes=15)
    assert parse_time("2h ago", now) == now - timedelta(hours=2)
    assert parse_time("2030-01-01T10:00:00", now) == datetime(2030, 1, 1, 10, tzinfo=UTC)
    assert parse_time("2030-01-01T10:00:00+01:00", now) == datetime(2030, 1, 1, 9, tzinfo=UTC)


def test_the_sagas_states_are_steps_compensations_or_bookkeeping() -> None:
    definition = json.loads((REPO_ROOT / "statemachines" / "order_saga.asl.json").read_text())
    kinds = state_kinds(definition)
    assert [name for name, kind in kinds.items() if kind == "step"] == [
        "ReserveInventory",
        "ChargePayment",
        "CreateShipment",
        "ConfirmOrder",
    ]
    assert sorted(name for name, kind in kinds.items() if kind == "compensation") == [
        "CancelShipment",
        "RefundPayment",
        "ReleaseInventory",
    ]


def test_each_step_gets_its_time_and_its_error() -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)

    def at(seconds: float) -> datetime:
        return start + timedelta(seconds=seconds)

    history = [
        {"type": "TaskStateEntered", "timestamp": at(0), "stateEnteredEventDetails": {"name": "ChargePayment"}},
        {"type": "TaskFailed", "timestamp": at(1.5), "taskFailedEventDetails": {"error": "PaymentDeclined"}},
        {"type": "TaskStateExited", "timestamp": at(1.5), "stateExitedEventDetails": {"name": "ChargePayment"}},
        {"type": "TaskStateEntered", "timestamp": at(1.5), "stateEnteredEventDetails": {"name": "ReleaseInventory"}},
        {"type": "TaskStateExited", "timestamp": at(1.75), "stateExitedEventDetails": {"name": "ReleaseInventory"}},
    ]
    steps = steps_from_history(history, {"ChargePayment": "step", "ReleaseInventory": "compensation"})
    assert [(s["state"], s["kind"], s["seconds"], s["outcome"]) for s in steps] == [
        ("ChargePayment", "step", 1.5, "PaymentDeclined"),
        ("ReleaseInventory", "compensation", 0.25, "ok"),
    ]


def test_a_stack_that_does_not_exist_exits_2(aws: None) -> None:
    assert main(["--stack", "no-such-stack", "status"]) == 2


def test_no_local_cloud_exits_2(tmp_path: Path) -> None:
    assert main(["--local", "--local-dir", str(tmp_path), "status"]) == 2
