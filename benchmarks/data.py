"""Realistic data folders: conversation state, references, drafts and submitted proposals.

The documents are not invented: a seed server is driven through real turns (a question, and a
proposal begun with title and background), and its stored documents are cloned per synthetic
conversation with the user's ids replaced. Shard files are written directly in the store's own
layout (one atomic write per shard), which is how a store of that size looks after a restart.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.proposal import Status, format_proposal_id
from storage import layout
from storage.documents import encode_json
from storage.files import atomic_write_bytes, read_json
from storage.kv import KEY, STORE_FORMAT, STORE_VERSION, TABLE, VALUE, shard_of
from storage.records import DRAFT_TOKEN, PENDING
from storage.tiny_backend import TABLES_DIR
from storage.tinytable import DOC, ID, INDEX, TABLE_NAME

QUESTION_SEED = "aad-seed-q"
DRAFT_SEED = "aad-seed-d"
SHARDS = 256
# Share of stored conversations that are in the middle of a proposal (the rest asked questions).
DRAFTING_SHARE = 0.4
_STATUSES = (
    Status.WITH_RUG,
    Status.APPROVED,
    Status.REJECTED,
    Status.AWAITING_ENDORSEMENT,
    Status.MORE_INFO_REQUESTED,
)


@dataclass
class Templates:
    """Stored documents of one question-only user and one drafting user, as JSON text."""

    question_docs: dict[str, str]
    draft_docs: dict[str, str]
    proposal: dict[str, Any]

    @property
    def bytes_per_conversation(self) -> tuple[int, int]:
        """Stored bytes of a question-only and of a drafting conversation."""
        return (
            sum(len(k) + len(v) for k, v in self.question_docs.items()),
            sum(len(k) + len(v) for k, v in self.draft_docs.items()),
        )


def read_store(directory: Path) -> dict[str, Any]:
    """Every key → document of a closed sharded store, read from its files."""
    documents: dict[str, Any] = {}
    for path in sorted(directory.glob("shard-*.json")):
        data = read_json(path) or {}
        for record in data.get(TABLE, {}).values():
            documents[record[KEY]] = record[VALUE]
    return documents


def capture_templates(seed_dir: Path) -> Templates:
    """Take the documents a real seed run stored for the two seed users."""
    documents = read_store(seed_dir / "state")
    question = {k: json.dumps(v) for k, v in documents.items() if QUESTION_SEED in k}
    draft = {k: json.dumps(v) for k, v in documents.items() if DRAFT_SEED in k}
    draft_key = f"draft/{DRAFT_SEED}"
    if draft_key not in documents or not question:
        raise RuntimeError(f"seed run stored no draft or no question state: {sorted(documents)}")
    return Templates(question, draft, documents[draft_key]["proposal"])


def _proposal(n: int, template: dict[str, Any], owner: str) -> dict[str, Any]:
    proposal = json.loads(json.dumps(template))
    year = 2025 + n % 2
    proposal.update(
        id=format_proposal_id(year, n),
        status=_STATUSES[n % len(_STATUSES)],
        title=f"Initiativ {n}: trygg hemgång för multisjuka äldre",
        background="Många äldre skrivs ut utan att kommunen hinner planera. " * 4,
        description="Gemensam planering mellan vårdcentral och hemsjukvård. " * 6,
        organisations=["Region Halland", "Varbergs kommun"],
        target_groups=["De mest sjuka äldre"],
        goal_properties=["personcentrerad", "sammanhållen"],
        success_factors={"Trygg": "Samma kontaktperson hela vägen. " * 3},
        expected_effects="Färre återinläggningar. " * 4,
        follow_up="Mäts varje kvartal. " * 3,
        created_at=f"{year}-03-01T10:00:00+00:00",
        updated_at=f"{year}-03-02T10:00:00+00:00",
    )
    proposal["initiator"] = {**proposal.get("initiator", {}), "aad_object_id": owner}
    proposal["history"] = [
        {"at": f"{year}-03-01T10:00:00+00:00", "who": owner, "action": "submitted", "note": ""}
    ]
    proposal[DRAFT_TOKEN] = uuid.uuid4().hex
    proposal[PENDING] = []
    return proposal


def _record(proposal: dict[str, Any]) -> dict[str, Any]:
    """A proposal as the TinyDB table stores it (storage.tinytable), with its index."""
    index = {
        "status": proposal["status"],
        "initiator": proposal["initiator"]["aad_object_id"],
        "draft_token": proposal[DRAFT_TOKEN],
        "pending": "no",
    }
    return {ID: proposal["id"], INDEX: index, DOC: proposal}


def populate(
    data_dir: Path, templates: Templates, conversations: int, proposals: int = 1000
) -> dict[str, int]:
    """Write a data folder with `conversations` stored conversations and `proposals` proposals.

    Returns counts of what was written. Background users are ``aad-bg-NNNNN``.
    """
    state_dir = data_dir / "state"
    state_dir.mkdir(parents=True, exist_ok=True)
    shards: list[dict[str, Any]] = [{} for _ in range(SHARDS)]
    drafting = round(conversations * DRAFTING_SHARE)
    documents = 0
    for n in range(conversations):
        aad = f"aad-bg-{n:05d}"
        is_drafting = n < drafting
        source, seed = (
            (templates.draft_docs, DRAFT_SEED)
            if is_drafting
            else (templates.question_docs, QUESTION_SEED)
        )
        for key, text in source.items():
            real_key = key.replace(seed, aad)
            table = shards[shard_of(real_key, SHARDS)]
            table[str(len(table) + 1)] = {KEY: real_key, VALUE: json.loads(text.replace(seed, aad))}
            documents += 1
    for number, table in enumerate(shards):
        if table:
            atomic_write_bytes(state_dir / f"shard-{number:05d}.json", encode_json({TABLE: table}))
    atomic_write_bytes(
        state_dir / "meta.json",
        encode_json({"format": STORE_FORMAT, "version": STORE_VERSION, "shards": SHARDS}),
    )
    owners = [f"aad-bg-{n:05d}" for n in range(max(conversations, 1))]
    written = [
        _proposal(n, templates.proposal, owners[n % len(owners)]) for n in range(1, proposals + 1)
    ]
    tables = data_dir / TABLES_DIR
    tables.mkdir(parents=True, exist_ok=True)
    records = {str(n): _record(p) for n, p in enumerate(written, start=1)}
    atomic_write_bytes(tables / f"{layout.PROPOSALS}.json", encode_json({TABLE_NAME: records}))
    # The id counters, as submits keep them, so a new proposal gets the next free id.
    highest: dict[str, int] = {}
    for p in written:
        year = p["id"][3:7]
        highest[year] = max(highest.get(year, 0), int(p["id"][-4:]))
    counters = {
        str(n): {ID: f"counter/proposal-{year}", INDEX: {}, DOC: {"value": value}}
        for n, (year, value) in enumerate(sorted(highest.items()), start=1)
    }
    atomic_write_bytes(tables / f"{layout.META}.json", encode_json({TABLE_NAME: counters}))
    return {
        "conversations": conversations,
        "documents": documents,
        "drafts": drafting,
        "proposals": proposals,
    }


def directory_bytes(directory: Path) -> int:
    """Total size of the files under a directory."""
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
