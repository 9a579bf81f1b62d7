"""The application's records: feedback, escalations, conversation references and the audit log.

Per-conversation records (conversation references) live in the sharded key-value store, so they
scale with the number of conversations; the small, shared tables live in TinyDB files.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storage.audit import AuditLog
from storage.kv import KeyValueStore
from storage.proposals import Proposal, Status, format_proposal_id
from storage.tinytable import RecordTable

Record = dict[str, Any]
RUG_CHANNEL_KEY = "channel/rug"


def utc_now() -> str:
    """The current time as an ISO 8601 UTC string."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class FeedbackLog:
    """👍/👎 on knowledge-base answers."""

    def __init__(self, table: RecordTable) -> None:
        self._table = table

    async def record(self, user: str, topic: str, helpful: bool) -> None:
        """Store one vote."""
        await self._table.insert(
            {"at": utc_now(), "user": user, "topic": topic, "helpful": helpful}
        )

    async def all(self) -> list[Record]:
        """Every vote, oldest first."""
        return await self._table.all()


class EscalationLog:
    """Questions the bot declined and the user chose to pass on to the coordinators."""

    def __init__(self, table: RecordTable) -> None:
        self._table = table

    async def record(self, user: str, question: str, locale: str) -> None:
        """Store one question for the coordinators."""
        record = {"at": utc_now(), "user": user, "question": question, "locale": locale}
        await self._table.insert({**record, "handled": False})

    async def all(self) -> list[Record]:
        """Every escalated question, oldest first."""
        return await self._table.all()


class ReferenceBook:
    """Conversation references, so the bot can write to a person or channel later."""

    def __init__(self, store: KeyValueStore) -> None:
        self._store = store
        # What we last stored per key: most turns change nothing, and then nothing is written.
        self._known: dict[str, Record] = {}

    async def remember(
        self,
        *,
        conversation_id: str,
        user_aad: str,
        user_id: str,
        conversation_type: str,
        reference: Record,
    ) -> None:
        """Store the reference of a conversation (and of the user's personal chat)."""
        changes: dict[str, Record] = {}
        doc = {"conversation_type": conversation_type, "reference": reference}
        key = f"reference/{conversation_id}"
        if self._known.get(key) != doc:
            changes[key] = doc
        if conversation_type == "personal" and (user_aad or user_id):
            user_key = f"person/{user_aad or user_id}"
            person = {"conversation_id": conversation_id, "reference": reference}
            if self._known.get(user_key) != person:
                changes[user_key] = person
        if changes:
            await self._store.write(changes)
            self._known.update(changes)

    async def personal(self, person: str) -> Record | None:
        """The reference of a person's 1:1 chat with the bot, by Entra object id, if any."""
        found = await self._store.read([f"person/{person}"])
        doc = found.get(f"person/{person}")
        return doc["reference"] if doc else None

    async def conversation(self, conversation_id: str) -> Record | None:
        """The reference of a conversation the bot has seen."""
        key = f"reference/{conversation_id}"
        doc = (await self._store.read([key])).get(key)
        return doc["reference"] if doc else None

    async def set_rug_channel(self, reference: Record, by: str) -> None:
        """Remember the RUG team's channel."""
        await self._store.write(
            {RUG_CHANNEL_KEY: {"reference": reference, "by": by, "at": utc_now()}}
        )

    async def rug_channel(self) -> Record | None:
        """The RUG channel's reference, if the bot has been told where it is."""
        doc = (await self._store.read([RUG_CHANNEL_KEY])).get(RUG_CHANNEL_KEY)
        return doc["reference"] if doc else None


@dataclass
class Draft:
    """A proposal being written: one per person, saved after every step."""

    proposal: Proposal
    token: str
    revision: int = 0
    # When the person was told the draft is about to expire (empty: not yet).
    reminded_at: str = ""


