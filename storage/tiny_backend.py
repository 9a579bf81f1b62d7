"""The embedded default backend: one data folder on one machine, for a whole region.

Layout of the data folder:
- ``state/``            the sharded key-value store (storage.kv), which holds the folder's lock;
- ``tables/NAME.json``  one TinyDB file per table (storage.tinytable);
- ``NAME.jsonl``        one JSON Lines file per log (storage.jsonl), e.g. ``audit.jsonl``.

Single-instance by design: the lock refuses a second process on the same folder. Several
instances share one Azure Storage account instead (storage.azure_backend).
"""

from __future__ import annotations

from pathlib import Path

from storage import layout
from storage.base import AppendLog, Backend, KeyValueStore, RecordStore
from storage.jsonl import JsonlLog
from storage.kv import ShardedTinyStore
from storage.tinytable import TinyRecordStore

STATE_DIR = "state"
TABLES_DIR = "tables"
LOG_SUFFIX = ".jsonl"


def table_path(data_dir: Path, name: str) -> Path:
    """Where a table's file is."""
    return data_dir / TABLES_DIR / f"{name}.json"


def log_path(data_dir: Path, name: str) -> Path:
    """Where a log's file is."""
    return data_dir / f"{name}{LOG_SUFFIX}"


def _required(name: str) -> tuple[str, ...]:
    return layout.AUDIT_FIELDS if name == layout.AUDIT else ()


class TinyBackend(Backend):
    """All stores of one data folder; the state store's lock guards the whole folder."""

    kind = "tinydb"

    def __init__(self, data_dir: Path, shards: int = 256) -> None:
        """Open the folder (creating it), taking its lock; validate every file now."""
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._state = ShardedTinyStore(self.data_dir / STATE_DIR, shards)
        self._tables: dict[str, TinyRecordStore] = {}
        self._logs: dict[str, JsonlLog] = {}
        try:
            (self.data_dir / TABLES_DIR).mkdir(exist_ok=True)
            for name in layout.TABLES:
                self.table(name)
            for name in layout.LOGS:
                self.log(name)
        except BaseException:
            self._state.release_lock()
            raise

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
