"""Apply ReserveInventory / ReleaseInventory and say what happened (facts and the saga's answer)."""

from __future__ import annotations

from inventory.rules import (
    ReleaseDecision,
    ReserveDecision,
    decide_release,
    decide_reserve,
)
from inventory.store import InventoryStore
from orderflow.catalog import (
    InventoryReleased,
    InventoryReleasedData,
    InventoryReservationFailed,
    InventoryReservationFailedData,
    InventoryReserved,
    InventoryReservedData,
    ReleaseInventory,
    ReserveInventory,
    Shortage,
)
from orderflow.commands import CommandOutcome
from orderflow.saga import SagaError

PRODUCER = "inventory"
MAX_RACES = 3


def reserve_stock(command: ReserveInventory, store: InventoryStore) -> CommandOutcome:
    order_id = command.data.order_id
    for _ in range(MAX_RACES):
        existing = store.reservation(order_id)
        decision = decide_reserve(existing)
        if decision is ReserveDecision.REFUSE:
            return CommandOutcome.failed(
                SagaError.ORDER_COMPENSATED, f"order {order_id} was already released; not reserving"
            )
        if decision is ReserveDecision.ALREADY_RESERVED and existing is not None:
            return _reserved(command, existing.lines)
        if decision is ReserveDecision.ALREADY_REFUSED:
            return _out_of_stock(command, [])
        result = store.reserve(order_id, command.data.items)
        if result.reserved:
            reservation = store.reservation(order_id)
            return _reserved(command, reservation.lines if reservation else command.data.items)
        # Out of stock ends the order: record it, so a late (redriven) reserve can never take stock.
        if not result.lost_race and store.record_refusal(order_id):
            return _out_of_stock(command, result.shortages)
    raise RuntimeError(f"reservation for {order_id} kept racing; retrying the message")


def _out_of_stock(command: ReserveInventory, shortages: list[Shortage]) -> CommandOutcome:
    data = InventoryReservationFailedData(
        order_id=command.data.order_id, shortages=shortages, reason="insufficient stock"
    )
    failed = InventoryReservationFailed.in_reaction_to(command, data, producer=PRODUCER)
    cause = ", ".join(f"{s.sku}: {s.available} of {s.requested}" for s in shortages)
    return CommandOutcome.failed(SagaError.OUT_OF_STOCK, cause or "insufficient stock", failed)


def _reserved(command: ReserveInventory, lines: list) -> CommandOutcome:  # type: ignore[type-arg]
    data = InventoryReservedData(order_id=command.data.order_id, items=lines)
    fact = InventoryReserved.in_reaction_to(command, data, producer=PRODUCER)
    return CommandOutcome.succeeded({"reserved": [line.model_dump() for line in lines]}, fact)


def release_stock(command: ReleaseInventory, store: InventoryStore) -> CommandOutcome:
    order_id = command.data.order_id
    for _ in range(MAX_RACES):
        existing = store.reservation(order_id)
        decision = decide_release(existing)
        if decision is ReleaseDecision.RELEASE and existing is not None:
            store.release(existing)
            released = existing.lines
        elif decision is ReleaseDecision.ALREADY_RELEASED and existing is not None:
            released = existing.lines
        elif not store.record_release_without_reservation(order_id):
            continue  # a reservation landed meanwhile: release it on the next pass
        else:
            released = []
        fact = InventoryReleased.in_reaction_to(
            command, InventoryReleasedData(order_id=order_id, items=released), producer=PRODUCER
        )
        return CommandOutcome.succeeded({"released": [line.model_dump() for line in released]}, fact)
    raise RuntimeError(f"release for {order_id} kept racing; retrying the message")
