"""A read-only, consistent copy of a data folder in memory, also while the service runs.

`omtanke backup`, `export` and `escalations` read the folder the running service holds locked
(storage.tiny_backend). They never take the lock and never write: every file is read once, as
one version the service really wrote, and loaded into a MemoryBackend that the same code then
reads through the interfaces.

Why each file read alone is a real state: tables and shard base files are only ever replaced
by an atomic rename, so a read is retried until the file was the same one before and after;
journals and logs are only appended to, so a half-written last line (not yet acknowledged) is
dropped. A shard's base file and journal are read as a pair, retried while compaction replaces
the base.

Across files the copy is taken in an order that keeps what it holds consistent:

1. the key-value store (drafts, references) – before the proposals, so a draft submitted
   meanwhile is in the copy as the draft, the proposal, or both (and its second submit finds
   the proposal), never neither;
2. the proposals – a proposal acknowledged before the copy started is in it, with its pending
   audit entries and messages, or with those already stored in the files read next;
3. META (id counters, submit claims) – after the proposals, so a counter is never behind an id
   in the copy; then the outbox, the escalations and the logs.

A conversation in the middle of a turn may come back one step behind or ahead.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from storage import layout
from storage.base import Document, Row
from storage.errors import CorruptStoreError, StoreError
from storage.files import parse_json
from storage.jsonl import parse_log
from storage.kv import (
    JOURNAL_SUFFIX,
    META_FILE,
    check_meta,
    has_shard_files,
    load_base,
    missing_meta_error,
    replay_journal,
    shard_file_name,
)
from storage.memory import MemoryBackend
from storage.migrate import LEGACY_FILES, PSEUDONYM_KEY_FILE, load_legacy, parse_legacy
from storage.records import Records
from storage.tiny_backend import STATE_DIR, log_path, table_path
from storage.tinytable import parse_table

# A file replaced again and again while it is read (a busy service): give up after this many.
STABLE_READ_ATTEMPTS = 50
# The order of the copy (see the module doc); tables not named here follow, by name.
TABLE_ORDER = (layout.PROPOSALS, layout.META, layout.OUTBOX, layout.ESCALATIONS)


class SnapshotError(StoreError):
    """A file kept changing while it was copied; trying again later usually works."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} changed all the time while it was copied; try again")
        self.path = path


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    """Which version of a file is in place (an atomic replace changes the inode)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _read_optional(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StoreError(f"cannot read {path}: {error.strerror or error}") from error


def whole_lines(data: bytes) -> bytes:
    """Drop a half-written last line: an append in progress was not acknowledged yet."""
    if not data or data.endswith(b"\n"):
        return data
    return data[: data.rfind(b"\n") + 1]


def read_replaced(path: Path) -> bytes | None:
    """One whole version of a file that is only ever replaced atomically."""
    for _ in range(STABLE_READ_ATTEMPTS):
        before = _identity(path)
        data = _read_optional(path)
        if _identity(path) == before:
            return data
    raise SnapshotError(path)


def read_appended(path: Path) -> bytes | None:
    """The whole lines of a file that is only ever appended to."""
    data = _read_optional(path)
    return None if data is None else whole_lines(data)


def read_shard_pair(base: Path) -> tuple[bytes | None, bytes | None]:
    """Base file and journal as one state: retried while compaction replaces the base."""
    journal = base.with_suffix(JOURNAL_SUFFIX)
    for _ in range(STABLE_READ_ATTEMPTS):
        before = _identity(base)
        base_bytes = _read_optional(base)
        journal_bytes = _read_optional(journal)
        if _identity(base) == before:
            # The base did not change while the journal was read, so the journal was read after
            # (or with) this base; replaying it over the base gives the shard's state.
            return base_bytes, None if journal_bytes is None else whole_lines(journal_bytes)
    raise SnapshotError(base)


class _Reader:
    """Reads one data folder's files, each as one version."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def state(self) -> dict[str, Document]:
        """Every key of the sharded store, each shard read with its journal."""
        directory = self.data_dir / STATE_DIR
        meta_path = directory / META_FILE
        raw = read_replaced(meta_path)
        if raw is None:
            if directory.is_dir() and has_shard_files(directory):
                raise missing_meta_error(meta_path)
            return {}
        shards = check_meta(meta_path, parse_json(meta_path, raw))
        expected = {shard_file_name(n) for n in range(shards)}
        expected |= {Path(name).with_suffix(JOURNAL_SUFFIX).name for name in expected}
        for path in sorted(directory.glob("shard-*")):
            if path.suffix in (".json", JOURNAL_SUFFIX) and path.name not in expected:
                raise CorruptStoreError(
                    f"{path} is not one of the {shards} shards named in {META_FILE}"
                )
        documents: dict[str, Document] = {}
        for number in range(shards):
            base = directory / shard_file_name(number)
            base_bytes, journal_bytes = read_shard_pair(base)
            shard: dict[str, Document] = {}
            if base_bytes is not None:
                load_base(base, parse_json(base, base_bytes), number, shards, shard)
            journal = base.with_suffix(JOURNAL_SUFFIX)
            if journal_bytes:
                replay_journal(journal, journal_bytes, number, shards, shard)
            documents.update(shard)
        return documents

    def table(self, name: str) -> tuple[Path, list[Row]]:
        path = table_path(self.data_dir, name)
        raw = read_replaced(path)
        return path, parse_table(path, None if raw is None else parse_json(path, raw))

    def log(self, name: str) -> tuple[Path, list[Document]]:
        path = log_path(self.data_dir, name)
        raw = read_appended(path)
        required = layout.AUDIT_FIELDS if name == layout.AUDIT else ()
        return path, [] if raw is None else parse_log(path, raw, required)

    def legacy(self) -> tuple[dict[str, dict[str, Any] | None], bytes | None]:
        """The old layout's files (if a service of the previous release still runs on them,
        or this is a copy of such a folder) and the old pseudonym key file."""
        found: dict[str, dict[str, Any] | None] = {}
        for name in LEGACY_FILES:
            path = self.data_dir / name
            raw = read_replaced(path)
            if raw is not None:
                found[name] = parse_json(path, raw)
        key_path = self.data_dir / PSEUDONYM_KEY_FILE
        return found, read_replaced(key_path)


