"""Data protection for the data folder: erase a person, back up and restore while it runs.

Backup reads the files the service writes, without stopping it. Every store file is replaced
by an atomic rename (TinyDB tables, shard base files) or only appended to (shard journals, the
audit log), so each file read on its own is a state the service really had. Across files the
copy is taken in an order that keeps references valid: files that point at others first, the
files they point at after, and the proposals last. A proposal acknowledged before the backup
starts is therefore always in it; a conversation in the middle of a turn may come back one step
behind or ahead. Restore and erase-user need the service stopped: they take the same directory
lock as the service (``state/.lock``) and refuse to run while it is held.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from storage.audit import AuditLog
from storage.errors import CorruptStoreError, StoreError
from storage.files import TEMP_SUFFIX, atomic_write_bytes, read_json
from storage.kv import JOURNAL_SUFFIX, LOCK_FILE, KeyValueStore, ShardedTinyStore
from storage.tinytable import RecordTable, encode_json

MANIFEST = "manifest.json"
BACKUP_FORMAT = "omtanke.backup"
BACKUP_VERSION = 1
STATE_DIR = "state"
PSEUDONYM_KEY_FILE = ".pseudonym-key"
PSEUDONYM_PREFIX = "borttagen-"
ERASER = "omtanke erase-user"
# Files that point at others are copied before the files they point at (see the module doc).
REFERENCING_FIRST = ("outbox.json", "audit.jsonl", "feedback.json", "escalations.json")
PROPOSALS_LAST = "proposals.json"
DRAFT_INDEX = "drafts.json"
APPEND_ONLY_SUFFIXES = (JOURNAL_SUFFIX, ".jsonl")
# A shard's base file can be replaced while its journal is read (compaction): read again.
STABLE_READ_ATTEMPTS = 50
TABLES = ("proposals", "drafts", "feedback", "escalations")


class DataFolderBusyError(StoreError):
    """The service (or another command) holds the data folder's lock."""


class BackupError(StoreError):
    """A backup cannot be made or is not a valid backup."""


