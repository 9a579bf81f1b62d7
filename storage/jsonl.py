"""The append-only log of the embedded default: a JSON Lines file, fsynced per entry."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from storage.base import AppendLog
from storage.documents import check_document, encode_json
from storage.errors import CorruptStoreError, StoreError, StoreUnavailableError
from storage.files import atomic_write_bytes, fsync_directory

logger = logging.getLogger(__name__)

Entry = dict[str, Any]


class JsonlLog(AppendLog):
    """Append-only JSON Lines file; each append is flushed and fsynced before it returns.

    ``required`` names fields every entry must have: a line without them is damage, reported
    with the file and line number when the log is read (at start-up, so never mid-turn).
    """

    def __init__(self, path: str | Path, required: Sequence[str] = ()) -> None:
        """Use the file at `path` (created on first append)."""
        self.path = Path(path)
        self.where = str(self.path)
        self._required = tuple(required)
        self._lock = threading.Lock()
        self._tail_checked = False
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"{self.path} is closed")

    async def append(self, entry: Entry) -> None:
        """Record one entry durably."""
        self._check_open()
        line = encode_json(check_document("entry", entry)) + b"\n"
        await asyncio.to_thread(self._append_line, line)

    async def rewrite(self, entries: Sequence[Entry]) -> None:
        """Replace the file atomically with exactly these entries."""
        self._check_open()
        data = b"".join(encode_json(check_document("entry", e)) + b"\n" for e in entries)
        await asyncio.to_thread(self._replace, data)

    def _replace(self, data: bytes) -> None:
        with self._lock:
            atomic_write_bytes(self.path, data)
            self._tail_checked = True

    async def close(self) -> None:
        """Nothing stays open between appends; later calls raise StoreError."""
        self._closed = True

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
            parse_line(self.path, data[keep:], data.count(b"\n") + 1, self._required)
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

    async def read(self) -> list[Entry]:
        """Return all entries in the order they were written."""
        self._check_open()
        return await asyncio.to_thread(self._read)

    def _read(self) -> list[Entry]:
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
        return parse_log(self.path, data, self._required)


def parse_log(path: Path, data: bytes, required: Sequence[str] = ()) -> list[Entry]:
    """Every entry of a JSON Lines file's content; only a truncated last line is tolerated
    (an append that was cut off was never acknowledged)."""
    lines = data.split(b"\n")
    # A complete file ends with a newline, so the last piece is empty unless a crash cut it.
    tail = lines.pop()
    entries = [parse_line(path, raw, number, required) for number, raw in enumerate(lines, 1)]
    if tail:
        try:
            entries.append(parse_line(path, tail, len(lines) + 1, required))
        except CorruptStoreError:
            logger.warning(
                "%s: ignoring a truncated last line %d (interrupted append)", path, len(lines) + 1
            )
    return entries


def parse_line(path: Path, raw: bytes, number: int, required: Sequence[str] = ()) -> Entry:
    """Parse one line or raise CorruptStoreError naming file and line."""
    try:
        entry = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CorruptStoreError(f"{path}: line {number} is not valid JSON: {error}") from error
    if not isinstance(entry, dict):
        raise CorruptStoreError(f"{path}: line {number} is not a JSON object")
    missing = [name for name in required if name not in entry]
    if missing:
        raise CorruptStoreError(f"{path}: line {number} lacks the field(s) {', '.join(missing)}")
    return entry
