"""The carrier port and the shipped sandbox carrier.

The sandbox is deterministic: it refuses any address whose postal_code is
`00000` ("address not served"), so the demo and the tests can make shipment
creation fail; every other address gets a shipment whose id and tracking
number derive from the order id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from orderflow.catalog import Address

REFUSED_POSTAL_CODE = "00000"
CARRIER = "sandbox-post"


@dataclass(frozen=True)
class Booking:
    accepted: bool
    shipment_id: str = ""
    tracking_number: str = ""
    refusal: str = ""


class Carrier(Protocol):
    def book(self, order_id: str, address: Address) -> Booking: ...


class SandboxCarrier:
    def book(self, order_id: str, address: Address) -> Booking:
        if address.postal_code == REFUSED_POSTAL_CODE:
            return Booking(accepted=False, refusal=f"{CARRIER} does not serve postal code {address.postal_code}")
        digest = hashlib.sha256(order_id.encode()).hexdigest()
        return Booking(
            accepted=True, shipment_id=f"shp_{digest[:16]}", tracking_number=f"SP{int(digest[:10], 16):012d}"
        )
