"""Omtanke's records over the storage interfaces: what is stored, under which name, how.

Nothing here knows a file or a container: every class takes the interfaces of
storage.base, so the same code runs on the memory, TinyDB and Azure backends.

Proposals and their side effects are one unit: a change to a proposal is stored together
with the audit entries and outbox messages it causes (``pending`` in the same record, one
write); they are then applied – the outbox item under its own id, so twice is once – and
cleared. Start-up (``ProposalRepository.recover``) finishes whatever a crash interrupted, so
every acknowledged change leads to its messages exactly once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.clock import utc_now
from domain.proposal import Draft, Proposal, ProposalFormatError, Status, format_proposal_id
from domain.transitions import Transition
from storage import layout
from storage.base import ANY, AppendLog, Backend, KeyValueStore, RecordStore, Row, Versioned
from storage.checks import (
    AUDIT_FIELDS,
    DRAFT_FIELDS,
    ESCALATION_FIELDS,
    ESCALATION_OPTIONAL_FIELDS,
    ESCALATION_STATES,
    FEEDBACK_FIELDS,
    LIST,
    META_FIELDS,
    OUTBOX_FIELDS,
    REFERENCE_FIELDS,
    STASH_FIELDS,
    TEXT,
    entry_where,
    key_where,
    optional,
    record_where,
    require,
)
from storage.errors import CorruptStoreError, ETagConflictError

logger = logging.getLogger(__name__)

Record = dict[str, Any]
PENDING = "_pending"
DRAFT_TOKEN = "_draft_token"
# How often a conditional update is retried when another writer got there first.
CONFLICT_RETRIES = 20


def _millis() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _check_index(index: Mapping[str, str], expected: Mapping[str, str], where: str) -> None:
    """The stored index must say what the record says, or find() would miss or mislead."""
    if dict(index) != dict(expected):
        raise CorruptStoreError(
            f"{where}: its index {dict(index)!r} does not match the record "
            f"(expected {dict(expected)!r}; edited by hand?)"
        )


# ----- audit and feedback ---------------------------------------------------------------------


class Audit:
    """Who did what to which subject, and when: append-only."""

    def __init__(self, log: AppendLog) -> None:
        self._log = log

    @staticmethod
    def entry(
        who: str, action: str, subject: str, details: Mapping[str, Any] | None = None
    ) -> Record:
        """The audit entry as stored."""
        return {
            "at": _millis(),
            "who": who or layout.UNKNOWN_WHO,
            "action": action,
            "subject": subject,
            "details": dict(details or {}),
        }

    async def append(
        self, who: str, action: str, subject: str, details: Mapping[str, Any] | None = None
    ) -> Record:
        """Record one event durably and return the entry as written."""
        entry = self.entry(who, action, subject, details)
        await self._log.append(entry)
        return entry

    async def append_entry(self, entry: Record) -> None:
        """Store an entry built earlier (a pending effect)."""
        await self._log.append(entry)

    async def read(self, subject: str | None = None) -> list[Record]:
        """All entries (or those about `subject`), oldest first."""
        entries = await self._log.read()
        return [e for e in entries if subject is None or e.get("subject") == subject]

    async def check(self) -> int:
        """Check every entry's fields (start-up); return how many there are."""
        entries = await self._log.read()
        for number, entry in enumerate(entries, start=1):
            where = entry_where(self._log.where, number)
            require(entry, where, AUDIT_FIELDS)
            optional(entry, where, {"effect": TEXT})
        return len(entries)


class FeedbackLog:
    """👍/👎 on knowledge-base answers."""

    def __init__(self, log: AppendLog) -> None:
        self._log = log

    async def record(self, user: str, topic: str, helpful: bool) -> None:
        """Store one vote."""
        await self._log.append({"at": utc_now(), "user": user, "topic": topic, "helpful": helpful})

    async def all(self) -> list[Record]:
        """Every vote, oldest first."""
        return await self._log.read()

    async def check(self) -> int:
        """Check every vote's fields (start-up); return how many there are."""
        entries = await self._log.read()
        for number, entry in enumerate(entries, start=1):
            require(entry, entry_where(self._log.where, number), FEEDBACK_FIELDS)
        return len(entries)


# ----- escalations ------------------------------------------------------------------------------


