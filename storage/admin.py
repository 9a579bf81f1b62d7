"""Backup, restore and erase-user over the storage interfaces, for any Backend.

A backup is a logical dump: every key-value document, every table record with its index and
every log entry, written as JSON Lines files to a new folder, with ``manifest.json`` (format,
version, and each file's size, record count and SHA-256) written last, so a backup that was cut
off has no manifest and is refused. Restore checks the manifest and every file, and the content
of every record (as start-up does) in memory, before it changes anything; it refuses a target
that holds data unless told to replace it, and then first writes a backup of what is there.

erase-user deletes the person's own records (drafts, set-aside drafts, conversation
references, bot state, feedback, escalations, messages to them) and pseudonymises them where
a record must stay (proposals, decisions, the audit log). Only the person's own fields and
whole words are replaced: their full name as a whole word (a Swedish genitive "-s" included),
their e-mail addresses and ids as whole tokens, ignoring case – never a substring, so erasing
"Ida" leaves someone else's "idag" alone (issue 16 item 7). The pseudonym is an HMAC of the
person's id with a key kept in the backend's META table: stable per deployment, the same in
a restored backup, and not guessable from an e-mail address.

Nothing here knows a file of the embedded default except where a backup is written; the
messages are English (for logs), and bot/data_admin.py says them in Swedish by their `code`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from domain.proposal import Proposal
from storage import layout
from storage.base import Backend, Document, Row
from storage.documents import encode_json
from storage.errors import CorruptStoreError, StoreError
from storage.files import atomic_write_bytes, parse_json
from storage.memory import MemoryBackend
from storage.migrate import raise_counters
from storage.records import (
    DRAFT_TOKEN,
    PENDING,
    Audit,
    Meta,
    Records,
    escalation_index,
    outbox_index,
    proposal_row,
)

MANIFEST = "manifest.json"
BACKUP_FORMAT = "omtanke.backup"
# Version 1 was a copy of the data folder's files; version 2 is the logical dump.
FILE_COPY_VERSION = 1
BACKUP_VERSION = 2
STATE_FILE = "state.jsonl"
TABLES_DIR = "tables"
LOGS_DIR = "logs"
NAME = re.compile(r"[a-z][a-z0-9_-]*")
PSEUDONYM_PREFIX = "borttagen-"
ERASER = "omtanke erase-user"
ERASED_ACTION = "personal_data_erased"


class AdminError(StoreError):
    """Backup, restore or erase-user cannot go on; `code` says why, `details` the specifics.

    Codes: no_data, target_not_empty, target_inside_source, manifest_missing,
    manifest_damaged, unknown_format, bad_file_list, file_missing, file_mismatch,
    file_damaged, content_damaged, not_empty.
    """

    def __init__(self, code: str, message: str, **details: str) -> None:
        super().__init__(message)
        self.code = code
        self.details = details


# ----- the logical dump --------------------------------------------------------------------


@dataclass
class Dump:
    """Everything a backend holds, by store."""

    state: dict[str, Document] = field(default_factory=dict)
    tables: dict[str, list[Row]] = field(default_factory=dict)
    logs: dict[str, list[Document]] = field(default_factory=dict)

    def count(self) -> int:
        """How many documents, records and entries in all."""
        rows = sum(len(rows) for rows in self.tables.values())
        return len(self.state) + rows + sum(len(e) for e in self.logs.values())


async def dump(backend: Backend) -> Dump:
    """Read every document, record (with its index) and entry of the backend."""
    state = backend.state
    taken = Dump(state=await state.read(await state.keys()))
    for name in layout.TABLES:
        found = await backend.table(name).all()
        taken.tables[name] = [Row(v.key, v.document, dict(v.index)) for v in found]
    for name in layout.LOGS:
        taken.logs[name] = await backend.log(name).read()
    return taken


async def load(backend: Backend, content: Dump) -> None:
    """Make the backend hold exactly `content` (restore: the service is stopped)."""
    state = backend.state
    # The new documents go in before the others go out: an interrupted load leaves more, not
    # less, and running it again finishes it.
    if content.state:
        await state.write(content.state)
    stale = [key for key in await state.keys() if key not in content.state]
    if stale:
        await state.delete(stale)
    for name in layout.TABLES:
        await backend.table(name).rewrite(content.tables.get(name, []))
    for name in layout.LOGS:
        await backend.log(name).rewrite(content.logs.get(name, []))
    proposals = [row.id for row in content.tables.get(layout.PROPOSALS, [])]
    await raise_counters(Meta(backend.table(layout.META)), proposals)


async def is_empty(backend: Backend) -> bool:
    """True when the backend holds nothing at all."""
    if await backend.state.keys():
        return False
    for name in layout.TABLES:
        if await backend.table(name).all():
            return False
    for name in layout.LOGS:
        if await backend.log(name).read():
            return False
    return True


# ----- backup ------------------------------------------------------------------------------


@dataclass
class BackupResult:
    """What a backup wrote."""

    directory: Path
    files: list[dict[str, Any]]

    @property
    def total_bytes(self) -> int:
        """Bytes written, the manifest not counted."""
        return sum(int(f["size"]) for f in self.files)

    @property
    def records(self) -> int:
        """Documents, records and entries written."""
        return sum(int(f["records"]) for f in self.files)


def _lines(values: Iterable[Any]) -> bytes:
    return b"".join(encode_json(value) + b"\n" for value in values)


def check_backup_target(target: Path, source: Path | None = None) -> None:
    """A backup goes to a new or empty folder, never inside the data it copies."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise AdminError(
            "target_not_empty", f"{target} exists and is not empty", target=str(target)
        )
    if source is not None:
        data, resolved = source.resolve(), target.resolve()
        if resolved == data or data in resolved.parents:
            raise AdminError(
                "target_inside_source", f"{target} is inside {source}", target=str(target)
            )


