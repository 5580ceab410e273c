"""What each function does per record, counted from its adapters' AWS calls.

The template says who receives what (rules, queues, streams, memory); it cannot say what a
function's code calls. That is written here, once per function and per saga command outcome,
from the adapters named in each entry, and tests/unit/test_cost_model.py holds it to the template
(every consumer and every command on a saga path has an entry, every table is the template's, every
fact is an event of the answering service). DynamoDB units follow DynamoDB's rules: a write is
1 unit per KB, a strongly consistent read 1 unit per 4 KB, and an item in TransactWriteItems
(ConditionCheck included) counts twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# The adapters write these tables (logical ids in template.yaml).
ORDERS, INVENTORY, PAYMENTS, SHIPMENTS, AUDIT = (
    "OrdersTable",
    "InventoryTable",
    "PaymentsTable",
    "ShipmentsTable",
    "AuditTable",
)
IDEMPOTENCY = "IdempotencyTable"
# A function's environment variable naming how many records of a batch it handles at once
# (functions/auditor/writers.py: that many conditional puts in flight).
WRITERS_VARIABLE = "AUDIT_WRITERS"


@dataclass(frozen=True)
class Units:
    """Request units one call consumes on one table."""

    table: str
    read: float = 0.0
    write: float = 0.0


def get(table: str, kb: float = 1.0) -> Units:
    """GetItem or Query, strongly consistent (every adapter reads with ConsistentRead=True)."""
    return Units(table, read=math.ceil(kb / 4))


def put(table: str, kb: float = 1.0) -> Units:
    """PutItem or UpdateItem (a refused conditional write still consumes its units)."""
    return Units(table, write=math.ceil(kb))


def transact(table: str, items: int, kb: float = 1.0) -> Units:
    """TransactWriteItems of `items` items (Put, Update or ConditionCheck): two units per KB per item."""
    return Units(table, write=2 * items * math.ceil(kb))


@dataclass(frozen=True)
class Work:
    """One record's work: DynamoDB calls, facts put on the bus, and other AWS calls."""

    units: tuple[Units, ...] = ()
    facts: tuple[str, ...] = ()  # detail types published in one PutEvents call
    task_token_calls: int = 0  # SendTaskHeartbeat / SendTaskSuccess / SendTaskFailure
    start_executions: int = 0
    sns_publishes: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
    # Measured CPU time per record on one full core, for a function that overlaps its records' waits
    # (AUDIT_WRITERS): the overlap ends where its share of a core is busy. None: never measured.
    cpu_ms: float | None = None


@dataclass(frozen=True)
class Sizes:
    """Item sizes and order shape the unit counts depend on."""

    order_lines: int = 2  # distinct SKUs per order
    order_item_kb: float = 2.0  # the orders table item (the view, and at intake the outbox OrderPlaced)
    audit_item_kb: float = 1.0  # one audit entry (the event's detail)


ANSWERED = "answered"  # a saga command applied and answered with success
SERVICE_DOWN = "States.Timeout"  # the service never answered: it did no work


def consumer_work(function: str, sizes: Sizes) -> Work | None:
    """Per record of a function that is not a saga service (None: unknown to the model)."""
    found = {
        # projector/projection.py project(): OrdersTable.get then .replace (optimistic put)
        "ProjectorFunction": Work(units=(get(ORDERS, sizes.order_item_kb), put(ORDERS, sizes.order_item_kb))),
        # notifier/topic.py publish_notification(): one SNS publish (the topic fans out to one channel queue)
        "NotifierFunction": Work(sns_publishes=1),
        # saga_starter/executions.py: one StartExecution named after the order
        "SagaStarterFunction": Work(start_executions=1),
        # orderflow/audit.py AuditTable.append(): one conditional put of the entry, keyed on its event id.
        # CPU: 1.7 ms a put (botocore's serialising, signing, HTTP and parsing; the client process's CPU
        # time over 1,000 puts to moto running in another process) and 0.03 ms to parse the record
        # (auditor/trail.py audit_entry), on this repository's 2-core AMD EPYC machine (decision 0022).
        "AuditorFunction": Work(units=(put(AUDIT, sizes.audit_item_kb),), cpu_ms=1.73),
        # orderflow/orders_table.py OrdersTable.create(): one conditional put of the order and its OrderPlaced
        "OrdersApiFunction": Work(units=(put(ORDERS, sizes.order_item_kb),)),
        # outbox_relay/handler.py: checks the stored OrderPlaced against its contract; no AWS call
        "OutboxRelayFunction": Work(),
    }
    return found.get(function)


