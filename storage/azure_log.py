"""The append-only logs in Azure Table storage: one entity per entry, keyed by time.

An append blob would cap a log at 50,000 appends; a table has no such limit, and every
instance can append without coordinating: an entry's row key is the writer's clock in
nanoseconds (never going back within a process) and the writer's id, so entries read back in
the order they were written, and entries of two instances interleave by time. The table is
created on first use.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.data.tables.aio import TableClient

from storage.azure_names import (
    document_properties,
    guarded,
    properties_document,
    submit_transactions,
)
from storage.base import AppendLog, Document
from storage.documents import check_document
from storage.errors import CorruptStoreError, StoreError

PARTITION = "entry"


class AzureTableLog(AppendLog):
    """AppendLog over one Azure table."""

    def __init__(self, table: TableClient, where: str) -> None:
        """Use `table` (created on first use); `where` names it in errors."""
        self._table = table
        self.where = where
        self._writer = uuid.uuid4().hex[:12]
        self._last = 0
        self._ready = False
        self._ready_lock = asyncio.Lock()
        self._closed = False

    async def _open(self) -> None:
        """Refuse use after close; create the table once per process."""
        if self._closed:
            raise StoreError(f"{self.where} is closed")
        if self._ready:
            return
        async with self._ready_lock:
            if not self._ready:
                try:
                    await guarded(self.where, self._table.create_table)
                except ResourceExistsError:
                    pass
                self._ready = True

    def _next_key(self) -> str:
        """A row key after every key this writer gave out (the clock may step back)."""
        self._last = max(time.time_ns(), self._last + 1)
        return f"{self._last:020d}-{self._writer}"

    def _entity(self, entry: Document) -> dict[str, Any]:
        return {
            "PartitionKey": PARTITION,
            "RowKey": self._next_key(),
            **document_properties(self.where, entry),
        }

    async def append(self, entry: Document) -> None:
        """Insert one entity (durable when Azure answers)."""
        stored = check_document("entry", entry)
        entity = self._entity(stored)
        await self._open()
        await guarded(self.where, lambda: self._table.create_entity(entity))

    async def _entities(self) -> list[Any]:
        async def run() -> list[Any]:
            pages = self._table.query_entities(
                "PartitionKey eq @partition", parameters={"partition": PARTITION}
            )
            return [entity async for entity in pages]

        found = await guarded(self.where, run)
        return sorted(found, key=lambda entity: str(entity["RowKey"]))

    async def read(self) -> list[Document]:
        """Every entry, oldest first."""
        await self._open()
        entries: list[Document] = []
        for entity in await self._entities():
            entry = properties_document(self.where, entity)
            if not isinstance(entry, dict):
                row = entity["RowKey"]
                raise CorruptStoreError(f"{self.where}: entry {row!r} is not a JSON object")
            entries.append(entry)
        return entries

    async def rewrite(self, entries: Sequence[Document]) -> None:
        """Replace every entry: the new ones are checked first, so a bad one changes nothing.

        Not atomic across transactions; erase-user and restore run with the service stopped.
        """
        new = [self._entity(check_document("entry", entry)) for entry in entries]
        await self._open()
        old = [
            ("delete", {"PartitionKey": PARTITION, "RowKey": str(entity["RowKey"])})
            for entity in await self._entities()
        ]
        await submit_transactions(self.where, self._table, old)
        await submit_transactions(self.where, self._table, [("create", e) for e in new])

    async def close(self) -> None:
        """Refuse further use (the backend closes the connection)."""
        self._closed = True
