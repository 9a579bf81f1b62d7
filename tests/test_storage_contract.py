"""The SDK's own MemoryStorage passes the bot-storage contract: it is the reference the
KeyValueBotStorage adapter is held to (tests/test_storage_memory.py, test_storage_tiny.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from botbuilder.core import MemoryStorage, Storage

from tests.contracts import BotStorageContract


class TestSdkMemoryStorage(BotStorageContract):
    @pytest.fixture
    async def storage(self) -> AsyncIterator[Storage]:
        yield MemoryStorage()