class EscalationLog:
    """Questions the bot declined and the user chose to pass on to the coordinators.

    A record starts "open" and becomes "answered" or "handled" once (rug.escalations). Fields
    added with the coordinators' loop (who asked, where to reach them, the answer) are optional,
    so records stored before it still load.
    """

    def __init__(self, table: RecordStore) -> None:
        self._table = table

    async def record(
        self, user: str, question: str, locale: str, **asker: str
    ) -> Record:
        """Store one question for the coordinators; return it with its id.

        `asker` holds the optional fields of ESCALATION_OPTIONAL_FIELDS (name, email, aad, …).
        """
        record_id = f"{_millis()}-{uuid.uuid4().hex[:8]}"
        record: Record = {
            "id": record_id,
            "at": utc_now(),
            "user": user,
            "question": question,
            "locale": locale,
            "handled": False,
            **{k: v for k, v in asker.items() if k in ESCALATION_OPTIONAL_FIELDS},
        }
        await self._table.put(record_id, record, index=escalation_index(record), etag=None)
        return record

    async def get(self, record_id: str) -> Versioned | None:
        """One question with its eTag, or None."""
        return await self._table.get(record_id)

    async def update(self, record: Record, etag: str) -> None:
        """Store a changed question if nobody changed it since it was read (ETagConflictError)."""
        await self._table.put(
            str(record["id"]), record, index=escalation_index(record), etag=etag
        )

    async def all(self) -> list[Record]:
        """Every escalated question, oldest first."""
        return [v.document for v in await self._table.all()]

    async def check(self) -> int:
        """Check every question's fields and index (start-up); return how many there are."""

        def check(found: Row) -> None:
            where = record_where(self._table.where, found.id)
            require(found.document, where, ESCALATION_FIELDS)
            optional(found.document, where, ESCALATION_OPTIONAL_FIELDS)
            status = found.document.get("status", ESCALATION_STATES[0])
            if status not in ESCALATION_STATES:
                raise CorruptStoreError(f"{where}: field 'status' is not a known state")
            _check_index(found.index, escalation_index(found.document), where)

        return await self._table.inspect(check)


def escalation_index(record: Mapping[str, Any]) -> dict[str, str]:
    """How an escalation is found: by the person who asked (erase-user)."""
    return {"user": str(record["user"])}


# ----- conversation references ------------------------------------------------------------------


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
        key = layout.CONVERSATION + conversation_id
        if self._known.get(key) != doc:
            changes[key] = doc
        if conversation_type == "personal" and (user_aad or user_id):
            user_key = layout.PERSON + (user_aad or user_id)
            person = {"conversation_id": conversation_id, "reference": reference}
            if self._known.get(user_key) != person:
                changes[user_key] = person
        if changes:
            await self._store.write(changes)
            self._known.update(changes)

    async def personal(self, person: str) -> Record | None:
        """The reference of a person's 1:1 chat with the bot, by Entra object id, if any."""
        key = layout.PERSON + person
        doc = (await self._store.read([key])).get(key)
        return doc["reference"] if doc else None

    async def set_channel(self, key: str, reference: Record, by: str) -> None:
        """Remember a team channel (layout.RUG_CHANNEL, layout.COORDINATOR_CHANNEL)."""
        await self._store.write({key: {"reference": reference, "by": by, "at": utc_now()}})

    async def channel(self, key: str) -> Record | None:
        """A channel's reference, if the bot has been told where it is."""
        doc = (await self._store.read([key])).get(key)
        return doc["reference"] if doc else None

    async def set_rug_channel(self, reference: Record, by: str) -> None:
        """Remember the RUG team's channel."""
        await self.set_channel(layout.RUG_CHANNEL, reference, by)

    async def rug_channel(self) -> Record | None:
        """The RUG channel's reference, if the bot has been told where it is."""
        return await self.channel(layout.RUG_CHANNEL)

    async def check(self) -> int:
        """Check the team channels' references (start-up); return how many there are.

        A damaged channel reference would stop RUG's cards for everyone. The per-person and
        per-conversation references (one each per person, tens of thousands) are not read
        here: that would triple the start-up time, and a damaged one only delays messages to
        that one person (the outbox keeps retrying them).
        """
        found = await self._store.read(await self._store.keys(layout.CHANNEL))
        for key, document in found.items():
            require(document, key_where(self._store.where, key), REFERENCE_FIELDS)
        return len(found)


# ----- shared small records: counters, leases, card ids -------------------------------------------


