"""JSON documents as every store keeps them: copied, encoded and versioned the same way."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from storage.base import ANY, Document, ETag, Row
from storage.errors import ETagConflictError


def encode_json(data: Any) -> bytes:
    """Serialise compactly as UTF-8, keeping Swedish letters readable in the file."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def copy_json(value: Any) -> Any:
    """Deep-copy a JSON value (and prove it is JSON) so callers never share the cache."""
    return json.loads(json.dumps(value))


def etag_of(*parts: Any) -> str:
    """A content eTag: equal content, equal eTag (stable across restarts, no counter kept).

    Two writes that leave the same content give the same eTag; a writer holding it has seen
    exactly what is stored, so its conditional write cannot lose anyone's change.
    """
    digest = hashlib.blake2b(encode_json(parts), digest_size=12).hexdigest()
    return f'"{digest}"'


def check_keys(keys: Sequence[str] | Mapping[str, Any]) -> None:
    """Reject non-string keys early (a bare string would be read as a list of letters)."""
    if isinstance(keys, str):
        raise TypeError("keys must be a sequence of strings, not a single string")
    for key in keys:
        if not isinstance(key, str):
            raise TypeError(f"keys must be strings, got {type(key).__name__}")


def check_document(key: str, document: Any) -> Document:
    """Validate and detach one document before it is stored."""
    if not isinstance(document, dict):
        raise TypeError(f"document for {key!r} must be a dict, got {type(document).__name__}")
    detached: Document = copy_json(document)
    return detached


def check_documents(changes: Mapping[str, Document]) -> dict[str, Document]:
    """Validate and detach the documents before any of them is stored."""
    check_keys(changes)
    return {key: check_document(key, document) for key, document in changes.items()}


def check_index(index: Mapping[str, str] | None) -> dict[str, str]:
    """Index values are strings by name; anything else would not be findable everywhere."""
    checked: dict[str, str] = {}
    for name, value in (index or {}).items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError("index names and values must be strings")
        checked[name] = value
    return checked


def check_etag(key: str, wanted: ETag, current: str | None) -> None:
    """Raise ETagConflictError unless `wanted` matches the current eTag (None: absent)."""
    if wanted is ANY:
        return
    if wanted != current:
        raise ETagConflictError(f"{key!r} changed since it was read (eTag {wanted!r})")


def checked_rows(rows: Sequence[Row]) -> dict[str, tuple[Document, dict[str, str]]]:
    """Validate and detach a whole table's rows (ids unique) before any of them is stored."""
    checked: dict[str, tuple[Document, dict[str, str]]] = {}
    for row in rows:
        check_keys([row.id])
        if row.id in checked:
            raise ValueError(f"record id {row.id!r} is given twice")
        checked[row.id] = (check_document(row.id, row.document), check_index(row.index))
    return checked
