"""A small client for the orders HTTP API: the main job and the tests place and read orders through it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "London",
    "postal_code": "N1 9GU",
    "country": "GB",
}


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: Any
    headers: dict[str, str]


def order_request(
    *lines: tuple[str, int, int], token: str = "tok_visa", address: dict[str, str] | None = None
) -> dict[str, Any]:
    """A POST /orders body; each line is (sku, quantity, unit price in cents)."""
    return {
        "customer_id": f"cust-{uuid.uuid4().hex[:8]}",
        "items": [{"sku": sku, "quantity": quantity, "unit_price_cents": price} for sku, quantity, price in lines],
        "currency": "EUR",
        "payment_token": token,
        "shipping_address": address or ADDRESS,
    }


def request(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, raw: bool = False
) -> HttpResponse:
    """Send one request; an HTTP error status is returned, not raised, with its body parsed when it is JSON."""
    data = None if body is None else (body.encode() if raw else json.dumps(body).encode())
    http_request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        # Only ever our own API: the local cloud's server or a stack the user deployed.
        with urllib.request.urlopen(http_request, timeout=30) as response:
            payload = response.read()
            return HttpResponse(response.status, json.loads(payload) if payload else None, dict(response.headers))
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            parsed: Any = json.loads(payload)
        except json.JSONDecodeError:
            parsed = payload.decode(errors="replace")
        return HttpResponse(error.code, parsed, dict(error.headers))
