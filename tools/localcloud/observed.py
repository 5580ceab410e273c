"""What the system holds after a run, read straight from its stores with boto3 (never through its code).

The chaos invariants are checked against this snapshot: the tables (orders,
inventory, payments, shipments, audit), the audit stream (every event the bus
carried, via the audit rule), the saga's executions, the dead-letter queues and
the alarms. Layouts are the ones the services document in their modules.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from tools.localcloud.alarms import evaluate_alarms
from tools.localcloud.cloud import LocalCloud

_DESERIALIZER = TypeDeserializer()


@dataclass
class Snapshot:
    """The stores' contents, keyed by order id (or SKU, queue, alarm)."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    stock: dict[str, int] = field(default_factory=dict)
    reservations: dict[str, dict[str, Any]] = field(default_factory=dict)  # state, lines [(sku, quantity)]
    ledger: dict[str, dict[str, int]] = field(default_factory=dict)  # order -> {CHARGE|REFUND|...: amount}
    shipments: dict[str, str] = field(default_factory=dict)  # order -> state
    audit: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # (position, event id, type)
    stream: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (event id, type) in stream order
    executions: dict[str, list[str]] = field(default_factory=dict)  # execution name -> statuses
    dead_letters: dict[str, list[list[str]]] = field(default_factory=dict)  # DLQ -> messages -> texts
    stream_failure_queues: set[str] = field(default_factory=set)  # DLQs holding Kinesis on-failure records
    dlq_alarms: dict[str, str] = field(default_factory=dict)  # DLQ -> its depth alarm's state


def plain(value: Any) -> Any:
    """DynamoDB's Decimals back to ints, recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | set):
        return [plain(item) for item in value]
    return value


def scan(cloud: LocalCloud, table_id: str, *attributes: str) -> Iterator[dict[str, Any]]:
    """Every item of a table (only the named attributes, if any are named), as plain Python."""
    arguments: dict[str, Any] = {"TableName": cloud.ref(table_id), "ConsistentRead": True}
    if attributes:  # smaller pages: moto re-walks the table from the start for every page
        names = {f"#a{index}": name for index, name in enumerate(attributes)}
        arguments |= {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
    paginator = cloud.client("dynamodb").get_paginator("scan")
    for page in paginator.paginate(**arguments):
        for item in page.get("Items", []):
            yield plain({key: _DESERIALIZER.deserialize(value) for key, value in item.items()})


def _order_of(pk: str) -> str | None:
    return pk.removeprefix("ORDER#") if pk.startswith("ORDER#") else None


def read_inventory(cloud: LocalCloud, snapshot: Snapshot) -> None:
    for item in scan(cloud, "InventoryTable"):
        pk = str(item["pk"])
        if pk.startswith("SKU#") and item["sk"] == "STOCK":
            snapshot.stock[pk.removeprefix("SKU#")] = int(item["available"])
        elif (order_id := _order_of(pk)) and item["sk"] == "RESERVATION":
            lines = [(str(line["sku"]), int(line["quantity"])) for line in item.get("lines", [])]
            snapshot.reservations[order_id] = {"state": item.get("state"), "lines": lines}


def read_payments_and_shipments(cloud: LocalCloud, snapshot: Snapshot) -> None:
    for item in scan(cloud, "PaymentsTable"):
        if order_id := _order_of(str(item["pk"])):
            snapshot.ledger.setdefault(order_id, {})[str(item["sk"])] = int(item.get("amount_cents", 0))
    for item in scan(cloud, "ShipmentsTable"):
        if order_id := _order_of(str(item["pk"])):
            snapshot.shipments[order_id] = str(item.get("state"))


def read_audit(cloud: LocalCloud, snapshot: Snapshot, order_ids: Iterable[str]) -> None:
    """Each order's trail, one query per order (a scan of the whole audit table costs moto far more)."""
    paginator = cloud.client("dynamodb").get_paginator("query")
    for order_id in sorted(set(order_ids)):
        entries = []
        for page in paginator.paginate(
            TableName=cloud.ref("AuditTable"),
            KeyConditionExpression="order_id = :order",
            ExpressionAttributeValues={":order": {"S": order_id}},
            ConsistentRead=True,
        ):
            for raw in page.get("Items", []):
                item = plain({key: _DESERIALIZER.deserialize(value) for key, value in raw.items()})
                if "event_id" in item and str(item["position"]).isdigit():
                    entries.append((str(item["position"]), str(item["event_id"]), str(item["detail_type"])))
        if entries:
            snapshot.audit[order_id] = sorted(entries)