class Meta:
    """Counters, leases and small per-proposal records in the META table."""

    def __init__(self, table: RecordStore) -> None:
        self._table = table

    async def next_number(self, name: str) -> int:
        """The next value of a counter, unique across instances (an eTag-conditional update)."""
        record_id = f"counter/{name}"
        for _ in range(CONFLICT_RETRIES):
            current = await self._table.get(record_id)
            value = int(current.document["value"]) + 1 if current else 1
            try:
                await self._table.put(
                    record_id, {"value": value}, etag=current.etag if current else None
                )
            except ETagConflictError:
                continue
            return value
        raise ETagConflictError(f"counter {name!r} is too contended")

    async def raise_counter(self, name: str, at_least: int) -> None:
        """Make sure the counter is at least `at_least` (after restoring or migrating data)."""
        record_id = f"counter/{name}"
        for _ in range(CONFLICT_RETRIES):
            current = await self._table.get(record_id)
            if current is not None and int(current.document["value"]) >= at_least:
                return
            try:
                await self._table.put(
                    record_id, {"value": at_least}, etag=current.etag if current else None
                )
            except ETagConflictError:
                continue
            return

    async def acquire_lease(self, name: str, owner: str, seconds: float) -> bool:
        """Hold the lease `name` for `seconds` unless another owner holds it; True if ours."""
        record_id = f"lease/{name}"
        now = datetime.now(UTC)
        current = await self._table.get(record_id)
        if current is not None:
            holder = str(current.document.get("owner", ""))
            until = datetime.fromisoformat(str(current.document.get("until")))
            if holder != owner and until > now:
                return False
        document = {"owner": owner, "until": (now + timedelta(seconds=seconds)).isoformat()}
        try:
            await self._table.put(record_id, document, etag=current.etag if current else None)
        except ETagConflictError:
            return False
        return True

    async def release_lease(self, name: str, owner: str) -> None:
        """Give the lease back if we hold it."""
        record_id = f"lease/{name}"
        current = await self._table.get(record_id)
        if current is not None and current.document.get("owner") == owner:
            try:
                await self._table.delete(record_id, etag=current.etag)
            except ETagConflictError:
                return

    async def get(self, record_id: str) -> Record | None:
        """A small record by id."""
        found = await self._table.get(record_id)
        return found.document if found else None

    async def put(self, record_id: str, document: Record) -> None:
        """Store a small record."""
        await self._table.put(record_id, document)

    async def check(self) -> int:
        """Check the counters, leases and submit claims (start-up); return how many records."""
        stored = await self._table.all()
        for found in stored:
            where = record_where(self._table.where, found.key)
            kind = found.key.split("/", 1)[0]
            require(found.document, where, META_FIELDS.get(kind, {}))
            if kind == "lease":
                try:
                    datetime.fromisoformat(found.document["until"])
                except ValueError as error:
                    raise CorruptStoreError(f"{where}: field 'until' is not a time") from error
        return len(stored)

    async def claim(self, record_id: str, document: Record) -> Record:
        """Insert the record unless one exists; return the one stored (first writer wins)."""
        try:
            await self._table.put(record_id, document, etag=None)
        except ETagConflictError:
            found = await self._table.get(record_id)
            if found is None:
                raise
            return found.document
        return document


# ----- the outbox ---------------------------------------------------------------------------------


@dataclass
class OutboxItem:
    """One message to deliver, with its stored eTag."""

    data: Record
    etag: str = ""

    @property
    def id(self) -> str:
        """The item's id."""
        return str(self.data["id"])


def outbox_item(
    kind: str,
    target: str,
    payload: Record,
    purpose: Record | None = None,
    item_id: str | None = None,
) -> Record:
    """A new outbox message; `item_id` makes adding it again a no-op (a pending effect)."""
    now = _millis()
    return {
        "id": item_id or uuid.uuid4().hex,
        "kind": kind,
        "target": target,
        "payload": payload,
        "purpose": dict(purpose or {}),
        "created_at": now,
        "attempts": 0,
        "next_at": now,
        "claimed_until": "",
        "claimed_by": "",
        "last_error": "",
        "delivered_at": "",
        "result": "",
    }


def outbox_index(item: Mapping[str, Any]) -> dict[str, str]:
    """How outbox items are found: pending or sent, and by route (kind:target)."""
    state = SENT_STATE if item.get("delivered_at") else PENDING_STATE
    return {"state": state, "route": f"{item['kind']}:{item['target']}"}


PENDING_STATE = "pending"
SENT_STATE = "sent"


