"""Append-only JSON Lines audit log: who did what to which subject, and when."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storage.errors import CorruptStoreError, StoreUnavailableError
from storage.files import fsync_directory

logger = logging.getLogger(__name__)

Entry = dict[str, Any]
FIELDS = ("at", "who", "action", "subject", "details")


def _utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class AuditLog:
    """Append-only log; each append is flushed and fsynced before it returns."""

    def __init__(self, path: str | Path, clock: Callable[[], datetime] = _utc_now) -> None:
        """Use the file at `path` (created on first append)."""
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._tail_checked = False

    async def append(
        self, who: str, action: str, subject: str, details: Mapping[str, Any] | None = None
    ) -> Entry:
        """Record one event durably and return the entry as written."""
        entry: Entry = {
            "at": self._clock().astimezone(UTC).isoformat(timespec="milliseconds"),
            "who": who,
            "action": action,
            "subject": subject,
            "details": dict(details or {}),
        }
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        await asyncio.to_thread(self._append_line, line)
        return entry

    def _append_line(self, line: bytes) -> None:
        """Write one line with a single write call, then fsync."""
        with self._lock:
            try:
                created = not self.path.exists()
                if not self._tail_checked:
                    self._cut_partial_tail()
                with open(self.path, "ab") as handle:
                    handle.write(line)
                    handle.flush()
                    os.fsync(handle.fileno())
                if created:
                    fsync_directory(self.path.parent)
            except OSError as error:
                raise StoreUnavailableError(
                    f"cannot append to {self.path}: {error.strerror or error}"
                ) from error

    def _cut_partial_tail(self) -> None:
        """Drop a half-written last line from a crash, else the next entry would join it."""
        self._tail_checked = True
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        if not data or data.endswith(b"\n"):
            return
        keep = data.rfind(b"\n") + 1
        try:
            self._parse(data[keep:], data.count(b"\n") + 1)
        except CorruptStoreError:
            pass
        else:
            # A whole entry that only lacks its newline is kept and terminated.
            with open(self.path, "ab") as handle:
                handle.write(b"\n")
                handle.flush()
                os.fsync(handle.fileno())
            return
        logger.warning(
            "%s: removing a half-written last line (%d bytes) left by a crash",
            self.path,
            len(data) - keep,
        )
        with open(self.path, "r+b") as handle:
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())

    async def read(self, subject: str | None = None) -> list[Entry]:
        """Return all entries (or those about `subject`) in the order they were written."""
        return await asyncio.to_thread(self._read, subject)

    def _read(self, subject: str | None) -> list[Entry]:
        """Parse the file; tolerate only a truncated last line."""
        with self._lock:
            try:
                data = self.path.read_bytes()
            except FileNotFoundError:
                return []
            except OSError as error:
                raise StoreUnavailableError(
                    f"cannot read {self.path}: {error.strerror or error}"
                ) from error
        lines = data.split(b"\n")
        # A complete file ends with a newline, so the last piece is empty unless a crash cut it.
        tail = lines.pop()
        entries = [self._parse(raw, number) for number, raw in enumerate(lines, start=1)]
        if tail:
            try:
                entries.append(self._parse(tail, len(lines) + 1))
            except CorruptStoreError:
                logger.warning(
                    "%s: ignoring a truncated last line %d (interrupted append)",
                    self.path,
                    len(lines) + 1,
                )
        return [e for e in entries if subject is None or e["subject"] == subject]

    def _parse(self, raw: bytes, number: int) -> Entry:
        """Parse one line or raise CorruptStoreError naming file and line."""
        try:
            entry = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CorruptStoreError(
                f"{self.path}: line {number} is not valid JSON: {error}"
            ) from error
        if not isinstance(entry, dict) or any(field not in entry for field in FIELDS):
            raise CorruptStoreError(
                f"{self.path}: line {number} is not an audit entry with fields {', '.join(FIELDS)}"
            )
        return entry
