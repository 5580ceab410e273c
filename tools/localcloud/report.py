"""The main job's report sections and invariant checks, read from the running local cloud."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from tools.dead_letters import dead_letter_targets
from tools.localcloud.alarms import evaluate_alarms
from tools.localcloud.cloud import LocalCloud
from tools.localcloud.mappings import KinesisMapping, SqsMapping
from tools.localcloud.orders_client import operator_request

if TYPE_CHECKING:
    from tools.localcloud.demo import Report, Response

COMPENSATION_FACTS = ("ShipmentCancelled", "PaymentRefunded", "InventoryReleased")


def history_types(view: dict[str, Any]) -> list[str]:
    return [str(entry.get("detail_type")) for entry in view.get("history", [])]


def saga_status(cloud: LocalCloud, order_id: str) -> str:
    """The status of the order's saga execution (its name is the order id)."""
    state_machine_arn = cloud.ref("OrderSaga")
    execution_arn = state_machine_arn.replace(":stateMachine:", ":execution:") + f":{order_id}"
    try:
        return str(cloud.client("stepfunctions").describe_execution(executionArn=execution_arn)["status"])
    except cloud.client("stepfunctions").exceptions.ExecutionDoesNotExist:
        return "NOT_STARTED"


def report_orders(report: Report, cloud: LocalCloud, orders: dict[str, Response], views: dict[str, Any]) -> None:
    report.section("Orders")
    statuses = Counter(view.get("status", "UNKNOWN") for view in views.values())
    report.add("  by status: " + ", ".join(f"{status} {count}" for status, count in sorted(statuses.items())))
    for order_id, response in orders.items():
        view = views[order_id]
        compensations = [kind for kind in history_types(view) if kind in COMPENSATION_FACTS]
        reason = view.get("cancellation_reason") or ""
        report.add(
            f"  {order_id:38} {response.request.label:32} {view.get('status', '?'):10} {reason:17} "
            f"saga {saga_status(cloud, order_id):10} compensations: {', '.join(compensations) or '-'}"
        )


def dead_letter_queue_of(cloud: LocalCloud, queue_logical_id: str) -> str | None:
    """The queue's DLQ (its redrive policy's target), if it has one."""
    properties = cloud.resolver.resolve(cloud.template.resources[queue_logical_id].get("Properties", {}))
    return next(iter(dead_letter_targets(properties, cloud.stack.logical_id_of_arn)), None)


def queue_id_by_url(cloud: LocalCloud, url: str) -> str:
    return next(logical_id for logical_id, physical in cloud.physical.items() if physical.ref == url)


def report_consumers(report: Report, cloud: LocalCloud) -> None:
    report.section("Consumers")
    report.add(f"  {'function':24} {'source':22} {'processed':>9} {'failed':>7} {'in DLQ':>7}")
    for mapping in cloud.mappings.values():
        if isinstance(mapping, SqsMapping):
            queue_id = queue_id_by_url(cloud, mapping.queue_url)
            dlq = dead_letter_queue_of(cloud, queue_id)
            in_dlq = cloud.queue_depths(dlq)[0] if dlq else 0
            source = queue_id
        else:
            assert isinstance(mapping, KinesisMapping)
            in_dlq = mapping.stats.sent_to_on_failure
            source = f"{mapping.stream_name.split('-', 1)[-1]} (stream)"
        stats = mapping.stats
        report.add(
            f"  {mapping.function.spec.logical_id:24} {source:22} {stats.processed:>9} {stats.failed:>7} {in_dlq:>7}"
        )
    for bridge in cloud.bridges:
        service = bridge.target["Arn"].split(":")[2]
        report.add(
            f"  bridge {bridge.rule_id} -> {service}: forwarded {bridge.forwarded}, "
            f"dead-lettered {bridge.dead_lettered}"
        )


def channel_queues(cloud: LocalCloud) -> dict[str, str]:
    """Notification channel name (from the subscription's filter policy) → its queue's logical id."""
    channels = {}
    for resource in cloud.template.of_type("AWS::SNS::Subscription").values():
        props = cloud.resolver.resolve(resource["Properties"])
        if props.get("Protocol") != "sqs":
            continue
        channel = ",".join(props.get("FilterPolicy", {}).get("channel", ["all"]))
        queue_name = props["Endpoint"].rsplit(":", 1)[1]
        channels[channel] = next(
            lid for lid, p in cloud.physical.items() if p.attributes.get("QueueName") == queue_name
        )
    return channels


