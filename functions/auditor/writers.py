"""One batch's appends to the trail, up to AUDIT_WRITERS conditional puts in flight at once.

A record's time is mostly one DynamoDB round trip (its parse is a fraction of a millisecond), so
a batch of 100 written one put at a time spends 100 round trips waiting; ten in flight wait ten
(decision 0022). Order within a batch does not matter to the table (each item carries its stream
position), with one exception: an event id seen twice in one batch is recorded at its first
position, so its later copies wait for the first copy's put and share its outcome.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from orderflow import aws
from orderflow.audit import AuditEntry, AuditTable


class BatchAppends:
    """Appends for the batch under way; `start_batch` before each batch."""

    def __init__(self, table: AuditTable, writers: int) -> None:
        self._table = table
        self._writers = ThreadPoolExecutor(max_workers=writers, thread_name_prefix="audit-writer")
        self._first_copy: dict[tuple[str, str], asyncio.Future[bool]] = {}

    def start_batch(self) -> None:
        self._first_copy.clear()
        # Created here, before the writers share it: boto3 clients are thread-safe, creating one is not.
        aws.client("dynamodb")

    async def append(self, entry: AuditEntry) -> bool:
        """Store the entry once; False when the trail already holds its event id (or an earlier copy does)."""
        key = (entry.order_id, entry.event_id)
        first = self._first_copy.get(key)
        if first is not None:
            await first  # the earlier copy's failure is this copy's too: the batch is retried from the first
            return False
        # Registered before the first await: the batch's coroutines start in stream order, so the first
        # copy of an event id is always the one that writes.
        put = asyncio.get_running_loop().run_in_executor(self._writers, self._table.append, entry)
        self._first_copy[key] = put
        return await put
