"""The local cloud's moto server replays an archive as EventBridge does (tools/localcloud/moto_server.py).

moto's own StartReplay sends every archived event to every rule, ignoring the window and
Destination.FilterArns, and skips the targets' InputTransformers; each test shows one of those fixed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tools.localcloud.moto_server import _replay_like_eventbridge

TRANSFORMER = {"InputPathsMap": {"id": "$.detail.n"}, "InputTemplate": '{"n": <id>, "shaped": true}'}


@pytest.fixture
def eventbridge(aws: None) -> Iterator[dict[str, Any]]:
    from moto.events.models import Replay

    original = Replay.replay_events
    _replay_like_eventbridge()
    events, sqs = boto3.client("events"), boto3.client("sqs")
    bus_arn = events.create_event_bus(Name="probe")["EventBusArn"]
    archive_arn = events.create_archive(ArchiveName="probe-archive", EventSourceArn=bus_arn)["ArchiveArn"]
    queues = {}
    for name, target_extra in (("shaped", {"InputTransformer": TRANSFORMER}), ("other", {})):
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        rule_arn = events.put_rule(Name=name, EventBusName="probe", EventPattern='{"source": ["probe"]}')["RuleArn"]
        target = {"Id": name, "Arn": f"arn:aws:sqs:us-east-1:123456789012:{name}", **target_extra}
        events.put_targets(Rule=name, EventBusName="probe", Targets=[target])
        queues[name] = {"url": url, "rule": rule_arn}
    try:
        yield {"events": events, "sqs": sqs, "bus": bus_arn, "archive": archive_arn, "queues": queues}
    finally:
        Replay.replay_events = original  # type: ignore[method-assign]


def put(eventbridge: dict[str, Any], n: int) -> None:
    entry = {"EventBusName": "probe", "Source": "probe", "DetailType": "Probe", "Detail": json.dumps({"n": n})}
    eventbridge["events"].put_events(Entries=[entry])


def drain(eventbridge: dict[str, Any], name: str) -> list[Any]:
    url = eventbridge["queues"][name]["url"]
    messages = eventbridge["sqs"].receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    for message in messages:
        eventbridge["sqs"].delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(message["Body"]) for message in messages]


def replay(eventbridge: dict[str, Any], since: datetime, until: datetime, rules: list[str] | None = None) -> str:
    destination: dict[str, Any] = {"Arn": eventbridge["bus"]}
    if rules is not None:
        destination["FilterArns"] = [eventbridge["queues"][name]["rule"] for name in rules]
    name = f"r{time.monotonic_ns()}"
    eventbridge["events"].start_replay(
        ReplayName=name,
        EventSourceArn=eventbridge["archive"],
        EventStartTime=since,
        EventEndTime=until,
        Destination=destination,
    )
    return str(eventbridge["events"].describe_replay(ReplayName=name)["State"])


def test_only_the_window_is_replayed_through_each_targets_input_transformer(eventbridge: dict[str, Any]) -> None:
    put(eventbridge, 1)
    time.sleep(1.1)
    middle = datetime.now(UTC)
    time.sleep(0.1)
    put(eventbridge, 2)
    drain(eventbridge, "shaped"), drain(eventbridge, "other")
    assert replay(eventbridge, middle, datetime.now(UTC) + timedelta(seconds=1)) == "COMPLETED"
    assert drain(eventbridge, "shaped") == [{"n": 2, "shaped": True}]
    [other] = drain(eventbridge, "other")
    assert other["detail"] == {"n": 2}


def test_only_the_rules_filter_arns_names_get_the_replay(eventbridge: dict[str, Any]) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    put(eventbridge, 3)
    drain(eventbridge, "shaped"), drain(eventbridge, "other")
    assert replay(eventbridge, since, datetime.now(UTC) + timedelta(seconds=1), rules=["other"]) == "COMPLETED"
    assert drain(eventbridge, "shaped") == []
    assert [message["detail"] for message in drain(eventbridge, "other")] == [{"n": 3}]


def test_a_replayed_event_is_not_archived_again(eventbridge: dict[str, Any]) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    put(eventbridge, 4)
    replay(eventbridge, since, datetime.now(UTC) + timedelta(seconds=1))
    assert eventbridge["events"].describe_archive(ArchiveName="probe-archive")["EventCount"] == 1
