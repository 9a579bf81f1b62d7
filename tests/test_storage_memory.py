"""The in-memory reference implementations pass every storage contract."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from botbuilder.core import Storage

from storage.base import AppendLog, Backend, KeyValueStore, RecordStore
from storage.bot_storage import KeyValueBotStorage
from storage.memory import MemoryBackend, MemoryKeyValueStore, MemoryLog, MemoryRecordStore
from tests.contracts import (
    AppendLogContract,
    BackendContract,
    BotStorageContract,
    KeyValueStoreContract,
    RecordStoreContract,
)


class TestMemoryKeyValueStore(KeyValueStoreContract):
    @pytest.fixture
    async def kv(self) -> AsyncIterator[KeyValueStore]:
        store = MemoryKeyValueStore()
        yield store
        await store.close()


class TestMemoryRecordStore(RecordStoreContract):
    @pytest.fixture
    async def table(self) -> AsyncIterator[RecordStore]:
        table = MemoryRecordStore()
        yield table
        await table.close()


class TestMemoryLog(AppendLogContract):
    @pytest.fixture
    async def log(self) -> AsyncIterator[AppendLog]:
        log = MemoryLog()
        yield log
        await log.close()


class TestMemoryBackend(BackendContract):
    @pytest.fixture
    async def backend(self) -> AsyncIterator[Backend]:
        backend = MemoryBackend()
        yield backend
        await backend.close()


class TestMemoryBotStorage(BotStorageContract):
    @pytest.fixture
    async def storage(self) -> AsyncIterator[Storage]:
        storage = KeyValueBotStorage(MemoryKeyValueStore())
        yield storage
        await storage.close()