async def snapshot(data_dir: Path) -> MemoryBackend:
    """A consistent copy of the data folder in a MemoryBackend, read without its lock.

    Each memory store's ``where`` names the file it came from, so a check of the copy names
    the real file. A missing folder gives an empty backend. CorruptStoreError for damage.
    """
    reader = _Reader(Path(data_dir))
    backend = MemoryBackend()
    try:
        await backend.state.write(reader.state())
        legacy, old_key = reader.legacy()
        names = [*TABLE_ORDER, *sorted(set(layout.TABLES) - set(TABLE_ORDER))]
        for name in names:
            path, rows = reader.table(name)
            table = backend.table(name)
            table.where = str(path)
            await table.rewrite(rows)
        for name in layout.LOGS:
            path, entries = reader.log(name)
            log = backend.log(name)
            log.where = str(path)
            await log.rewrite(entries)
        if legacy or old_key is not None:
            await load_legacy(parse_legacy(legacy, reader.data_dir, old_key), backend)
    except BaseException:
        with contextlib.suppress(StoreError):
            await backend.close()
        raise
    backend.state.where = str(reader.data_dir / STATE_DIR)
    return backend


async def open_snapshot(data_dir: Path) -> Records:
    """The records of a snapshot, every one checked as start-up checks them; close it when
    done. (A change the service is making right now stays pending in the copy, as in the
    files: reading proposals, escalations and the outbox does not need it finished.)"""
    records = Records(await snapshot(data_dir))
    try:
        await records.check()
    except BaseException:
        await records.close()
        raise
    return records
