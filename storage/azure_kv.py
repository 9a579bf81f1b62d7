"""The key-value store in Azure Blob storage: one block blob of JSON per key.

Bot state, drafts and conversation references are read and written every turn by whichever
instance serves it, so each key is its own blob: instances never rewrite each other's keys,
and a conditional write is Blob's own eTag precondition (a stale eTag gets 412, which is
ETagConflictError here). The container is created on first use.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob import ContentSettings
from azure.storage.blob.aio import ContainerClient

from storage.azure_names import conflict, decode_key, encode_key, encode_prefix, guarded
from storage.base import ANY, Document, ETag, KeyValueStore, Versioned
from storage.documents import check_document, check_documents, check_keys, encode_json
from storage.errors import CorruptStoreError, StoreError

JSON = ContentSettings(content_type="application/json; charset=utf-8")


class AzureBlobKeyValueStore(KeyValueStore):
    """KeyValueStore over one blob container."""

    def __init__(self, container: ContainerClient, where: str) -> None:
        """Use `container` (created on first use); `where` names it in errors."""
        self._container = container
        self.where = where
        self._ready = False
        self._ready_lock = asyncio.Lock()
        self._closed = False

    async def _open(self) -> None:
        """Refuse use after close; create the container once per process."""
        if self._closed:
            raise StoreError(f"{self.where} is closed")
        if self._ready:
            return
        async with self._ready_lock:
            if not self._ready:
                try:
                    await guarded(self.where, self._container.create_container)
                except ResourceExistsError:
                    pass
                self._ready = True

    def _parse(self, key: str, data: bytes) -> Document:
        try:
            document = json.loads(data)
        except ValueError as error:
            raise CorruptStoreError(f"{self.where}: {key!r} is not JSON") from error
        if not isinstance(document, dict):
            raise CorruptStoreError(f"{self.where}: {key!r} is not a JSON object")
        return document

    async def _download(self, key: str) -> Versioned | None:
        blob = self._container.get_blob_client(encode_key(key))

        async def get() -> tuple[bytes, str]:
            downloader = await blob.download_blob()
            return await downloader.readall(), str(downloader.properties.etag)

        try:
            data, etag = await guarded(self.where, get)
        except ResourceNotFoundError:
            return None
        return Versioned(key, self._parse(key, data), etag)

    async def _upload(self, key: str, document: Document, etag: ETag) -> str:
        blob = self._container.get_blob_client(encode_key(key))
        data = encode_json(document)
        if etag is ANY:
            options: dict[str, object] = {"overwrite": True}
        elif etag is None:
            # Put Blob with If-None-Match: * – 409 when the blob exists.
            options = {"overwrite": False}
        else:
            options = {
                "overwrite": True,
                "etag": etag,
                "match_condition": MatchConditions.IfNotModified,
            }

        async def put() -> dict[str, object]:
            return await blob.upload_blob(data, content_settings=JSON, **options)  # type: ignore[arg-type]

        try:
            result = await guarded(self.where, put)
        except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError):
            conflict(self.where, key)
        return str(result["etag"])

    async def read(self, keys: Sequence[str]) -> dict[str, Document]:
        """The documents stored under `keys` (fetched in parallel)."""
        check_keys(keys)
        await self._open()
        found = await asyncio.gather(*(self._download(key) for key in dict.fromkeys(keys)))
        return {v.key: v.document for v in found if v is not None}

    async def write(self, changes: Mapping[str, Document]) -> None:
        """Store every document (all are checked first, so a bad one stores nothing)."""
        documents = check_documents(changes)
        await self._open()
        await asyncio.gather(*(self._upload(k, d, ANY) for k, d in documents.items()))

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove the keys; missing ones are fine."""
        check_keys(keys)
        await self._open()
        await asyncio.gather(*(self.delete_if(key, ANY) for key in dict.fromkeys(keys)))

    async def keys(self, prefix: str = "") -> list[str]:
        """Every key starting with `prefix`, sorted by key (not by blob name)."""
        await self._open()

        async def listing() -> list[str]:
            names = self._container.list_blob_names(name_starts_with=encode_prefix(prefix))
            return [decode_key(name) async for name in names]

        found = await guarded(self.where, listing)
        return sorted(key for key in found if key.startswith(prefix))

    async def read_versioned(self, key: str) -> Versioned | None:
        """The document and its blob eTag."""
        check_keys([key])
        await self._open()
        return await self._download(key)

    async def write_if(self, key: str, document: Document, etag: ETag) -> str:
        """Put Blob with the eTag as precondition; the new eTag."""
        check_keys([key])
        stored = check_document(key, document)
        await self._open()
        return await self._upload(key, stored, etag)

    async def delete_if(self, key: str, etag: ETag) -> None:
        """Delete Blob with the eTag as precondition."""
        check_keys([key])
        await self._open()
        blob = self._container.get_blob_client(encode_key(key))
        if etag is None:
            # "Only if absent": nothing to delete, but a stored key is a conflict.
            if await self._download(key) is not None:
                conflict(self.where, key)
            return
        options: dict[str, object] = {}
        if etag is not ANY:
            options = {"etag": etag, "match_condition": MatchConditions.IfNotModified}

        async def remove() -> None:
            await blob.delete_blob(**options)  # type: ignore[arg-type]

        try:
            await guarded(self.where, remove)
        except ResourceNotFoundError:
            if etag is not ANY:
                conflict(self.where, key)
        except ResourceModifiedError:
            conflict(self.where, key)

    async def close(self) -> None:
        """Refuse further use (the backend closes the connection)."""
        self._closed = True
