"""In-memory reference implementations of every storage interface.

They define the behaviour the contract suites (tests/contracts/) check: documents are copied
through JSON on the way in and out like on disk, eTags change with the content, a closed
store refuses further use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from storage.base import (
    ANY,
    AppendLog,
    Backend,
    Document,
    ETag,
    KeyValueStore,
    RecordStore,
    Row,
    Versioned,
)
from storage.documents import (
    check_document,
    check_documents,
    check_etag,
    check_index,
    check_keys,
    checked_rows,
    copy_json,
    etag_of,
)
from storage.errors import StoreError


class _Closable:
    _closed = False

    def _check_open(self) -> None:
        """Fail like the file stores do after close."""
        if self._closed:
            raise StoreError(f"{type(self).__name__} is closed")

    async def close(self) -> None:
        """Mark the store closed."""
        self._closed = True


class MemoryKeyValueStore(_Closable, KeyValueStore):
    """Key-value reference implementation in a dict."""

    where = "memory key-value store"

    def __init__(self) -> None:
        """Start empty."""
        self._documents: dict[str, Document] = {}

    async def read(self, keys: Sequence[str]) -> dict[str, Document]:
        """Return copies of the stored documents."""
        self._check_open()
        check_keys(keys)
        return {key: copy_json(self._documents[key]) for key in keys if key in self._documents}

    async def write(self, changes: Mapping[str, Document]) -> None:
        """Store copies of the documents."""
        self._check_open()
        self._documents.update(check_documents(changes))

    async def delete(self, keys: Sequence[str]) -> None:
        """Forget the keys."""
        self._check_open()
        check_keys(keys)
        for key in keys:
            self._documents.pop(key, None)

    async def keys(self, prefix: str = "") -> list[str]:
        """Every stored key with the prefix, sorted."""
        self._check_open()
        return sorted(key for key in self._documents if key.startswith(prefix))

    def _etag(self, key: str) -> str | None:
        document = self._documents.get(key)
        return None if document is None else etag_of(document)

    async def read_versioned(self, key: str) -> Versioned | None:
        """The document and its eTag."""
        self._check_open()
        check_keys([key])
        document = self._documents.get(key)
        if document is None:
            return None
        return Versioned(key, copy_json(document), etag_of(document))

    async def write_if(self, key: str, document: Document, etag: ETag) -> str:
        """Store if the eTag matches."""
        self._check_open()
        check_keys([key])
        stored = check_document(key, document)
        check_etag(key, etag, self._etag(key))
        self._documents[key] = stored
        return etag_of(stored)

    async def delete_if(self, key: str, etag: ETag) -> None:
        """Delete if the eTag matches."""
        self._check_open()
        check_keys([key])
        check_etag(key, etag, self._etag(key))
        self._documents.pop(key, None)


class MemoryRecordStore(_Closable, RecordStore):
    """Record-table reference implementation in a dict."""

    def __init__(self, where: str = "memory table") -> None:
        """Start empty."""
        self.where = where
        self._records: dict[str, tuple[Document, dict[str, str]]] = {}

    def _etag(self, record_id: str) -> str | None:
        found = self._records.get(record_id)
        return None if found is None else etag_of(*found)

    def _versioned(self, record_id: str) -> Versioned:
        document, index = self._records[record_id]
        return Versioned(record_id, copy_json(document), etag_of(document, index), dict(index))

    async def get(self, record_id: str) -> Versioned | None:
        """The record and its eTag."""
        self._check_open()
        check_keys([record_id])
        return self._versioned(record_id) if record_id in self._records else None

    async def put(
        self,
        record_id: str,
        document: Document,
        *,
        index: Mapping[str, str] | None = None,
        etag: ETag = ANY,
    ) -> str:
        """Store if the eTag matches."""
        self._check_open()
        check_keys([record_id])
        stored = check_document(record_id, document)
        indexed = check_index(index)
        check_etag(record_id, etag, self._etag(record_id))
        self._records[record_id] = (stored, indexed)
        return etag_of(stored, indexed)

    async def delete(self, record_id: str, *, etag: ETag = ANY) -> None:
        """Delete if the eTag matches."""
        self._check_open()
        check_keys([record_id])
        check_etag(record_id, etag, self._etag(record_id))
        self._records.pop(record_id, None)

    async def find(self, index: str, value: str) -> list[Versioned]:
        """Records whose index has the value."""
        self._check_open()
        return [
            self._versioned(record_id)
            for record_id in sorted(self._records)
            if self._records[record_id][1].get(index) == value
        ]

    async def all(self) -> list[Versioned]:
        """Every record."""
        self._check_open()
        return [self._versioned(record_id) for record_id in sorted(self._records)]

    async def rewrite(self, rows: Sequence[Row]) -> None:
        """Replace every record (all rows are checked before anything changes)."""
        self._check_open()
        self._records = checked_rows(rows)


class MemoryLog(_Closable, AppendLog):
    """Append-only log reference implementation in a list."""

    def __init__(self, where: str = "memory log") -> None:
        """Start empty."""
        self.where = where
        self._entries: list[Document] = []

    async def append(self, entry: Document) -> None:
        """Keep a copy of the entry."""
        self._check_open()
        self._entries.append(check_document("entry", entry))

    async def read(self) -> list[Document]:
        """Copies of every entry, oldest first."""
        self._check_open()
        return [copy_json(entry) for entry in self._entries]

    async def rewrite(self, entries: Sequence[Document]) -> None:
        """Replace every entry."""
        self._check_open()
        self._entries = [check_document("entry", entry) for entry in entries]


class MemoryBackend(Backend):
    """Everything in memory: for tests and the terminal chat without a data folder."""

    kind = "memory"

    def __init__(self) -> None:
        """Start empty."""
        self._state = MemoryKeyValueStore()
        self._tables: dict[str, MemoryRecordStore] = {}
        self._logs: dict[str, MemoryLog] = {}

    @property
    def state(self) -> KeyValueStore:
        """The key-value store."""
        return self._state

    def table(self, name: str) -> RecordStore:
        """The table, created on first use."""
        if name not in self._tables:
            self._tables[name] = MemoryRecordStore(f"memory table {name!r}")
        return self._tables[name]

    def log(self, name: str) -> AppendLog:
        """The log, created on first use."""
        if name not in self._logs:
            self._logs[name] = MemoryLog(f"memory log {name!r}")
        return self._logs[name]

    async def close(self) -> None:
        """Close every store."""
        await self._state.close()
        for table in self._tables.values():
            await table.close()
        for log in self._logs.values():
            await log.close()
