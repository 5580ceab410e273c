"""Which customer notification an event becomes, and on which channel.

Channels: OrderConfirmed and OrderCancelled go by email (a receipt, or why
nothing will arrive); ShipmentCreated goes by SMS (the tracking number, when
the customer is waiting for the parcel). The SNS subscriptions in
template.yaml filter on the `channel` message attribute.
"""

from __future__ import annotations

from enum import StrEnum

from orderflow.catalog import OrderCancelled, OrderConfirmed, ShipmentCreated
from orderflow.envelope import Contract

Notifiable = OrderConfirmed | OrderCancelled | ShipmentCreated


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class Notification(Contract):
    order_id: str
    event_id: str
    event_type: str
    channel: Channel
    subject: str
    text: str


def notification_for(event: Notifiable) -> Notification:
    """The one notification this event sends."""
    order_id = event.order_id
    if isinstance(event, OrderConfirmed):
        channel, subject, text = (
            Channel.EMAIL,
            "Your order is confirmed",
            f"Order {order_id} is confirmed and on its way.",
        )
    elif isinstance(event, OrderCancelled):
        channel, subject = Channel.EMAIL, "Your order was cancelled"
        why = event.data.reason.value.replace("_", " ").lower()
        text = f"Order {order_id} was cancelled ({why}). Anything charged has been refunded."
    else:
        channel, subject = Channel.SMS, "Your parcel has shipped"
        text = f"Order {order_id} shipped with {event.data.carrier}, tracking {event.data.tracking_number}."
    return Notification(
        order_id=order_id,
        event_id=event.event_id,
        event_type=event.DETAIL_TYPE,
        channel=channel,
        subject=subject,
        text=text,
    )
