"""The record tables in Azure Table storage: one entity per record, its indexes as properties.

Proposals are found by status, initiator and draft token, the outbox by state: a table query
on an indexed property answers that without reading every record. Every record of a table is
in one partition, so a query never crosses partitions and a whole-table rewrite can use entity
transactions. A conditional write is Table's own eTag precondition (If-Match; a stale eTag
gets 412, which is ETagConflictError here). The table is created on first use.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import UpdateMode
from azure.data.tables.aio import TableClient

from storage.azure_names import (
    conflict,
    decode_key,
    document_properties,
    encode_key,
    guarded,
    properties_document,
    submit_transactions,
)
from storage.base import ANY, Document, ETag, RecordStore, Row, Versioned
from storage.documents import check_document, check_index, check_keys, checked_rows
from storage.errors import CorruptStoreError, StoreError

PARTITION = "record"
INDEX_PROPERTY = "ix"
_PLAIN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,200}$")


def index_property(name: str) -> str:
    """The entity property holding an index value (readable where the name allows)."""
    if _PLAIN_NAME.match(name):
        return f"i_{name}"
    return "x_" + name.encode("utf-8").hex()


class AzureTableRecordStore(RecordStore):
    """RecordStore over one Azure table."""

    def __init__(self, table: TableClient, where: str) -> None:
        """Use `table` (created on first use); `where` names it in errors."""
        self._table = table
        self.where = where
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

    def _entity(self, record_id: str, document: Document, index: dict[str, str]) -> dict[str, Any]:
        entity: dict[str, Any] = {"PartitionKey": PARTITION, "RowKey": encode_key(record_id)}
        entity.update(document_properties(f"{self.where}: {record_id!r}", document))
        entity[INDEX_PROPERTY] = json.dumps(index, ensure_ascii=False, sort_keys=True)
        for name, value in index.items():
            entity[index_property(name)] = value
        return entity

    def _versioned(self, entity: Any) -> Versioned:
        record_id = decode_key(str(entity["RowKey"]))
        document = properties_document(self.where, entity)
        if not isinstance(document, dict):
            raise CorruptStoreError(f"{self.where}: record {record_id!r} is not a JSON object")
        try:
            index = json.loads(str(entity.get(INDEX_PROPERTY) or "{}"))
        except ValueError as error:
            raise CorruptStoreError(
                f"{self.where}: record {record_id!r} has a bad index"
            ) from error
        if not isinstance(index, dict):
            raise CorruptStoreError(f"{self.where}: record {record_id!r} has a bad index")
        return Versioned(record_id, document, str(entity.metadata["etag"]), index)

    async def get(self, record_id: str) -> Versioned | None:
        """The record and its entity eTag."""
        check_keys([record_id])
        await self._open()
        name = encode_key(record_id)
        try:
            entity = await guarded(self.where, lambda: self._table.get_entity(PARTITION, name))
        except ResourceNotFoundError:
            return None
        return self._versioned(entity)

    async def put(
        self,
        record_id: str,
        document: Document,
        *,
        index: Mapping[str, str] | None = None,
        etag: ETag = ANY,
    ) -> str:
        """Insert, replace or replace-if-unchanged, by `etag`; the new eTag."""
        check_keys([record_id])
        entity = self._entity(record_id, check_document(record_id, document), check_index(index))
        await self._open()

        async def store() -> Mapping[str, Any]:
            if etag is ANY:
                return await self._table.upsert_entity(entity, mode=UpdateMode.REPLACE)
            if etag is None:
                return await self._table.create_entity(entity)
            return await self._table.update_entity(
                entity,
                mode=UpdateMode.REPLACE,
                etag=str(etag),
                match_condition=MatchConditions.IfNotModified,
            )

        try:
            result = await guarded(self.where, store)
        except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError):
            conflict(self.where, record_id)
        return str(result["etag"])

    async def delete(self, record_id: str, *, etag: ETag = ANY) -> None:
        """Delete, or delete-if-unchanged with an eTag string."""
        check_keys([record_id])
        await self._open()
        name = encode_key(record_id)
        if etag is not ANY:
            # The SDK's delete_entity ignores a missing entity even with If-Match, so a
            # conditional delete first makes sure the record is there at all.
            if await self.get(record_id) is None:
                if etag is None:
                    return
                conflict(self.where, record_id)
            if etag is None:
                conflict(self.where, record_id)

        async def remove() -> None:
            if etag is ANY:
                await self._table.delete_entity(PARTITION, name)
            else:
                await self._table.delete_entity(
                    PARTITION,
                    name,
                    etag=str(etag),
                    match_condition=MatchConditions.IfNotModified,
                )

        try:
            await guarded(self.where, remove)
        except ResourceModifiedError:
            conflict(self.where, record_id)
        except ResourceNotFoundError:
            if etag is not ANY:
                conflict(self.where, record_id)

    async def _query(self, condition: str, parameters: dict[str, str]) -> list[Versioned]:
        async def run() -> list[Versioned]:
            pages = self._table.query_entities(condition, parameters=parameters)
            return [self._versioned(entity) async for entity in pages]

        found = await guarded(self.where, run)
        return sorted(found, key=lambda v: v.key)

    async def find(self, index: str, value: str) -> list[Versioned]:
        """A table query on the index's property, in id order."""
        await self._open()
        condition = f"PartitionKey eq @partition and {index_property(index)} eq @value"
        return await self._query(condition, {"partition": PARTITION, "value": value})

    async def all(self) -> list[Versioned]:
        """Every record of the partition, in id order."""
        await self._open()
        return await self._query("PartitionKey eq @partition", {"partition": PARTITION})

    async def rewrite(self, rows: Sequence[Row]) -> None:
        """Replace the table's records: every row is checked first, so a bad one changes
        nothing; then upserts and deletes in entity transactions of up to 100.

        Not atomic across transactions; restore, migration and erase-user run with the
        service stopped.
        """
        checked = checked_rows(rows)
        entities = [self._entity(rid, doc, index) for rid, (doc, index) in checked.items()]
        await self._open()
        keep = {entity["RowKey"] for entity in entities}
        stale = [
            {"PartitionKey": PARTITION, "RowKey": encode_key(v.key)}
            for v in await self.all()
            if encode_key(v.key) not in keep
        ]
        operations: list[tuple[str, dict[str, Any]]] = [("upsert", e) for e in entities]
        operations += [("delete", e) for e in stale]
        await submit_transactions(self.where, self._table, operations)

    async def close(self) -> None:
        """Refuse further use (the backend closes the connection)."""
        self._closed = True
