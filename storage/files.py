"""Crash-safe file primitives: atomic replace with fsync, and strict JSON reading."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from storage.errors import CorruptStoreError, StoreUnavailableError

TEMP_SUFFIX = ".tmp"


def fsync_directory(directory: Path) -> None:
    """Flush a directory entry so a rename or new file survives power loss."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Replace `path` with `data` so that a crash leaves either the old or the new file."""
    target = Path(path)
    tmp_name: str | None = None
    try:
        # Same directory as the target: os.replace is only atomic within one file system.
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent
        )
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
        tmp_name = None
        fsync_directory(target.parent)
    except OSError as error:
        raise StoreUnavailableError(f"cannot write {target}: {error.strerror or error}") from error
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


def read_json(path: Path | str, expected_type: type = dict) -> Any:
    """Parse a JSON file, None if it is missing; CorruptStoreError if unreadable or malformed."""
    source = Path(path)
    try:
        raw = source.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StoreUnavailableError(f"cannot read {source}: {error.strerror or error}") from error
    return parse_json(source, raw, expected_type)


def parse_json(source: Path, raw: bytes, expected_type: type = dict) -> Any:
    """Parse a JSON file's content; CorruptStoreError naming `source` if it is malformed."""
    try:
        value = json.loads(raw)
    except UnicodeDecodeError as error:
        raise CorruptStoreError(f"{source}: not UTF-8 text ({error.reason})") from error
    except json.JSONDecodeError as error:
        what = "empty file" if not raw.strip() else f"invalid JSON: {error}"
        raise CorruptStoreError(f"{source}: {what} (truncated or damaged?)") from error
    if not isinstance(value, expected_type):
        raise CorruptStoreError(
            f"{source}: top level is {type(value).__name__}, expected {expected_type.__name__}"
        )
    return value