def check_outbox_item(item: Any, where: str) -> None:
    """A stored outbox item has every field with the right type, or start-up stops here."""
    require(item, where, OUTBOX_FIELDS)


class Outbox:
    """Messages to deliver, in the OUTBOX table; a claim (eTag-conditional) owns an attempt."""

    def __init__(self, table: RecordStore) -> None:
        self._table = table

    @staticmethod
    def _index(item: Record) -> dict[str, str]:
        return outbox_index(item)

    async def add(self, item: Record) -> OutboxItem:
        """Store a new message; an item whose id is already stored is left as it is."""
        try:
            etag = await self._table.put(item["id"], item, index=self._index(item), etag=None)
        except ETagConflictError:
            found = await self._table.get(item["id"])
            if found is None:
                raise
            return OutboxItem(found.document, found.etag)
        return OutboxItem(dict(item), etag)

    async def get(self, item_id: str) -> OutboxItem | None:
        """One item with its eTag."""
        found = await self._table.get(item_id)
        return OutboxItem(found.document, found.etag) if found else None

    async def pending(self) -> list[OutboxItem]:
        """Undelivered messages, oldest first."""
        found = await self._table.find("state", PENDING_STATE)
        items = [OutboxItem(v.document, v.etag) for v in found]
        return sorted(items, key=lambda i: (str(i.data["created_at"]), i.id))

    async def all(self) -> list[Record]:
        """Every message, delivered or not, oldest first."""
        items = [v.document for v in await self._table.all()]
        return sorted(items, key=lambda i: (str(i["created_at"]), str(i["id"])))

    async def update(self, item: OutboxItem) -> bool:
        """Store the item's new state if nobody changed it since it was read; True if stored."""
        try:
            item.etag = await self._table.put(
                item.id, item.data, index=self._index(item.data), etag=item.etag
            )
        except ETagConflictError:
            return False
        return True

    async def check(self) -> int:
        """Validate every stored item and its index (start-up); return how many are pending."""
        pending = 0

        def check(stored: Row) -> None:
            nonlocal pending
            where = record_where(self._table.where, stored.id)
            check_outbox_item(stored.document, where)
            if stored.document["id"] != stored.id:
                raise CorruptStoreError(f"{where}: field 'id' is not the record's id")
            _check_index(stored.index, outbox_index(stored.document), where)
            pending += not stored.document["delivered_at"]

        await self._table.inspect(check)
        return pending


# ----- proposals and drafts -----------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """A submitted proposal with the eTag it was read at."""

    proposal: Proposal
    etag: str


@dataclass
class Change:
    """What one change to a proposal causes, stored with it as one unit."""

    audit: list[Record] = field(default_factory=list)
    messages: list[Record] = field(default_factory=list)

    def add(self, transition: Transition, subject: str) -> None:
        """The audit entry of a transition."""
        self.audit.append(
            Audit.entry(transition.actor, transition.event.value, subject, transition.details)
        )


def _proposal_index(proposal: Proposal, token: str, pending: bool) -> dict[str, str]:
    # "pending" lets start-up find the few interrupted changes without reading every proposal.
    return {
        "status": proposal.status,
        "initiator": proposal.initiator.aad_object_id,
        "draft_token": token,
        "pending": "yes" if pending else "no",
    }


def proposal_row(proposal: Proposal, token: str, pending: Sequence[Record] = ()) -> Row:
    """A submitted proposal as the PROPOSALS table stores it, with its side effects."""
    document = {**proposal.to_dict(), DRAFT_TOKEN: token, PENDING: list(pending)}
    return Row(proposal.id, document, _proposal_index(proposal, token, bool(pending)))


def _check_effect(effect: Any, where: str) -> None:
    require(effect, where, {"id": TEXT})
    if "audit" in effect:
        require(effect["audit"], f"{where}: audit", AUDIT_FIELDS)
    elif "message" in effect:
        check_outbox_item(effect["message"], f"{where}: message")
    else:
        raise CorruptStoreError(f"{where}: is neither an audit entry nor a message")


