"""The payments ledger: per order, at most one CHARGE and at most one REFUND entry.

Items: `pk=ORDER#<order id>`, `sk=CHARGE` (charge_id, amount_cents, currency) and
`sk=REFUND` (refund_id, amount_cents; 0 when nothing was charged — that entry
also refuses any later charge for the order), and `sk=DECLINE` (the decline
reason) when the provider declined: a late charge is declined again unseen.
"""

from __future__ import annotations

from typing import Any

from orderflow import aws
from orderflow.envelope import Contract

CHARGE = "CHARGE"
REFUND = "REFUND"
# The provider declined the order's charge: the order is over, and a late charge gets the same answer.
DECLINE = "DECLINE"


class LedgerEntry(Contract):
    order_id: str
    kind: str
    reference: str
    amount_cents: int
    currency: str | None = None


def _key(order_id: str, kind: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": kind}}


class PaymentsLedger(aws.DynamoDBTable):
    """Each order's charge, refund and decline, each recorded at most once."""

    def entries(self, order_id: str) -> dict[str, LedgerEntry]:
        """The order's entries by kind (CHARGE / REFUND)."""
        response = self._dynamodb.query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_id}"}},
            ConsistentRead=True,
        )
        return {item["sk"]["S"]: _entry(order_id, item) for item in response.get("Items", [])}

    def record(self, entry: LedgerEntry, unless: str | None = None) -> bool:
        """Add an entry once; with `unless`, only while the order has no entry of that kind. False if refused."""
        item = {
            **_key(entry.order_id, entry.kind),
            "reference": {"S": entry.reference},
            "amount_cents": {"N": str(entry.amount_cents)},
        }
        if entry.currency:
            item["currency"] = {"S": entry.currency}
        writes: list[dict[str, Any]] = [
            {"Put": {"TableName": self.table_name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
        ]
        if unless:
            writes.append(
                {
                    "ConditionCheck": {
                        "TableName": self.table_name,
                        "Key": _key(entry.order_id, unless),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        # Any cancellation is a refusal here: the service reads the entries again and decides anew.
        return aws.succeeded(
            lambda: self._dynamodb.transact_write_items(TransactItems=writes), aws.TRANSACTION_CANCELLED
        )


def _entry(order_id: str, item: dict[str, Any]) -> LedgerEntry:
    return LedgerEntry(
        order_id=order_id,
        kind=item["sk"]["S"],
        reference=item["reference"]["S"],
        amount_cents=int(item["amount_cents"]["N"]),
        currency=item.get("currency", {}).get("S"),
    )