def command_profiles(sizes: Sizes) -> dict[tuple[str, str], Work]:
    """Per saga command and outcome (ANSWERED, or the error the saga catches): what its service does."""
    lines = sizes.order_lines
    forward = 2  # should_apply's SendTaskHeartbeat, then the answer
    compensation = 1  # a compensation is always applied: only the answer
    found = {
        # inventory/service.py reserve_stock(): reservation(), reserve() (L stock updates and the
        # reservation, in one transaction), reservation() again
        ("ReserveInventory", ANSWERED): Work(
            units=(get(INVENTORY), transact(INVENTORY, lines + 1), get(INVENTORY)),
            facts=("InventoryReserved",),
            task_token_calls=forward,
        ),
        # ...refused: reservation(), the cancelled transaction, available() per line, record_refusal()
        ("ReserveInventory", "OutOfStock"): Work(
            units=(get(INVENTORY), transact(INVENTORY, lines + 1), *[get(INVENTORY)] * lines, put(INVENTORY)),
            facts=("InventoryReservationFailed",),
            task_token_calls=forward,
        ),
        # inventory/service.py release_stock(): reservation(), release() (the reservation + L stock updates)
        ("ReleaseInventory", ANSWERED): Work(
            units=(get(INVENTORY), transact(INVENTORY, lines + 1)),
            facts=("InventoryReleased",),
            task_token_calls=compensation,
        ),
        # payment/service.py charge_payment(): ledger.entries() (a query), ledger.record(charge, unless=REFUND)
        ("ChargePayment", ANSWERED): Work(
            units=(get(PAYMENTS), transact(PAYMENTS, 2)),
            facts=("PaymentCharged",),
            task_token_calls=forward,
        ),
        ("ChargePayment", "PaymentDeclined"): Work(
            units=(get(PAYMENTS), transact(PAYMENTS, 2)),
            facts=("PaymentDeclined",),
            task_token_calls=forward,
        ),
        # payment/service.py refund_payment(): entries(), record(refund) of the charge
        ("RefundPayment", ANSWERED): Work(
            units=(get(PAYMENTS), transact(PAYMENTS, 1)),
            facts=("PaymentRefunded",),
            task_token_calls=compensation,
        ),
        # shipping/service.py create_shipment(): store.get(), store.create() (a conditional put)
        ("CreateShipment", ANSWERED): Work(
            units=(get(SHIPMENTS), put(SHIPMENTS)),
            facts=("ShipmentCreated",),
            task_token_calls=forward,
        ),
        # ...refused by the carrier: the REFUSED record, no fact
        ("CreateShipment", "ShipmentFailed"): Work(
            units=(get(SHIPMENTS), put(SHIPMENTS)),
            task_token_calls=forward,
        ),
        # shipping/service.py cancel_shipment(): store.get(), then cancel() or a CANCELLED tombstone
        ("CancelShipment", ANSWERED): Work(
            units=(get(SHIPMENTS), put(SHIPMENTS)),
            facts=("ShipmentCancelled",),
            task_token_calls=compensation,
        ),
    }
    return found


def command_work(command: str, outcome: str, sizes: Sizes) -> Work | None:
    """What the service does for a command and outcome; None: not profiled."""
    if outcome == SERVICE_DOWN:
        return Work(notes=(f"{command}: the service did no work (it never answered)",))
    return command_profiles(sizes).get((command, outcome))


def known_commands() -> set[tuple[str, str]]:
    """Every (command, outcome) with a profile, for the tests."""
    return set(command_profiles(Sizes()))
