"""The storage interfaces: every persistent record of Omtanke goes through one of these.

- ``KeyValueStore``: key → JSON document (bot state, drafts, conversation references, small
  per-person and per-proposal records), with eTag-conditional writes.
- ``RecordStore``: a table of JSON records by id with equality indexes (proposals,
  escalations, the outbox, counters, leases), with eTag-conditional writes.
- ``AppendLog``: an append-only log of JSON entries (the audit log, feedback).
- ``Backend``: one of each kind by name, opened and closed together.

Each interface has an in-memory reference implementation (storage.memory), a TinyDB/file one
(the embedded default) and a contract test suite in tests/contracts/ that every
implementation must pass. Every write is durable before it returns. An eTag is an opaque
string that changes whenever the stored content of a key changes (the embedded stores derive
it from the content, so writing the same content again may keep it); a conditional write
whose eTag no longer matches raises ETagConflictError and changes nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

Document = dict[str, Any]


class _Any:
    """The eTag that matches whatever is stored (an unconditional write)."""

    def __repr__(self) -> str:
        return "ANY"


# Pass as ``etag`` for an unconditional write; None means "only if absent".
ANY: Final = _Any()
ETag = str | None | _Any


@dataclass(frozen=True)
class Versioned:
    """A stored document with the eTag it had when it was read (and, from a RecordStore,
    the index values it was stored with)."""

    key: str
    document: Document
    etag: str
    index: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    """One record of a table as a whole: id, document and index values (dump and restore)."""

    id: str
    document: Document
    index: Mapping[str, str] = field(default_factory=dict)


class KeyValueStore(ABC):
    """Maps string keys to JSON documents (dicts); each write is durable before it returns."""

    # Where the data lives (a folder, a container), for messages that must name it.
    where: str = "key-value store"

    @abstractmethod
    async def read(self, keys: Sequence[str]) -> dict[str, Document]:
        """Return copies of the documents stored under `keys`; missing keys are absent."""

    @abstractmethod
    async def write(self, changes: Mapping[str, Document]) -> None:
        """Store each document under its key, replacing what was there."""

    @abstractmethod
    async def delete(self, keys: Sequence[str]) -> None:
        """Remove the keys; keys that are not stored are ignored."""

    @abstractmethod
    async def keys(self, prefix: str = "") -> list[str]:
        """Every stored key starting with `prefix`, sorted (maintenance and sweeps)."""

    @abstractmethod
    async def read_versioned(self, key: str) -> Versioned | None:
        """The document under `key` with its eTag, or None."""

    @abstractmethod
    async def write_if(self, key: str, document: Document, etag: ETag) -> str:
        """Store `document` if the stored eTag is `etag` (None: only if absent); new eTag.

        Raises ETagConflictError when someone else wrote the key in between.
        """

    @abstractmethod
    async def delete_if(self, key: str, etag: ETag) -> None:
        """Remove `key` if its eTag is `etag`; ETagConflictError otherwise (absent is fine
        for ANY)."""

    @abstractmethod
    async def close(self) -> None:
        """Release files, locks and connections; the store cannot be used afterwards."""

    async def inspect(self, prefix: str, visit: Callable[[str, Document], None]) -> int:
        """Call visit(key, document) for every key with the prefix, in key order; return how
        many (the start-up check). visit must neither change nor keep the document: a store
        may pass its own, to save a copy of every record."""
        keys = await self.keys(prefix)
        documents = await self.read(keys)
        for key in keys:
            if key in documents:
                visit(key, documents[key])
        return len(documents)


class RecordStore(ABC):
    """A table of JSON records by id, findable by equality on the indexes given at write."""

    # Where the table lives (a file, a container), for messages that must name it.
    where: str = "table"

    @abstractmethod
    async def get(self, record_id: str) -> Versioned | None:
        """The record with this id and its eTag, or None."""

    @abstractmethod
    async def put(
        self,
        record_id: str,
        document: Document,
        *,
        index: Mapping[str, str] | None = None,
        etag: ETag = ANY,
    ) -> str:
        """Store the record (replacing it) with its index values; return the new eTag.

        `etag` None inserts only (ETagConflictError if the id exists); a string must match
        the stored eTag.
        """

    @abstractmethod
    async def delete(self, record_id: str, *, etag: ETag = ANY) -> None:
        """Remove the record; a missing id is fine unless an eTag string is given."""

    @abstractmethod
    async def find(self, index: str, value: str) -> list[Versioned]:
        """Every record whose index `index` has `value`, in id order."""

    @abstractmethod
    async def all(self) -> list[Versioned]:
        """Every record, in id order."""

    async def inspect(self, visit: Callable[[Row], None]) -> int:
        """Call visit(row) for every record, in id order; return how many (the start-up
        check). visit must neither change nor keep the document: a store may pass its own,
        to save a copy and an eTag of every record."""
        stored = await self.all()
        for found in stored:
            visit(Row(found.key, found.document, found.index))
        return len(stored)

    @abstractmethod
    async def rewrite(self, rows: Sequence[Row]) -> None:
        """Replace the whole table with exactly these records, at once where the backend can
        (restore, migration and erase-user only; the service is stopped)."""

    @abstractmethod
    async def close(self) -> None:
        """Release the table."""


class AppendLog(ABC):
    """Append-only JSON entries, read back in the order they were written."""

    # Where the log lives (a file, a container), for messages that must name it.
    where: str = "log"

    @abstractmethod
    async def append(self, entry: Document) -> None:
        """Store one entry durably."""

    @abstractmethod
    async def read(self) -> list[Document]:
        """Every entry, oldest first."""

    @abstractmethod
    async def rewrite(self, entries: Sequence[Document]) -> None:
        """Replace the whole log (erase-user and restore only; the service is stopped)."""

    @abstractmethod
    async def close(self) -> None:
        """Release the log."""


class Backend(ABC):
    """One place for all of Omtanke's data: a key-value store, tables and logs by name.

    Names are fixed in storage.layout; an implementation creates what is missing on first use.
    """

    kind: str = ""

    @property
    @abstractmethod
    def state(self) -> KeyValueStore:
        """The key-value store."""

    @abstractmethod
    def table(self, name: str) -> RecordStore:
        """The table `name` (opened once, then the same object)."""

    @abstractmethod
    def log(self, name: str) -> AppendLog:
        """The append-only log `name` (opened once, then the same object)."""

    @abstractmethod
    async def close(self) -> None:
        """Close everything that was opened."""
