"""Contract suites for the storage interfaces of storage.base, one module per interface.

A backend's test module subclasses each suite and supplies the fixture it names, e.g.::

    class TestMyKeyValueStore(KeyValueStoreContract):
        @pytest.fixture
        async def kv(self, tmp_path: Path) -> AsyncIterator[KeyValueStore]:
            store = MyKeyValueStore(...)
            yield store
            await store.close()

The suites only use the interfaces, so a new backend (Azure) reuses them unchanged; see
tests/test_storage_memory.py and tests/test_storage_tiny.py.
"""

from tests.contracts.backend import BackendContract, DurableBackendContract
from tests.contracts.bot_storage import BotStorageContract
from tests.contracts.kv import DurableKeyValueStoreContract, KeyValueStoreContract
from tests.contracts.logs import AppendLogContract, DurableAppendLogContract
from tests.contracts.records import DurableRecordStoreContract, RecordStoreContract

__all__ = [
    "AppendLogContract",
    "BackendContract",
    "BotStorageContract",
    "DurableAppendLogContract",
    "DurableBackendContract",
    "DurableKeyValueStoreContract",
    "DurableRecordStoreContract",
    "KeyValueStoreContract",
    "RecordStoreContract",
]
