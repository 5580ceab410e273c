"""Inventory rules: what a reserve or release command does, given the order's reservation so far."""

from __future__ import annotations

from collections import Counter
from enum import StrEnum

from orderflow.catalog import StockLine
from orderflow.envelope import Contract


class ReservationState(StrEnum):
    RESERVED = "RESERVED"
    RELEASED = "RELEASED"
    # Refused for lack of stock: the order is over, so any later reserve gets the same answer.
    REFUSED = "REFUSED"


class Reservation(Contract):
    order_id: str
    state: ReservationState
    lines: list[StockLine]


class ReserveDecision(StrEnum):
    RESERVE = "reserve"
    ALREADY_RESERVED = "already_reserved"
    ALREADY_REFUSED = "already_refused"
    REFUSE = "refuse"


class ReleaseDecision(StrEnum):
    RELEASE = "release"
    ALREADY_RELEASED = "already_released"
    TOMBSTONE = "tombstone"  # nothing reserved: remember the release so a late reserve is refused


def aggregate(lines: list[StockLine]) -> list[StockLine]:
    """One line per SKU (an order may name a SKU twice), in a stable order."""
    totals: Counter[str] = Counter()
    for line in lines:
        totals[line.sku] += line.quantity
    return [StockLine(sku=sku, quantity=quantity) for sku, quantity in sorted(totals.items())]


def decide_reserve(existing: Reservation | None) -> ReserveDecision:
    if existing is None:
        return ReserveDecision.RESERVE
    if existing.state is ReservationState.RESERVED:
        return ReserveDecision.ALREADY_RESERVED
    if existing.state is ReservationState.REFUSED:
        return ReserveDecision.ALREADY_REFUSED
    return ReserveDecision.REFUSE


def decide_release(existing: Reservation | None) -> ReleaseDecision:
    if existing is None:
        return ReleaseDecision.TOMBSTONE
    if existing.state is ReservationState.RESERVED:
        return ReleaseDecision.RELEASE
    return ReleaseDecision.ALREADY_RELEASED
