"""Claim-check: an event too large for the bus travels as a reference to its detail, stored in S3.

The publisher (and the OrderPlaced pipe's enrichment) put a detail whose entry is above
CLAIM_CHECK_THRESHOLD_BYTES in the claim-check bucket and publish, in its place, the same
metadata with a `claim_check` reference (bucket, key, version, sha256, bytes). The parsing layer
fetches the object, checks its digest and size, and validates it as usual, so consumers never see
the difference; the audit trail keeps the reference as it came off the stream.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import Field

from orderflow import aws
from orderflow.envelope import Contract
from orderflow.settings import ClaimCheckSettings

if TYPE_CHECKING:
    from orderflow.envelope import Event

# EventBridge rejects an entry over 256 KB (Source + DetailType + Detail + Time + Resources). The
# 64 KB margin keeps what is published well clear of it even when a rule's target wraps the event
# (an SQS body adds the envelope: id, account, time, region, resources) and leaves room for a
# reference's own metadata; below it, events travel inline as they always did.
CLAIM_CHECK_THRESHOLD_BYTES = 192 * 1024
EVENTBRIDGE_ENTRY_LIMIT_BYTES = 256 * 1024
# The bytes PutEvents counts for an entry's Time, whether or not it is set.
ENTRY_TIME_BYTES = 14
REFERENCE_FIELD = "claim_check"
KEY_PREFIX = "events"


@cache
def get_settings() -> ClaimCheckSettings:
    return ClaimCheckSettings.from_environment()


class ClaimCheckReference(Contract):
    """Where an event's detail is: the object (and its version) and what its bytes must hash to."""

    bucket: str = Field(min_length=3, max_length=63)
    key: str = Field(min_length=1, max_length=1024)
    version_id: str | None = Field(default=None, max_length=1024)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0, le=10 * 1024 * 1024)


class ClaimCheckedDetail(Contract):
    """The detail on the bus in place of a large one: its own metadata, and where the whole detail is."""

    # As the event has it (validated with the whole detail): the reference's own is compared with the object's.
    metadata: dict[str, Any]
    claim_check: ClaimCheckReference


class ClaimCheckError(ValueError):
    """The referenced object is gone, or is not what the reference says (tampered, replaced, truncated)."""


def entry_size(source: str, detail_type: str, detail: str) -> int:
    """The size PutEvents counts for an entry (its UTF-8 Source, DetailType and Detail, and its Time)."""
    return ENTRY_TIME_BYTES + sum(len(part.encode()) for part in (source, detail_type, detail))


def object_key(detail_type: str, event_id: str) -> str:
    """One key per event: a retried publish of the event overwrites the same object."""
    return f"{KEY_PREFIX}/{detail_type}/{event_id}.json"


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class ClaimCheckStore:
    """The claim-check bucket: stores oversized details and hands them back, checked against their reference."""

    def __init__(self, bucket_name: str) -> None:
        self.bucket_name = bucket_name

    @classmethod
    def from_environment(cls) -> ClaimCheckStore:
        return cls(get_settings().claim_check_bucket)

    @property
    def _s3(self) -> Any:
        return aws.client("s3")

    def check_in(self, event: Event) -> str:
        """The event's reference detail (JSON) after storing its whole detail under its id."""
        body = event.detail().encode()
        key = object_key(event.DETAIL_TYPE, event.event_id)
        stored = self._s3.put_object(
            Bucket=self.bucket_name, Key=key, Body=body, ContentType="application/json", ChecksumAlgorithm="SHA256"
        )
        reference = ClaimCheckReference(
            bucket=self.bucket_name,
            key=key,
            # Versioned bucket: a twin's later write of the same key cannot change what this reference reads.
            version_id=stored.get("VersionId"),
            sha256=sha256_hex(body),
            bytes=len(body),
        )
        return ClaimCheckedDetail(
            metadata=event.metadata.model_dump(mode="json"), claim_check=reference
        ).model_dump_json()

    def check_out(self, reference: ClaimCheckReference) -> bytes:
        """The stored detail's bytes; ClaimCheckError when they are gone or do not match the reference."""
        if reference.bucket != self.bucket_name:
            raise ClaimCheckError(f"reference to bucket {reference.bucket!r}, not the claim-check bucket")
        version = {"VersionId": reference.version_id} if reference.version_id else {}
        try:
            response = self._s3.get_object(Bucket=self.bucket_name, Key=reference.key, **version)
        except ClientError as error:
            if aws.is_error(error, "NoSuchKey", "NoSuchVersion", "InvalidArgument"):
                raise ClaimCheckError(f"claim-check object {reference.key} is gone: {aws.error_code(error)}") from error
            raise  # throttled, unreachable...: the record is retried
        body: bytes = response["Body"].read()
        if len(body) != reference.bytes or sha256_hex(body) != reference.sha256:
            raise ClaimCheckError(f"claim-check object {reference.key} does not match its reference's sha256/bytes")
        return body


def detail_for_bus(event: Event, store: ClaimCheckStore | None = None) -> str:
    """The event's detail as it goes on the bus: itself, or its reference when its entry is over the threshold."""
    detail = event.detail()
    if entry_size(event.SOURCE, event.DETAIL_TYPE, detail) <= CLAIM_CHECK_THRESHOLD_BYTES:
        return detail
    return (store or ClaimCheckStore.from_environment()).check_in(event)