class ProposalRepository:
    """Drafts live per person in the key-value store (written every step, so it must scale);
    submitted proposals live in a TinyDB table; every state change goes to the audit log."""

    def __init__(
        self, table: RecordTable, index: RecordTable, store: KeyValueStore, audit: AuditLog
    ) -> None:
        self._table = table
        self._index = index
        self._store = store
        self._audit = audit
        self._id_lock = asyncio.Lock()

    @staticmethod
    def _draft_key(person: str) -> str:
        return f"draft/{person}"

    async def draft_of(self, person: str) -> Draft | None:
        """The person's draft, if they have one."""
        key = self._draft_key(person)
        doc = (await self._store.read([key])).get(key)
        if doc is None:
            return None
        return Draft(
            Proposal.from_dict(doc["proposal"]),
            str(doc["token"]),
            int(doc["revision"]),
            str(doc.get("reminded_at", "")),
        )

    async def new_draft(self, person: str, proposal: Proposal) -> Draft:
        """Start a new draft for a person (replacing any earlier one)."""
        now = utc_now()
        proposal.status = Status.DRAFT
        proposal.created_at = proposal.created_at or now
        proposal.updated_at = now
        draft = Draft(proposal, uuid.uuid4().hex, 0)
        await self._write_draft(person, draft)
        await self._index.upsert(
            {"person": person, "token": draft.token, "created_at": now}, "person"
        )
        return draft

    async def save_draft(self, person: str, draft: Draft) -> None:
        """Store the draft after a step; its revision goes up so older summary cards go stale."""
        draft.revision += 1
        draft.proposal.updated_at = utc_now()
        draft.reminded_at = ""
        await self._write_draft(person, draft)

    async def mark_reminded(self, person: str, draft: Draft) -> None:
        """Note that the person was reminded; the draft itself is unchanged."""
        draft.reminded_at = utc_now()
        await self._write_draft(person, draft)

    async def _write_draft(self, person: str, draft: Draft) -> None:
        doc = {
            "proposal": draft.proposal.to_dict(),
            "token": draft.token,
            "revision": draft.revision,
            "reminded_at": draft.reminded_at,
        }
        await self._store.write({self._draft_key(person): doc})

    async def discard_draft(self, person: str, who: str, reason: str) -> None:
        """Remove a person's draft (they started over, or it expired)."""
        await self._store.delete([self._draft_key(person)])
        await self._index.remove("person", person)
        await self._audit.append(who, "draft_removed", person, {"reason": reason})

    async def draft_index(self) -> list[Record]:
        """Who has a draft, and since when (for the expiry sweep)."""
        return await self._index.all()

    async def submitted_for_token(self, token: str) -> Proposal | None:
        """The proposal a draft became, so a second click on the same card finds it."""
        record = await self._table.get("draft_token", token)
        return Proposal.from_dict(record) if record else None

    async def submit(self, person: str, draft: Draft, status: str, who: str) -> Proposal:
        """Turn a draft into a proposal with a readable id; idempotent per draft."""
        async with self._id_lock:
            existing = await self.submitted_for_token(draft.token)
            if existing is not None:
                return existing
            proposal = draft.proposal
            now = utc_now()
            proposal.id = await self._next_id(int(now[:4]))
            proposal.status = status
            proposal.record(now, who, "submitted")
            await self._table.insert({**proposal.to_dict(), "draft_token": draft.token})
        await self._audit.append(who, "submitted", proposal.id, {"status": status})
        await self._store.delete([self._draft_key(person)])
        await self._index.remove("person", person)
        return proposal

    async def _next_id(self, year: int) -> str:
        prefix = format_proposal_id(year, 0)[:-4]
        highest = 0
        for record in await self._table.all():
            pid = str(record.get("id", ""))
            if pid.startswith(prefix) and pid[len(prefix) :].isdigit():
                highest = max(highest, int(pid[len(prefix) :]))
        return format_proposal_id(year, highest + 1)

    async def get(self, proposal_id: str) -> Proposal | None:
        """A submitted proposal by id."""
        record = await self._table.get("id", proposal_id)
        return Proposal.from_dict(record) if record else None

    async def save(
        self, proposal: Proposal, who: str, action: str, details: dict[str, Any] | None = None
    ) -> None:
        """Store a changed proposal and append the change to the audit log."""
        record = await self._table.get("id", proposal.id)
        token = record.get("draft_token", "") if record else ""
        await self._table.upsert({**proposal.to_dict(), "draft_token": token}, "id")
        await self._audit.append(who, action, proposal.id, details or {})

    async def for_initiator(self, person: str) -> list[Proposal]:
        """Every submitted proposal of one initiator, newest first."""
        records = await self._table.search(
            lambda r: r.get("initiator", {}).get("aad_object_id") == person
        )
        return sorted(
            (Proposal.from_dict(r) for r in records), key=lambda p: p.created_at, reverse=True
        )

    async def all(self) -> list[Proposal]:
        """Every submitted proposal, oldest first."""
        return [Proposal.from_dict(r) for r in await self._table.all()]


class Records:
    """All application records of one data folder."""

    def __init__(self, data_dir: Path, store: KeyValueStore) -> None:
        self.data_dir = data_dir
        self._tables = {
            name: RecordTable.open(data_dir / f"{name}.json", name)
            for name in ("feedback", "escalations", "proposals", "drafts")
        }
        self.feedback = FeedbackLog(self._tables["feedback"])
        self.escalations = EscalationLog(self._tables["escalations"])
        self.references = ReferenceBook(store)
        self.audit = AuditLog(data_dir / "audit.jsonl")
        self.proposals = ProposalRepository(
            self._tables["proposals"], self._tables["drafts"], store, self.audit
        )

    async def close(self) -> None:
        """Close every table."""
        for table in self._tables.values():
            await table.close()
