"""What the Azure stores share: where the account is, safe names, and errors mapped to ours.

Kept apart from the stores so that each of them (azure_kv, azure_records, azure_log) and the
backend can import it without importing each other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar
from urllib.parse import unquote

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.data.tables.aio import TableClient

from storage.errors import (
    CorruptStoreError,
    ETagConflictError,
    StoreError,
    StoreUnavailableError,
)

T = TypeVar("T")

# Keys keep ASCII letters, digits, "-" and "_" and are %-escaped (UTF-8) otherwise: Azure Table
# keys forbid / \ # ? and control characters, and blob names must not end in "." or "/".
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
# Every stored name starts with this, so the empty key has a name too.
NAME_MARK = "k"
# Azure's limit on a blob name and a table key is 1,024 characters.
MAX_NAME = 1024
# A table property holds at most 64 KiB of UTF-16 (32 K characters): longer JSON is split.
CHUNK_CHARS = 30_000
# Table entities are at most 1 MiB in all; leave room for the keys and the index.
MAX_DOCUMENT_CHARS = 15 * CHUNK_CHARS
# Entity transactions hold at most 100 operations and 4 MiB.
BATCH_OPERATIONS = 100
BATCH_CHARS = 1_000_000
_PREFIX = re.compile(r"^[a-z][a-z0-9]{2,23}$")


@dataclass(frozen=True)
class AzureStorageConfig:
    """How to reach the one Storage account: a connection string, or service URLs + identity.

    `prefix` starts every container and table name, so several deployments (or test runs)
    can share one account.
    """

    connection_string: str = field(default="", repr=False)
    blob_url: str = ""
    table_url: str = ""
    prefix: str = "omtanke"

    def __post_init__(self) -> None:
        """Refuse a prefix Azure would refuse as part of a name."""
        if not _PREFIX.match(self.prefix):
            raise ValueError(
                f"the Azure name prefix must be 3-24 lowercase letters and digits, starting "
                f"with a letter, got {self.prefix!r}"
            )
        if not self.connection_string and not self.blob_url:
            raise ValueError("an Azure connection string or account URL is needed")

    @property
    def account(self) -> str:
        """Where the account is, for messages (never the key)."""
        if self.blob_url:
            return self.blob_url
        parts = parse_connection_string(self.connection_string)
        return parts.get("blobendpoint") or parts.get("accountname") or "(connection string)"


def parse_connection_string(text: str) -> dict[str, str]:
    """The key=value parts of an Azure Storage connection string, keys lowercased."""
    parts: dict[str, str] = {}
    for piece in text.split(";"):
        if not piece.strip():
            continue
        name, sep, value = piece.partition("=")
        if not sep:
            raise ValueError(f"part {name.strip()[:20]!r} has no '='")
        parts[name.strip().lower()] = value.strip()
    return parts


def container_name(prefix: str, name: str) -> str:
    """A blob container's name: lowercase letters, digits and single hyphens."""
    return f"{prefix}-{name}"


def table_name(prefix: str, kind: str, name: str) -> str:
    """A table's name: letters and digits only, starting with a letter."""
    full = f"{prefix}{kind}{name}"
    if not full.isalnum() or len(full) > 63:
        raise ValueError(f"{name!r} cannot be part of an Azure table name")
    return full


def _escape(text: str) -> str:
    # Character by character, so the escape of a prefix is a prefix of the escaped key.
    return "".join(
        char if char in _SAFE else "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))
        for char in text
    )


def encode_key(key: str) -> str:
    """The name a key is stored under (blob name or row key)."""
    name = NAME_MARK + _escape(key)
    if len(name) > MAX_NAME:
        raise StoreError(f"key {key[:60]!r}… is too long for Azure Storage")
    return name


def decode_key(name: str) -> str:
    """The key a stored name stands for."""
    return unquote(name[len(NAME_MARK) :])


def encode_prefix(prefix: str) -> str:
    """The stored-name prefix of every key that starts with `prefix` (per-character escape)."""
    return NAME_MARK + _escape(prefix)


def document_properties(name: str, document: Any) -> dict[str, str]:
    """A JSON document as table properties d0, d1, … (each within Azure's property limit)."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    if len(text) > MAX_DOCUMENT_CHARS:
        raise StoreError(
            f"{name}: a document of {len(text)} characters is larger than an Azure table "
            f"entity holds ({MAX_DOCUMENT_CHARS})"
        )
    chunks = [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)] or [""]
    return {f"d{n}": chunk for n, chunk in enumerate(chunks)}


def properties_document(where: str, entity: dict[str, Any]) -> Any:
    """The JSON document stored in an entity's d0, d1, … properties."""
    pieces: list[str] = []
    while f"d{len(pieces)}" in entity:
        pieces.append(str(entity[f"d{len(pieces)}"]))
    try:
        return json.loads("".join(pieces))
    except ValueError as error:
        raise CorruptStoreError(f"{where}: entity {entity.get('RowKey')!r} is not JSON") from error


def conflict(where: str, key: str) -> NoReturn:
    """Raise the conflict every store raises for a stale eTag."""
    raise ETagConflictError(f"{where}: {key!r} changed since it was read")


def unavailable(where: str, error: AzureError) -> StoreUnavailableError:
    """Our error for a failure of the account itself (unreachable, refused, throttled)."""
    status = getattr(error, "status_code", None)
    if isinstance(error, ClientAuthenticationError) or status in (401, 403):
        reason = "the account refused the credentials"
    elif isinstance(error, ServiceRequestError | ServiceResponseError):
        reason = "the account cannot be reached"
    else:
        reason = "the account answered with an error"
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return StoreUnavailableError(f"{where}: {reason}: {first[:300]}")


async def guarded(where: str, call: Callable[[], Awaitable[T]]) -> T:
    """Run one Azure call; account failures become StoreUnavailableError naming the store.

    Not-found, exists and precondition errors pass through: each store decides what they mean.
    """
    try:
        return await call()
    except (ResourceNotFoundError, ResourceExistsError, ResourceModifiedError):
        raise
    except HttpResponseError as error:
        if error.status_code in (404, 409, 412):
            raise
        raise unavailable(where, error) from error
    except AzureError as error:
        raise unavailable(where, error) from error


async def submit_transactions(
    where: str, table: TableClient, operations: list[tuple[str, dict[str, Any]]]
) -> None:
    """Run table operations (one partition) in entity transactions within Azure's limits."""
    batches: list[list[tuple[str, dict[str, Any]]]] = []
    size = 0
    for operation in operations:
        weight = sum(len(str(value)) for value in operation[1].values())
        if not batches or len(batches[-1]) >= BATCH_OPERATIONS or size + weight > BATCH_CHARS:
            batches.append([])
            size = 0
        batches[-1].append(operation)
        size += weight
    for batch in batches:

        async def submit(batch: list[tuple[str, dict[str, Any]]] = batch) -> None:
            await table.submit_transaction(batch)

        await guarded(where, submit)
