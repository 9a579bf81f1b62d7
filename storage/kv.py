"""The embedded key-value store: keys spread over sharded TinyDB-layout files with journals."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from storage.base import ETag, KeyValueStore, Versioned
from storage.documents import (
    check_document,
    check_documents,
    check_etag,
    check_keys,
    copy_json,
    encode_json,
    etag_of,
)
from storage.errors import CorruptStoreError, StoreBusyError, StoreError, StoreUnavailableError
from storage.files import TEMP_SUFFIX, atomic_write_bytes, fsync_directory, read_json
from storage.tinytable import gc_paused, validate_layout

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
JOURNAL_SUFFIX = ".log"
# The journal is folded into the base file once it is larger than the base (and than this), so
# rewriting costs O(1) per journalled byte and the journal never outgrows the data.
COMPACT_MIN_BYTES = 256 * 1024


def shard_of(key: str, shards: int) -> int:
    """Stable shard number for a key (independent of PYTHONHASHSEED and of the platform)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def shard_file_name(number: int) -> str:
    """The base file of shard `number`; its journal has the same name ending in .log."""
    return f"shard-{number:05d}.json"


def _check_placement(key: str, number: int, shards: int, where: str) -> None:
    if shard_of(key, shards) != number:
        raise CorruptStoreError(f"{where}: key {key!r} belongs in another shard")


def load_base(
    path: Path, data: dict[str, Any], number: int, shards: int, documents: dict[str, Document]
) -> None:
    """Load a shard base file's parsed content into `documents`, checking every record's shape
    and placement (a misplaced key would be unreachable); CorruptStoreError names the file."""
    validate_layout(path, data)
    for doc_id, document in data.get(TABLE, {}).items():
        key = document.get(KEY)
        value = document.get(VALUE)
        # The message is only built on failure: this loop runs once per stored key at start.
        if not isinstance(key, str) or not isinstance(value, dict):
            raise CorruptStoreError(
                f"{path}: document {doc_id} is not a {{k: str, v: object}} record"
            )
        if key in documents:
            raise CorruptStoreError(f"{path}: document {doc_id}: key {key!r} is stored twice")
        if shard_of(key, shards) != number:
            _check_placement(key, number, shards, f"{path}: document {doc_id}")
        documents[key] = value


def replay_journal(
    path: Path, raw: bytes, number: int, shards: int, documents: dict[str, Document]
) -> int:
    """Apply a journal's content to `documents`; return how many bytes are whole lines.

    A torn last line (a crash mid-append, never acknowledged) is left out; any other damage
    raises CorruptStoreError naming the file and line.
    """
    lines = raw.split(b"\n")
    complete = len(raw) if raw.endswith(b"\n") or not raw else len(raw) - len(lines[-1])
    for line_number, line in enumerate(lines[:-1], start=1):
        where = f"{path}: line {line_number}"
        try:
            entry = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CorruptStoreError(f"{where} is not valid JSON: {error}") from error
        key = entry.get(KEY) if isinstance(entry, dict) else None
        value = entry.get(VALUE) if isinstance(entry, dict) else None
        if not isinstance(key, str) or not (value is None or isinstance(value, dict)):
            raise CorruptStoreError(f"{where} is not a {{k: str, v: object|null}} entry")
        _check_placement(key, number, shards, where)
        if value is None:
            documents.pop(key, None)
        else:
            documents[key] = value
    return complete


def check_meta(meta_path: Path, meta: dict[str, Any], shards: int | None = None) -> int:
    """Check a store's meta.json content; return its shard count (which must be `shards`)."""
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
    if (
        not isinstance(stored_shards, int)
        or isinstance(stored_shards, bool)
        or not 1 <= stored_shards <= MAX_SHARDS
    ):
        raise CorruptStoreError(f"{meta_path}: 'shards' is {stored_shards!r}, not an integer")
    if shards is not None and stored_shards != shards:
        raise StoreError(
            f"{meta_path}: the store was created with {stored_shards} shards but is being "
            f"opened with {shards}; keys would land in the wrong files. Open it with "
            f"shards={stored_shards}."
        )
    return stored_shards