def report_notifications(report: Report, cloud: LocalCloud) -> dict[str, int]:
    report.section("Notifications sent")
    counts = {}
    for channel, queue_id in sorted(channel_queues(cloud).items()):
        counts[channel] = cloud.queue_depths(queue_id)[0]
        report.add(f"  {channel:8} {counts[channel]}")
    return counts


def report_alarms(report: Report, cloud: LocalCloud) -> None:
    report.section("Alarms")
    evaluations = evaluate_alarms(cloud)
    states = Counter(evaluation.state for evaluation in evaluations)
    report.add("  " + ", ".join(f"{state} {count}" for state, count in sorted(states.items())))
    for evaluation in evaluations:
        if evaluation.state == "ALARM":
            report.add(f"  ALARM  {evaluation.logical_id:32} {evaluation.reason}")


def audit_trail(cloud: LocalCloud, order_id: str) -> list[dict[str, Any]]:
    """The order's trail, read as an operator (the IAM-authorized route, signed with the cloud's credentials)."""
    response = operator_request("GET", f"{cloud.api_url}/operator/orders/{order_id}/events", cloud.environment())
    return list(response.body["events"]) if response.status == 200 else []


def report_audit_trail(report: Report, cloud: LocalCloud, orders: dict[str, Response]) -> None:

    report.section("Audit trail of one order")
    chosen = next(
        (order_id for order_id, response in orders.items() if response.request.expect_reason == "SHIPPING_FAILED"),
        next(iter(orders), None),
    )
    if chosen is None:
        report.add("  no orders")
        return
    report.add(f"  GET /operator/orders/{chosen}/events  (SigV4-signed, as an operator)")
    for entry in audit_trail(cloud, chosen):
        report.add(
            f"  {entry.get('occurred_at', '')[:23]:24} {entry.get('source', ''):20} {entry.get('detail_type', '')}"
        )


def dead_lettered_messages(cloud: LocalCloud) -> dict[str, list[dict[str, Any]]]:
    """Every message sitting in a DLQ or on-failure queue, read without consuming it for good."""
    sqs = cloud.client("sqs")
    found: dict[str, list[dict[str, Any]]] = {}
    for queue_id in sorted(cloud.dead_letter_queue_ids()):
        messages = sqs.receive_message(QueueUrl=cloud.ref(queue_id), MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        )
        if messages:
            found[queue_id] = [json.loads(message["Body"]) for message in messages]
    return found


def failed_records(cloud: LocalCloud, message: dict[str, Any]) -> Any:
    """A dead letter's content: the message itself, or for a Kinesis on-failure record, the records it names."""
    info = message.get("KinesisBatchInfo")
    if not info:
        return message
    kinesis = cloud.client("kinesis")
    stream_name = info["streamArn"].rsplit("/", 1)[1]
    iterator = kinesis.get_shard_iterator(
        StreamName=stream_name,
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator, Limit=int(info["batchSize"]))["Records"]
    return [record["Data"].decode(errors="replace") for record in records]