def stream_records(cloud: LocalCloud, stream_id: str = "AuditStream") -> Iterator[dict[str, Any]]:
    """Every record on the stream, shard by shard, oldest first."""
    kinesis = cloud.client("kinesis")
    name = cloud.ref(stream_id)
    for shard in kinesis.describe_stream(StreamName=name)["StreamDescription"]["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            response = kinesis.get_records(ShardIterator=iterator, Limit=10000)
            yield from response["Records"]
            if not response["Records"]:
                break
            iterator = response.get("NextShardIterator")


def read_stream(cloud: LocalCloud, snapshot: Snapshot) -> None:
    """Each order's events as the bus carried them (poison and other non-events skipped)."""
    events: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for record in stream_records(cloud):
        try:
            event = json.loads(record["Data"])
            detail = event["detail"]
            order_id = detail["data"]["order_id"]
            event_id = detail["metadata"]["event_id"]
        except (ValueError, KeyError, TypeError):
            continue
        if isinstance(order_id, str) and isinstance(event_id, str):
            events[order_id].append((event_id, str(event.get("detail-type"))))
    snapshot.stream = dict(events)


def read_executions(cloud: LocalCloud, snapshot: Snapshot) -> None:
    paginator = cloud.client("stepfunctions").get_paginator("list_executions")
    for page in paginator.paginate(stateMachineArn=cloud.ref("OrderSaga")):
        for execution in page["executions"]:
            snapshot.executions.setdefault(execution["name"], []).append(execution["status"])


def _stream_batch(body: str) -> dict[str, Any] | None:
    """The KinesisBatchInfo of a Kinesis on-failure record, None for any other message."""
    try:
        info = json.loads(body).get("KinesisBatchInfo")
    except (ValueError, AttributeError):
        return None
    return info if isinstance(info, dict) else None


def _failed_records(cloud: LocalCloud, body: str) -> list[str]:
    """A dead letter's content: the message, or for a Kinesis on-failure record, the records it names."""
    info = _stream_batch(body)
    if not info:
        return [body]
    kinesis = cloud.client("kinesis")
    iterator = kinesis.get_shard_iterator(
        StreamName=info["streamArn"].rsplit("/", 1)[1],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator, Limit=int(info["batchSize"]))["Records"]
    return [record["Data"].decode(errors="replace") for record in records]


def read_dead_letters(cloud: LocalCloud, snapshot: Snapshot) -> None:
    """Every message in every DLQ; each is hidden while read, then made visible again for the alarms."""
    sqs = cloud.client("sqs")
    for queue_id in sorted(cloud.dead_letter_queue_ids()):
        url, handles, messages = cloud.ref(queue_id), [], []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
            "Messages", []
        ):
            for message in batch:
                handles.append(message["ReceiptHandle"])
                messages.append(_failed_records(cloud, message["Body"]))
                if _stream_batch(message["Body"]):
                    snapshot.stream_failure_queues.add(queue_id)
        for handle in handles:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
        if messages:
            snapshot.dead_letters[queue_id] = messages


def read_dlq_alarms(cloud: LocalCloud, snapshot: Snapshot) -> None:
    """The state of each DLQ's depth alarm (the alarm on its ApproximateNumberOfMessagesVisible)."""
    states = {evaluation.logical_id: evaluation.state for evaluation in evaluate_alarms(cloud)}
    queue_by_name = {cloud.attribute(queue_id, "QueueName"): queue_id for queue_id in cloud.dead_letter_queue_ids()}
    for alarm_id, resource in cloud.template.of_type("AWS::CloudWatch::Alarm").items():
        props = cloud.resolver.resolve(resource.get("Properties", {}))
        if props.get("MetricName") != "ApproximateNumberOfMessagesVisible" or alarm_id not in states:
            continue
        for dimension in props.get("Dimensions", []):
            if dimension.get("Name") == "QueueName" and dimension.get("Value") in queue_by_name:
                snapshot.dlq_alarms[queue_by_name[dimension["Value"]]] = states[alarm_id]


def observe(cloud: LocalCloud) -> Snapshot:
    """Read everything the invariants need (alarms first: reading a DLQ hides its messages for a moment)."""
    snapshot = Snapshot()
    read_dlq_alarms(cloud, snapshot)
    snapshot.orders = {str(item["order_id"]): item for item in scan(cloud, "OrdersTable")}
    read_inventory(cloud, snapshot)
    read_payments_and_shipments(cloud, snapshot)
    read_stream(cloud, snapshot)
    read_audit(cloud, snapshot, [*snapshot.orders, *snapshot.stream])
    read_executions(cloud, snapshot)
    read_dead_letters(cloud, snapshot)
    return snapshot
