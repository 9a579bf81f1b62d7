"""Moving a data folder in the old layout onto the storage interfaces, once, losing nothing.

The old layout kept its tables as TinyDB files in the data folder's root, each with one
TinyDB table named like the file:

- ``proposals.json``   submitted proposals: the export format plus ``draft_token``;
- ``drafts.json``      who has a draft (person, token, created_at): dropped, the drafts
  themselves are in the key-value store and are found by their key prefix;
- ``feedback.json``    👍/👎 votes {at, user, topic, helpful}: now the FEEDBACK log;
- ``escalations.json`` questions {at, user, question, locale, handled}: now a table by id;
- ``outbox.json``      messages, as today but without ``claimed_until``/``claimed_by``.

``.pseudonym-key`` (erase-user's secret) becomes a META record, so pseudonyms stay the same.
``audit.jsonl`` and ``state/`` (the sharded key-value store) keep their format and place. The
key-value store also held three kinds of records that moved: ``complement/<proposal>`` (what
RUG asked to complement, now the proposal's ``complement_request``), ``complement-stash/<person>``
(now ``draft-stash/<person>``) and ``rugcard/<proposal>`` (now a META record).

Every old record is checked first (a damaged one stops the migration, named, with nothing
written); then everything is written through the interfaces (a table in one rewrite), the
proposal id counters are raised to the highest id in use, and the old files are moved into
``old-layout-<time>/`` in the data folder, kept until someone deletes them. Each step can run
again after a crash: records are written under stable ids, moves write the new key before they
delete the old one, and the feedback log is only written while it is empty or equal.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from domain.proposal import Proposal, ProposalFormatError
from storage import layout
from storage.base import Backend, RecordStore, Row
from storage.checks import FEEDBACK_FIELDS, LEGACY_ESCALATION_FIELDS, require
from storage.errors import CorruptStoreError, StoreUnavailableError
from storage.files import fsync_directory, read_json
from storage.records import (
    Meta,
    check_outbox_item,
    escalation_index,
    outbox_index,
    proposal_row,
)
from storage.tinytable import validate_layout

logger = logging.getLogger(__name__)

Record = dict[str, Any]

PROPOSALS_FILE = "proposals.json"
DRAFTS_FILE = "drafts.json"
FEEDBACK_FILE = "feedback.json"
ESCALATIONS_FILE = "escalations.json"
OUTBOX_FILE = "outbox.json"
# Each old file and the TinyDB table inside it.
LEGACY_FILES = {
    PROPOSALS_FILE: "proposals",
    DRAFTS_FILE: "drafts",
    FEEDBACK_FILE: "feedback",
    ESCALATIONS_FILE: "escalations",
    OUTBOX_FILE: "outbox",
}
PSEUDONYM_KEY_FILE = ".pseudonym-key"
ASIDE_PREFIX = "old-layout-"
LEGACY_DRAFT_TOKEN = "draft_token"
LEGACY_COMPLEMENT = "complement/"
LEGACY_STASH = "complement-stash/"
LEGACY_RUG_CARD = "rugcard/"
MIGRATOR = "omtanke"
PROPOSAL_ID = re.compile(r"OH-(\d{4})-(\d{4,})")
STATE_WHERE = "state"


class LegacyLayoutError(CorruptStoreError):
    """A data folder in the old layout was opened without migrating it."""


@dataclass
class LegacyData:
    """The old tables' records, checked and converted, ready to be written."""

    files: list[str] = field(default_factory=list)
    # Proposals as Proposal objects with their draft tokens, by id.
    proposals: dict[str, tuple[Proposal, str]] = field(default_factory=dict)
    escalations: list[Row] = field(default_factory=list)
    outbox: list[Row] = field(default_factory=list)
    feedback: list[Record] = field(default_factory=list)
    pseudonym_key: str | None = None


@dataclass
class MigrationReport:
    """What a migration wrote, by kind, and where the old files went."""

    counts: dict[str, int] = field(default_factory=dict)
    aside: Path | None = None


def legacy_files(data_dir: Path) -> list[str]:
    """The old layout's files present in the data folder's root."""
    names = [*LEGACY_FILES, PSEUDONYM_KEY_FILE]
    return [name for name in names if (data_dir / name).is_file()]


def read_legacy(data_dir: Path) -> LegacyData | None:
    """Read and check the old files of a data folder; None when there are none."""
    names = legacy_files(data_dir)
    if not names:
        return None
    key_path = data_dir / PSEUDONYM_KEY_FILE
    key = key_path.read_bytes() if PSEUDONYM_KEY_FILE in names else None
    contents = {name: read_json(data_dir / name) for name in names if name in LEGACY_FILES}
    return parse_legacy(contents, data_dir, key)


def parse_pseudonym_key(path: Path, raw: bytes) -> str:
    """The old key file's secret (hex text); CorruptStoreError if it is not."""
    key = raw.decode("ascii", errors="replace").strip()
    if not re.fullmatch(r"[0-9a-f]{32,}", key):
        raise CorruptStoreError(f"{path}: not a pseudonym key (hex text)")
    return key