def check_invariants(
    report: Report, cloud: LocalCloud, orders: dict[str, Response], views: dict[str, Any], seeded_stock: dict[str, int]
) -> None:
    from tools.localcloud import ledgers

    placed_in_history = [order_id for order_id, view in views.items() if "OrderPlaced" in history_types(view)]
    report.check(
        "every accepted order has its OrderPlaced in the projector's history", len(placed_in_history) == len(orders)
    )

    duplicates = [
        order_id
        for order_id, view in views.items()
        if len(history_types(view)) != len({entry.get("event_id") for entry in view.get("history", [])})
        or history_types(view).count("OrderPlaced") != 1
    ]
    report.check(
        "no event applied twice (history event ids unique, one OrderPlaced per order)",
        not duplicates,
        ", ".join(duplicates),
    )

    wrong = []
    races: dict[str, list[str]] = {}
    for order_id, response in orders.items():
        view = views[order_id]
        expected = response.request
        if expected.race:
            races.setdefault(expected.race, []).append(f"{view.get('status')} {view.get('cancellation_reason') or ''}")
            continue
        if view.get("status") != expected.expect_final or (
            expected.expect_reason and view.get("cancellation_reason") != expected.expect_reason
        ):
            wrong.append(f"{expected.label}: {view.get('status')} {view.get('cancellation_reason') or ''}")
    report.check("every order ends in the terminal state its scenario expects", not wrong, "; ".join(wrong))
    lost_races = [
        f"{sku}: {', '.join(outcomes)}"
        for sku, outcomes in races.items()
        if sorted(outcomes) != sorted(["CONFIRMED ", *["CANCELLED OUT_OF_STOCK"] * (len(outcomes) - 1)])
    ]
    report.check(
        "exactly one order wins each race for a last unit, the others are OUT_OF_STOCK",
        not lost_races,
        "; ".join(lost_races),
    )

    not_ended = [order_id for order_id in orders if saga_status(cloud, order_id) != "SUCCEEDED"]
    report.check("every order's saga execution ended (succeeded)", not not_ended, ", ".join(not_ended))

    by_key: dict[str, set[str]] = {}
    for response in orders.values():
        if response.request.idempotency_key:
            by_key.setdefault(response.request.idempotency_key, set()).add(str(response.order_id))
    report.check("a repeated Idempotency-Key gives one order", all(len(ids) == 1 for ids in by_key.values()))

    dead = dead_lettered_messages(cloud)
    unexpected = {
        queue: [m for m in messages if "malformed-demo-event" not in json.dumps(failed_records(cloud, m))]
        for queue, messages in dead.items()
    }
    unexpected = {queue: messages for queue, messages in unexpected.items() if messages}
    report.check(
        "no event lost: the only dead letters are the injected malformed event",
        not unexpected,
        "; ".join(f"{queue}: {len(messages)}" for queue, messages in unexpected.items()),
    )
    report.add(f"  dead letters: {', '.join(f'{queue} {len(messages)}' for queue, messages in dead.items()) or 'none'}")
    caught = [queue for queue, messages in dead.items() if "malformed-demo-event" in json.dumps(messages)]
    report.check("the injected malformed event failed alone into DLQs, alarmed", bool(caught), ", ".join(caught))

    trails = {order_id: [entry["detail_type"] for entry in audit_trail(cloud, order_id)] for order_id in orders}
    incomplete = [
        order_id
        for order_id, kinds in trails.items()
        if not kinds
        or kinds[0] != "OrderPlaced"
        or kinds[-1] not in ("OrderConfirmed", "OrderCancelled")
        or len(kinds) != len(set(kinds))
    ]
    report.check(
        "every order's audit trail runs OrderPlaced ... Confirmed/Cancelled, each event once",
        not incomplete,
        ", ".join(incomplete),
    )

    confirmed = {order_id: views[order_id] for order_id in orders if views[order_id].get("status") == "CONFIRMED"}
    available = ledgers.available_stock(cloud, list(seeded_stock))
    reserved_for_confirmed: Counter[str] = Counter()
    for view in confirmed.values():
        for item in view.get("items", []):
            reserved_for_confirmed[item["sku"]] += int(item["quantity"])
    stock_errors = [
        f"{sku}: {available.get(sku)} + {reserved_for_confirmed[sku]} != {seeded}"
        for sku, seeded in seeded_stock.items()
        if available.get(sku, 0) + reserved_for_confirmed[sku] != seeded
    ]
    report.check(
        "for every SKU: available + reserved for confirmed orders = seeded", not stock_errors, "; ".join(stock_errors)
    )

    charged, refunded = ledgers.payment_totals(cloud, list(orders))
    confirmed_total = sum(int(view.get("total_cents", 0)) for view in confirmed.values())
    net = sum(charged.values()) - sum(refunded.values())
    report.check("charges - refunds = total of confirmed orders", net == confirmed_total, f"{net} vs {confirmed_total}")
    unrefunded = [
        order_id
        for order_id in orders
        if order_id not in confirmed and charged.get(order_id, 0) != refunded.get(order_id, 0)
    ]
    report.check("no charge for a cancelled order stays unrefunded", not unrefunded, ", ".join(unrefunded))
