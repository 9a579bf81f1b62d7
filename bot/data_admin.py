"""`omtanke backup`, `restore` and `erase-user` on the data folder, in Swedish (cli.* texts).

The work is done over the storage interfaces by storage.admin; this module only picks the
data folder's backend, says what happened, and turns storage.admin's error codes into
sentences. Backup reads a snapshot of the folder (storage.snapshot) and works while the
service runs; restore and erase-user open the folder's backend, whose lock refuses while the
service runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.backends import azure_backend
from bot.settings import AzureSettings
from presentation.texts import Texts
from storage.admin import (
    PSEUDONYM_PREFIX,
    AdminError,
    BackupResult,
    ErasureResult,
    Listed,
    check_backup_target,
    erase_person,
    find_in_files,
    read_backup,
    restore,
)
from storage.admin import backup as backup_backend
from storage.base import Backend
from storage.errors import StoreBusyError, StoreError
from storage.kv import LOCK_FILE
from storage.records import Records
from storage.snapshot import snapshot
from storage.tiny_backend import TinyBackend

__all__ = ["PSEUDONYM_PREFIX", "run_backup", "run_erase", "run_restore"]

SET_ASIDE_SUFFIX = ".fore-aterstallning-"
# The counts erase-user reports, in order (their labels: cli.erase.count.<kind>).
COUNT_KINDS = ("drafts", "state", "feedback", "escalations", "proposals", "outbox", "audit")


def _busy(data_dir: Path, texts: Texts) -> str:
    return texts.get("cli.data.busy", data_dir=data_dir)


def _say(error: AdminError, texts: Texts, **context: str) -> str:
    """The sentence for an AdminError (``cli.admin.<code>``; its English message if new)."""
    key = f"cli.admin.{error.code}"
    if key not in texts.keys():
        return str(error)
    values = {"error": str(error), "path": "", "target": "", "source": "", "format": ""}
    values.update(context)
    values.update(error.details)
    return texts.get(key, **values)


# ----- backup ----------------------------------------------------------------------------------


def run_backup(
    data_dir: Path,
    target: Path,
    stdout: TextIO,
    stderr: TextIO,
    texts: Texts | None = None,
    *,
    azure: AzureSettings | None = None,
) -> int:
    """`omtanke backup DIR`: a logical dump of the data folder (or the Azure account), also
    while the service runs."""
    texts = texts or Texts.load()
    try:
        check_backup_target(target, None if azure else data_dir)
        source = _where(data_dir, azure, texts) if azure else str(data_dir.resolve())
        result = asyncio.run(_backup(data_dir, target, source, azure))
    except AdminError as error:
        stderr.write(texts.get("cli.backup.failed", error=_say(error, texts)) + "\n")
        return 1
    except StoreError as error:
        stderr.write(texts.get("cli.backup.failed", error=error) + "\n")
        return 1
    done = texts.get(
        "cli.backup.done",
        records=result.records,
        files=len(result.files),
        bytes=result.total_bytes,
        directory=result.directory,
    )
    stdout.write(done + "\n")
    return 0


def _where(data_dir: Path, azure: AzureSettings | None, texts: Texts) -> str:
    """Where the data is, in messages."""
    if azure is None:
        return str(data_dir)
    account = azure.blob_url or texts.get("cli.data.azure_from_connection_string")
    return texts.get("cli.data.azure", account=account, prefix=azure.prefix)


async def _backup(
    data_dir: Path, target: Path, source: str, azure: AzureSettings | None
) -> BackupResult:
    # The account is read through the interfaces as it is: there is no file to snapshot.
    backend = azure_backend(azure) if azure else await snapshot(data_dir)
    try:
        return await backup_backend(backend, target, source)
    finally:
        await backend.close()


# ----- restore ---------------------------------------------------------------------------------


def run_restore(
    backup_dir: Path,
    data_dir: Path,
    replace: bool,
    stdout: TextIO,
    stderr: TextIO,
    texts: Texts | None = None,
    *,
    azure: AzureSettings | None = None,
) -> int:
    """`omtanke restore DIR`: check the backup, then load it while the service is stopped
    (on Azure nothing can check that: scale every instance to 0 first)."""
    texts = texts or Texts.load()
    where = _where(data_dir, azure, texts)
    try:
        aside_in = backup_dir.resolve().parent
        records, proposals, set_aside = asyncio.run(
            _restore(backup_dir, data_dir, replace, azure, aside_in)
        )
    except StoreBusyError:
        stderr.write(texts.get("cli.restore.busy", busy=_busy(data_dir, texts)) + "\n")
        return 1
    except AdminError as error:
        said = _say(error, texts, data_dir=where)
        stderr.write(texts.get("cli.restore.failed", error=said) + "\n")
        return 1
    except StoreError as error:
        stderr.write(texts.get("cli.restore.failed", error=error) + "\n")
        return 1
    done = texts.get("cli.restore.done", records=records, data_dir=where, proposals=proposals)
    stdout.write(done + "\n")
    if set_aside is not None:
        stdout.write(texts.get("cli.restore.set_aside", path=set_aside) + "\n")
    return 0


async def _open(data_dir: Path, azure: AzureSettings | None) -> Backend:
    return azure_backend(azure) if azure else await TinyBackend.open(data_dir)


async def _restore(
    backup_dir: Path,
    data_dir: Path,
    replace: bool,
    azure: AzureSettings | None,
    aside_in: Path,
) -> tuple[int, int, Path | None]:
    content = await read_backup(backup_dir)
    backend = await _open(data_dir, azure)
    try:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        # What the account held is set aside beside the backup, what a folder held beside it.
        name = f"azure-{azure.prefix}" if azure else data_dir.name
        parent = aside_in if azure else data_dir.parent
        set_aside = parent / f"{name}{SET_ASIDE_SUFFIX}{stamp}"
        result = await restore(content, backend, replace=replace, set_aside=set_aside)
    finally:
        await backend.close()
    # Opened as the service will open it: every record checked once more, from the store.
    opened = Records(await _open(data_dir, azure))
    try:
        await opened.open()
        proposals = len(await opened.proposals.all())
    finally:
        await opened.close()
    return result.records, proposals, result.set_aside


# ----- erase-user ------------------------------------------------------------------------------


def _people(people_files: Sequence[Path]) -> list[Listed]:
    """The RUG members and admins from the coordinators' files."""
    from knowledge.rug import load_people

    people: list[Listed] = []
    for path in people_files:
        people.extend(load_people(path))
    return people