@contextlib.contextmanager
def data_folder_lock(data_dir: Path) -> Iterator[None]:
    """Hold the lock the running service holds; DataFolderBusyError if someone has it."""
    state = data_dir / STATE_DIR
    state.mkdir(parents=True, exist_ok=True)
    fd = os.open(state / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            raise DataFolderBusyError(
                f"datamappen {data_dir} används av en annan process (troligen omtanke serve)"
            ) from error
        yield
    finally:
        os.close(fd)


def data_folder_in_use(data_dir: Path) -> bool:
    """True when the service (or another command) holds the data folder's lock."""
    if not (data_dir / STATE_DIR / LOCK_FILE).exists():
        return False
    try:
        with data_folder_lock(data_dir):
            return False
    except DataFolderBusyError:
        return True


# ----- backup ---------------------------------------------------------------------------------


@dataclass
class BackupResult:
    """What a backup wrote."""

    directory: Path
    files: list[dict[str, Any]]

    @property
    def total_bytes(self) -> int:
        """Bytes copied."""
        return sum(int(f["size"]) for f in self.files)


def _skip(relative: Path) -> bool:
    """The lock file and temp files of interrupted writes are never part of the data."""
    return relative.name == LOCK_FILE or relative.name.endswith(TEMP_SUFFIX)


def _copy_order(data_dir: Path) -> list[Path]:
    """Every data file, relative, in the order that keeps references valid."""
    found = sorted(
        p.relative_to(data_dir)
        for p in data_dir.rglob("*")
        if p.is_file() and not _skip(p.relative_to(data_dir))
    )

    def rank(relative: Path) -> tuple[int, str]:
        name = relative.as_posix()
        if name in REFERENCING_FIRST:
            return (0, name)
        if name == DRAFT_INDEX:
            return (2, name)
        if relative.parts[0] == STATE_DIR:
            return (3, name)
        if name == PROPOSALS_LAST:
            return (4, name)
        return (1, name)

    return sorted(found, key=rank)


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    """Which version of a file is in place (an atomic replace changes the inode)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _read_optional(path: Path) -> bytes | None:
    """The file's bytes, or None when it does not exist (right now)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _whole_lines(data: bytes) -> bytes:
    """Drop a half-written last line: an append in progress was not acknowledged yet."""
    if not data or data.endswith(b"\n"):
        return data
    return data[: data.rfind(b"\n") + 1]


def _read_shard_pair(base: Path) -> tuple[bytes | None, bytes | None]:
    """Base file and journal as one state: retried while compaction replaces the base."""
    journal = base.with_suffix(JOURNAL_SUFFIX)
    for _ in range(STABLE_READ_ATTEMPTS):
        before = _identity(base)
        base_bytes = _read_optional(base)
        journal_bytes = _read_optional(journal)
        if _identity(base) == before:
            # The base did not change while the journal was read, so the journal read was taken
            # after (or with) this base; replaying it over the base gives the shard's state.
            return base_bytes, None if journal_bytes is None else _whole_lines(journal_bytes)
    raise BackupError(f"{base} ändrades hela tiden under kopieringen; försök igen")


def _read_stable(path: Path) -> bytes | None:
    """One whole version of a file that is replaced atomically (or appended to)."""
    for _ in range(STABLE_READ_ATTEMPTS):
        before = _identity(path)
        data = _read_optional(path)
        if _identity(path) == before or path.suffix in APPEND_ONLY_SUFFIXES:
            if data is not None and path.suffix in APPEND_ONLY_SUFFIXES:
                data = _whole_lines(data)
            return data
    raise BackupError(f"{path} ändrades hela tiden under kopieringen; försök igen")


def _snapshot(data_dir: Path) -> list[tuple[Path, bytes]]:
    """Read every data file once, in reference order; a shard and its journal together."""
    taken: list[tuple[Path, bytes]] = []
    done: set[Path] = set()
    for relative in _copy_order(data_dir):
        if relative in done:
            continue
        path = data_dir / relative
        if relative.parts[0] == STATE_DIR and relative.suffix in (".json", JOURNAL_SUFFIX):
            base_relative = relative.with_suffix(".json")
            journal_relative = relative.with_suffix(JOURNAL_SUFFIX)
            base_bytes, journal_bytes = _read_shard_pair(data_dir / base_relative)
            done.update({base_relative, journal_relative})
            if base_bytes is not None:
                taken.append((base_relative, base_bytes))
            if journal_bytes:
                taken.append((journal_relative, journal_bytes))
            continue
        data = _read_stable(path)
        done.add(relative)
        if data is not None:
            taken.append((relative, data))
    return taken


def make_backup(data_dir: Path, target: Path) -> BackupResult:
    """Copy the data folder into `target` (new or empty) with a manifest of sizes and hashes."""
    if not (data_dir / STATE_DIR).is_dir() and not (data_dir / PROPOSALS_LAST).is_file():
        raise BackupError(f"{data_dir} innehåller inga data att säkerhetskopiera")
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} finns redan och är inte tom; välj en ny mapp")
    resolved_data, resolved_target = data_dir.resolve(), target.resolve()
    if resolved_target == resolved_data or resolved_data in resolved_target.parents:
        raise BackupError(f"{target} ligger i datamappen; välj en mapp utanför den")
    started = datetime.now(UTC).isoformat(timespec="seconds")
    files: list[dict[str, Any]] = []
    target.mkdir(parents=True, exist_ok=True)
    for relative, data in _snapshot(data_dir):
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(destination, data)
        files.append(
            {
                "path": relative.as_posix(),
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    manifest = {
        "format": BACKUP_FORMAT,
        "version": BACKUP_VERSION,
        "started_at": started,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": str(resolved_data),
        "files": files,
    }
    # Written last: a backup that was cut off has no manifest and restore refuses it.
    atomic_write_bytes(target / MANIFEST, encode_json(manifest))
    return BackupResult(target, files)


def read_manifest(backup_dir: Path) -> list[dict[str, Any]]:
    """Check the manifest and every file it lists (size and SHA-256); return the list."""
    manifest_path = backup_dir / MANIFEST
    try:
        manifest = read_json(manifest_path)
    except CorruptStoreError as error:
        raise BackupError(f"{manifest_path} är skadad: {error}") from error
    if manifest is None:
        raise BackupError(
            f"{manifest_path} saknas: mappen är ingen färdig säkerhetskopia från omtanke backup"
        )
    if manifest.get("format") != BACKUP_FORMAT or manifest.get("version") != BACKUP_VERSION:
        raise BackupError(f"{manifest_path}: okänt format {manifest.get('format')!r}")
    files = manifest.get("files")
    if not isinstance(files, list) or not files:
        raise BackupError(f"{manifest_path}: listan över filer saknas eller är tom")
    for entry in files:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise BackupError(f"{manifest_path}: en rad i filistan saknar sökväg")
        relative = Path(entry["path"])
        if relative.is_absolute() or ".." in relative.parts or _skip(relative):
            raise BackupError(f"{manifest_path}: otillåten sökväg {entry['path']!r}")
        try:
            data = (backup_dir / relative).read_bytes()
        except OSError as error:
            raise BackupError(f"{backup_dir / relative} saknas eller kan inte läsas") from error
        if len(data) != entry.get("size") or hashlib.sha256(data).hexdigest() != entry.get(
            "sha256"
        ):
            raise BackupError(
                f"{backup_dir / relative} stämmer inte med manifestet (storlek eller kontrollsumma)"
            )
    return files


# ----- restore --------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    """What a restore did."""

    files: int
    proposals: int
    set_aside: Path | None


def _current_files(data_dir: Path) -> list[Path]:
    """The data files now in the folder (not the lock)."""
    if not data_dir.is_dir():
        return []
    return [
        p.relative_to(data_dir)
        for p in data_dir.rglob("*")
        if p.is_file() and p.relative_to(data_dir).name != LOCK_FILE
    ]


def restore_backup(backup_dir: Path, data_dir: Path, replace: bool = False) -> RestoreResult:
    """Check the backup, then write it into `data_dir` while holding the service's lock."""
    files = read_manifest(backup_dir)
    set_aside: Path | None = None
    data_dir.mkdir(parents=True, exist_ok=True)
    with data_folder_lock(data_dir):
        existing = _current_files(data_dir)
        if existing and not replace:
            raise BackupError(
                f"{data_dir} innehåller redan data; lägg till --replace för att ersätta den "
                "(det som finns nu sparas först som en säkerhetskopia bredvid)"
            )
        if existing:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            set_aside = data_dir.parent / f"{data_dir.name}.fore-aterstallning-{stamp}"
            make_backup(data_dir, set_aside)
            for relative in existing:
                (data_dir / relative).unlink()
        for entry in files:
            relative = Path(entry["path"])
            destination = data_dir / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(destination, (backup_dir / relative).read_bytes())
    proposals = asyncio.run(verify_data_folder(data_dir))
    return RestoreResult(len(files), proposals, set_aside)


async def verify_data_folder(data_dir: Path) -> int:
    """Open every store the service opens; return the number of proposals."""
    store = ShardedTinyStore(data_dir / STATE_DIR)
    tables: list[RecordTable] = []
    try:
        for name in (*TABLES, "outbox"):
            tables.append(RecordTable.open(data_dir / f"{name}.json", name))
        await AuditLog(data_dir / "audit.jsonl").read()
        return len(await tables[0].all())
    finally:
        for table in tables:
            await table.close()
        await store.close()


# ----- erasure --------------------------------------------------------------------------------


@dataclass
class Person:
    """What identifies the person being erased."""

    aad_ids: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)

    def needles(self) -> list[str]:
        """Every identifying string, longest first (a name inside an e-mail goes after it)."""
        teams_ids = {f"29:{aad}" for aad in self.aad_ids}
        found = {n for n in (*self.aad_ids, *self.emails, *self.names, *teams_ids) if n.strip()}
        return sorted(found, key=len, reverse=True)


@dataclass
class ErasureResult:
    """What erase-user did."""

    pseudonym: str
    found: bool
    counts: dict[str, int]
    remaining: list[str]


def _pseudonym_key(data_dir: Path) -> bytes:
    """The folder's secret for pseudonyms: stable per deployment, not guessable from an e-mail."""
    path = data_dir / PSEUDONYM_KEY_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        key = secrets.token_hex(32).encode("ascii")
        atomic_write_bytes(path, key)
        os.chmod(path, 0o600)
        return key


def pseudonym_for(data_dir: Path, identity: str) -> str:
    """A stable pseudonym like borttagen-1a2b3c4d for an aad id or e-mail."""
    digest = hmac.new(_pseudonym_key(data_dir), identity.lower().encode("utf-8"), "sha256")
    return PSEUDONYM_PREFIX + digest.hexdigest()[:8]


def _scrub(value: Any, needles: list[str], pseudonym: str) -> Any:
    """Replace every identifying string in a JSON value by the pseudonym."""
    if isinstance(value, str):
        for needle in needles:
            if needle.lower() in value.lower():
                value = _replace_ci(value, needle, pseudonym)
        return value
    if isinstance(value, list):
        return [_scrub(item, needles, pseudonym) for item in value]
    if isinstance(value, dict):
        return {
            _scrub(key, needles, pseudonym): _scrub(item, needles, pseudonym)
            for key, item in value.items()
        }
    return value


def _replace_ci(text: str, needle: str, replacement: str) -> str:
    """Replace `needle` in `text` ignoring case (e-mail addresses are case-insensitive)."""
    lower, target = text.lower(), needle.lower()
    out: list[str] = []
    start = 0
    while (at := lower.find(target, start)) >= 0:
        out.append(text[start:at])
        out.append(replacement)
        start = at + len(needle)
    out.append(text[start:])
    return "".join(out)


def _mentions(value: Any, needles: list[str]) -> bool:
    """True when a JSON value contains any identifying string."""
    text = json.dumps(value, ensure_ascii=False).lower()
    return any(needle.lower() in text for needle in needles)


def _people_lists(rug_paths: list[Path]) -> list[Any]:
    """The RUG members and admins from the coordinators' files."""
    from knowledge.rug import load_people

    people: list[Any] = []
    for path in rug_paths:
        people.extend(load_people(path))
    return people


async def _find_person(
    proposals: list[dict[str, Any]],
    store: KeyValueStore,
    email: str | None,
    aad: str | None,
    people: list[Any],
) -> Person:
    """Look the person up by e-mail (proposals, RUG and admin lists) or by aad id."""
    person = Person()
    wanted = (email or "").strip().lower()
    if aad:
        person.aad_ids.add(aad)
    if wanted:
        person.emails.add(wanted)
    for listed in people:
        if (wanted and listed.email.lower() == wanted) or (aad and listed.aad_object_id == aad):
            if listed.aad_object_id:
                person.aad_ids.add(listed.aad_object_id)
            if listed.email:
                person.emails.add(listed.email.lower())
            person.names.add(listed.name)
    for record in proposals:
        initiator = record.get("initiator") or {}
        by_email = bool(wanted) and str(initiator.get("email", "")).lower() == wanted
        if by_email and initiator.get("aad_object_id"):
            person.aad_ids.add(str(initiator["aad_object_id"]))
    for record in proposals:
        initiator = record.get("initiator") or {}
        if initiator.get("aad_object_id") in person.aad_ids or (
            str(initiator.get("email", "")).lower() in person.emails
        ):
            if initiator.get("email"):
                person.emails.add(str(initiator["email"]).lower())
            if initiator.get("name"):
                person.names.add(str(initiator["name"]))
    keys = [f"person/{a}" for a in person.aad_ids]
    for doc in (await store.read(keys)).values():
        user = (doc.get("reference") or {}).get("user") or {}
        if user.get("name"):
            person.names.add(str(user["name"]))
    return person


async def erase_person(
    data_dir: Path, email: str | None, aad: str | None, people_files: list[Path]
) -> ErasureResult:
    """Delete the person's own records and pseudonymise them where records must stay."""
    counts = {
        "drafts": 0,
        "state": 0,
        "feedback": 0,
        "escalations": 0,
        "proposals": 0,
        "outbox": 0,
        "audit": 0,
    }
    if data_folder_in_use(data_dir):
        raise DataFolderBusyError(
            f"datamappen {data_dir} används av en annan process (troligen omtanke serve)"
        )
    try:
        store = ShardedTinyStore(data_dir / STATE_DIR)
    except StoreError as error:
        if "already open" in str(error):
            raise DataFolderBusyError(
                f"datamappen {data_dir} används av en annan process (troligen omtanke serve)"
            ) from error
        raise
    tables: dict[str, RecordTable] = {}
    key_existed = (data_dir / PSEUDONYM_KEY_FILE).exists()
    found = False
    try:
        for name in (*TABLES, "outbox"):
            tables[name] = RecordTable.open(data_dir / f"{name}.json", name)
        proposals = await tables["proposals"].all()
        person = await _find_person(proposals, store, email, aad, _people_lists(people_files))
        identity = sorted(person.aad_ids)[0] if person.aad_ids else sorted(person.emails)[0]
        pseudonym = pseudonym_for(data_dir, identity)
        needles = person.needles()

        # Key-value store: the person's own documents go; others lose the identifying strings.
        personal = {
            prefix + a
            for a in person.aad_ids
            for prefix in ("draft/", "person/", "complement-stash/")
        }
        for key in await store.keys():
            doc = (await store.read([key])).get(key)
            if doc is None:
                continue
            if key in personal or any(n.lower() in key.lower() for n in needles):
                await store.delete([key])
                counts["drafts" if key.startswith("draft/") else "state"] += 1
                found = True
            elif _mentions(doc, needles):
                await store.write({key: _scrub(doc, needles, pseudonym)})
                counts["state"] += 1
                found = True

        for aad_id in person.aad_ids:
            await tables["drafts"].remove("person", aad_id)
            counts["feedback"] += await tables["feedback"].remove("user", aad_id)
            counts["escalations"] += await tables["escalations"].remove("user", aad_id)
            counts["outbox"] += await tables["outbox"].remove("target", aad_id)

        # Decision records stay, with the person replaced by the pseudonym.
        for record in proposals:
            if not _mentions(record, needles):
                continue
            initiator = record.get("initiator") or {}
            if initiator.get("aad_object_id") in person.aad_ids or (
                str(initiator.get("email", "")).lower() in person.emails
            ):
                record["initiator"] = {
                    **initiator,
                    "name": pseudonym,
                    "email": "",
                    "aad_object_id": pseudonym,
                }
            await tables["proposals"].upsert(_scrub(record, needles, pseudonym), "id")
            counts["proposals"] += 1
        for table in tables.values():
            await table.close()
        tables.clear()
        # Whatever else mentions the person (a question, a card text) keeps its record, scrubbed.
        for name in (*TABLES, "outbox"):
            counts["state"] += _scrub_table_file(data_dir / f"{name}.json", needles, pseudonym)
        counts["audit"] = await _scrub_audit(data_dir / "audit.jsonl", needles, pseudonym)
        found = found or any(counts.values())
        if found:
            await AuditLog(data_dir / "audit.jsonl").append(
                ERASER,
                "personal_data_erased",
                pseudonym,
                {k: v for k, v in counts.items() if v},
            )
    finally:
        for table in tables.values():
            await table.close()
        # Closing folds the journals into the base files, so old values do not linger there.
        await store.close()
        if not found and not key_existed:
            # Nothing was erased: leave the folder exactly as it was.
            (data_dir / PSEUDONYM_KEY_FILE).unlink(missing_ok=True)
    return ErasureResult(pseudonym, found, counts, find_traces(data_dir, needles))


def _scrub_table_file(path: Path, needles: list[str], pseudonym: str) -> int:
    """Pseudonymise a closed TinyDB file in place; return how many records changed."""
    data = read_json(path)
    if data is None or not _mentions(data, needles):
        return 0
    changed = sum(
        1
        for table in data.values()
        for record in table.values()
        if isinstance(record, dict) and _mentions(record, needles)
    )
    atomic_write_bytes(path, encode_json(_scrub(data, needles, pseudonym)))
    return changed


async def _scrub_audit(path: Path, needles: list[str], pseudonym: str) -> int:
    """Rewrite the audit log with the person pseudonymised; return the lines changed."""
    entries = await AuditLog(path).read()
    changed = 0
    lines: list[bytes] = []
    for entry in entries:
        if _mentions(entry, needles):
            entry = _scrub(entry, needles, pseudonym)
            changed += 1
        lines.append((json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8"))
    if changed:
        atomic_write_bytes(path, b"".join(lines))
    return changed


def find_traces(data_dir: Path, needles: list[str]) -> list[str]:
    """Files in the data folder that still contain any identifying string."""
    traces: list[str] = []
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file() or path.name == LOCK_FILE:
            continue
        text = path.read_bytes().decode("utf-8", errors="replace").lower()
        if any(needle.lower() in text for needle in needles):
            traces.append(str(path))
    return traces


# ----- command line ---------------------------------------------------------------------------


def run_erase(
    data_dir: Path,
    email: str | None,
    aad: str | None,
    people_files: list[Path],
    stdout: TextIO,
    stderr: TextIO,
) -> int:
    """`omtanke erase-user`: exit 0 when erased, 1 when not possible or nothing was found."""
    if not email and not aad:
        stderr.write("Ange en e-postadress eller --aad med personens Entra-id.\n")
        return 2
    try:
        result = asyncio.run(erase_person(data_dir, email, aad, people_files))
    except DataFolderBusyError as error:
        stderr.write(
            f"Kan inte radera nu: {error}. Stoppa tjänsten och kör kommandot igen. "
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
    for what, label in (
        ("drafts", "utkast"),
        ("state", "samtalsuppgifter"),
        ("feedback", "omdömen"),
        ("escalations", "vidareskickade frågor"),
        ("proposals", "förslag med pseudonym"),
        ("outbox", "meddelanden"),
        ("audit", "rader i granskningsloggen med pseudonym"),
    ):
        if result.counts[what]:
            stdout.write(f"  {label}: {result.counts[what]}\n")
    if result.remaining:
        stderr.write("Varning: uppgifter finns kvar i " + ", ".join(result.remaining) + "\n")
        return 1
    stdout.write(
        "Kom ihåg: äldre säkerhetskopior innehåller fortfarande uppgifterna, och personen "
        "står kvar i RUG- eller administratörslistan om hen finns där.\n"
    )
    return 0


def run_backup(data_dir: Path, target: Path, stdout: TextIO, stderr: TextIO) -> int:
    """`omtanke backup DIR`: copy the data folder, also while the service runs."""
    try:
        result = make_backup(data_dir, target)
    except StoreError as error:
        stderr.write(f"Säkerhetskopian misslyckades: {error}\n")
        return 1
    stdout.write(
        f"Säkerhetskopian är klar: {len(result.files)} filer, {result.total_bytes} byte "
        f"i {result.directory}.\n"
    )
    return 0


def run_restore(
    backup_dir: Path, data_dir: Path, replace: bool, stdout: TextIO, stderr: TextIO
) -> int:
    """`omtanke restore DIR`: check the backup and put it back while the service is stopped."""
    try:
        result = restore_backup(backup_dir, data_dir, replace)
    except DataFolderBusyError as error:
        stderr.write(
            f"Kan inte återställa nu: {error}. Stoppa tjänsten och kör kommandot igen. "
            "Ingenting har ändrats.\n"
        )
        return 1
    except StoreError as error:
        stderr.write(f"Återställningen misslyckades: {error}\n")
        return 1
    stdout.write(f"Återställt: {result.files} filer till {data_dir}, {result.proposals} förslag.\n")
    if result.set_aside is not None:
        stdout.write(f"Det som fanns innan ligger i {result.set_aside}.\n")
    return 0
