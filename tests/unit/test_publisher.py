"""The publisher: batches of ten, only failed entries retried, never a silent loss."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from orderflow.publisher import EventPublisher, PublishError
from tests.support.capture import capture_bus
from tests.support.factories import an_order_placed


def test_publishes_in_batches_of_at_most_ten_and_every_event_arrives(aws: None) -> None:
    capture = capture_bus()
    client = boto3.client("events")
    calls: list[int] = []
    original = client.put_events

    def counting_put_events(**kwargs: Any) -> Any:
        calls.append(len(kwargs["Entries"]))
        return original(**kwargs)

    client.put_events = counting_put_events  # type: ignore[method-assign]
    events = [an_order_placed() for _ in range(23)]
    EventPublisher(capture.bus_name, events_client=client).publish(events)
    assert calls == [10, 10, 3]
    arrived = {event["detail"]["metadata"]["event_id"] for event in capture.events()}
    assert arrived == {event.event_id for event in events}


def _stubbed() -> tuple[Any, Stubber]:
    client = boto3.client("events", region_name="us-east-1")
    return client, Stubber(client)


def test_only_the_failed_entries_are_retried() -> None:
    client, stubber = _stubbed()
    events = [an_order_placed() for _ in range(3)]
    stubber.add_response(
        "put_events",
        {
            "FailedEntryCount": 1,
            "Entries": [
                {"EventId": "1"},
                {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow"},
                {"EventId": "3"},
            ],
        },
        {"Entries": ANY},
    )
    retried = {
        "Entries": [
            {
                "EventBusName": "bus",
                "Source": "orderflow.orders",
                "DetailType": "OrderPlaced",
                "Detail": events[1].detail(),
            }
        ]
    }
    stubber.add_response("put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "2"}]}, retried)
    sleeps: list[float] = []
    with stubber:
        EventPublisher("bus", events_client=client, sleep=sleeps.append).publish(events)
    stubber.assert_no_pending_responses()
    assert len(sleeps) == 1


def test_entries_that_keep_failing_raise_publish_error_with_the_code() -> None:
    client, stubber = _stubbed()
    for _ in range(3):
        stubber.add_response(
            "put_events",
            {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "boom"}]},
            {"Entries": ANY},
        )
    with stubber, pytest.raises(PublishError, match="1 event\\(s\\) not published: InternalFailure"):
        EventPublisher("bus", events_client=client, max_attempts=3, sleep=lambda _: None).publish([an_order_placed()])
