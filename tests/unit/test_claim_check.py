"""Claim-check: an event too large for the bus goes to S3 and travels as a reference that parsing resolves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from orderflow.catalog import OrderCancelled, OrderPlaced
from orderflow.claim_check import (
    CLAIM_CHECK_THRESHOLD_BYTES,
    EVENTBRIDGE_ENTRY_LIMIT_BYTES,
    REFERENCE_FIELD,
    entry_size,
    object_key,
)
from orderflow.parsing import MalformedEventError, parse_sqs_record
from orderflow.publisher import EventPublisher
from tests.support.capture import BusCapture, capture_bus
from tests.support.factories import ACCOUNT, an_order_placed, an_oversized_order_cancelled, sqs_record

BUCKET = "orderflow-claim-check"


@pytest.fixture
def claim_check_bucket(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from orderflow.claim_check import get_settings

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    monkeypatch.setenv("CLAIM_CHECK_BUCKET", BUCKET)
    get_settings.cache_clear()
    yield BUCKET
    get_settings.cache_clear()


def published(capture: BusCapture) -> list[dict[str, Any]]:
    return capture.events()


def test_an_oversized_event_goes_to_s3_and_its_entry_on_the_bus_is_under_the_limit(
    claim_check_bucket: str,
) -> None:
    capture = capture_bus()
    event = an_oversized_order_cancelled()
    assert entry_size(event.SOURCE, event.DETAIL_TYPE, event.detail()) > EVENTBRIDGE_ENTRY_LIMIT_BYTES
    small = an_order_placed()

    EventPublisher(capture.bus_name).publish([event, small])

    on_bus = {entry["detail-type"]: entry for entry in published(capture)}
    reference_detail = on_bus["OrderCancelled"]["detail"]
    entry = entry_size(event.SOURCE, event.DETAIL_TYPE, json.dumps(reference_detail))
    assert entry < CLAIM_CHECK_THRESHOLD_BYTES
    assert reference_detail["metadata"] == json.loads(event.detail())["metadata"]
    reference = reference_detail[REFERENCE_FIELD]
    assert reference["key"] == object_key("OrderCancelled", event.event_id)
    stored = boto3.client("s3").get_object(Bucket=claim_check_bucket, Key=reference["key"])["Body"].read()
    assert stored == event.detail().encode()
    assert reference["bytes"] == len(stored)
    # A small event travels inline, as always.
    assert on_bus["OrderPlaced"]["detail"] == json.loads(small.detail())


def test_a_retried_publish_overwrites_the_same_key(claim_check_bucket: str) -> None:
    capture = capture_bus()
    event = an_oversized_order_cancelled()
    publisher = EventPublisher(capture.bus_name)
    publisher.publish([event])
    publisher.publish([event])

    s3 = boto3.client("s3")
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=claim_check_bucket)["Contents"]]
    assert keys == [object_key("OrderCancelled", event.event_id)]
    versions = s3.list_object_versions(Bucket=claim_check_bucket)["Versions"]
    references = [body["detail"][REFERENCE_FIELD] for body in published(capture)]
    # Each reference names the version its publish wrote, so a rewrite never changes what it reads.
    assert {reference["version_id"] for reference in references} == {version["VersionId"] for version in versions}


def record_of(body: dict[str, Any]) -> SQSRecord:
    """The captured event as a rule's SQS target delivers it (moto's copy leaves out the account)."""
    return SQSRecord(sqs_record(json.dumps({"account": ACCOUNT, **body})))


def test_a_reference_resolves_to_the_whole_event(claim_check_bucket: str) -> None:
    capture = capture_bus()
    event = an_oversized_order_cancelled()
    EventPublisher(capture.bus_name).publish([event])
    [body] = published(capture)
    assert REFERENCE_FIELD in body["detail"]

    assert parse_sqs_record(record_of(body), (OrderCancelled,)) == event


def _put_in_place_of(bucket: str, reference: dict[str, Any], body: bytes) -> None:
    boto3.client("s3").put_object(Bucket=bucket, Key=reference["key"], Body=body)


def test_a_tampered_object_fails_alone_as_malformed(claim_check_bucket: str) -> None:
    capture = capture_bus()
    tampered, intact = an_oversized_order_cancelled(), an_oversized_order_cancelled()
    EventPublisher(capture.bus_name).publish([tampered, intact])
    bodies = {body["detail"]["metadata"]["event_id"]: body for body in published(capture)}
    reference = bodies[tampered.event_id]["detail"][REFERENCE_FIELD]
    s3 = boto3.client("s3")
    # Unversioned reads see the latest object; a reference without a version is read that way.
    forged = tampered.detail().replace('"States.Timeout"', '"States.TaskFailed"').encode()
    _put_in_place_of(claim_check_bucket, reference, forged)
    s3.delete_object(Bucket=claim_check_bucket, Key=reference["key"], VersionId=reference["version_id"])
    unversioned = {**bodies[tampered.event_id]}
    unversioned["detail"] = {
        **unversioned["detail"],
        REFERENCE_FIELD: {k: v for k, v in reference.items() if k != "version_id"},
    }

    with pytest.raises(MalformedEventError, match="does not match its reference"):
        parse_sqs_record(record_of(unversioned), (OrderCancelled,))
    with pytest.raises(MalformedEventError, match="is gone"):
        parse_sqs_record(record_of(bodies[tampered.event_id]), (OrderCancelled,))
    assert parse_sqs_record(record_of(bodies[intact.event_id]), (OrderCancelled,)) == intact


def test_a_reference_to_another_bucket_or_another_event_is_malformed(claim_check_bucket: str) -> None:
    capture = capture_bus()
    event, other = an_oversized_order_cancelled(), an_oversized_order_cancelled()
    EventPublisher(capture.bus_name).publish([event, other])
    bodies = {body["detail"]["metadata"]["event_id"]: body for body in published(capture)}
    body = bodies[event.event_id]
    elsewhere = {**body["detail"][REFERENCE_FIELD], "bucket": "someone-elses-bucket"}
    with pytest.raises(MalformedEventError, match="not the claim-check bucket"):
        parse_sqs_record(
            record_of({**body, "detail": {**body["detail"], REFERENCE_FIELD: elsewhere}}), (OrderCancelled,)
        )
    # The other event's object under this event's metadata: the reference is not the event it names.
    swapped = {**body["detail"], REFERENCE_FIELD: bodies[other.event_id]["detail"][REFERENCE_FIELD]}
    with pytest.raises(MalformedEventError, match="not the event its reference names"):
        parse_sqs_record(record_of({**body, "detail": swapped}), (OrderCancelled,))


def test_a_claim_checked_event_of_another_type_is_still_refused_by_type(claim_check_bucket: str) -> None:
    capture = capture_bus()
    EventPublisher(capture.bus_name).publish([an_oversized_order_cancelled()])
    [body] = published(capture)
    with pytest.raises(MalformedEventError, match="not one of OrderPlaced"):
        parse_sqs_record(record_of(body), (OrderPlaced,))
