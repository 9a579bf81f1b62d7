"""TinyDB on a crash-safe, cached JSON storage, and the RecordStore of the embedded default."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage

from storage.base import ANY, Document, ETag, RecordStore, Row, Versioned
from storage.documents import (
    check_document,
    check_etag,
    check_index,
    check_keys,
    checked_rows,
    copy_json,
    encode_json,
    etag_of,
)
from storage.errors import CorruptStoreError, StoreError
from storage.files import atomic_write_bytes, read_json

Record = dict[str, Any]


def validate_layout(path: Path, data: dict[str, Any]) -> None:
    """Check the TinyDB layout {table: {doc_id: document}} so damage is found at open."""
    for table_name, table in data.items():
        if not isinstance(table, dict):
            raise CorruptStoreError(f"{path}: table {table_name!r} is not an object")
        for doc_id, document in table.items():
            if not doc_id.isdigit():
                raise CorruptStoreError(
                    f"{path}: table {table_name!r} has a non-numeric document id {doc_id!r}"
                )
            if not isinstance(document, dict):
                raise CorruptStoreError(
                    f"{path}: table {table_name!r} document {doc_id} is not an object"
                )


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large JSON file is turned into objects.

    Parsing allocates many small containers, which triggers full collections that rescan the
    whole (growing) heap again and again; JSON values have no reference cycles to collect.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class AtomicJSONStorage(Storage):
    """TinyDB storage that reads its file once, caches it, and writes atomically with fsync."""

    def __init__(self, path: str | Path) -> None:
        """Open and validate `path` now, so a damaged file stops start-up."""
        self.path = Path(path)
        self._cache: dict[str, Any] | None = None
        self._stale = True
        self._reload()

    def _reload(self) -> None:
        """Load the file into the cache (None when the file does not exist yet)."""
        with gc_paused():
            data = read_json(self.path)
        if data is not None:
            validate_layout(self.path, data)
        self._cache = data
        self._stale = False

    def read(self) -> dict[str, Any] | None:
        """Return the cached database (TinyDB mutates it in place and then calls write)."""
        if self._stale:
            self._reload()
        return self._cache

    def write(self, data: dict[str, Any]) -> None:
        """Persist the whole database atomically and durably, then cache it."""
        try:
            atomic_write_bytes(self.path, encode_json(data))
        except BaseException:
            # TinyDB already changed the cached dict in place: drop it and trust the file.
            self._stale = True
            raise
        self._cache = data


def open_tinydb(path: str | Path) -> TinyDB:
    """Open a TinyDB file on AtomicJSONStorage; CorruptStoreError if the file is damaged."""
    return TinyDB(Path(path), storage=AtomicJSONStorage)


ID = "_id"
INDEX = "_index"
DOC = "_doc"
TABLE_NAME = "records"


class TinyRecordStore(RecordStore):
    """A table in one TinyDB file, cached in memory, rewritten atomically (fsync) per write.

    Each TinyDB document is ``{"_id": id, "_index": {...}, "_doc": {...}}``; an in-memory map
    from id to TinyDB's document id makes a lookup O(1). Meant for the small shared tables
    (proposals, escalations, the outbox); per-conversation data lives in the sharded store.
    """

    def __init__(self, path: str | Path) -> None:
        """Open and validate the file now, so a damaged one stops start-up."""
        self.path = Path(path)
        self.where = str(self.path)
        self._db = open_tinydb(self.path)
        self._table = self._db.table(TABLE_NAME)
        # One thread lock: TinyDB mutates its cache in place, so every access is serialised.
        self._lock = threading.Lock()
        self._closed = False
        self._doc_ids: dict[str, int] = {}
        self._index_ids()

    def _index_ids(self) -> None:
        """Check every stored record and map its id to TinyDB's document id."""
        doc_ids: dict[str, int] = {}
        for stored in self._table.all():
            row = check_stored_record(self.path, stored.doc_id, stored)
            if row.id in doc_ids:
                raise CorruptStoreError(
                    f"{self.path}: document {stored.doc_id}: id {row.id!r} is stored twice"
                )
            doc_ids[row.id] = stored.doc_id
        self._doc_ids = doc_ids

    async def _run(self, operation: Callable[[], Any]) -> Any:
        """Run one operation under the lock in a worker thread (writes fsync)."""
        if self._closed:
            raise StoreError(f"{self.path} is closed")

        def locked() -> Any:
            with self._lock:
                return operation()

        return await asyncio.to_thread(locked)

    def _stored(self, record_id: str) -> Mapping[str, Any] | None:
        doc_id = self._doc_ids.get(record_id)
        return None if doc_id is None else self._table.get(doc_id=doc_id)

    @staticmethod
    def _versioned(stored: Mapping[str, Any]) -> Versioned:
        return Versioned(
            stored[ID],
            copy_json(stored[DOC]),
            etag_of(stored[DOC], stored[INDEX]),
            dict(stored[INDEX]),
        )

    def _etag(self, record_id: str) -> str | None:
        stored = self._stored(record_id)
        return None if stored is None else etag_of(stored[DOC], stored[INDEX])

    async def get(self, record_id: str) -> Versioned | None:
        """The record and its eTag."""
        check_keys([record_id])

        def operation() -> Versioned | None:
            stored = self._stored(record_id)
            return None if stored is None else self._versioned(stored)

        result: Versioned | None = await self._run(operation)
        return result

    async def put(
        self,
        record_id: str,
        document: Document,
        *,
        index: Mapping[str, str] | None = None,
        etag: ETag = ANY,
    ) -> str:
        """Store if the eTag matches; the whole file is replaced atomically."""
        check_keys([record_id])
        new = {ID: record_id, INDEX: check_index(index), DOC: check_document(record_id, document)}

        def operation() -> str:
            check_etag(record_id, etag, self._etag(record_id))
            doc_id = self._doc_ids.get(record_id)
            if doc_id is None:
                self._doc_ids[record_id] = int(self._table.insert(new))
            else:
                # Replace, not merge: fields removed from the record must disappear.
                self._table.update(_replace_with(new), doc_ids=[doc_id])
            return etag_of(new[DOC], new[INDEX])

        result: str = await self._run(operation)
        return result

    async def delete(self, record_id: str, *, etag: ETag = ANY) -> None:
        """Delete if the eTag matches."""
        check_keys([record_id])

        def operation() -> None:
            check_etag(record_id, etag, self._etag(record_id))
            doc_id = self._doc_ids.pop(record_id, None)
            if doc_id is not None:
                self._table.remove(doc_ids=[doc_id])

        await self._run(operation)

    async def find(self, index: str, value: str) -> list[Versioned]:
        """Records whose index has the value, in id order."""

        def operation() -> list[Versioned]:
            found = [self._versioned(s) for s in self._table.all() if s[INDEX].get(index) == value]
            return sorted(found, key=lambda v: v.key)

        result: list[Versioned] = await self._run(operation)
        return result

    async def all(self) -> list[Versioned]:
        """Every record, in id order."""

        def operation() -> list[Versioned]:
            return sorted((self._versioned(s) for s in self._table.all()), key=lambda v: v.key)

        result: list[Versioned] = await self._run(operation)
        return result

    async def inspect(self, visit: Callable[[Row], None]) -> int:
        """Visit the cached records themselves, in id order: no copy and no eTag of each.

        A write replaces a record's document and index with new objects (TinyDB updates the
        stored record's top level), never changes them in place, so the rows taken under the
        lock stay as they were.
        """

        def operation() -> list[Row]:
            return sorted(
                (Row(s[ID], s[DOC], s[INDEX]) for s in self._table.all()), key=lambda r: r.id
            )

        rows: list[Row] = await self._run(operation)
        for row in rows:
            visit(row)
        return len(rows)

    async def rewrite(self, rows: Sequence[Row]) -> None:
        """Replace the table with these records in one atomic write of the file."""
        checked = checked_rows(rows)
        documents = {
            number: {ID: record_id, INDEX: index, DOC: document}
            for number, (record_id, (document, index)) in enumerate(
                sorted(checked.items()), start=1
            )
        }

        def replace(table: dict[int, Mapping[str, Any]]) -> None:
            table.clear()
            table.update(documents)

        def operation() -> None:
            try:
                # One read-modify-write of the whole file (TinyDB's own truncate + insert
                # would be two writes, and a crash between them would leave it empty).
                self._table._update_table(replace)
            finally:
                self._table._next_id = None
                self._index_ids()

        await self._run(operation)

    async def close(self) -> None:
        """Close the file; later calls raise StoreError."""
        if not self._closed:
            await self._run(self._db.close)
            self._closed = True


