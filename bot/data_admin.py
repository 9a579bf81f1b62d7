"""`omtanke backup`, `restore` and `erase-user` on the data folder, in Swedish.

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
# storage.admin's error codes as Swedish sentences; {path}, {target}, {source} as given.
ADMIN_MESSAGES = {
    "no_data": "{source} innehåller inga data att säkerhetskopiera",
    "target_not_empty": "{target} finns redan och är inte tom; välj en ny mapp",
    "target_inside_source": "{target} ligger i datamappen; välj en mapp utanför den",
    "manifest_missing": (
        "{path} saknas: mappen är ingen färdig säkerhetskopia från omtanke backup"
    ),
    "manifest_damaged": "{path} är skadad: {error}",
    "unknown_format": "{path}: okänt format {format!r}",
    "bad_file_list": "{path}: listan över filer saknas, är tom eller har en otillåten sökväg",
    "file_missing": "{path} saknas eller kan inte läsas",
    "file_mismatch": (
        "{path} stämmer inte med manifestet (storlek, antal poster eller kontrollsumma)"
    ),
    "file_damaged": "{path} är skadad: {error}",
    "content_damaged": "innehållet är skadat: {error}",
    "not_empty": (
        "{data_dir} innehåller redan data; lägg till --replace för att ersätta den "
        "(det som finns nu sparas först som en säkerhetskopia bredvid)"
    ),
}
COUNT_LABELS = (
    ("drafts", "utkast"),
    ("state", "samtalsuppgifter"),
    ("feedback", "omdömen"),
    ("escalations", "vidareskickade frågor"),
    ("proposals", "förslag med pseudonym"),
    ("outbox", "meddelanden"),
    ("audit", "rader i granskningsloggen med pseudonym"),
)


def _busy(data_dir: Path) -> str:
    return f"datamappen {data_dir} används av en annan process (troligen omtanke serve)"


def _say(error: AdminError, **context: str) -> str:
    """The Swedish sentence for an AdminError (its English message if the code is new)."""
    template = ADMIN_MESSAGES.get(error.code)
    values = {"error": str(error), "path": "", "target": "", "source": "", "format": ""}
    values.update(context)
    values.update(error.details)
    return template.format(**values) if template else str(error)


# ----- backup ----------------------------------------------------------------------------------


def run_backup(
    data_dir: Path,
    target: Path,
    stdout: TextIO,
    stderr: TextIO,
    *,
    azure: AzureSettings | None = None,
) -> int:
    """`omtanke backup DIR`: a logical dump of the data folder (or the Azure account), also
    while the service runs."""
    try:
        check_backup_target(target, None if azure else data_dir)
        source = _where(data_dir, azure) if azure else str(data_dir.resolve())
        result = asyncio.run(_backup(data_dir, target, source, azure))
    except AdminError as error:
        stderr.write(f"Säkerhetskopian misslyckades: {_say(error)}\n")
        return 1
    except StoreError as error:
        stderr.write(f"Säkerhetskopian misslyckades: {error}\n")
        return 1
    stdout.write(
        f"Säkerhetskopian är klar: {result.records} poster i {len(result.files)} filer, "
        f"{result.total_bytes} byte i {result.directory}.\n"
    )
    return 0


def _where(data_dir: Path, azure: AzureSettings | None) -> str:
    """Where the data is, in messages."""
    if azure is None:
        return str(data_dir)
    return f"Azure-kontot {azure.blob_url or 'i anslutningssträngen'} (prefix {azure.prefix})"


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
    *,
    azure: AzureSettings | None = None,
) -> int:
    """`omtanke restore DIR`: check the backup, then load it while the service is stopped
    (on Azure nothing can check that: scale every instance to 0 first)."""
    where = _where(data_dir, azure)
    try:
        aside_in = backup_dir.resolve().parent
        records, proposals, set_aside = asyncio.run(
            _restore(backup_dir, data_dir, replace, azure, aside_in)
        )
    except StoreBusyError:
        stderr.write(
            f"Kan inte återställa nu: {_busy(data_dir)}. Stoppa tjänsten och kör kommandot "
            "igen. Ingenting har ändrats.\n"
        )
        return 1
    except AdminError as error:
        stderr.write(f"Återställningen misslyckades: {_say(error, data_dir=where)}\n")
        return 1
    except StoreError as error:
        stderr.write(f"Återställningen misslyckades: {error}\n")
        return 1
    stdout.write(f"Återställt: {records} poster till {where}, {proposals} förslag.\n")
    if set_aside is not None:
        stdout.write(f"Det som fanns innan ligger i {set_aside}.\n")
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
    *,
    azure: AzureSettings | None = None,
) -> int:
    """`omtanke erase-user`: exit 0 when erased, 1 when not possible or nothing was found
    (on Azure, with every instance stopped: nothing there can check it)."""
    if not email and not aad:
        stderr.write("Ange en e-postadress eller --aad med personens Entra-id.\n")
        return 2
    try:
        result, traces = asyncio.run(_erase(data_dir, email, aad, people_files, azure))
    except StoreBusyError:
        stderr.write(
            f"Kan inte radera nu: {_busy(data_dir)}. Stoppa tjänsten och kör kommandot igen. "
            "Ingenting har ändrats.\n"
        )
        return 1
    except StoreError as error:
        stderr.write(f"Kunde inte radera: {error}\n")
        return 1
    if not result.found:
        stderr.write("Hittade inga uppgifter om personen i datamappen. Ingenting har ändrats.\n")
        return 1
    stdout.write(
        f"Personuppgifterna är borttagna. Personen heter nu {result.pseudonym} i besluten.\n"
    )
    for kind, label in COUNT_LABELS:
        if result.counts[kind]:
            stdout.write(f"  {label}: {result.counts[kind]}\n")
    remaining = [*result.remaining, *(str(path) for path in traces)]
    if remaining:
        stderr.write("Varning: uppgifter finns kvar i " + ", ".join(remaining) + "\n")
        return 1
    stdout.write(
        "Kom ihåg: äldre säkerhetskopior innehåller fortfarande uppgifterna, och personen "
        "står kvar i RUG- eller administratörslistan om hen finns där.\n"
    )
    return 0