def _check_stored_proposal(found: Row, where: str) -> Proposal:
    """A stored proposal's content, id, pending effects and index (start-up)."""
    try:
        proposal = Proposal.from_dict(found.document)
    except ProposalFormatError as error:
        raise CorruptStoreError(f"{where}: {error}") from error
    if proposal.id != found.id:
        raise CorruptStoreError(f"{where}: field 'id' is not the record's id")
    optional(found.document, where, {DRAFT_TOKEN: TEXT, PENDING: LIST})
    for number, effect in enumerate(found.document.get(PENDING) or [], start=1):
        _check_effect(effect, f"{where}: {PENDING} {number}")
    token = str(found.document.get(DRAFT_TOKEN, ""))
    pending = bool(found.document.get(PENDING))
    _check_index(found.index, _proposal_index(proposal, token, pending), where)
    return proposal


def _check_draft_document(document: Any, where: str, fields: Mapping[str, str]) -> None:
    require(document, where, fields)
    optional(document, where, {"reminded_at": TEXT})
    try:
        Proposal.from_dict(document["proposal"])
    except ProposalFormatError as error:
        raise CorruptStoreError(f"{where}: proposal: {error}") from error


def _read_proposal(found: Versioned) -> Stored:
    try:
        proposal = Proposal.from_dict(found.document)
    except ProposalFormatError as error:
        raise CorruptStoreError(f"proposal {found.key!r}: {error}") from error
    return Stored(proposal, found.etag)


