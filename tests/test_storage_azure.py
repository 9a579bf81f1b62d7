"""The Azure backend passes every storage contract, against a real Azurite (tests/azurite.py).

Each test gets a fresh name prefix, so its containers and tables start empty.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from botbuilder.core import Storage

from storage import layout
from storage.azure_backend import AzureBackend
from storage.base import AppendLog, Backend, KeyValueStore, RecordStore
from storage.bot_storage import KeyValueBotStorage
from tests.azurite import Azurite
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


@pytest.fixture
async def azure_backend(azurite: Azurite) -> AsyncIterator[AzureBackend]:
    """A backend on a prefix of its own (empty), closed afterwards."""
    backend = AzureBackend(azurite.config())
    yield backend
    await backend.close()


class _Reopener:
    """Opens backends on one prefix, as a restart would, and closes them all at the end."""

    def __init__(self, azurite: Azurite) -> None:
        self.prefix = azurite.new_prefix()
        self.azurite = azurite
        self.opened: list[AzureBackend] = []

    def open(self) -> AzureBackend:
        backend = AzureBackend(self.azurite.config(self.prefix))
        self.opened.append(backend)
        return backend

    async def close(self) -> None:
        for backend in self.opened:
            await backend.close()


@pytest.fixture
async def reopener(azurite: Azurite) -> AsyncIterator[_Reopener]:
    """Backends over one prefix, opened anew each time."""
    opener = _Reopener(azurite)
    yield opener
    await opener.close()


class TestAzureKeyValueStore(KeyValueStoreContract):
    @pytest.fixture
    async def kv(self, azure_backend: AzureBackend) -> KeyValueStore:
        return azure_backend.state


class TestAzureKeyValueStoreIsDurable(DurableKeyValueStoreContract):
    @pytest.fixture
    def kv_factory(self, reopener: _Reopener) -> KeyValueFactory:
        async def open_store() -> KeyValueStore:
            return reopener.open().state

        return open_store


class TestAzureRecordStore(RecordStoreContract):
    @pytest.fixture
    async def table(self, azure_backend: AzureBackend) -> RecordStore:
        return azure_backend.table(layout.PROPOSALS)


class TestAzureRecordStoreIsDurable(DurableRecordStoreContract):
    @pytest.fixture
    def table_factory(self, reopener: _Reopener) -> RecordStoreFactory:
        async def open_table() -> RecordStore:
            return reopener.open().table(layout.OUTBOX)

        return open_table


class TestAzureLog(AppendLogContract):
    @pytest.fixture
    async def log(self, azure_backend: AzureBackend) -> AppendLog:
        return azure_backend.log(layout.AUDIT)


class TestAzureLogIsDurable(DurableAppendLogContract):
    @pytest.fixture
    def log_factory(self, reopener: _Reopener) -> AppendLogFactory:
        async def open_log() -> AppendLog:
            return reopener.open().log(layout.FEEDBACK)

        return open_log


class TestAzureBackend(BackendContract):
    @pytest.fixture
    async def backend(self, azure_backend: AzureBackend) -> Backend:
        return azure_backend


class TestAzureBackendIsDurable(DurableBackendContract):
    @pytest.fixture
    def backend_factory(self, reopener: _Reopener) -> BackendFactory:
        async def open_backend() -> Backend:
            return reopener.open()

        return open_backend


class TestAzureBotStorage(BotStorageContract):
    @pytest.fixture
    async def storage(self, azure_backend: AzureBackend) -> Storage:
        return KeyValueBotStorage(azure_backend.state)
