"""Typed errors raised by the storage layer."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every storage error."""


class CorruptStoreError(StoreError):
    """A stored file cannot be parsed or has the wrong shape; the service must not start."""


class StoreUnavailableError(StoreError):
    """The store cannot be written right now (read-only directory, disk full, no permission)."""


class StoreBusyError(StoreError):
    """Another process (normally the running service) holds the store's lock."""


# Also a KeyError: MemoryStorage raises KeyError on an eTag conflict and SDK callers catch that.
class ETagConflictError(StoreError, KeyError):
    """A write carried an eTag that no longer matches the stored item."""