def parse_legacy(
    contents: Mapping[str, dict[str, Any] | None],
    data_dir: Path,
    pseudonym_key: bytes | None = None,
) -> LegacyData:
    """Check and convert the old files' parsed contents (by file name); CorruptStoreError
    names the file, the document and the field of the first damaged record."""
    legacy = LegacyData(files=sorted(contents))
    if pseudonym_key is not None:
        path = data_dir / PSEUDONYM_KEY_FILE
        legacy.pseudonym_key = parse_pseudonym_key(path, pseudonym_key)
        legacy.files.append(PSEUDONYM_KEY_FILE)
    for name, data in contents.items():
        path = data_dir / name
        if data is None:
            continue
        validate_layout(path, data)
        records = data.get(LEGACY_FILES[name], {})
        for doc_id, record in sorted(records.items(), key=lambda item: int(item[0])):
            where = f"{path}: document {doc_id}"
            if name == PROPOSALS_FILE:
                _add_proposal(legacy, record, where)
            elif name == ESCALATIONS_FILE:
                legacy.escalations.append(_escalation(record, int(doc_id), where))
            elif name == OUTBOX_FILE:
                legacy.outbox.append(_outbox(record, where))
            elif name == FEEDBACK_FILE:
                require(record, where, FEEDBACK_FIELDS)
                legacy.feedback.append(dict(record))
    _check_unique(legacy.outbox, data_dir / OUTBOX_FILE)
    return legacy


def _add_proposal(legacy: LegacyData, record: Record, where: str) -> None:
    document = dict(record)
    token = document.pop(LEGACY_DRAFT_TOKEN, "") or ""
    if not isinstance(token, str):
        raise CorruptStoreError(f"{where}: field {LEGACY_DRAFT_TOKEN!r} is not text")
    try:
        proposal = Proposal.from_dict(document)
    except ProposalFormatError as error:
        raise CorruptStoreError(f"{where}: {error}") from error
    if not proposal.id:
        raise CorruptStoreError(f"{where}: field 'id' is empty")
    if proposal.id in legacy.proposals:
        raise CorruptStoreError(f"{where}: proposal {proposal.id!r} is stored twice")
    legacy.proposals[proposal.id] = (proposal, token)


def _as_millis(at: str) -> str:
    """The time as the new records write it (sortable with them), or as it was."""
    try:
        return datetime.fromisoformat(at).astimezone(UTC).isoformat(timespec="milliseconds")
    except ValueError:
        return at


def _escalation(record: Record, doc_id: int, where: str) -> Row:
    require(record, where, LEGACY_ESCALATION_FIELDS)
    # A stable id: running the migration again after a crash writes the same records.
    record_id = str(record.get("id") or f"{_as_millis(record['at'])}-{doc_id:08d}")
    document = {**record, "id": record_id}
    return Row(record_id, document, escalation_index(document))


def _outbox(record: Record, where: str) -> Row:
    # The old outbox had no claims; an item being sent waited behind its next_at instead.
    document = {"claimed_until": "", "claimed_by": "", **record}
    check_outbox_item(document, where)
    return Row(str(document["id"]), document, outbox_index(document))


def _check_unique(rows: Sequence[Row], path: Path) -> None:
    seen: set[str] = set()
    for row in rows:
        if row.id in seen:
            raise CorruptStoreError(f"{path}: id {row.id!r} is stored twice")
        seen.add(row.id)


# ----- writing through the interfaces ------------------------------------------------------


async def load_legacy(legacy: LegacyData, backend: Backend) -> MigrationReport:
    """Write the old records into `backend` (its key-value store already holds state/)."""
    report = MigrationReport()
    state = backend.state
    complements = await _take_complements(backend, legacy)
    rows = [
        proposal_row(_with_complement(proposal, complements.get(pid)), token)
        for pid, (proposal, token) in sorted(legacy.proposals.items())
    ]
    report.counts["proposals"] = await _merge(backend.table(layout.PROPOSALS), rows)
    report.counts["escalations"] = await _merge(
        backend.table(layout.ESCALATIONS), legacy.escalations
    )
    report.counts["outbox"] = await _merge(backend.table(layout.OUTBOX), legacy.outbox)
    report.counts["feedback"] = await _load_feedback(backend, legacy.feedback)
    report.counts["rug_cards"] = await _move_rug_cards(backend)
    report.counts["stashes"] = await _move_prefix(backend, LEGACY_STASH, layout.STASH)
    # Only now that each request is stored with its proposal are the old keys removed.
    await state.delete([LEGACY_COMPLEMENT + pid for pid in complements])
    report.counts["complement_requests"] = len(complements)
    meta = Meta(backend.table(layout.META))
    await raise_counters(meta, list(legacy.proposals))
    if legacy.pseudonym_key is not None:
        kept = await meta.claim(layout.PSEUDONYM_KEY, {"key": legacy.pseudonym_key})
        if kept["key"] != legacy.pseudonym_key:
            logger.warning("the old pseudonym key differs from the one stored; keeping that one")
        report.counts["pseudonym_key"] = 1
    return report


