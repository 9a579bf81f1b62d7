"""The embedded default (sharded key-value store, TinyDB tables, JSON Lines logs, the data
folder backend) passes every storage contract, including the durable ones."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from botbuilder.core import Storage

from storage.base import AppendLog, Backend, KeyValueStore, RecordStore
from storage.bot_storage import KeyValueBotStorage
from storage.jsonl import JsonlLog
from storage.kv import ShardedTinyStore
from storage.tiny_backend import TinyBackend
from storage.tinytable import TinyRecordStore
from tests.contracts import (
    AppendLogContract,
    BackendContract,
    BotStorageContract,
    DurableAppendLogContract,
    DurableBackendContract,
    DurableKeyValueStoreContract,
    DurableRecordStoreContract,
    KeyValueStoreContract,
    RecordStoreContract,
)
from tests.contracts.backend import BackendFactory
from tests.contracts.kv import KeyValueFactory
from tests.contracts.logs import AppendLogFactory
from tests.contracts.records import RecordStoreFactory


class TestShardedTinyStore(KeyValueStoreContract, DurableKeyValueStoreContract):
    @pytest.fixture
    async def kv(self, tmp_path: Path) -> AsyncIterator[KeyValueStore]:
        store = ShardedTinyStore(tmp_path / "kv", shards=4)
        yield store
        await store.close()

    @pytest.fixture
    def kv_factory(self, tmp_path: Path) -> KeyValueFactory:
        async def open_store() -> KeyValueStore:
            return ShardedTinyStore(tmp_path / "kv", shards=4)

        return open_store


class TestShardedTinyStoreInline(KeyValueStoreContract):
    """Without the worker thread (io_in_thread=False) the store behaves the same."""

    @pytest.fixture
    async def kv(self, tmp_path: Path) -> AsyncIterator[KeyValueStore]:
        store = ShardedTinyStore(tmp_path / "kv", shards=2, io_in_thread=False)
        yield store
        await store.close()


class TestTinyRecordStore(RecordStoreContract, DurableRecordStoreContract):
    @pytest.fixture
    async def table(self, tmp_path: Path) -> AsyncIterator[RecordStore]:
        table = TinyRecordStore(tmp_path / "table.json")
        yield table
        await table.close()

    @pytest.fixture
    def table_factory(self, tmp_path: Path) -> RecordStoreFactory:
        async def open_table() -> RecordStore:
            return TinyRecordStore(tmp_path / "table.json")

        return open_table


class TestJsonlLog(AppendLogContract, DurableAppendLogContract):
    @pytest.fixture
    async def log(self, tmp_path: Path) -> AsyncIterator[AppendLog]:
        log = JsonlLog(tmp_path / "log.jsonl")
        yield log
        await log.close()

    @pytest.fixture
    def log_factory(self, tmp_path: Path) -> AppendLogFactory:
        async def open_log() -> AppendLog:
            return JsonlLog(tmp_path / "log.jsonl")

        return open_log


class TestTinyBackend(BackendContract, DurableBackendContract):
    @pytest.fixture
    async def backend(self, tmp_path: Path) -> AsyncIterator[Backend]:
        backend = await TinyBackend.open(tmp_path / "data", shards=4)
        yield backend
        await backend.close()

    @pytest.fixture
    def backend_factory(self, tmp_path: Path) -> BackendFactory:
        async def open_backend() -> Backend:
            return await TinyBackend.open(tmp_path / "data", shards=4)

        return open_backend


class TestShardedBotStorage(BotStorageContract):
    @pytest.fixture
    async def storage(self, tmp_path: Path) -> AsyncIterator[Storage]:
        storage = KeyValueBotStorage(ShardedTinyStore(tmp_path / "state", shards=8))
        yield storage
        await storage.close()