async def _erase(
    data_dir: Path,
    email: str | None,
    aad: str | None,
    people_files: Sequence[Path],
    azure: AzureSettings | None,
) -> tuple[ErasureResult, list[Path]]:
    backend = await _open(data_dir, azure)
    try:
        # Damaged data stops here, before anything is changed.
        await Records(backend).open()
        result = await erase_person(backend, email, aad, _people(people_files))
    finally:
        # Closing folds the journals into the base files, so old values do not linger there.
        await backend.close()
    # find_mentions (in result.remaining) read the account; a folder's files are read too.
    in_files = result.found and azure is None
    traces = find_in_files(data_dir, result.matcher, skip=[LOCK_FILE]) if in_files else []
    return result, traces


def run_erase(
    data_dir: Path,
    email: str | None,
    aad: str | None,
    people_files: list[Path],
    stdout: TextIO,
    stderr: TextIO,
    texts: Texts | None = None,
    *,
    azure: AzureSettings | None = None,
) -> int:
    """`omtanke erase-user`: exit 0 when erased, 1 when not possible or nothing was found
    (on Azure, with every instance stopped: nothing there can check it)."""
    texts = texts or Texts.load()
    if not email and not aad:
        stderr.write(texts.get("cli.erase.who") + "\n")
        return 2
    try:
        result, traces = asyncio.run(_erase(data_dir, email, aad, people_files, azure))
    except StoreBusyError:
        stderr.write(texts.get("cli.erase.busy", busy=_busy(data_dir, texts)) + "\n")
        return 1
    except StoreError as error:
        stderr.write(texts.get("cli.erase.failed", error=error) + "\n")
        return 1
    if not result.found:
        stderr.write(texts.get("cli.erase.not_found") + "\n")
        return 1
    stdout.write(texts.get("cli.erase.done", pseudonym=result.pseudonym) + "\n")
    for kind in COUNT_KINDS:
        if result.counts[kind]:
            label = texts.get(f"cli.erase.count.{kind}")
            stdout.write(f"  {label}: {result.counts[kind]}\n")
    remaining = [*result.remaining, *(str(path) for path in traces)]
    if remaining:
        stderr.write(texts.get("cli.erase.remaining", files=", ".join(remaining)) + "\n")
        return 1
    stdout.write(texts.get("cli.erase.remember") + "\n")
    return 0