class ProposalRepository:
    """Drafts live per person in the key-value store (written every step, so it must scale);
    submitted proposals in the PROPOSALS table, with their side effects (see module doc)."""

    def __init__(
        self,
        table: RecordStore,
        store: KeyValueStore,
        audit: Audit,
        outbox: Outbox,
        meta: Meta,
    ) -> None:
        self._table = table
        self._store = store
        self._audit = audit
        self._outbox = outbox
        self._meta = meta

    # ----- drafts --------------------------------------------------------------------------

    @staticmethod
    def _draft_key(person: str) -> str:
        return layout.DRAFT + person

    async def draft_of(self, person: str) -> Draft | None:
        """The person's draft, if they have one."""
        found = await self._store.read_versioned(self._draft_key(person))
        if found is None:
            return None
        doc = found.document
        return Draft(
            Proposal.from_dict(doc["proposal"]),
            str(doc["token"]),
            int(doc["revision"]),
            str(doc.get("reminded_at", "")),
            found.etag,
        )

    async def drafts(self) -> list[tuple[str, Draft]]:
        """Every draft with its owner (for the expiry sweep; not per turn)."""
        found: list[tuple[str, Draft]] = []
        for key in await self._store.keys(layout.DRAFT):
            person = key[len(layout.DRAFT) :]
            draft = await self.draft_of(person)
            if draft is not None:
                found.append((person, draft))
        return found

    async def new_draft(self, person: str, proposal: Proposal, token: str = "") -> Draft:
        """Start a new draft for a person (replacing any earlier one)."""
        now = utc_now()
        # A draft is not a proposal yet (a komplettering copy becomes one again on resubmit).
        proposal.status = Status.DRAFT
        proposal.created_at = proposal.created_at or now
        proposal.updated_at = now
        draft = Draft(proposal, token or uuid.uuid4().hex, 0)
        await self._write_draft(person, draft, ANY)
        return draft

    async def save_draft(self, person: str, draft: Draft) -> None:
        """Store the draft after a step; its revision goes up so older summary cards go stale.

        Conditional on the version it was read at: ETagConflictError when the same person
        changed it meanwhile (another window, another instance).
        """
        draft.revision += 1
        draft.proposal.updated_at = utc_now()
        draft.reminded_at = ""
        await self._write_draft(person, draft, draft.etag if draft.etag else ANY)

    async def mark_reminded(self, person: str, draft: Draft) -> None:
        """Note that the person was reminded; the draft itself is unchanged."""
        draft.reminded_at = utc_now()
        await self._write_draft(person, draft, draft.etag if draft.etag else ANY)

    async def _write_draft(self, person: str, draft: Draft, etag: Any) -> None:
        doc = {
            "proposal": draft.proposal.to_dict(),
            "token": draft.token,
            "revision": draft.revision,
            "reminded_at": draft.reminded_at,
        }
        draft.etag = await self._store.write_if(self._draft_key(person), doc, etag)

    async def discard_draft(self, person: str, who: str, reason: str) -> None:
        """Remove a person's draft (they started over, or it expired)."""
        await self._store.delete([self._draft_key(person)])
        await self._audit.append(who, "draft_removed", person, {"reason": reason})

    async def stash_draft(self, person: str, draft: Draft) -> None:
        """Set a person's own new draft aside while they complement a proposal."""
        await self._store.write({layout.STASH + person: {"proposal": draft.proposal.to_dict()}})

    async def restore_stash(self, person: str) -> bool:
        """Bring a set-aside draft back as the person's draft; False if there was none."""
        key = layout.STASH + person
        doc = (await self._store.read([key])).get(key)
        if not doc:
            return False
        await self.new_draft(person, Proposal.from_dict(doc["proposal"]))
        await self._store.delete([key])
        return True

    # ----- submitted proposals ---------------------------------------------------------------

    async def submitted_for_token(self, token: str) -> Proposal | None:
        """The proposal a draft became, so a second click on the same card finds it."""
        if not token:
            return None
        found = await self._table.find("draft_token", token)
        return _read_proposal(found[0]).proposal if found else None

    async def submit(
        self, person: str, draft: Draft, prepare: Callable[[Proposal], Awaitable[Change]]
    ) -> tuple[Proposal, bool]:
        """Turn a draft into a proposal with a readable id, once per draft.

        `prepare(proposal)` is called once the id is allocated: it applies the submit
        transition and returns the Change (audit entries, messages) stored with the proposal
        in the same write. Returns (proposal, created now).
        """
        existing = await self.submitted_for_token(draft.token)
        if existing is not None:
            await self._forget_draft(person, draft.token)
            return existing, False
        proposal = draft.proposal
        claim_id = f"submit/{draft.token}"
        claimed = await self._meta.get(claim_id)
        if claimed is None:
            # The draft token is claimed before the proposal is stored: of two concurrent
            # submits (two clicks, two instances) only one creates the proposal.
            year = int(utc_now()[:4])
            wanted = {"id": format_proposal_id(year, await self._next(year))}
            claimed = await self._meta.claim(claim_id, wanted)
        proposal.id = str(claimed["id"])
        again = await self._table.get(proposal.id)
        if again is not None:
            await self._forget_draft(person, draft.token)
            return _read_proposal(again).proposal, False
        change = await prepare(proposal)
        try:
            await self._store_with(proposal, draft.token, change, None)
        except ETagConflictError:
            found = await self._table.get(proposal.id)
            if found is None:
                raise
            return _read_proposal(found).proposal, False
        await self._forget_draft(person, draft.token)
        return proposal, True

    async def _forget_draft(self, person: str, token: str) -> None:
        """Remove the person's draft if it is the one that was submitted."""
        current = await self.draft_of(person)
        if current is not None and current.token == token:
            await self._store.delete([self._draft_key(person)])

    async def _next(self, year: int) -> int:
        return await self._meta.next_number(f"proposal-{year}")

    async def get(self, proposal_id: str) -> Proposal | None:
        """A submitted proposal by id."""
        stored = await self.get_stored(proposal_id)
        return stored.proposal if stored else None

    async def get_stored(self, proposal_id: str) -> Stored | None:
        """A submitted proposal with its eTag, for a conditional change."""
        found = await self._table.get(proposal_id)
        return _read_proposal(found) if found else None

    async def commit(self, proposal: Proposal, change: Change, etag: str | None = None) -> None:
        """Store a changed proposal with its audit entries and messages, as one unit.

        With `etag`, only if nobody changed the proposal since it was read
        (ETagConflictError otherwise, and nothing is stored).
        """
        found = await self._table.get(proposal.id)
        token = str(found.document.get(DRAFT_TOKEN, "")) if found else ""
        expected = etag if etag is not None else (found.etag if found else None)
        await self._store_with(proposal, token, change, expected)

    async def save(
        self, proposal: Proposal, who: str, action: str, details: Mapping[str, Any] | None = None
    ) -> None:
        """Store a changed proposal with one audit entry (no messages)."""
        change = Change(audit=[Audit.entry(who, action, proposal.id, details)])
        await self.commit(proposal, change)

    async def _store_with(
        self, proposal: Proposal, token: str, change: Change, etag: str | None
    ) -> None:
        effects = [{"audit": entry, "id": uuid.uuid4().hex} for entry in change.audit]
        effects += [{"message": item, "id": item["id"]} for item in change.messages]
        row = proposal_row(proposal, token, effects)
        new_etag = await self._table.put(row.id, row.document, index=row.index, etag=etag)
        await self._apply(row.id, row.document, row.index, new_etag)

    async def _apply(
        self, record_id: str, document: Record, index: Mapping[str, str], etag: str
    ) -> None:
        """Carry out the pending effects of a stored proposal, then clear them."""
        effects = list(document.get(PENDING) or [])
        if not effects:
            return
        for effect in effects:
            if "audit" in effect:
                entry = {**effect["audit"], "effect": effect["id"]}
                await self._audit.append_entry(entry)
            else:
                await self._outbox.add(effect["message"])
        cleared = {**document, PENDING: []}
        try:
            await self._table.put(
                record_id, cleared, index={**index, "pending": "no"}, etag=etag
            )
        except ETagConflictError:
            # Someone stored a newer version meanwhile; it carries its own effects and ours
            # were applied: nothing to clear any more.
            logger.info("proposal %r changed while its effects were applied", record_id)

    async def recover(self) -> int:
        """Finish every change a crash interrupted (start-up); return how many."""
        interrupted = await self._table.find("pending", "yes")
        if not interrupted:
            return 0
        done = {
            entry.get("effect")
            for entry in await self._audit.read()
            if isinstance(entry.get("effect"), str)
        }
        finished = 0
        for found in interrupted:
            effects = found.document.get(PENDING) or []
            remaining = [e for e in effects if "audit" not in e or e["id"] not in done]
            document = {**found.document, PENDING: remaining}
            proposal = _read_proposal(found).proposal
            token = str(found.document.get(DRAFT_TOKEN, ""))
            index = _proposal_index(proposal, token, True)
            logger.warning("finishing an interrupted change of proposal %r", found.key)
            await self._apply(found.key, document, index, found.etag)
            finished += 1
        return finished

    async def for_initiator(self, person: str) -> list[Proposal]:
        """Every submitted proposal of one initiator, newest first."""
        found = await self._table.find("initiator", person)
        proposals = [_read_proposal(v).proposal for v in found]
        return sorted(proposals, key=lambda p: p.created_at, reverse=True)

    async def with_status(self, statuses: Sequence[str]) -> list[Proposal]:
        """Submitted proposals in any of these statuses, oldest first."""
        found: list[Proposal] = []
        for status in statuses:
            found += [_read_proposal(v).proposal for v in await self._table.find("status", status)]
        return sorted(found, key=lambda p: (p.created_at, p.id))

    async def all(self) -> list[Proposal]:
        """Every submitted proposal, oldest first."""
        proposals = [_read_proposal(v).proposal for v in await self._table.all()]
        return sorted(proposals, key=lambda p: (p.created_at, p.id))

    async def check(self) -> int:
        """Check every stored proposal, draft and set-aside draft (start-up): a damaged one
        stops here, named; return the number of proposals."""

        def check_proposal(found: Row) -> None:
            _check_stored_proposal(found, record_where(self._table.where, found.id))

        stored = await self._table.inspect(check_proposal)
        for prefix, fields in ((layout.DRAFT, DRAFT_FIELDS), (layout.STASH, STASH_FIELDS)):

            def check(key: str, document: Record, fields: Mapping[str, str] = fields) -> None:
                _check_draft_document(document, key_where(self._store.where, key), fields)

            await self._store.inspect(prefix, check)
        return stored


