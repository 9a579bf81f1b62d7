"""Key → JSON document stores for per-conversation bot state (plain Python, no botbuilder)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from tinydb import TinyDB

from storage.errors import CorruptStoreError, StoreError, StoreUnavailableError
from storage.files import TEMP_SUFFIX, atomic_write_bytes, read_json
from storage.tinytable import AtomicJSONStorage, copy_json, encode_json

logger = logging.getLogger(__name__)

Document = dict[str, Any]
T = TypeVar("T")

META_FILE = "meta.json"
LOCK_FILE = ".lock"
STORE_FORMAT = "omtanke.sharded-tinydb"
STORE_VERSION = 1
MAX_SHARDS = 65536
TABLE = "kv"
KEY = "k"
VALUE = "v"


class KeyValueStore(ABC):
    """Maps string keys to JSON documents (dicts); each write is durable before it returns."""

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
    async def close(self) -> None:
        """Release files and locks; the store cannot be used afterwards."""


def _check_keys(keys: Sequence[str] | Mapping[str, Any]) -> None:
    """Reject non-string keys early (a bare string would be read as a list of letters)."""
    if isinstance(keys, str):
        raise TypeError("keys must be a sequence of strings, not a single string")
    for key in keys:
        if not isinstance(key, str):
            raise TypeError(f"keys must be strings, got {type(key).__name__}")


def _check_documents(changes: Mapping[str, Document]) -> dict[str, Document]:
    """Validate and detach the documents before any of them is stored."""
    _check_keys(changes)
    detached: dict[str, Document] = {}
    for key, document in changes.items():
        if not isinstance(document, dict):
            raise TypeError(f"document for {key!r} must be a dict, got {type(document).__name__}")
        detached[key] = copy_json(document)
    return detached


class MemoryKeyValueStore(KeyValueStore):
    """Reference implementation in a dict; documents are copied through JSON like on disk."""

    def __init__(self) -> None:
        """Start empty."""
        self._documents: dict[str, Document] = {}
        self._closed = False

    def _check_open(self) -> None:
        """Fail like the file store would after close."""
        if self._closed:
            raise StoreError("key-value store is closed")

    async def read(self, keys: Sequence[str]) -> dict[str, Document]:
        """Return copies of the stored documents."""
        self._check_open()
        _check_keys(keys)
        return {key: copy_json(self._documents[key]) for key in keys if key in self._documents}

    async def write(self, changes: Mapping[str, Document]) -> None:
        """Store copies of the documents."""
        self._check_open()
        self._documents.update(_check_documents(changes))

    async def delete(self, keys: Sequence[str]) -> None:
        """Forget the keys."""
        self._check_open()
        _check_keys(keys)
        for key in keys:
            self._documents.pop(key, None)

    async def close(self) -> None:
        """Mark the store closed."""
        self._closed = True


def shard_of(key: str, shards: int) -> int:
    """Stable shard number for a key (independent of PYTHONHASHSEED and of the platform)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


class _Shard:
    """One TinyDB file holding {k: key, v: document} records, with a key → doc id index."""

    def __init__(self, number: int, path: Path, shards: int) -> None:
        """Open and validate the shard file (absent files are created on first write)."""
        self.number = number
        self.path = path
        self.lock = asyncio.Lock()
        self.db = TinyDB(path, storage=AtomicJSONStorage)
        self.table = self.db.table(TABLE)
        self.index: dict[str, int] = {}
        self._build_index(shards)

    def _build_index(self, shards: int) -> None:
        """Check every record's shape and placement; a misplaced key would be unreachable."""
        for document in self.table.all():
            key = document.get(KEY)
            where = f"{self.path}: document {document.doc_id}"
            if not isinstance(key, str) or not isinstance(document.get(VALUE), dict):
                raise CorruptStoreError(f"{where} is not a {{k: str, v: object}} record")
            if shard_of(key, shards) != self.number:
                raise CorruptStoreError(f"{where}: key {key!r} belongs in another shard")
            if key in self.index:
                raise CorruptStoreError(f"{where}: key {key!r} is stored twice")
            self.index[key] = int(document.doc_id)

    def get(self, key: str) -> Document | None:
        """Return a copy of the stored document or None."""
        doc_id = self.index.get(key)
        if doc_id is None:
            return None
        record = self.table.get(doc_id=doc_id)
        if record is None:  # cannot happen while the index is kept in step
            raise StoreError(f"{self.path}: index names document {doc_id} which is missing")
        return copy_json(record[VALUE])

    def put(self, key: str, document: Document) -> None:
        """Insert or replace one record: exactly one atomic, fsynced file write."""
        doc_id = self.index.get(key)
        if doc_id is None:
            self.index[key] = int(self.table.insert({KEY: key, VALUE: document}))
        else:
            self.table.update({VALUE: document}, doc_ids=[doc_id])

    def remove(self, key: str) -> None:
        """Remove one record if present."""
        doc_id = self.index.get(key)
        if doc_id is not None:
            self.table.remove(doc_ids=[doc_id])
            del self.index[key]


