"""The embedded default backend: one data folder on one machine, for a whole region.

Layout of the data folder:
- ``state/``            the sharded key-value store (storage.kv), which holds the folder's lock;
- ``tables/NAME.json``  one TinyDB file per table (storage.tinytable);
- ``NAME.jsonl``        one JSON Lines file per log (storage.jsonl), e.g. ``audit.jsonl``.

Single-instance by design: the lock refuses a second process on the same folder. Several
instances share one Azure Storage account instead (storage.azure_backend).

Open it with ``await TinyBackend.open(data_dir)``: a folder still in the old layout (tables as
TinyDB files in its root) is migrated then (storage.migrate). The constructor alone refuses
such a folder rather than start with empty tables beside the old ones.
"""

from __future__ import annotations

from pathlib import Path

from storage import layout
from storage.base import AppendLog, Backend, KeyValueStore, RecordStore
from storage.files import read_json
from storage.jsonl import JsonlLog
from storage.kv import META_FILE, ShardedTinyStore, check_meta
from storage.migrate import MigrationReport, legacy_error, legacy_files, migrate_data_folder
from storage.tinytable import TinyRecordStore

STATE_DIR = "state"
TABLES_DIR = "tables"
LOG_SUFFIX = ".jsonl"
DEFAULT_SHARDS = 256


def table_path(data_dir: Path, name: str) -> Path:
    """Where a table's file is."""
    return data_dir / TABLES_DIR / f"{name}.json"


def log_path(data_dir: Path, name: str) -> Path:
    """Where a log's file is."""
    return data_dir / f"{name}{LOG_SUFFIX}"


def _required(name: str) -> tuple[str, ...]:
    return layout.AUDIT_FIELDS if name == layout.AUDIT else ()


def stored_shards(data_dir: Path) -> int | None:
    """The shard count the folder's key-value store was created with, if it exists."""
    meta_path = Path(data_dir) / STATE_DIR / META_FILE
    meta = read_json(meta_path)
    return None if meta is None else check_meta(meta_path, meta)


class TinyBackend(Backend):
    """All stores of one data folder; the state store's lock guards the whole folder."""

    kind = "tinydb"

    def __init__(
        self, data_dir: Path, shards: int = DEFAULT_SHARDS, *, allow_legacy: bool = False
    ) -> None:
        """Open the folder (creating it), taking its lock; validate every file now.

        A folder in the old layout is refused unless `allow_legacy` (TinyBackend.open, which
        migrates it next).
        """
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._state = ShardedTinyStore(self.data_dir / STATE_DIR, shards)
        self._tables: dict[str, TinyRecordStore] = {}
        self._logs: dict[str, JsonlLog] = {}
        self.migration: MigrationReport | None = None
        try:
            old = legacy_files(self.data_dir)
            if old and not allow_legacy:
                raise legacy_error(self.data_dir, old)
            (self.data_dir / TABLES_DIR).mkdir(exist_ok=True)
            for name in layout.TABLES:
                self.table(name)
            for name in layout.LOGS:
                self.log(name)
        except BaseException:
            self._state.release_lock()
            raise

    @classmethod
    async def open(cls, data_dir: Path, shards: int | None = None) -> TinyBackend:
        """Open the folder and migrate it if it is still in the old layout.

        `shards` None uses the count the folder was created with (new folders: 256).
        """
        count = shards if shards is not None else stored_shards(data_dir) or DEFAULT_SHARDS
        backend = cls(data_dir, count, allow_legacy=True)
        try:
            backend.migration = await migrate_data_folder(backend.data_dir, backend)
        except BaseException:
            await backend.close()
            raise
        return backend

    @property
    def state(self) -> KeyValueStore:
        """The sharded key-value store."""
        return self._state

    def table(self, name: str) -> RecordStore:
        """The table's TinyDB file, opened once."""
        if name not in self._tables:
            self._tables[name] = TinyRecordStore(table_path(self.data_dir, name))
        return self._tables[name]

    def log(self, name: str) -> AppendLog:
        """The log's JSON Lines file."""
        if name not in self._logs:
            self._logs[name] = JsonlLog(log_path(self.data_dir, name), _required(name))
        return self._logs[name]

    async def close(self) -> None:
        """Close every table and log, then the state store (which releases the lock)."""
        try:
            for table in self._tables.values():
                await table.close()
            for log in self._logs.values():
                await log.close()
        finally:
            await self._state.close()