def missing_meta_error(meta_path: Path) -> CorruptStoreError:
    """meta.json is gone but shard files or journals are left: never start over on them."""
    return CorruptStoreError(
        f"{meta_path} is missing but {meta_path.parent} holds shard files or journals; "
        "restore it (it records the shard count) rather than start over"
    )


def has_shard_files(directory: Path) -> bool:
    """True when the folder holds any shard base file or journal."""
    return any(directory.glob("shard-*.json")) or any(directory.glob(f"shard-*{JOURNAL_SUFFIX}"))


class _Shard:
    """One shard: a TinyDB-layout base file plus an append-only, fsynced journal.

    The base file ``shard-NNNNN.json`` keeps TinyDB's layout ({"kv": {doc_id: {k, v}}}). Every
    write appends one line per key to ``shard-NNNNN.log`` and fsyncs it before returning, so a
    turn costs one small append instead of rewriting (and fsyncing) the whole shard file: the
    cost no longer grows with the number of stored conversations. When the journal outgrows the
    base file it is folded into it (atomic replace, then the journal is emptied); replaying a
    journal over a base that already holds its changes gives the same result, so a crash between
    the two steps loses nothing. A torn last line (a crash mid-append, never acknowledged) is
    dropped on open; any other damage stops the open, naming the file and line.
    """

    def __init__(self, number: int, path: Path, shards: int) -> None:
        """Load and validate the base file, then replay the journal."""
        self.number = number
        self.path = path
        self.journal_path = path.with_suffix(JOURNAL_SUFFIX)
        self.lock = asyncio.Lock()
        self.documents: dict[str, Document] = {}
        self._journal_fd: int | None = None
        self._journal_bytes = 0
        self._base_bytes = 0
        self._load_base(shards)
        self._replay_journal(shards)

    def _load_base(self, shards: int) -> None:
        """Check every record's shape and placement; a misplaced key would be unreachable."""
        data = read_json(self.path)
        if data is None:
            return
        self._base_bytes = self.path.stat().st_size
        load_base(self.path, data, self.number, shards, self.documents)

    def _replay_journal(self, shards: int) -> None:
        """Apply the journal's puts and deletes in order; drop a torn, unacknowledged tail."""
        try:
            raw = self.journal_path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as error:
            raise StoreUnavailableError(
                f"cannot read {self.journal_path}: {error.strerror or error}"
            ) from error
        complete = replay_journal(self.journal_path, raw, self.number, shards, self.documents)
        if complete != len(raw):
            logger.warning("dropping an interrupted last write at the end of %s", self.journal_path)
            try:
                with open(self.journal_path, "r+b") as handle:
                    handle.truncate(complete)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as error:
                raise StoreUnavailableError(
                    f"cannot repair {self.journal_path}: {error.strerror or error}"
                ) from error
        self._journal_bytes = complete

    def get(self, key: str) -> Document | None:
        """Return a copy of the stored document or None."""
        document = self.documents.get(key)
        return None if document is None else copy_json(document)

    def apply(self, changes: Sequence[tuple[str, Document | None]]) -> None:
        """Durably record puts (document) and deletes (None): one append and one fsync.

        Memory changes only after the fsync succeeded; on failure the journal is cut back.
        """
        payload = b"".join(encode_json({KEY: key, VALUE: value}) + b"\n" for key, value in changes)
        self._append(payload)
        for key, value in changes:
            if value is None:
                self.documents.pop(key, None)
            else:
                self.documents[key] = value
        if self._journal_bytes > max(COMPACT_MIN_BYTES, self._base_bytes):
            self.compact()

    def _append(self, payload: bytes) -> None:
        before = self._journal_bytes
        try:
            fd = self._open_journal()
            try:
                written = 0
                while written < len(payload):
                    written += os.write(fd, payload[written:])
                os.fsync(fd)
            except OSError:
                # Not acknowledged: make sure a later write or a restart never sees it.
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, before)
                raise
        except OSError as error:
            raise StoreUnavailableError(
                f"cannot write {self.journal_path}: {error.strerror or error}"
            ) from error
        self._journal_bytes = before + len(payload)

    def _open_journal(self) -> int:
        if self._journal_fd is None:
            existed = self.journal_path.exists()
            fd = os.open(self.journal_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            if not existed:
                # The new file's directory entry must survive a power loss too.
                try:
                    fsync_directory(self.journal_path.parent)
                except OSError:
                    os.close(fd)
                    raise
            self._journal_fd = fd
        return self._journal_fd

    def compact(self) -> None:
        """Fold the journal into the base file (atomic replace), then empty the journal."""
        if self._journal_bytes == 0 and self._journal_fd is None:
            return
        table = {
            str(doc_id): {KEY: key, VALUE: document}
            for doc_id, (key, document) in enumerate(self.documents.items(), start=1)
        }
        data = encode_json({TABLE: table})
        atomic_write_bytes(self.path, data)
        self._base_bytes = len(data)
        try:
            fd = self._open_journal()
            os.ftruncate(fd, 0)
            os.fsync(fd)
        except OSError as error:
            raise StoreUnavailableError(
                f"cannot write {self.journal_path}: {error.strerror or error}"
            ) from error
        self._journal_bytes = 0

    def close(self) -> None:
        """Fold a non-empty journal into the base file and release the file handle."""
        try:
            if self._journal_bytes:
                self.compact()
        finally:
            if self._journal_fd is not None:
                with contextlib.suppress(OSError):
                    os.close(self._journal_fd)
                self._journal_fd = None
            with contextlib.suppress(OSError):
                if self.journal_path.exists() and self.journal_path.stat().st_size == 0:
                    self.journal_path.unlink()


class ShardedTinyStore(KeyValueStore):
    """Embedded default: keys spread over N shard files; a write appends to one shard's journal."""

    def __init__(
        self, directory: str | Path, shards: int = 256, *, io_in_thread: bool = True
    ) -> None:
        """Open (or create) the store in `directory`, validating every shard file now."""
        if not isinstance(shards, int) or isinstance(shards, bool) or not 1 <= shards <= MAX_SHARDS:
            raise ValueError(f"shards must be an integer from 1 to {MAX_SHARDS}, got {shards!r}")
        self.directory = Path(directory)
        self.where = str(self.directory)
        self.shards = shards
        # Writes fsync and may stall for milliseconds; a worker thread keeps other turns moving.
        self._io_in_thread = io_in_thread
        self._closed = False
        self._lock_fd = self._take_directory_lock()
        try:
            self._check_meta()
            self._remove_stale_temp_files()
            self._shards = self._open_shards()
            self._check_no_foreign_shards()
            self._check_no_foreign_journals()
        except BaseException:
            self._release_directory_lock()
            raise

    def _open_shards(self) -> list[_Shard]:
        """Load every shard with the cyclic GC paused (see tinytable.gc_paused): about a
        quarter of the open time at 10,000 conversations otherwise."""
        with gc_paused():
            return [_Shard(n, self._shard_path(n), self.shards) for n in range(self.shards)]

    def _check_no_foreign_journals(self) -> None:
        """Refuse journals beyond the shard count: their writes would be invisible."""
        expected = {
            self._shard_path(n).with_suffix(JOURNAL_SUFFIX).name for n in range(self.shards)
        }
        for path in self.directory.glob(f"shard-*{JOURNAL_SUFFIX}"):
            if path.name not in expected:
                raise CorruptStoreError(
                    f"{path} is not one of the {self.shards} shards named in {META_FILE}"
                )

    def _shard_path(self, number: int) -> Path:
        """File name of shard `number`."""
        return self.directory / shard_file_name(number)

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
            raise StoreBusyError(
                f"{self.directory} is already open by another store (in this or another process)"
            ) from error
        return fd

    def release_lock(self) -> None:
        """Give the directory lock back without closing (when opening a backend failed)."""
        self._release_directory_lock()

    def _release_directory_lock(self) -> None:
        """Give the directory lock back."""
        with contextlib.suppress(OSError):
            os.close(self._lock_fd)

    def _check_meta(self) -> None:
        """Create meta.json, or check that it matches this format and shard count."""
        meta_path = self.directory / META_FILE
        meta = read_json(meta_path)
        if meta is None:
            if has_shard_files(self.directory):
                raise missing_meta_error(meta_path)
            atomic_write_bytes(
                meta_path,
                encode_json(
                    {"format": STORE_FORMAT, "version": STORE_VERSION, "shards": self.shards}
                ),
            )
            return
        check_meta(meta_path, meta, self.shards)

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
        check_keys(keys)
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
        """Store each document durably: one fsynced journal append per shard touched.

        Shards are written concurrently (their files are independent), so a turn that stores a
        conversation reference and a person reference waits for one fsync, not two in a row.
        """
        self._check_open()
        documents = check_documents(changes)
        await self._apply_all(
            {
                number: [(key, documents[key]) for key in shard_keys]
                for number, shard_keys in self._group(iter(documents)).items()
            }
        )

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove the keys durably."""
        self._check_open()
        check_keys(keys)
        await self._apply_all(
            {
                number: [(key, None) for key in shard_keys]
                for number, shard_keys in self._group(iter(keys)).items()
            }
        )

    async def _apply_all(self, groups: dict[int, list[tuple[str, Document | None]]]) -> None:
        """Apply each shard's changes under its lock; wait for all, then raise the first error."""

        async def one(number: int, changes: list[tuple[str, Document | None]]) -> None:
            shard = self._shards[number]
            async with shard.lock:
                # Deleting an absent key is a no-op and needs no write.
                wanted = [(k, v) for k, v in changes if v is not None or k in shard.documents]
                if wanted:
                    await self._io(shard.apply, wanted)

        if len(groups) == 1:
            [(number, changes)] = groups.items()
            await one(number, changes)
            return
        results = await asyncio.gather(
            *(one(number, changes) for number, changes in groups.items()), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def keys(self, prefix: str = "") -> list[str]:
        """Every stored key with the prefix, sorted (taken under each shard's lock)."""
        self._check_open()
        found: list[str] = []
        for shard in self._shards:
            async with shard.lock:
                found.extend(key for key in shard.documents if key.startswith(prefix))
        return sorted(found)

    async def inspect(self, prefix: str, visit: Callable[[str, Document], None]) -> int:
        """Visit the stored documents themselves, in key order: no copy of each record.

        A write never changes a stored document in place (it stores a detached copy under
        the key), so the documents taken under each shard's lock stay as they were.
        """
        self._check_open()
        found: list[tuple[str, Document]] = []
        for shard in self._shards:
            async with shard.lock:
                found.extend(
                    (key, document)
                    for key, document in shard.documents.items()
                    if key.startswith(prefix)
                )
        found.sort(key=lambda item: item[0])
        for key, document in found:
            visit(key, document)
        return len(found)

    async def read_versioned(self, key: str) -> Versioned | None:
        """The document and its content eTag."""
        self._check_open()
        check_keys([key])
        shard = self._shards[shard_of(key, self.shards)]
        async with shard.lock:
            document = shard.documents.get(key)
            if document is None:
                return None
            return Versioned(key, copy_json(document), etag_of(document))

    async def write_if(self, key: str, document: Document, etag: ETag) -> str:
        """Store if the eTag matches, checked and written under the shard's lock."""
        self._check_open()
        check_keys([key])
        stored = check_document(key, document)
        shard = self._shards[shard_of(key, self.shards)]
        async with shard.lock:
            current = shard.documents.get(key)
            check_etag(key, etag, None if current is None else etag_of(current))
            await self._io(shard.apply, [(key, stored)])
        return etag_of(stored)

    async def delete_if(self, key: str, etag: ETag) -> None:
        """Delete if the eTag matches."""
        self._check_open()
        check_keys([key])
        shard = self._shards[shard_of(key, self.shards)]
        async with shard.lock:
            current = shard.documents.get(key)
            check_etag(key, etag, None if current is None else etag_of(current))
            if current is not None:
                await self._io(shard.apply, [(key, None)])

    async def close(self) -> None:
        """Wait for running operations, close every shard and release the directory lock."""
        if self._closed:
            return
        self._closed = True
        try:
            for shard in self._shards:
                async with shard.lock:
                    if shard.journal_path.exists() or shard._journal_fd is not None:
                        await self._io(shard.close)
        finally:
            self._release_directory_lock()

    def __len__(self) -> int:
        """Number of stored keys."""
        return sum(len(shard.documents) for shard in self._shards)
