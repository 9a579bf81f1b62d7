"""Which storage backend the settings choose, for the service and the admin commands alike."""

from __future__ import annotations

from pathlib import Path

from bot.settings import AzureSettings, Settings
from storage.base import Backend
from storage.records import Records
from storage.tiny_backend import TinyBackend


async def open_backend(settings: Settings) -> Backend:
    """The configured backend, opened now: the data folder (an old one is migrated first),
    or the shared Azure account."""
    if settings.storage == "azure" and settings.azure is not None:
        return azure_backend(settings.azure)
    return await TinyBackend.open(settings.data_dir)


def azure_backend(azure: AzureSettings) -> Backend:
    """The Azure backend of the settings (connections open on first use)."""
    # Imported here: the Azure SDKs are only loaded where they are used.
    from storage.azure_backend import AzureBackend
    from storage.azure_names import AzureStorageConfig

    return AzureBackend(
        AzureStorageConfig(
            connection_string=azure.connection_string,
            blob_url=azure.blob_url,
            table_url=azure.table_url,
            prefix=azure.prefix,
        )
    )


def describe(settings: Settings) -> str:
    """Where the data is, for messages: the folder or the account and prefix."""
    if settings.storage == "azure" and settings.azure is not None:
        from storage.azure_names import AzureStorageConfig

        azure = settings.azure
        account = AzureStorageConfig(
            connection_string=azure.connection_string, blob_url=azure.blob_url, prefix=azure.prefix
        ).account
        return f"Azure-kontot {account} (prefix {azure.prefix})"
    return str(settings.data_dir)


# Where the admin commands read: the data folder, or the Azure account of the settings.
DataSource = Path | AzureSettings


def data_source(settings: Settings) -> DataSource:
    """The data folder, or the Azure settings when OMTANKE_STORAGE=azure."""
    if settings.storage == "azure" and settings.azure is not None:
        return settings.azure
    return settings.data_dir


async def open_checked(source: DataSource) -> Records:
    """Every record, checked as at start-up, for reading (export, report, escalations): a
    snapshot of the data folder, or the account itself (the service may run meanwhile)."""
    if not isinstance(source, AzureSettings):
        from storage.snapshot import open_snapshot

        return await open_snapshot(source)
    records = Records(azure_backend(source))
    try:
        await records.check()
    except BaseException:
        await records.close()
        raise
    return records