def check_stored_record(path: Path, doc_id: object, stored: Mapping[str, Any]) -> Row:
    """One TinyDB document of a TinyRecordStore file as a Row; CorruptStoreError naming it."""
    record_id, index, document = stored.get(ID), stored.get(INDEX), stored.get(DOC)
    where = f"{path}: document {doc_id}"
    if not isinstance(record_id, str) or not isinstance(document, dict):
        raise CorruptStoreError(f"{where} is not an {{_id: str, _doc: object}} record")
    if not isinstance(index, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in index.items()
    ):
        raise CorruptStoreError(f"{where}: _index is not an object of strings")
    return Row(record_id, document, index)


def parse_table(path: Path, data: Mapping[str, Any] | None) -> list[Row]:
    """The rows of a TinyRecordStore file's parsed content (a read-only snapshot), id order."""
    if data is None:
        return []
    validate_layout(path, dict(data))
    rows: dict[str, Row] = {}
    for doc_id, stored in data.get(TABLE_NAME, {}).items():
        row = check_stored_record(path, doc_id, stored)
        if row.id in rows:
            raise CorruptStoreError(f"{path}: document {doc_id}: id {row.id!r} is stored twice")
        rows[row.id] = row
    return [rows[record_id] for record_id in sorted(rows)]


def _replace_with(document: Record) -> Callable[[MutableMapping[str, Any]], None]:
    """Build a TinyDB update transform that replaces a document's whole content."""

    def transform(stored: MutableMapping[str, Any]) -> None:
        stored.clear()
        stored.update(document)

    return transform
