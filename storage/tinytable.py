"""TinyDB on a crash-safe, cached JSON storage, and a small async-safe record table on top."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import threading
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB
from tinydb.storages import Storage

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


def encode_json(data: Any) -> bytes:
    """Serialise compactly as UTF-8, keeping Swedish letters readable in the file."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def copy_json(value: Any) -> Any:
    """Deep-copy a JSON value (and prove it is JSON) so callers never share the cache."""
    return json.loads(json.dumps(value))


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


class RecordTable:
    """A small table of JSON records, safe to use from threads and from asyncio tasks."""

    def __init__(self, db: TinyDB, name: str = "records") -> None:
        """Wrap table `name` of an open TinyDB."""
        self._db = db
        self._table = db.table(name)
        # One thread lock: TinyDB mutates its cache in place, so every access is serialised.
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def open(cls, path: str | Path, name: str = "records") -> RecordTable:
        """Open (or create on first write) the table `name` in the file at `path`."""
        return cls(open_tinydb(path), name)

    async def _run(self, operation: Callable[[], Any]) -> Any:
        """Run one TinyDB operation under the lock in a worker thread (writes fsync)."""
        if self._closed:
            raise StoreError("record table is closed")

        def locked() -> Any:
            with self._lock:
                return operation()

        return await asyncio.to_thread(locked)

    async def get(self, field: str, value: Any) -> Record | None:
        """Return a copy of the first record whose `field` equals `value`, or None."""
        found = await self._run(lambda: self._table.get(Query()[field] == value))
        return None if found is None else copy_json(dict(found))

    async def upsert(self, record: Mapping[str, Any], key_field: str) -> int:
        """Replace the record with the same `key_field` value, or insert it; return its id."""
        if key_field not in record:
            raise ValueError(f"record has no key field {key_field!r}")
        document = copy_json(dict(record))
        condition = Query()[key_field] == document[key_field]

        def operation() -> int:
            existing = self._table.get(condition)
            if existing is None:
                return int(self._table.insert(document))
            doc_id = int(existing.doc_id)
            # Replace, not merge: fields removed from the record must disappear.
            self._table.update(_replace_with(document), doc_ids=[doc_id])
            return doc_id

        return int(await self._run(operation))

    async def insert(self, record: Mapping[str, Any]) -> int:
        """Insert a new record and return its document id."""
        document = copy_json(dict(record))
        return int(await self._run(lambda: self._table.insert(document)))

    async def all(self) -> list[Record]:
        """Return copies of all records in insertion order."""
        records = await self._run(self._table.all)
        return [copy_json(dict(record)) for record in records]

    async def search(self, predicate: Callable[[Record], bool]) -> list[Record]:
        """Return copies of the records for which `predicate` is true."""
        records = await self._run(self._table.all)
        return [copy_json(dict(record)) for record in records if predicate(dict(record))]

    async def remove(self, field: str, value: Any) -> int:
        """Remove the records whose `field` equals `value`; return how many went."""
        removed = await self._run(lambda: self._table.remove(Query()[field] == value))
        return len(removed)

    async def close(self) -> None:
        """Close the underlying database; later calls raise StoreError."""
        if not self._closed:
            await self._run(self._db.close)
            self._closed = True


def _replace_with(document: Record) -> Callable[[MutableMapping[str, Any]], None]:
    """Build a TinyDB update transform that replaces a document's whole content."""

    def transform(stored: MutableMapping[str, Any]) -> None:
        stored.clear()
        stored.update(document)

    return transform