async def _take_complements(backend: Backend, legacy: LegacyData) -> dict[str, Record]:
    """The old per-proposal complement requests of proposals that exist (others stay put)."""
    found = await backend.state.read(await backend.state.keys(LEGACY_COMPLEMENT))
    requests: dict[str, Record] = {}
    for key, document in found.items():
        pid = key[len(LEGACY_COMPLEMENT) :]
        if pid in legacy.proposals:
            requests[pid] = document
    return requests


def _with_complement(proposal: Proposal, request: Record | None) -> Proposal:
    if request is None or proposal.complement_request is not None:
        return proposal
    with_request = proposal.to_dict()
    with_request["complement_request"] = {
        "fields": request.get("fields") or [],
        "motivation": request.get("motivation") or "",
        "by": request.get("by") or "",
        "at": request.get("at") or "",
    }
    try:
        return Proposal.from_dict(with_request)
    except ProposalFormatError as error:
        key = LEGACY_COMPLEMENT + proposal.id
        raise CorruptStoreError(f"{STATE_WHERE}: key {key!r}: {error}") from error


async def _merge(table: RecordStore, rows: Sequence[Row]) -> int:
    """Add the rows to the table in one rewrite; a record already there is kept (it is the
    same, written by an interrupted run, or newer). Returns how many rows were added."""
    existing = {v.key: Row(v.key, v.document, v.index) for v in await table.all()}
    added = [row for row in rows if row.id not in existing]
    if added:
        await table.rewrite([*existing.values(), *added])
    return len(added)


async def _load_feedback(backend: Backend, entries: Sequence[Record]) -> int:
    log = backend.log(layout.FEEDBACK)
    current = await log.read()
    if not entries or current == list(entries):
        return 0
    # Entries already in the log (an interrupted run, or written since) are kept after them.
    later = [entry for entry in current if entry not in entries]
    await log.rewrite([*entries, *later])
    return len(entries)


async def _move_rug_cards(backend: Backend) -> int:
    keys = await backend.state.keys(LEGACY_RUG_CARD)
    found = await backend.state.read(keys)
    meta = backend.table(layout.META)
    for key, document in found.items():
        await meta.put(key, document)
    await backend.state.delete(list(found))
    return len(found)


async def _move_prefix(backend: Backend, old: str, new: str) -> int:
    keys = await backend.state.keys(old)
    found = await backend.state.read(keys)
    if found:
        await backend.state.write({new + key[len(old) :]: doc for key, doc in found.items()})
        await backend.state.delete(list(found))
    return len(found)


async def raise_counters(meta: Meta, proposal_ids: Sequence[str]) -> None:
    """Raise each year's id counter to the highest proposal id of that year, so no new
    proposal gets an id in use (after a migration or a restore)."""
    highest: dict[str, int] = {}
    for pid in proposal_ids:
        found = PROPOSAL_ID.fullmatch(pid)
        if found:
            year, number = found.group(1), int(found.group(2))
            highest[year] = max(highest.get(year, 0), number)
    for year, number in sorted(highest.items()):
        await meta.raise_counter(f"proposal-{year}", number)


# ----- the data folder -------------------------------------------------------------------------


async def migrate_data_folder(data_dir: Path, backend: Backend) -> MigrationReport | None:
    """Migrate the old files of `data_dir` into `backend` (opened on it, holding its lock)
    and move them aside; None when the folder has none."""
    legacy = read_legacy(data_dir)
    if legacy is None:
        return None
    logger.warning("migrating %s from the old layout (%s)", data_dir, ", ".join(legacy.files))
    report = await load_legacy(legacy, backend)
    report.aside = _move_aside(data_dir, legacy.files)
    await backend.log(layout.AUDIT).append(
        {
            "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "who": MIGRATOR,
            "action": "storage_migrated",
            "subject": "data_folder",
            "details": {"old_files": report.aside.name, **report.counts},
        }
    )
    logger.warning(
        "migrated %s; the old files are in %s until someone deletes them", data_dir, report.aside
    )
    return report


def _move_aside(data_dir: Path, names: Sequence[str]) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    aside = data_dir / f"{ASIDE_PREFIX}{stamp}"
    try:
        aside.mkdir()
        for name in names:
            os.replace(data_dir / name, aside / name)
        fsync_directory(aside)
        fsync_directory(data_dir)
    except OSError as error:
        raise StoreUnavailableError(
            f"cannot move the old files of {data_dir} aside: {error.strerror or error}"
        ) from error
    return aside


def legacy_error(data_dir: Path, names: Sequence[str]) -> LegacyLayoutError:
    """The folder is in the old layout and was opened without migrating it."""
    return LegacyLayoutError(
        f"{data_dir} is in the old layout ({', '.join(names)}); open it with "
        "TinyBackend.open(), which migrates it"
    )
