"""Put events on a local cloud's bus, as a producer (or an operator's redrive) would."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orderflow.envelope import Event

if TYPE_CHECKING:
    from tools.localcloud.cloud import LocalCloud


def put_on_bus(cloud: LocalCloud, source: str, detail_type: str, detail: str) -> None:
    """One entry on the stack's EventBus."""
    cloud.client("events").put_events(
        Entries=[
            {
                "EventBusName": cloud.ref("EventBus"),
                "Source": source,
                "DetailType": detail_type,
                "Detail": detail,
            }
        ]
    )


def put_event(cloud: LocalCloud, event: Event) -> None:
    """An event model on the stack's EventBus, under its own source and detail type."""
    put_on_bus(cloud, event.SOURCE, event.DETAIL_TYPE, event.detail())
