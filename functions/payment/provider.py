"""The payment-provider port and the shipped sandbox adapter.

The sandbox is deterministic, so the demo and the tests can choose outcomes:
- payment token `tok_declined` is declined ("card declined");
- payment token `tok_insufficient_funds` is declined ("insufficient funds");
- any amount above 1,000,000 cents (10,000.00) is declined ("over the sandbox limit");
- everything else is approved. Charge ids derive from the order id.
A real provider implements the same `PaymentProvider` protocol and is chosen by
the PAYMENT_PROVIDER setting.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

DECLINED_TOKENS = {"tok_declined": "card declined", "tok_insufficient_funds": "insufficient funds"}
SANDBOX_LIMIT_CENTS = 1_000_000


@dataclass(frozen=True)
class ChargeResult:
    approved: bool
    charge_id: str = ""
    decline_reason: str = ""


class PaymentProvider(Protocol):
    def charge(self, order_id: str, amount_cents: int, currency: str, payment_token: str) -> ChargeResult: ...

    def refund(self, charge_id: str, amount_cents: int) -> str: ...


class SandboxProvider:
    """Deterministic test provider (see the module docstring for its rules)."""

    def charge(self, order_id: str, amount_cents: int, currency: str, payment_token: str) -> ChargeResult:
        if payment_token in DECLINED_TOKENS:
            return ChargeResult(approved=False, decline_reason=DECLINED_TOKENS[payment_token])
        if amount_cents > SANDBOX_LIMIT_CENTS:
            return ChargeResult(approved=False, decline_reason="over the sandbox limit")
        return ChargeResult(approved=True, charge_id="ch_" + hashlib.sha256(order_id.encode()).hexdigest()[:20])

    def refund(self, charge_id: str, amount_cents: int) -> str:
        return "re_" + hashlib.sha256(charge_id.encode()).hexdigest()[:20]


def provider_named(name: str) -> PaymentProvider:
    if name == "sandbox":
        return SandboxProvider()
    raise ValueError(f"unknown payment provider {name!r}; only 'sandbox' ships")