class ShardedTinyStore(KeyValueStore):
    """Embedded default: keys spread over N TinyDB files so a turn rewrites one small file."""

    def __init__(
        self, directory: str | Path, shards: int = 256, *, io_in_thread: bool = True
    ) -> None:
        """Open (or create) the store in `directory`, validating every shard file now."""
        if not isinstance(shards, int) or isinstance(shards, bool) or not 1 <= shards <= MAX_SHARDS:
            raise ValueError(f"shards must be an integer from 1 to {MAX_SHARDS}, got {shards!r}")
        self.directory = Path(directory)
        self.shards = shards
        # Writes fsync and may stall for milliseconds; a worker thread keeps other turns moving.
        self._io_in_thread = io_in_thread
        self._closed = False
        self._lock_fd = self._take_directory_lock()
        try:
            self._check_meta()
            self._remove_stale_temp_files()
            self._shards = [_Shard(n, self._shard_path(n), shards) for n in range(shards)]
            self._check_no_foreign_shards()
        except BaseException:
            self._release_directory_lock()
            raise

    async def open(self) -> None:
        """No-op for callers that open explicitly: the constructor already opened and validated."""
        self._check_open()

    def _shard_path(self, number: int) -> Path:
        """File name of shard `number`."""
        return self.directory / f"shard-{number:05d}.json"

    def _take_directory_lock(self) -> int:
        """Hold an exclusive flock: two processes caching the same files would lose writes."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise StoreUnavailableError(
                f"cannot open store directory {self.directory}: {error.strerror or error}"
            ) from error
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(fd)
            raise StoreError(
                f"{self.directory} is already open by another store (in this or another process)"
            ) from error
        return fd

    def _release_directory_lock(self) -> None:
        """Give the directory lock back."""
        with contextlib.suppress(OSError):
            os.close(self._lock_fd)

    def _check_meta(self) -> None:
        """Create meta.json, or check that it matches this format and shard count."""
        meta_path = self.directory / META_FILE
        meta = read_json(meta_path)
        if meta is None:
            if any(self.directory.glob("shard-*.json")):
                raise CorruptStoreError(
                    f"{meta_path} is missing but {self.directory} holds shard files; "
                    "restore it (it records the shard count) rather than start over"
                )
            atomic_write_bytes(
                meta_path,
                encode_json(
                    {"format": STORE_FORMAT, "version": STORE_VERSION, "shards": self.shards}
                ),
            )
            return
        if meta.get("format") != STORE_FORMAT:
            raise CorruptStoreError(
                f"{meta_path}: format is {meta.get('format')!r}, expected {STORE_FORMAT!r}"
            )
        if meta.get("version") != STORE_VERSION:
            raise StoreError(
                f"{meta_path}: store version {meta.get('version')!r} is not "
                f"supported (this code reads version {STORE_VERSION})"
            )
        stored_shards = meta.get("shards")
        if not isinstance(stored_shards, int) or isinstance(stored_shards, bool):
            raise CorruptStoreError(f"{meta_path}: 'shards' is {stored_shards!r}, not an integer")
        if stored_shards != self.shards:
            raise StoreError(
                f"{meta_path}: the store was created with {stored_shards} shards but is being "
                f"opened with {self.shards}; keys would land in the wrong files. Open it with "
                f"shards={stored_shards}."
            )

    def _remove_stale_temp_files(self) -> None:
        """Delete temp files left by a crash mid-write (the real files are intact)."""
        for stale in self.directory.glob(f".shard-*{TEMP_SUFFIX}"):
            logger.warning("removing %s left by an interrupted write", stale)
            with contextlib.suppress(OSError):
                stale.unlink()

    def _check_no_foreign_shards(self) -> None:
        """Refuse shard files beyond the shard count: their keys would be invisible."""
        expected = {self._shard_path(n).name for n in range(self.shards)}
        for path in self.directory.glob("shard-*.json"):
            if path.name not in expected:
                raise CorruptStoreError(
                    f"{path} is not one of the {self.shards} shards named in {META_FILE}"
                )

    def _check_open(self) -> None:
        """Fail clearly when used after close."""
        if self._closed:
            raise StoreError(f"store in {self.directory} is closed")

    def _group(self, keys: Iterator[str]) -> dict[int, list[str]]:
        """Group keys by shard, keeping their order within each shard."""
        groups: dict[int, list[str]] = {}
        for key in keys:
            groups.setdefault(shard_of(key, self.shards), []).append(key)
        return groups

    async def _io(self, operation: Callable[..., T], *args: Any) -> T:
        """Run a shard file operation in a worker thread or inline."""
        if self._io_in_thread:
            return await asyncio.to_thread(operation, *args)
        return operation(*args)

    async def read(self, keys: Sequence[str]) -> dict[str, Document]:
        """Return copies of the stored documents (served from memory after open)."""
        self._check_open()
        _check_keys(keys)
        found: dict[str, Document] = {}
        for number, shard_keys in self._group(iter(keys)).items():
            shard = self._shards[number]
            # The lock also keeps readers out while a worker thread mutates the cache.
            async with shard.lock:
                for key in shard_keys:
                    document = shard.get(key)
                    if document is not None:
                        found[key] = document
        return {key: found[key] for key in keys if key in found}

    async def write(self, changes: Mapping[str, Document]) -> None:
        """Store each document durably (one fsynced file replace per key)."""
        self._check_open()
        documents = _check_documents(changes)
        for number, shard_keys in self._group(iter(documents)).items():
            shard = self._shards[number]
            async with shard.lock:
                for key in shard_keys:
                    await self._io(shard.put, key, documents[key])

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove the keys durably."""
        self._check_open()
        _check_keys(keys)
        for number, shard_keys in self._group(iter(keys)).items():
            shard = self._shards[number]
            async with shard.lock:
                for key in shard_keys:
                    if key in shard.index:
                        await self._io(shard.remove, key)

    async def close(self) -> None:
        """Wait for running operations, close every shard and release the directory lock."""
        if self._closed:
            return
        self._closed = True
        for shard in self._shards:
            async with shard.lock:
                shard.db.close()
        self._release_directory_lock()

    def __len__(self) -> int:
        """Number of stored keys."""
        return sum(len(shard.index) for shard in self._shards)
