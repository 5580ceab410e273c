"""The local cloud's event source mappings and bridges behave like Lambda's and EventBridge's.

A tiny fixture template (tests/integration/localcloud_fixture) drives probe
functions that record what they processed, so each semantic is observable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.localcloud.cloud import LocalCloud
from tools.localcloud.template import load_template

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).with_name("localcloud_fixture") / "template.yaml"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(load_template(FIXTURE), stack_name="probe", work_dir=tmp_path_factory.mktemp("probe")) as running:
        yield running


def put(cloud: LocalCloud, *events: tuple[str, dict[str, Any]]) -> None:
    entries = [
        {"EventBusName": "probe-bus", "Source": "probe", "DetailType": detail_type, "Detail": json.dumps(detail)}
        for detail_type, detail in events
    ]
    assert cloud.client("events").put_events(Entries=entries)["FailedEntryCount"] == 0


def seen(cloud: LocalCloud) -> set[str]:
    items = cloud.client("dynamodb").scan(TableName=cloud.ref("SeenTable"))["Items"]
    return {item["id"]["S"] for item in items}


def messages_in(cloud: LocalCloud, queue_id: str) -> list[dict[str, Any]]:
    response = cloud.client("sqs").receive_message(
        QueueUrl=cloud.ref(queue_id), MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [json.loads(message["Body"]) for message in response.get("Messages", [])]


def test_partial_batch_response_fails_only_the_reported_record_which_is_redriven_to_the_dlq(cloud: LocalCloud) -> None:
    # Given a mapping with ReportBatchItemFailures and a queue with maxReceiveCount 2
    # When a batch has one good and one failing record
    put(cloud, ("Partial", {"n": 1}), ("Partial", {"n": 2, "fail": True}))
    cloud.wait_until_quiet(timeout=60)
    # Then the good one is processed once, and the failing one is retried, then lands in the DLQ
    assert "probe-PartialFunction:1" in seen(cloud)
    assert [message["detail"]["n"] for message in messages_in(cloud, "PartialDLQ")] == [2]
    stats = cloud.mapping_for_function("PartialFunction").stats
    assert stats.processed == 1
    assert stats.failed == 2  # delivered twice (maxReceiveCount) before SQS moved it


def test_partial_batch_response_is_ignored_without_report_batch_item_failures(cloud: LocalCloud) -> None:
    # Given the same function on a mapping WITHOUT ReportBatchItemFailures
    put(cloud, ("Ignored", {"n": 3}), ("Ignored", {"n": 4, "fail": True}))
    cloud.wait_until_quiet(timeout=60)
    # Then Lambda treats the invocation as a success: both messages are deleted, nothing is redriven
    assert "probe-IgnoredFunction:3" in seen(cloud)
    assert messages_in(cloud, "IgnoredDLQ") == []
    assert cloud.mapping_for_function("IgnoredFunction").stats.processed == 2


def test_kinesis_rule_is_bridged_with_its_partition_key_and_a_poison_record_goes_to_on_failure(
    cloud: LocalCloud,
) -> None:
    # Given a rule with a Kinesis target and a stream mapping with bisect, 2 retries and an on-failure queue
    put(
        cloud,
        ("Streamed", {"key": "a", "n": 5}),
        ("Streamed", {"key": "a", "n": 6, "poison": True}),
        ("Streamed", {"key": "a", "n": 7}),
    )
    cloud.wait_until_quiet(timeout=60)
    # Then the records around the poison one are processed in order, and the poison one alone is given up
    stream_items = cloud.client("dynamodb").scan(TableName=cloud.ref("SeenTable"))["Items"]
    numbers = [
        json.loads(item["detail"]["S"])["n"]
        for item in sorted(stream_items, key=lambda item: item["id"]["S"])
        if item["id"]["S"].startswith("stream:")
    ]
    assert numbers == [5, 7]
    failures = messages_in(cloud, "StreamFailures")
    assert len(failures) == 1
    assert failures[0]["KinesisBatchInfo"]["batchSize"] == 1


def test_an_event_without_the_partition_key_goes_to_the_rule_targets_dlq(cloud: LocalCloud) -> None:
    put(cloud, ("Streamed", {"n": 8}))
    cloud.wait_until_quiet(timeout=60)
    assert [message["detail"]["n"] for message in messages_in(cloud, "StreamRuleDLQ")] == [8]


def test_a_cancelled_transaction_leaves_every_item_as_it_was(cloud: LocalCloud) -> None:
    # Given two items, and a transaction that updates one, adds a third, and fails a condition on the second
    dynamodb, table = cloud.client("dynamodb"), cloud.ref("SeenTable")
    for name in ("tx-kept", "tx-guard"):
        dynamodb.put_item(TableName=table, Item={"id": {"S": name}, "n": {"N": "1"}})
    add_one = {"UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}
    cancelled = [
        {"Update": {"TableName": table, "Key": {"id": {"S": "tx-kept"}}, **add_one}},
        {"Put": {"TableName": table, "Item": {"id": {"S": "tx-new"}}}},
        {
            "ConditionCheck": {
                "TableName": table,
                "Key": {"id": {"S": "tx-guard"}},
                "ConditionExpression": "n > :n",
                "ExpressionAttributeValues": {":n": {"N": "5"}},
            }
        },
    ]
    # When it is cancelled
    with pytest.raises(cloud.client("dynamodb").exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=cancelled)

    # Then nothing it touched changed (the local cloud backs up the touched items, not whole tables)
    def item(name: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = dynamodb.get_item(TableName=table, Key={"id": {"S": name}}).get("Item")
        return found

    assert item("tx-kept") == {"id": {"S": "tx-kept"}, "n": {"N": "1"}}
    assert item("tx-new") is None
    # And without the failing condition, every write applies
    dynamodb.transact_write_items(TransactItems=cancelled[:2])
    assert item("tx-kept") == {"id": {"S": "tx-kept"}, "n": {"N": "2"}}
    assert item("tx-new") == {"id": {"S": "tx-new"}}


def test_a_query_reads_one_hash_keys_items_in_range_order_page_by_page(cloud: LocalCloud) -> None:
    # Given a table with a range key and items under several hash keys
    dynamodb = cloud.client("dynamodb")
    dynamodb.create_table(
        TableName="probe-pairs",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    for pk in ("a", "b", "c"):
        for sk in ("3", "1", "2"):
            dynamodb.put_item(TableName="probe-pairs", Item={"pk": {"S": pk}, "sk": {"S": sk}})

    def query(pk: str, **extra: Any) -> dict[str, Any]:
        response: dict[str, Any] = dynamodb.query(
            TableName="probe-pairs",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            **extra,
        )
        return response

    # Then a query returns that key's items only, in range order (either way), page by page
    assert [item["sk"]["S"] for item in query("b")["Items"]] == ["1", "2", "3"]
    assert [item["sk"]["S"] for item in query("b", ScanIndexForward=False)["Items"]] == ["3", "2", "1"]
    first = query("c", Limit=2)
    rest = query("c", Limit=2, ExclusiveStartKey=first["LastEvaluatedKey"])
    assert [item["sk"]["S"] for item in first["Items"] + rest["Items"]] == ["1", "2", "3"]
    assert query("nothing")["Items"] == []
