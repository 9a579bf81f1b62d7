"""All of Omtanke's data in one Azure Storage account, shared by every instance.

- bot state, drafts, references: one blob per key in the container ``PREFIX-state``
  (storage.azure_kv);
- the tables of storage.layout (proposals, escalations, outbox, meta): Azure tables
  ``PREFIXproposals`` … (storage.azure_records);
- the logs (audit, feedback): Azure tables ``PREFIXlogaudit`` … (storage.azure_log).

Everything is created on first use. Work that must happen once across instances rests on the
stores' eTag preconditions: proposal ids come from a conditional counter in the meta table, the
outbox is claimed and marked sent with conditional writes, the draft sweep runs under a lease
record (storage.records.Meta). Tested against Azurite (tests/azurite.py).
"""

from __future__ import annotations

from typing import Any

from azure.data.tables.aio import TableServiceClient
from azure.storage.blob.aio import BlobServiceClient, LinearRetry

from storage import layout
from storage.azure_kv import AzureBlobKeyValueStore
from storage.azure_log import AzureTableLog
from storage.azure_names import AzureStorageConfig, container_name, table_name
from storage.azure_records import AzureTableRecordStore
from storage.base import AppendLog, Backend, KeyValueStore, RecordStore

STATE_CONTAINER = "state"
LOG_KIND = "log"
# A turn waits for storage: retry a failed request a few times quickly, then give up, so an
# unreachable account is an error within seconds (the SDK's default waits over a minute).
RETRIES = 3
CONNECTION_TIMEOUT = 5
READ_TIMEOUT = 30


def state_container(config: AzureStorageConfig) -> str:
    """The blob container of the key-value store."""
    return container_name(config.prefix, STATE_CONTAINER)


def record_table(config: AzureStorageConfig, name: str) -> str:
    """The Azure table of one of storage.layout.TABLES."""
    return table_name(config.prefix, "", name)


def log_table(config: AzureStorageConfig, name: str) -> str:
    """The Azure table of one of storage.layout.LOGS."""
    return table_name(config.prefix, LOG_KIND, name)


def resource_names(config: AzureStorageConfig) -> dict[str, list[str]]:
    """Every container and table the backend uses (README, `omtanke` messages)."""
    return {
        "containers": [state_container(config)],
        "tables": [record_table(config, n) for n in layout.TABLES]
        + [log_table(config, n) for n in layout.LOGS],
    }


class AzureBackend(Backend):
    """Blob and Table storage of one account; connections open on first use."""

    kind = "azure"

    def __init__(self, config: AzureStorageConfig, credential: Any = None) -> None:
        """Connect by connection string, or by service URLs with `credential` (by default
        azure-identity's DefaultAzureCredential: a managed identity in Azure)."""
        self.config = config
        self._credential = None
        common: dict[str, Any] = {  # the same for both clients
            "connection_timeout": CONNECTION_TIMEOUT,
            "read_timeout": READ_TIMEOUT,
        }
        blob_retry = LinearRetry(backoff=1, random_jitter_range=1, retry_total=RETRIES)
        table_retry: dict[str, Any] = {"retry_total": RETRIES, "retry_backoff_factor": 0.3}
        if config.connection_string:
            self._blobs = BlobServiceClient.from_connection_string(
                config.connection_string, retry_policy=blob_retry, **common
            )
            self._tables_service = TableServiceClient.from_connection_string(
                config.connection_string, **table_retry, **common
            )
        else:
            if credential is None:
                from azure.identity.aio import DefaultAzureCredential

                credential = self._credential = DefaultAzureCredential()
            self._blobs = BlobServiceClient(
                config.blob_url, credential=credential, retry_policy=blob_retry, **common
            )
            self._tables_service = TableServiceClient(
                config.table_url, credential=credential, **table_retry, **common
            )
        account = config.account
        container = state_container(config)
        self._state = AzureBlobKeyValueStore(
            self._blobs.get_container_client(container),
            f"Azure blob container {container!r} at {account}",
        )
        self._tables: dict[str, AzureTableRecordStore] = {}
        self._logs: dict[str, AzureTableLog] = {}

    @property
    def state(self) -> KeyValueStore:
        """The blob key-value store."""
        return self._state

    def table(self, name: str) -> RecordStore:
        """The Azure table for `name`, opened once."""
        if name not in self._tables:
            full = record_table(self.config, name)
            self._tables[name] = AzureTableRecordStore(
                self._tables_service.get_table_client(full),
                f"Azure table {full!r} at {self.config.account}",
            )
        return self._tables[name]

    def log(self, name: str) -> AppendLog:
        """The Azure table of the log `name`, opened once."""
        if name not in self._logs:
            full = log_table(self.config, name)
            self._logs[name] = AzureTableLog(
                self._tables_service.get_table_client(full),
                f"Azure table {full!r} at {self.config.account}",
            )
        return self._logs[name]

    async def close(self) -> None:
        """Close every store and both connections (and the credential we made)."""
        await self._state.close()
        for table in self._tables.values():
            await table.close()
        for log in self._logs.values():
            await log.close()
        try:
            await self._blobs.close()
            await self._tables_service.close()
        finally:
            if self._credential is not None:
                await self._credential.close()