def write_backup(content: Dump, target: Path, source: str, kind: str) -> BackupResult:
    """Write a dump to `target` (new or empty): one file per store, the manifest last."""
    check_backup_target(target)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    parts: list[tuple[str, str, str, int, bytes]] = [
        (
            STATE_FILE,
            "state",
            "",
            len(content.state),
            _lines({"key": k, "document": d} for k, d in sorted(content.state.items())),
        )
    ]
    for name, rows in sorted(content.tables.items()):
        data = _lines({"id": r.id, "index": dict(r.index), "document": r.document} for r in rows)
        parts.append((f"{TABLES_DIR}/{name}.jsonl", "table", name, len(rows), data))
    for name, entries in sorted(content.logs.items()):
        parts.append((f"{LOGS_DIR}/{name}.jsonl", "log", name, len(entries), _lines(entries)))
    files: list[dict[str, Any]] = []
    target.mkdir(parents=True, exist_ok=True)
    for relative, what, name, records, data in parts:
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(destination, data)
        files.append(
            {
                "path": relative,
                "kind": what,
                "name": name,
                "records": records,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    manifest = {
        "format": BACKUP_FORMAT,
        "version": BACKUP_VERSION,
        "backend": kind,
        "source": source,
        "started_at": started,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": files,
    }
    # Written last: a backup that was cut off has no manifest and restore refuses it.
    atomic_write_bytes(target / MANIFEST, encode_json(manifest))
    return BackupResult(target, files)


async def backup(backend: Backend, target: Path, source: str) -> BackupResult:
    """Dump the backend into a new backup folder; AdminError no_data when it is empty."""
    check_backup_target(target)
    content = await dump(backend)
    if content.count() == 0:
        raise AdminError("no_data", f"{source} holds no data to back up", source=source)
    return write_backup(content, target, source, backend.kind)


# ----- reading a backup --------------------------------------------------------------------


def _manifest(backup_dir: Path) -> dict[str, Any]:
    path = backup_dir / MANIFEST
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise AdminError(
            "manifest_missing", f"{path} is missing: not a finished backup", path=str(path)
        ) from None
    except OSError as error:
        raise AdminError("manifest_damaged", f"{path}: {error}", path=str(path)) from error
    try:
        manifest: dict[str, Any] = parse_json(path, raw)
    except CorruptStoreError as error:
        raise AdminError("manifest_damaged", str(error), path=str(path)) from error
    version = manifest.get("version")
    if manifest.get("format") != BACKUP_FORMAT or version not in (
        FILE_COPY_VERSION,
        BACKUP_VERSION,
    ):
        raise AdminError(
            "unknown_format",
            f"{path}: unknown format {manifest.get('format')!r} version {version!r}",
            path=str(path),
            format=str(manifest.get("format")),
        )
    files = manifest.get("files")
    if not isinstance(files, list) or not files:
        raise AdminError("bad_file_list", f"{path}: the file list is missing", path=str(path))
    return manifest


def _allowed_path(entry: Mapping[str, Any], version: int) -> bool:
    relative = entry.get("path")
    if not isinstance(relative, str):
        return False
    parts = Path(relative).parts
    if Path(relative).is_absolute() or ".." in parts or not parts:
        return False
    if version == FILE_COPY_VERSION:
        return Path(relative).name != ".lock" and not Path(relative).name.endswith(".tmp")
    kind, name = entry.get("kind"), entry.get("name")
    if kind == "state":
        return relative == STATE_FILE
    folder = {"table": TABLES_DIR, "log": LOGS_DIR}.get(str(kind))
    return (
        folder is not None
        and isinstance(name, str)
        and NAME.fullmatch(name) is not None
        and relative == f"{folder}/{name}.jsonl"
    )


def _checked_files(backup_dir: Path, manifest: Mapping[str, Any]) -> dict[str, bytes]:
    """Every listed file's bytes, each checked against its size and SHA-256."""
    version = int(manifest["version"])
    found: dict[str, bytes] = {}
    for entry in manifest["files"]:
        if not isinstance(entry, dict) or not _allowed_path(entry, version):
            shown = entry.get("path") if isinstance(entry, dict) else entry
            raise AdminError(
                "bad_file_list",
                f"{backup_dir / MANIFEST}: path {shown!r} is not allowed",
                path=str(backup_dir / MANIFEST),
            )
        path = backup_dir / entry["path"]
        try:
            data = path.read_bytes()
        except OSError as error:
            raise AdminError(
                "file_missing", f"{path} is missing or unreadable", path=str(path)
            ) from error
        if len(data) != entry.get("size") or hashlib.sha256(data).hexdigest() != entry.get(
            "sha256"
        ):
            raise AdminError(
                "file_mismatch",
                f"{path} does not match the manifest (size or checksum)",
                path=str(path),
            )
        found[entry["path"]] = data
    return found


def _parse_lines(path: Path, data: bytes) -> list[Any]:
    values: list[Any] = []
    for number, line in enumerate(data.splitlines(), start=1):
        try:
            values.append(json.loads(line))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise AdminError(
                "file_damaged", f"{path}: line {number} is not valid JSON", path=str(path)
            ) from error
    return values


def _damaged(path: Path, number: int, what: str) -> AdminError:
    return AdminError("file_damaged", f"{path}: line {number} is not {what}", path=str(path))


def _parse_dump(backup_dir: Path, manifest: Mapping[str, Any], files: Mapping[str, bytes]) -> Dump:
    content = Dump()
    for entry in manifest["files"]:
        path = backup_dir / entry["path"]
        values = _parse_lines(path, files[entry["path"]])
        if len(values) != entry.get("records"):
            raise AdminError(
                "file_mismatch", f"{path} does not hold the records counted", path=str(path)
            )
        for number, value in enumerate(values, start=1):
            if not isinstance(value, dict):
                raise _damaged(path, number, "an object")
            if entry["kind"] == "state":
                key, document = value.get("key"), value.get("document")
                if not isinstance(key, str) or not isinstance(document, dict):
                    raise _damaged(path, number, "a {key, document} line")
                content.state[key] = document
            elif entry["kind"] == "table":
                record_id, index, document = (
                    value.get("id"),
                    value.get("index"),
                    value.get("document"),
                )
                if (
                    not isinstance(record_id, str)
                    or not isinstance(document, dict)
                    or not isinstance(index, dict)
                    or not all(isinstance(v, str) for v in index.values())
                ):
                    raise _damaged(path, number, "an {id, index, document} line")
                content.tables.setdefault(entry["name"], []).append(Row(record_id, document, index))
            else:
                content.logs.setdefault(entry["name"], []).append(value)
    return content


async def read_backup(backup_dir: Path) -> Dump:
    """A backup's content, after checking the manifest, every file and every record.

    Both kinds are read: the logical dump and the earlier copy of the data folder's files
    (read as a data folder, migrated if it is in the old layout).
    """
    manifest = _manifest(backup_dir)
    files = _checked_files(backup_dir, manifest)
    if manifest["version"] == FILE_COPY_VERSION:
        # Imported here: the snapshot reads the embedded default's files.
        from storage.snapshot import snapshot

        try:
            copy = await snapshot(backup_dir)
        except CorruptStoreError as error:
            raise AdminError("content_damaged", str(error), path=str(backup_dir)) from error
        try:
            content = await dump(copy)
        finally:
            await copy.close()
    else:
        content = _parse_dump(backup_dir, manifest, files)
    await check_content(content)
    return content


async def check_content(content: Dump) -> None:
    """Check every record as start-up would, in memory; AdminError content_damaged if not."""
    memory = MemoryBackend()
    try:
        await load(memory, content)
        await Records(memory).check()
    except (CorruptStoreError, TypeError, ValueError) as error:
        raise AdminError("content_damaged", str(error)) from error
    finally:
        await memory.close()


# ----- restore -----------------------------------------------------------------------------


@dataclass
class RestoreResult:
    """What a restore did."""

    records: int
    proposals: int
    set_aside: Path | None


async def restore(
    content: Dump, backend: Backend, *, replace: bool = False, set_aside: Path | None = None
) -> RestoreResult:
    """Put a checked backup (read_backup) into the backend.

    A backend that holds data is refused (AdminError not_empty) unless `replace`; then what
    it holds is first written as a backup to `set_aside`.
    """
    aside: Path | None = None
    if not await is_empty(backend):
        if not replace:
            raise AdminError("not_empty", "the target already holds data")
        if set_aside is None:
            raise ValueError("replacing data needs a folder to set the current data aside in")
        write_backup(await dump(backend), set_aside, "before restore", backend.kind)
        aside = set_aside
    await load(backend, content)
    return RestoreResult(content.count(), len(content.tables.get(layout.PROPOSALS, [])), aside)


# ----- erase-user --------------------------------------------------------------------------


class Listed(Protocol):
    """A person in the RUG or admin list (knowledge.rug.Person)."""

    @property
    def name(self) -> str:
        """Their full name."""

    @property
    def email(self) -> str:
        """Their e-mail address, or empty."""

    @property
    def aad_object_id(self) -> str:
        """Their Entra object id, or empty."""


@dataclass
class Person:
    """What identifies the person being erased."""

    aad_ids: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    # Other ids of the person (the Teams user id of their chat, "29:…").
    other_ids: set[str] = field(default_factory=set)

    @property
    def identity(self) -> str:
        """The id the pseudonym is derived from: the same person, the same pseudonym."""
        return sorted(self.aad_ids)[0] if self.aad_ids else sorted(self.emails)[0]

    def is_me(self, aad: Any = "", email: Any = "") -> bool:
        """True when an aad id or e-mail in a record is the person's (ignoring case)."""
        ids = {a.lower() for a in self.aad_ids}
        return (isinstance(aad, str) and aad.strip().lower() in ids) or (
            isinstance(email, str) and bool(email) and email.strip().lower() in self.emails
        )


class Matcher:
    """Finds and replaces a person's full names (whole words) and ids (whole tokens).

    A one-word name (a Teams display name like "Ida") is no more than a first name: another
    person's text that says "Ida" may well mean someone else, so it is replaced only in the
    person's own records (`own=True`) and in fields that hold exactly that name.
    """

    def __init__(self, person: Person) -> None:
        ids = {i for i in (*person.aad_ids, *person.other_ids) if i.strip()}
        emails = {e for e in person.emails if e.strip()}
        # A one-letter "name" would be a whole word in too many texts.
        names = {" ".join(n.split()) for n in person.names if len(n.strip()) >= 2}
        self._names = {n.casefold() for n in names}
        patterns: list[re.Pattern[str]] = []
        if ids:
            # An id is a token: not inside a longer word or id (aad-bo is not in aad-bob).
            patterns.append(re.compile(rf"(?<!\w)(?:{_alternatives(ids)})(?![\w-])", re.I))
        if emails:
            # bo.anna@x.se does not contain anna@x.se; a sentence's full stop may follow.
            patterns.append(
                re.compile(rf"(?<![\w.+-])(?:{_alternatives(emails)})(?![\w-]|\.\w)", re.I)
            )
        multi = {n for n in names if " " in n}
        single = names - multi
        # A full name as a whole word, a Swedish genitive included ("Anna Anderssons",
        # "Ida:s"). Two-word names ignore case; a one-word name keeps it, or "kostnad per
        # dag" would lose a word.
        if multi:
            patterns.append(
                re.compile(rf"(?<!\w)(?:{_name_alternatives(multi)})(:?s)?(?!\w)", re.I)
            )
        self._patterns = patterns
        self._own: list[re.Pattern[str]] = []
        if single:
            self._own.append(re.compile(rf"(?<!\w)(?:{_name_alternatives(single)})(:?s)?(?!\w)"))

    def is_name(self, value: Any) -> bool:
        """True when the value is exactly one of the person's names (a person field)."""
        return isinstance(value, str) and " ".join(value.split()).casefold() in self._names

    def mentions(self, text: str, own: bool = False) -> bool:
        """True when the text names the person (by a one-word name too, if `own`)."""
        return any(p.search(text) for p in self._in(own))

    def _in(self, own: bool) -> list[re.Pattern[str]]:
        return [*self._patterns, *self._own] if own else self._patterns

    def replace(self, text: str, pseudonym: str, own: bool = False) -> str:
        """The text with every mention replaced by the pseudonym (a genitive stays one)."""

        def substitute(found: re.Match[str]) -> str:
            genitive = found.lastindex is not None and found.group(found.lastindex)
            return pseudonym + (":s" if genitive else "")

        for pattern in self._in(own):
            text = pattern.sub(substitute, text)
        return text

    def mentioned(self, value: Any) -> bool:
        """True when any string (or key) in a JSON value names the person."""
        if isinstance(value, str):
            return self.mentions(value)
        if isinstance(value, list):
            return any(self.mentioned(v) for v in value)
        if isinstance(value, dict):
            return any(self.mentions(k) or self.mentioned(v) for k, v in value.items())
        return False

    def scrub(self, value: Any, pseudonym: str, own: bool = False) -> Any:
        """A JSON value with every mention in its strings and keys replaced."""
        if isinstance(value, str):
            return self.replace(value, pseudonym, own)
        if isinstance(value, list):
            return [self.scrub(v, pseudonym, own) for v in value]
        if isinstance(value, dict):
            return {
                self.replace(k, pseudonym, own): self.scrub(v, pseudonym, own)
                for k, v in value.items()
            }
        return value


def _alternatives(values: Iterable[str]) -> str:
    # Longest first, so an e-mail is replaced whole before a shorter token inside it.
    return "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))


def _name_alternatives(names: Iterable[str]) -> str:
    # Any run of white space between the parts of a name (a line break in a text).
    return "|".join(
        r"\s+".join(re.escape(part) for part in name.split())
        for name in sorted(names, key=len, reverse=True)
    )


@dataclass
class ErasureResult:
    """What erase-user did, by kind; `remaining` names stores that still mention the person."""

    pseudonym: str
    found: bool
    counts: dict[str, int]
    remaining: list[str]
    matcher: Matcher


COUNT_KINDS = ("drafts", "state", "feedback", "escalations", "proposals", "outbox", "audit")


async def find_person(
    backend: Backend, email: str | None, aad: str | None, people: Iterable[Listed]
) -> Person:
    """Look the person up by e-mail or aad id: the RUG and admin lists, the proposals they
    initiated or endorsed, and the conversation reference of their chat."""
    person = Person()
    wanted = (email or "").strip().lower()
    if aad:
        person.aad_ids.add(aad.strip())
    if wanted:
        person.emails.add(wanted)
    for listed in people:
        if (wanted and listed.email.lower() == wanted) or (aad and listed.aad_object_id == aad):
            if listed.aad_object_id:
                person.aad_ids.add(listed.aad_object_id)
            if listed.email:
                person.emails.add(listed.email.lower())
            if listed.name:
                person.names.add(listed.name)
    proposals = [v.document for v in await backend.table(layout.PROPOSALS).all()]
    people_in = [
        p
        for record in proposals
        for p in (record.get("initiator"), record.get("rug_endorsement"))
        if isinstance(p, dict)
    ]
    # Twice: an e-mail finds an aad id, which may find a name given with another e-mail.
    for _ in range(2):
        for someone in people_in:
            if person.is_me(someone.get("aad_object_id"), someone.get("email")):
                for key, into in (
                    ("aad_object_id", person.aad_ids),
                    ("name", person.names),
                ):
                    if isinstance(someone.get(key), str) and someone[key].strip():
                        into.add(someone[key].strip())
                if isinstance(someone.get("email"), str) and someone["email"].strip():
                    person.emails.add(someone["email"].strip().lower())
    keys = [layout.PERSON + a for a in sorted(person.aad_ids)]
    for document in (await backend.state.read(keys)).values():
        reference = document.get("reference")
        user = reference.get("user") if isinstance(reference, dict) else None
        if isinstance(user, dict):
            if isinstance(user.get("name"), str) and user["name"].strip():
                person.names.add(user["name"].strip())
            if isinstance(user.get("id"), str) and user["id"].strip():
                person.other_ids.add(user["id"].strip())
    return person


async def pseudonym_key(backend: Backend) -> bytes | None:
    """The deployment's secret for pseudonyms (in META, so a restored backup keeps it)."""
    found = await Meta(backend.table(layout.META)).get(layout.PSEUDONYM_KEY)
    return None if found is None else str(found["key"]).encode("ascii")


async def create_pseudonym_key(backend: Backend) -> bytes:
    """The secret for pseudonyms, created on the first erasure (first writer wins)."""
    document = {"key": secrets.token_hex(32)}
    found = await Meta(backend.table(layout.META)).claim(layout.PSEUDONYM_KEY, document)
    return str(found["key"]).encode("ascii")


def pseudonym_for(key: bytes, identity: str) -> str:
    """A stable pseudonym like borttagen-1a2b3c4d for an aad id or e-mail."""
    digest = hmac.new(key, identity.lower().encode("utf-8"), "sha256")
    return PSEUDONYM_PREFIX + digest.hexdigest()[:8]


class _Eraser:
    """One erasure: decides per record what goes, what is pseudonymised, what stays."""

    def __init__(self, person: Person, pseudonym: str) -> None:
        self.person = person
        self.pseudonym = pseudonym
        self.matcher = Matcher(person)
        self.counts = dict.fromkeys(COUNT_KINDS, 0)

    def decide(
        self, content: Dump
    ) -> tuple[
        list[str],
        dict[str, Document],
        dict[str, list[Row] | None],
        dict[str, list[Document] | None],
    ]:
        """Everything to change: keys to delete, documents to write, new tables and logs."""
        deleted, changed = self.state(content.state)
        tables = {name: self.table(name, rows) for name, rows in content.tables.items()}
        logs = {name: self.log(name, entries) for name, entries in content.logs.items()}
        return deleted, changed, tables, logs

    def _own_key(self, key: str) -> bool:
        return any(
            key == prefix + a for prefix in layout.PERSONAL_PREFIXES for a in self.person.aad_ids
        )

    def _own_conversation(self, document: Document) -> bool:
        """The reference of the person's own 1:1 chat with the bot."""
        reference = document.get("reference")
        user = reference.get("user") if isinstance(reference, dict) else None
        return (
            document.get("conversation_type") == "personal"
            and isinstance(user, dict)
            and self.person.is_me(user.get("aadObjectId"))
        )

    def state(self, documents: Mapping[str, Document]) -> tuple[list[str], dict[str, Document]]:
        """Keys to delete and documents to write back scrubbed."""
        deleted: list[str] = []
        changed: dict[str, Document] = {}
        for key, document in documents.items():
            if (
                self._own_key(key)
                or self.matcher.mentions(key)
                or (key.startswith(layout.CONVERSATION) and self._own_conversation(document))
            ):
                deleted.append(key)
                self.counts["drafts" if key.startswith(layout.DRAFT) else "state"] += 1
            elif self.matcher.mentioned(document):
                changed[key] = self.matcher.scrub(document, self.pseudonym)
                self.counts["state"] += 1
        return deleted, changed

    def _replace_me(self, someone: Any) -> Any:
        if isinstance(someone, dict) and self.person.is_me(
            someone.get("aad_object_id"), someone.get("email")
        ):
            return {**someone, "name": self.pseudonym, "email": "", "aad_object_id": self.pseudonym}
        return someone

    def proposal(self, row: Row) -> Row | None:
        """The proposal pseudonymised (the decision record stays), or None if unchanged.

        Everywhere: the person's own fields (as initiator, endorser, RUG contact, decider,
        in the history) and their full name, e-mail and ids as whole words. In their own
        proposal also a one-word name: in another person's text "Ida" may be someone else.
        """
        document = dict(row.document)
        initiator = document.get("initiator")
        own = isinstance(initiator, dict) and self.person.is_me(
            initiator.get("aad_object_id"), initiator.get("email")
        )
        document["initiator"] = self._replace_me(initiator)
        document["rug_endorsement"] = self._replace_me(document.get("rug_endorsement"))
        document = self._person_fields(document)
        document = self.matcher.scrub(document, self.pseudonym, own=own)
        if document == row.document:
            return None
        self.counts["proposals"] += 1
        proposal = Proposal.from_dict(document)
        pending = document.get(PENDING) or []
        return proposal_row(proposal, str(document.get(DRAFT_TOKEN, "")), pending)

    def _person_fields(self, document: dict[str, Any]) -> dict[str, Any]:
        """The fields that name one person (RUG contact, decider, who in the history) set to
        the pseudonym where they name exactly this person."""
        named = self.matcher.is_name
        if named(document.get("rug_contact")):
            document["rug_contact"] = self.pseudonym
        for key in ("decision", "complement_request"):
            part = document.get(key)
            if isinstance(part, dict) and named(part.get("by")):
                document[key] = {**part, "by": self.pseudonym}
        history = document.get("history")
        if isinstance(history, list):
            document["history"] = [
                {**event, "who": self.pseudonym}
                if isinstance(event, dict) and named(event.get("who"))
                else event
                for event in history
            ]
        return document

    def table(self, name: str, rows: Sequence[Row]) -> list[Row] | None:
        """The table's rows after erasure, or None when nothing changed."""
        kept: list[Row] = []
        changed = False
        kind = {layout.ESCALATIONS: "escalations", layout.OUTBOX: "outbox"}.get(name, "state")
        for row in rows:
            if name == layout.PROPOSALS:
                new = self.proposal(row)
                kept.append(new or row)
                changed = changed or new is not None
                continue
            if self._owned(name, row.document):
                self.counts[kind] += 1
                changed = True
                continue
            if self.matcher.mentioned(row.document) or self.matcher.mentioned(row.index):
                document = self.matcher.scrub(row.document, self.pseudonym)
                kept.append(Row(row.id, document, self._index(name, document, row)))
                self.counts[kind] += 1
                changed = True
                continue
            kept.append(row)
        return kept if changed else None

    def _owned(self, name: str, document: Document) -> bool:
        if name == layout.ESCALATIONS:
            return self.person.is_me(document.get("user"))
        if name == layout.OUTBOX:
            return document.get("kind") == "person" and self.person.is_me(document.get("target"))
        return False

    def _index(self, name: str, document: Document, row: Row) -> dict[str, str]:
        if name == layout.ESCALATIONS:
            return escalation_index(document)
        if name == layout.OUTBOX:
            return outbox_index(document)
        return {k: self.matcher.replace(v, self.pseudonym) for k, v in row.index.items()}

    def log(self, name: str, entries: Sequence[Document]) -> list[Document] | None:
        """The log's entries after erasure, or None when nothing changed."""
        kept: list[Document] = []
        changed = False
        for entry in entries:
            if name == layout.FEEDBACK and self.person.is_me(entry.get("user")):
                self.counts["feedback"] += 1
                changed = True
                continue
            if self.matcher.mentioned(entry):
                kept.append(self.matcher.scrub(entry, self.pseudonym))
                self.counts["audit" if name == layout.AUDIT else "feedback"] += 1
                changed = True
                continue
            kept.append(entry)
        return kept if changed else None


async def erase_person(
    backend: Backend, email: str | None, aad: str | None, people: Iterable[Listed] = ()
) -> ErasureResult:
    """Delete the person's own records and pseudonymise them where records must stay.

    When nothing names the person, nothing is changed (not even the pseudonym key created).
    The service must be stopped (its caches would write the old data back).
    """
    if not (email or "").strip() and not (aad or "").strip():
        raise ValueError("an e-mail address or an aad id is needed")
    person = await find_person(backend, email, aad, people)
    matcher = Matcher(person)
    content = await dump(backend)
    key = await pseudonym_key(backend)
    eraser = _Eraser(person, pseudonym_for(key or b"", person.identity))
    deleted, changed, tables, logs = eraser.decide(content)
    if not any(eraser.counts.values()):
        return ErasureResult(eraser.pseudonym, False, eraser.counts, [], matcher)
    if key is None:
        # Only now is the key created, and everything decided again with the real pseudonym.
        key = await create_pseudonym_key(backend)
        eraser = _Eraser(person, pseudonym_for(key, person.identity))
        deleted, changed, tables, logs = eraser.decide(content)
    if changed:
        await backend.state.write(changed)
    if deleted:
        await backend.state.delete(deleted)
    for name, rows in tables.items():
        if rows is not None:
            await backend.table(name).rewrite(rows)
    for name, entries in logs.items():
        if entries is not None:
            await backend.log(name).rewrite(entries)
    counts = {k: v for k, v in eraser.counts.items() if v}
    await Audit(backend.log(layout.AUDIT)).append(ERASER, ERASED_ACTION, eraser.pseudonym, counts)
    return ErasureResult(
        eraser.pseudonym, True, eraser.counts, await find_mentions(backend, matcher), matcher
    )


async def find_mentions(backend: Backend, matcher: Matcher) -> list[str]:
    """Where the backend still names the person (store and key), for the report."""
    content = await dump(backend)
    found = [
        f"{backend.state.where}: key {key!r}"
        for key, document in content.state.items()
        if matcher.mentions(key) or matcher.mentioned(document)
    ]
    for name, rows in content.tables.items():
        where = backend.table(name).where
        found += [
            f"{where}: record {row.id!r}"
            for row in rows
            if matcher.mentions(row.id) or matcher.mentioned(row.document)
        ]
    for name, entries in content.logs.items():
        where = backend.log(name).where
        found += [
            f"{where}: entry {number}"
            for number, entry in enumerate(entries, start=1)
            if matcher.mentioned(entry)
        ]
    return found


def find_in_files(folder: Path, matcher: Matcher, skip: Iterable[str] = ()) -> list[Path]:
    """Files under a folder whose text names the person (data kept beside a backend's own,
    such as an old layout's files)."""
    skipped = set(skip)
    traces: list[Path] = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name in skipped:
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        if matcher.mentions(text):
            traces.append(path)
    return traces