# ----- everything together ------------------------------------------------------------------------


class Records:
    """All application records of one backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.state = backend.state
        self.audit = Audit(backend.log(layout.AUDIT))
        self.feedback = FeedbackLog(backend.log(layout.FEEDBACK))
        self.escalations = EscalationLog(backend.table(layout.ESCALATIONS))
        self.references = ReferenceBook(backend.state)
        self.meta = Meta(backend.table(layout.META))
        self.outbox = Outbox(backend.table(layout.OUTBOX))
        self.proposals = ProposalRepository(
            backend.table(layout.PROPOSALS), backend.state, self.audit, self.outbox, self.meta
        )

    async def open(self) -> None:
        """Check every record now and finish interrupted changes: damage stops start-up here
        (CorruptStoreError naming the file or table, the record and the field), never in a
        later turn."""
        await self.check()
        await self.proposals.recover()

    async def check(self) -> None:
        """Check every record without changing anything (start-up, and the admin tools on a
        snapshot or a backup); CorruptStoreError names the first damaged one."""
        await self.audit.check()
        await self.feedback.check()
        await self.escalations.check()
        await self.meta.check()
        await self.references.check()
        await self.proposals.check()
        await self.outbox.check()

    async def close(self) -> None:
        """Close the backend."""
        await self.backend.close()
