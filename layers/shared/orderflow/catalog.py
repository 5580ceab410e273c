"""The event catalog: one model per event type, the single source of the contracts.

Facts are past tense and published by the service that did the work; commands
are imperative and published by the saga (built in its ASL, checked against
these models by a contract test).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from orderflow.envelope import Command, Contract, Event

OrderId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Sku = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Z0-9-]+$")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Cents = Annotated[int, Field(ge=0, le=100_000_000)]
Quantity = Annotated[int, Field(ge=1, le=100)]
# Free text a service or carrier wrote (a reason, a tracking number): bounded, like every string on the bus.
Reference = Annotated[str, Field(min_length=1, max_length=128)]
Reason = Annotated[str, Field(max_length=1000)]
# The services whose compensation the saga records when it gives up (the ASL's Catch ResultPaths).
CompensatedService = Literal["inventory", "payment", "shipping"]

ORDERS_SOURCE = "orderflow.orders"
SAGA_SOURCE = "orderflow.saga"
# The most lines an order may have (PlaceOrderRequest), so every event that lists an order's lines takes as
# many; an event too large for the bus travels as a claim-check reference (orderflow.claim_check).
MAX_ORDER_LINES = 1000
# The most distinct SKUs an order may name: inventory reserves (and releases) an order in one DynamoDB
# transaction, one item per SKU plus the reservation, and TransactWriteItems takes at most 100 items.
MAX_ORDER_SKUS = 99

INVENTORY_SOURCE = "orderflow.inventory"
PAYMENT_SOURCE = "orderflow.payment"
SHIPPING_SOURCE = "orderflow.shipping"


class LineItem(Contract):
    sku: Sku
    quantity: Quantity
    unit_price_cents: Cents


class StockLine(Contract):
    sku: Sku
    quantity: Quantity


class Address(Contract):
    name: str = Field(min_length=1, max_length=100)
    line1: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")


class CancellationReason(StrEnum):
    OUT_OF_STOCK = "OUT_OF_STOCK"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    SHIPPING_FAILED = "SHIPPING_FAILED"
    STEP_TIMED_OUT = "STEP_TIMED_OUT"
    STEP_FAILED = "STEP_FAILED"


# --- order lifecycle ---------------------------------------------------------


class OrderPlacedData(Contract):
    """total_cents is the sum of quantity * unit_price_cents over the items: the model checks it; JSON Schema
    cannot state a rule across fields."""

    order_id: OrderId
    customer_id: str = Field(min_length=1, max_length=64)
    items: list[LineItem] = Field(min_length=1, max_length=MAX_ORDER_LINES)
    currency: Currency
    total_cents: Cents
    payment_token: str = Field(min_length=1, max_length=64)
    shipping_address: Address

    @model_validator(mode="after")
    def total_matches_items(self) -> OrderPlacedData:
        expected = sum(item.quantity * item.unit_price_cents for item in self.items)
        if self.total_cents != expected:
            raise ValueError(f"total_cents {self.total_cents} does not match the items' total {expected}")
        return self


class OrderPlaced(Event):
    DETAIL_TYPE: ClassVar[str] = "OrderPlaced"
    SOURCE: ClassVar[str] = ORDERS_SOURCE
    data: OrderPlacedData


class OrderConfirmedData(Contract):
    order_id: OrderId


class OrderConfirmed(Event):
    DETAIL_TYPE: ClassVar[str] = "OrderConfirmed"
    SOURCE: ClassVar[str] = SAGA_SOURCE
    data: OrderConfirmedData


class CompensationFailure(Contract):
    """A compensation that gave up after its retries, as the saga's Catch records it."""

    # Step Functions names them so in a Catch's ResultPath.
    Error: str = Field(max_length=256)
    Cause: str | None = Field(default=None, max_length=32768)


class OrderCancelledData(Contract):
    order_id: OrderId
    reason: CancellationReason
    detail: Reason = ""
    # Empty unless a compensation gave up: the order is cancelled, but what it names still needs an operator.
    unresolved_compensations: dict[CompensatedService, CompensationFailure] = Field(default_factory=dict)


class OrderCancelled(Event):
    DETAIL_TYPE: ClassVar[str] = "OrderCancelled"
    SOURCE: ClassVar[str] = SAGA_SOURCE
    data: OrderCancelledData


# --- inventory ---------------------------------------------------------------


class ReserveInventoryData(Contract):
    order_id: OrderId
    items: list[StockLine] = Field(min_length=1, max_length=MAX_ORDER_LINES)


class ReserveInventory(Command):
    DETAIL_TYPE: ClassVar[str] = "ReserveInventory"
    SOURCE: ClassVar[str] = SAGA_SOURCE
    data: ReserveInventoryData


class ReleaseInventoryData(Contract):
    order_id: OrderId


class ReleaseInventory(Command):
    DETAIL_TYPE: ClassVar[str] = "ReleaseInventory"
    SOURCE: ClassVar[str] = SAGA_SOURCE
    COMPENSATES: ClassVar[bool] = True
    data: ReleaseInventoryData


