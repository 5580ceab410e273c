"""Upcasters: how a consumer reads an older version of an event it knows.

An event type's contract has a version (`Event.VERSION`, sent as `metadata.schema_version`). A
breaking change raises it, and registers here one upcaster per step: a plain function from the
detail of version N (decoded JSON) to the detail of version N + 1. Consumers parse through
`orderflow.parsing`, which upcasts an older detail step by step to the version its model has, so a
producer still on the old version (or an archived event replayed) keeps flowing. A version with no
path to the model's, or one newer than the model's, is one this consumer does not know: the record
fails alone, as any malformed one.

    @upcaster("ShipmentCreated", from_version=1)
    def shipment_created_v1_to_v2(detail: JsonObject) -> JsonObject:
        return {**detail, "data": {**detail["data"], "service_level": "standard"}}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

JsonObject = dict[str, Any]
Upcaster = Callable[[JsonObject], JsonObject]

# (detail type, version it reads) -> the upcaster to the next version. Every entry is a published step.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


class UnknownVersionError(ValueError):
    """The detail's schema_version is not one this consumer can read."""


def upcaster(detail_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register the function that turns `detail_type` version `from_version` into the next version."""

    def register(step: Upcaster) -> Upcaster:
        key = (detail_type, from_version)
        if key in UPCASTERS:
            raise ValueError(f"{detail_type} already has an upcaster from version {from_version}")
        UPCASTERS[key] = step
        return step

    return register


def readable_versions(detail_type: str, version: int) -> list[int]:
    """The versions a consumer on `version` reads: the ones with an unbroken upcaster path to it, and itself."""
    readable = [version]
    while (detail_type, readable[0] - 1) in UPCASTERS:
        readable.insert(0, readable[0] - 1)
    return readable


def upcast(detail_type: str, detail: JsonObject, version: int) -> JsonObject:
    """`detail` (of any version this consumer knows) as the detail of `version`."""
    metadata = detail.get("metadata")
    sent = metadata.get("schema_version") if isinstance(metadata, dict) else None
    if type(sent) is not int:  # bool is an int in Python, never a version
        return detail  # the model reports the missing or mistyped field
    known = readable_versions(detail_type, version)
    if sent not in known:
        raise UnknownVersionError(
            f"{detail_type} schema_version {sent} is not one this consumer knows ({', '.join(map(str, known))})"
        )
    while sent < version:
        detail = UPCASTERS[(detail_type, sent)](detail)
        sent += 1
        detail = {**detail, "metadata": {**detail["metadata"], "schema_version": sent}}
    return detail