class InventoryReservedData(Contract):
    order_id: OrderId
    items: list[StockLine] = Field(max_length=MAX_ORDER_LINES)


class InventoryReserved(Event):
    DETAIL_TYPE: ClassVar[str] = "InventoryReserved"
    SOURCE: ClassVar[str] = INVENTORY_SOURCE
    data: InventoryReservedData


class Shortage(Contract):
    sku: Sku
    requested: Quantity
    available: int = Field(ge=0, le=1_000_000_000)


class InventoryReservationFailedData(Contract):
    order_id: OrderId
    shortages: list[Shortage] = Field(default_factory=list, max_length=MAX_ORDER_LINES)
    reason: Reason = ""


class InventoryReservationFailed(Event):
    DETAIL_TYPE: ClassVar[str] = "InventoryReservationFailed"
    SOURCE: ClassVar[str] = INVENTORY_SOURCE
    data: InventoryReservationFailedData


class InventoryReleasedData(Contract):
    order_id: OrderId
    items: list[StockLine] = Field(
        default_factory=list, max_length=MAX_ORDER_LINES, description="Empty when nothing was reserved"
    )


class InventoryReleased(Event):
    DETAIL_TYPE: ClassVar[str] = "InventoryReleased"
    SOURCE: ClassVar[str] = INVENTORY_SOURCE
    data: InventoryReleasedData


# --- payment -----------------------------------------------------------------


class ChargePaymentData(Contract):
    order_id: OrderId
    amount_cents: Cents
    currency: Currency
    payment_token: str = Field(min_length=1, max_length=64)


class ChargePayment(Command):
    DETAIL_TYPE: ClassVar[str] = "ChargePayment"
    SOURCE: ClassVar[str] = SAGA_SOURCE
    data: ChargePaymentData


class RefundPaymentData(Contract):
    order_id: OrderId


class RefundPayment(Command):
    DETAIL_TYPE: ClassVar[str] = "RefundPayment"
    SOURCE: ClassVar[str] = SAGA_SOURCE
    COMPENSATES: ClassVar[bool] = True
    data: RefundPaymentData


class PaymentChargedData(Contract):
    order_id: OrderId
    charge_id: Reference
    amount_cents: Cents
    currency: Currency


class PaymentCharged(Event):
    DETAIL_TYPE: ClassVar[str] = "PaymentCharged"
    SOURCE: ClassVar[str] = PAYMENT_SOURCE
    data: PaymentChargedData


class PaymentDeclinedData(Contract):
    order_id: OrderId
    reason: Reason


class PaymentDeclined(Event):
    DETAIL_TYPE: ClassVar[str] = "PaymentDeclined"
    SOURCE: ClassVar[str] = PAYMENT_SOURCE
    data: PaymentDeclinedData


class PaymentRefundedData(Contract):
    order_id: OrderId
    amount_cents: Cents = Field(description="0 when there was nothing to refund")
    currency: Currency | None = None


class PaymentRefunded(Event):
    DETAIL_TYPE: ClassVar[str] = "PaymentRefunded"
    SOURCE: ClassVar[str] = PAYMENT_SOURCE
    data: PaymentRefundedData


# --- shipping ----------------------------------------------------------------


class CreateShipmentData(Contract):
    order_id: OrderId
    address: Address
    items: list[StockLine] = Field(min_length=1, max_length=MAX_ORDER_LINES)


class CreateShipment(Command):
    DETAIL_TYPE: ClassVar[str] = "CreateShipment"
    SOURCE: ClassVar[str] = SAGA_SOURCE
    data: CreateShipmentData


class CancelShipmentData(Contract):
    order_id: OrderId


class CancelShipment(Command):
    DETAIL_TYPE: ClassVar[str] = "CancelShipment"
    SOURCE: ClassVar[str] = SAGA_SOURCE
    COMPENSATES: ClassVar[bool] = True
    data: CancelShipmentData


class ShipmentCreatedData(Contract):
    order_id: OrderId
    shipment_id: Reference
    carrier: Reference
    tracking_number: Reference


class ShipmentCreated(Event):
    DETAIL_TYPE: ClassVar[str] = "ShipmentCreated"
    SOURCE: ClassVar[str] = SHIPPING_SOURCE
    data: ShipmentCreatedData


class ShipmentCancelledData(Contract):
    order_id: OrderId
    shipment_id: Reference | None = Field(default=None, description="None when no shipment existed")


class ShipmentCancelled(Event):
    DETAIL_TYPE: ClassVar[str] = "ShipmentCancelled"
    SOURCE: ClassVar[str] = SHIPPING_SOURCE
    data: ShipmentCancelledData


# Every event model above, in the order they are defined: the definitions are the only list.
CATALOG: tuple[type[Event], ...] = tuple(
    model
    for model in list(globals().values())
    if isinstance(model, type) and issubclass(model, Event) and model.__module__ == __name__
)

EVENT_TYPES: dict[str, type[Event]] = {event_type.DETAIL_TYPE: event_type for event_type in CATALOG}
