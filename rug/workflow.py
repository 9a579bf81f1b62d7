"""The RUG workflow: endorsement, forwarding to RUG, decisions, komplettering, feedback.

idea → submitted (väntar på förankring) → a RUG member endorses (skallkrav 4) → the complete
proposal goes to the RUG channel (hos RUG) and, where configured, by e-mail → RUG grants,
rejects or asks for more (komplettering begärd → the initiator complements → hos RUG again)
→ the initiator is told, with the motivation and the next step.

Decisions documented here:
- Any RUG member on the configured list may endorse (skallkrav 4 asks for "at least one
  participant in RUG"); the member the initiator named is the one who is asked.
- Only RUG members decide. Who may act is always taken from the acting user's Entra object id
  (activity.from.aadObjectId), never from card data; refused clicks are logged and audited.
- Every state change goes through domain.transitions and is stored with its audit entry and
  its messages as one unit (storage.records.ProposalRepository.commit); nothing is deleted.
  Messages to people and to the channel go through the durable outbox.

Plain Python over the domain and the storage interfaces: no botbuilder. The dialogs call it
with an Actor and show the Outcome.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from domain.clock import parse_time, utc_now, working_days_between
from domain.fields import COMPLEMENTABLE_FIELD_IDS, FIELD_BY_ID, get_value, set_value
from domain.personnummer import contains_identity_number
from domain.proposal import (
    ComplementRequest,
    Decision,
    Draft,
    Endorsement,
    Event,
    Proposal,
    Status,
)
from domain.transitions import DECISION_EVENTS, EventKind, apply
from knowledge.rug import PeopleDirectory, Person
from knowledge.similar import Candidate, find_similar
from knowledge.skallkrav import CheckContext, check_proposal
from presentation.activities import card_activity, text_activity
from presentation.cards import CardTemplates
from presentation.proposal_view import initiator_line, sections
from presentation.texts import DEFAULT_LOCALE, Texts, locale_of
from rug.checklist import checklist, message
from rug.document import CHANNEL_REQUEST
from rug.model import Activity, Actor, OpenedComplement, Outcome
from rug.portfolio import portfolio
from storage.errors import ETagConflictError
from storage.records import Change, Records, outbox_item

logger = logging.getLogger(__name__)

DECISION_CHOICES = tuple(DECISION_EVENTS)
MAX_COMMENT_CHARS = 2000
# How often a click is re-evaluated when another click changed the proposal meanwhile.
_CONFLICT_RETRIES = 5
SV = DEFAULT_LOCALE
# The portfolio card lists this many organisations, target groups and success factors each.
_PORTFOLIO_TOP = 5
# The events after which a proposal waits for an answer to a request for endorsement.
_ASKED = (EventKind.ENDORSEMENT_REQUESTED.value, EventKind.ENDORSEMENT_REMINDED.value)
# Deliver(ids) tries the given outbox items now; the outbox worker retries what fails.
Deliver = Callable[[list[str]], Awaitable[None]]


def _rug_card_key(proposal_id: str) -> str:
    return f"rugcard/{proposal_id}"


class RugWorkflow:
    """Moves proposals through RUG and keeps everyone informed; built once per process."""

    def __init__(
        self,
        *,
        records: Records,
        texts: Texts,
        cards: CardTemplates,
        rug: PeopleDirectory,
        admins: PeopleDirectory,
        check_context: CheckContext,
        mail_recipient: str | None = None,
        reminder_days: int = 5,
    ) -> None:
        self._records = records
        self._repo = records.proposals
        self._texts = texts
        self._cards = cards
        self._rug = rug
        self._admins = admins
        self._check_context = check_context
        self._mail_recipient = mail_recipient
        self._reminder_days = reminder_days
        # One click at a time in this process; across processes the eTag decides.
        self._lock = asyncio.Lock()

    # ----- helpers ---------------------------------------------------------------------

    def _t(self, key: str, locale: str = SV, **values: Any) -> str:
        return self._texts.get(key, locale, **values)

    def is_rug_member(self, aad: str) -> bool:
        """True when the Entra object id belongs to a configured RUG member."""
        return self._rug.by_aad(aad) is not None

    def is_admin(self, aad: str) -> bool:
        """True when the Entra object id belongs to a configured admin."""
        return self._admins.by_aad(aad) is not None

    async def _audit(self, who: str, action: str, subject: str, **details: Any) -> None:
        await self._records.audit.append(who, action, subject, details)

    async def _checked_click(
        self, actor: Actor, action: str, pid: str, choice_ok: bool, text: Any, outcome: Outcome
    ) -> tuple[Person, str] | None:
        """A RUG card click, checked: a RUG member, a known choice, no personnummer in the text.

        Returns (member, cleaned text), or None after putting why not in the outcome.
        """
        member = self._rug.by_aad(actor.aad)
        if member is None:
            await self._refuse(actor, action, pid, outcome)
            return None
        cleaned = str(text or "").strip()
        if not choice_ok:
            outcome.replies.append(text_activity(self._t("general.bad_card", actor.locale)))
            return None
        if contains_identity_number(cleaned):  # whole, before the cut
            outcome.replies.append(text_activity(self._t("general.identity_number", actor.locale)))
            return None
        return member, cleaned[:MAX_COMMENT_CHARS]

    async def _refuse_own(
        self, actor: Actor, action: str, proposal: Proposal, key: str, outcome: Outcome
    ) -> None:
        """The initiator clicked endorse or decide on their own proposal: refused, audited."""
        logger.warning("refused %s on %s by %r: the initiator", action, proposal.id, actor.aad)
        await self._audit(actor.aad, f"{action}_refused", proposal.id, reason="initiator")
        outcome.replies.append(text_activity(self._t(key, actor.locale, id=proposal.id)))

    async def _in_rug_channel(self, actor: Actor) -> bool:
        """Whether the turn comes from the registered RUG channel (any thread in it)."""
        channel = await self._records.references.rug_channel()
        if actor.conversation_type != "channel" or not channel:
            return False
        registered = str((channel.get("conversation") or {}).get("id") or "")
        return bool(registered) and _channel_of(actor.conversation_id) == _channel_of(registered)

    async def _refuse(self, actor: Actor, action: str, subject: str, outcome: Outcome) -> None:
        logger.warning("refused %s on %r by %r: not a RUG member", action, subject, actor.aad)
        await self._audit(actor.aad, f"{action}_refused", subject, name=actor.name)
        outcome.replies.append(text_activity(self._t("rug.not_member", actor.locale)))

    async def _retrying(self, step: Callable[[Outcome], Awaitable[None]]) -> Outcome:
        """Run one click under the lock; re-run it if another instance changed the proposal."""
        async with self._lock:
            for _ in range(_CONFLICT_RETRIES):
                outcome = Outcome()
                try:
                    await step(outcome)
                except ETagConflictError:
                    logger.info("a proposal changed under a click; looking again")
                    continue
                return outcome
        raise ETagConflictError("the proposal kept changing; the click was not applied")

    # ----- where RUG is ------------------------------------------------------------------

    async def register_channel(self, actor: Actor, reference: dict[str, Any]) -> str:
        """'registrera RUG-kanal' typed in a channel by a RUG member or admin; returns the reply."""
        if not (self.is_rug_member(actor.aad) or self.is_admin(actor.aad)):
            logger.warning("refused to register the RUG channel for %r", actor.aad)
            await self._audit(actor.aad, "rug_channel_refused", "rug_channel")
            return self._t("rug.channel.not_allowed", actor.locale)
        if actor.conversation_type != "channel":
            return self._t("rug.channel.only_in_channel", actor.locale)
        await self._store_channel(actor, reference)
        return self._t("rug.channel.registered", actor.locale)

    async def bot_added_to_channel(self, actor: Actor, reference: dict[str, Any]) -> bool:
        """The bot was added to a team channel: register it when a RUG member/admin added it
        and RUG has no other channel yet.

        A RUG member may well add the bot to another team's channel too (the coordinators',
        their own unit's): that must not quietly move RUG's cards there. Moving RUG's channel
        takes "registrera RUG-kanal", which the bot's introduction there tells them.
        """
        if not (self.is_rug_member(actor.aad) or self.is_admin(actor.aad)):
            return False
        current = await self._records.references.rug_channel()
        here = str((reference.get("conversation") or {}).get("id") or "")
        there = str(((current or {}).get("conversation") or {}).get("id") or "")
        if there and _channel_of(there) != _channel_of(here):
            logger.info("bot added to another channel by %r; RUG's channel stays", actor.aad)
            return False
        await self._store_channel(actor, reference)
        return True

    async def _store_channel(self, actor: Actor, reference: dict[str, Any]) -> None:
        await self._records.references.set_rug_channel(reference, by=actor.aad)
        await self._audit(
            actor.aad,
            "rug_channel_registered",
            "rug_channel",
            conversation=reference["conversation"],
        )

    # ----- submission and endorsement ------------------------------------------------------

    async def submit(self, person: str, draft: Draft) -> tuple[Proposal, bool, list[str]]:
        """Submit a draft: the proposal, its audit entry and the endorsement request are stored
        as one unit. Returns (proposal, created now, outbox items to deliver); a draft that was
        submitted already is found, not submitted again."""
        who = draft.proposal.initiator.name or person
        messages: list[str] = []

        async def prepare(proposal: Proposal) -> Change:
            # Called with the proposal's id allocated: the request names it.
            change = Change()
            transition = apply(
                proposal,
                EventKind.SUBMITTED,
                at=utc_now(),
                who=who,
                actor=who,
                details={"status": Status.AWAITING_ENDORSEMENT},
            )
            change.add(transition, proposal.id)
            await self._request_endorsement(proposal, change)
            messages.extend(m["id"] for m in change.messages)
            return change

        proposal, created = await self._repo.submit(person, draft, prepare)
        return proposal, created, messages

    async def _request_endorsement(self, proposal: Proposal, change: Change) -> None:
        """Ask the RUG member the initiator named (in their chat, else the channel)."""
        member = self._rug.find(proposal.rug_contact) if proposal.rug_contact else None
        if member is not None and _is_initiator(Actor(member.aad_object_id), proposal):
            # The dialog does not offer the initiator themself; an older draft might name them.
            logger.info("%s names its own initiator as RUG contact; it waits", proposal.id)
            member = None
        if member is None:
            # No (known) RUG contact: any RUG member may endorse it from the channel.
            self._request_in_channel(proposal, change)
            return
        await self._request_from(proposal, member, change)

    def _request_in_channel(self, proposal: Proposal, change: Change) -> None:
        """An open request in the RUG channel that any member but the initiator can endorse."""
        if not len(self._rug):
            logger.info("%s: no RUG list configured; it waits for endorsement", proposal.id)
            return
        card = self._endorse_card(proposal, None, mention=False)
        self._record_request(proposal, change, card, CHANNEL_REQUEST, ("channel", "rug"))

    def _record_request(
        self,
        proposal: Proposal,
        change: Change,
        card: dict[str, Any],
        note: str,
        target: tuple[str, str],
    ) -> None:
        """The request's history event and its card in the outbox, in one change."""
        where = "channel" if target[0] == "channel" else "personal"
        member = "" if note == CHANNEL_REQUEST else note
        transition = apply(
            proposal,
            EventKind.ENDORSEMENT_REQUESTED,
            at=utc_now(),
            who="Omtanke",
            actor="omtanke",
            note=note,
            details={"member": member, "where": where},
        )
        change.add(transition, proposal.id)
        activity = card_activity(card, self._t("rug.endorse.summary", id=proposal.id))
        purpose = {"kind": "endorse_card", "proposal": proposal.id}
        change.messages.append(outbox_item(*target, {"activity": activity}, purpose))

    async def _request_from(self, proposal: Proposal, member: Person, change: Change) -> None:
        card, target = await self._card_for(proposal, member)
        self._record_request(proposal, change, card, member.name, target)

    async def _card_for(
        self, proposal: Proposal, member: Person
    ) -> tuple[dict[str, Any], tuple[str, str]]:
        """The member's endorsement card and where it goes: their chat, else the channel with
        a mention."""
        personal = (
            await self._records.references.personal(member.aad_object_id)
            if member.aad_object_id
            else None
        )
        if personal is None:
            return self._endorse_card(proposal, member, mention=True), ("channel", "rug")
        card = self._endorse_card(proposal, member, mention=False)
        return card, ("person", member.aad_object_id)

    def _endorse_card(
        self, proposal: Proposal, member: Person | None, mention: bool, state: str = ""
    ) -> dict[str, Any]:
        mention_text = f"<at>{member.name}</at>" if member else ""
        if member is None:
            ask_key = "rug.endorse.ask_anyone"
        else:
            ask_key = "rug.endorse.ask_mention" if mention else "rug.endorse.ask"
        data = {
            "heading": f"{proposal.id} {proposal.title}",
            "ask": self._t(ask_key, mention=mention_text, initiator=initiator_line(proposal)),
            "can_decline": member is not None and not state,
            "facts": [
                {"title": s.label, "value": s.value}
                for s in sections(proposal, self._texts)
                if s.field in ("organisations", "target_groups", "initiator_org")
            ],
            "description": proposal.description,
            "proposal": proposal.id,
            "open": not state,
            "state": state,
            "has_state": bool(state),
        }
        card = self._cards.render("rug_endorse", data)
        if mention and member is not None and member.aad_object_id and not state:
            # Teams mentions in an Adaptive Card live in msteams.entities, not on the activity.
            card["msteams"] = {
                "entities": [
                    {
                        "type": "mention",
                        "text": mention_text,
                        "mentioned": {"id": member.aad_object_id, "name": member.name},
                    }
                ]
            }
        return card

    async def endorse(self, actor: Actor, data: dict[str, Any]) -> Outcome:
        """'Förankra' or 'Inte nu' on an endorsement request."""
        pid = str(data.get("proposal"))
        choice = str(data.get("choice"))
        first = Outcome()
        checked = await self._checked_click(
            actor, "endorsement", pid, choice in ("yes", "no"), data.get("comment"), first
        )
        if checked is None:
            return first
        member, comment = checked

        async def step(outcome: Outcome) -> None:
            await self._endorse(actor, member, pid, choice, comment, outcome)

        return await self._retrying(step)

    # ----- reminders ---------------------------------------------------------------------

    async def remind_waiting(self, now: datetime) -> list[str]:
        """Remind where a request for endorsement has waited the configured working days
        since it was sent or last reminded; returns the outbox items to deliver."""
        deliver: list[str] = []
        for proposal in await self._repo.with_status((Status.AWAITING_ENDORSEMENT,)):
            last = _last_request(proposal)
            if last is None:
                continue
            # The newest request or reminder, whichever came last.
            since = max(e.at for e in proposal.history if e.action in _ASKED)
            when = parse_time(since)
            if when is None or working_days_between(when, now) < self._reminder_days:
                continue
            deliver += await self._remind(proposal.id, last.note, now)
        return deliver

    async def _remind(self, pid: str, where: str, now: datetime) -> list[str]:
        async with self._lock:
            stored = await self._repo.get_stored(pid)
            if stored is None or stored.proposal.status != Status.AWAITING_ENDORSEMENT:
                return []
            proposal = stored.proposal
            member = None if where == CHANNEL_REQUEST else self._rug.find(where)
            if member is None:
                card = self._endorse_card(proposal, None, mention=False)
                target = ("channel", "rug")
            else:
                card, target = await self._card_for(proposal, member)
            change = Change()
            days = working_days_between(parse_time(proposal.created_at) or now, now)
            change.add(
                apply(
                    proposal,
                    EventKind.ENDORSEMENT_REMINDED,
                    at=now.isoformat(timespec="seconds"),
                    who="Omtanke",
                    actor="omtanke",
                    note=where,
                    details={"where": where, "working_days": days},
                ),
                pid,
            )
            activity = card_activity(card, self._t("rug.endorse.reminder", id=pid))
            purpose = {"kind": "endorse_reminder", "proposal": pid}
            change.messages.append(outbox_item(*target, {"activity": activity}, purpose))
            await self._repo.commit(proposal, change, stored.etag)
            return [m["id"] for m in change.messages]

    def contact_choices(self, person: str) -> list[dict[str, str]]:
        """The RUG members an initiator may ask to endorse (never themself), for a choice list."""
        return [{"title": p.name, "value": p.name} for p in self._rug if p.aad_object_id != person]

    async def ask_endorsement(self, actor: Actor, data: dict[str, Any]) -> Outcome:
        """From "Mina förslag": ask a newly chosen RUG member, or all of RUG in the channel."""
        pid = str(data.get("proposal"))
        contact = str(data.get("contact") or "").strip()

        async def step(outcome: Outcome) -> None:
            await self._ask_endorsement(actor, pid, contact, outcome)

        return await self._retrying(step)

    async def _ask_endorsement(
        self, actor: Actor, pid: str, contact: str, outcome: Outcome
    ) -> None:
        locale = actor.locale
        stored = await self._repo.get_stored(pid)
        if stored is None or stored.proposal.initiator.aad_object_id != actor.aad:
            outcome.replies.append(text_activity(self._t("rug.not_found", locale, id=pid)))
            return
        proposal = stored.proposal
        if proposal.status != Status.AWAITING_ENDORSEMENT:
            status = self._t(f"status.{proposal.status}", locale)
            outcome.replies.append(
                text_activity(self._t("rug.endorse.not_waiting", locale, id=pid, status=status))
            )
            return
        if not len(self._rug):
            outcome.replies.append(text_activity(self._t("rug.endorse.no_rug_list", locale)))
            return
        change = Change()
        if contact:
            member = self._rug.find(contact)
            if member is None or _is_initiator(Actor(member.aad_object_id), proposal):
                key = "proposal.step.rug_contact.self" if member else "rug.endorse.unknown_member"
                outcome.replies.append(text_activity(self._t(key, locale)))
                return
            proposal.rug_contact = member.name
            await self._request_from(proposal, member, change)
            reply = self._t("rug.endorse.asked_member", locale, id=pid, name=member.name)
        else:
            earlier = _channel_request(proposal)
            if earlier is not None:
                when = earlier.at[:10]
                outcome.replies.append(
                    text_activity(self._t("rug.endorse.channel_already", locale, id=pid, when=when))
                )
                return
            self._request_in_channel(proposal, change)
            reply = self._t("rug.endorse.asked_channel", locale, id=pid)
        await self._repo.commit(proposal, change, stored.etag)
        await self._audit(actor.aad, "endorsement_asked", pid, contact=contact or CHANNEL_REQUEST)
        outcome.deliver += [m["id"] for m in change.messages]
        outcome.replies.append(text_activity(reply))

    async def _endorse(
        self, actor: Actor, member: Person, pid: str, choice: str, comment: str, outcome: Outcome
    ) -> None:
        locale = actor.locale
        stored = await self._repo.get_stored(pid)
        if stored is None:
            outcome.replies.append(text_activity(self._t("rug.not_found", locale, id=pid)))
            return
        proposal = stored.proposal
        if _is_initiator(actor, proposal):
            await self._refuse_own(actor, "endorsement", proposal, "rug.endorse.own", outcome)
            return
        if proposal.status != Status.AWAITING_ENDORSEMENT or proposal.rug_endorsement:
            status = self._t(f"status.{proposal.status}", locale)
            outcome.replies.append(
                text_activity(self._t("rug.endorse.already", locale, id=pid, status=status))
            )
            state = self._t("rug.endorse.state_closed", status=status)
            outcome.card = self._endorse_card(proposal, member, False, state)
            return
        now = utc_now()
        change = Change()
        il = await self._initiator_locale(proposal)
        note = self._t("rug.notify.comment", il, comment=comment) if comment else ""
        details = {"name": member.name, "comment": comment}
        if choice == "yes":
            proposal.rug_endorsement = Endorsement(
                name=member.name, at=now, email=member.email, aad_object_id=member.aad_object_id
            )
            change.add(
                apply(
                    proposal,
                    EventKind.ENDORSED,
                    at=now,
                    who=member.name,
                    actor=actor.aad,
                    note=comment,
                    details=details,
                ),
                pid,
            )
            state = self._t("rug.endorse.state_yes", name=member.name, when=now[:10])
            self._notify_initiator(
                proposal,
                change,
                "rug.notify.endorsed.title",
                [self._t("rug.notify.endorsed.text", il, name=member.name), note],
                il,
            )
            result = check_proposal(proposal, self._check_context)
            if result.complete:
                await self._forward(proposal, change, member.name, "forwarded")
            else:
                # Something changed since submission (e.g. the target-group list).
                missing = " ".join(message(self._texts, i) for i in result.items if not i.met)
                self._ask_for_more(proposal, change, "Omtanke", "omtanke", missing, [], il)
        else:
            change.add(
                apply(
                    proposal,
                    EventKind.ENDORSEMENT_DECLINED,
                    at=now,
                    who=member.name,
                    actor=actor.aad,
                    note=comment,
                    details=details,
                ),
                pid,
            )
            state = self._t("rug.endorse.state_no", name=member.name, when=now[:10])
            asked_channel = _channel_request(proposal) is not None
            if not asked_channel:
                # After "Inte nu" the request goes on to the channel: someone else may endorse.
                self._request_in_channel(proposal, change)
            self._notify_initiator(
                proposal,
                change,
                "rug.notify.declined.title",
                [
                    self._t("rug.notify.declined.text", il, name=member.name),
                    note,
                    "" if asked_channel else self._t("rug.notify.declined.channel", il),
                ],
                il,
            )
        # Everything that must happen is stored before the clicker hears back: a failing
        # reply must not leave the proposal half-way.
        await self._repo.commit(proposal, change, stored.etag)
        outcome.deliver += [m["id"] for m in change.messages]
        outcome.card = self._endorse_card(proposal, member, False, state)
        outcome.replies.append(
            text_activity(self._t(f"rug.endorse.thanks_{choice}", locale, id=pid))
        )

    # ----- forwarding to RUG ---------------------------------------------------------------

    async def _forward(
        self, proposal: Proposal, change: Change, who: str, reason: str, note: str = ""
    ) -> None:
        """Status 'hos RUG'; the case card (with a note, if any) to the channel and the e-mail."""
        change.add(
            apply(
                proposal,
                EventKind.FORWARDED,
                at=utc_now(),
                who=who,
                actor="omtanke",
                details={"reason": reason},
            ),
            proposal.id,
        )
        card = await self._case_card(proposal, note=note)
        activity = card_activity(card, self._t("rug.case.summary", id=proposal.id))
        change.messages.append(
            outbox_item(
                "channel",
                "rug",
                {"activity": activity},
                {"kind": "rug_card", "proposal": proposal.id},
            )
        )
        if self._mail_recipient:
            change.messages.append(
                outbox_item(
                    "mail", self._mail_recipient, {"proposal": proposal.id, "reason": reason}
                )
            )

    async def _case_card(
        self, proposal: Proposal, state: str = "", note: str = ""
    ) -> dict[str, Any]:
        """The case card; a state (decided, stale …) closes it, a note only informs."""
        others = [
            Candidate(p.id, p.title, p.description, p.status)
            for p in await self._repo.all()
            if p.id != proposal.id
        ]
        similar = [
            {
                "line": self._t(
                    "proposal.summary.similar_item",
                    id=c.id,
                    title=c.title,
                    status=self._t(f"status.{c.status}"),
                )
            }
            for c, _score in find_similar(proposal.title, proposal.description, others)
        ]
        endorsement = proposal.rug_endorsement
        data = {
            "heading": f"{proposal.id} {proposal.title}",
            "initiator": self._t(
                "rug.case.initiator",
                initiator=initiator_line(proposal),
                when=proposal.created_at[:10],
            ),
            "endorsed": self._t(
                "rug.case.endorsed", name=endorsement.name, when=endorsement.at[:10]
            )
            if endorsement
            else "",
            "sections": [
                {"label": s.label, "value": s.value} for s in sections(proposal, self._texts)[1:]
            ],
            "checks": [
                {"line": line, "color": "Default" if met else "Attention"}
                for met, line in checklist(proposal, self._check_context, self._texts)
            ],
            "similar": similar,
            "has_similar": bool(similar),
            "field_choices": [
                {"title": self._t(f"proposal.field.{f}"), "value": f}
                for f in COMPLEMENTABLE_FIELD_IDS
            ],
            "proposal": proposal.id,
            "open": not state,
            "state": state,
            "has_state": bool(state),
            "note": note,
            "has_note": bool(note),
        }
        return self._cards.render("rug_case", data)

    async def remember_card(self, item: dict[str, Any], activity_id: str) -> None:
        """The case card's id in the channel, so a click on an older card is known as stale."""
        pid = str(item["purpose"].get("proposal"))
        await self._records.meta.put(
            _rug_card_key(pid), {"activity_id": activity_id, "at": utc_now()}
        )

    async def _current_card(self, pid: str) -> str:
        doc = await self._records.meta.get(_rug_card_key(pid))
        return str(doc["activity_id"]) if doc else ""

    # ----- decisions ---------------------------------------------------------------------

    async def decide(self, actor: Actor, data: dict[str, Any]) -> Outcome:
        """'Bifall', 'Avslag' or 'Begär komplettering' on a case card in the RUG channel."""
        pid = str(data.get("proposal"))
        choice = str(data.get("outcome"))
        first = Outcome()
        checked = await self._checked_click(
            actor, "decision", pid, choice in DECISION_CHOICES, data.get("motivation"), first
        )
        if checked is None:
            return first
        member, motivation = checked
        fields = _requested_fields(data.get("fields"))

        async def step(outcome: Outcome) -> None:
            await self._decide(actor, member, pid, choice, motivation, fields, outcome)

        return await self._retrying(step)

    async def _decide(
        self,
        actor: Actor,
        member: Person,
        pid: str,
        choice: str,
        motivation: str,
        fields: list[str],
        outcome: Outcome,
    ) -> None:
        locale = actor.locale
        stored = await self._repo.get_stored(pid)
        if stored is None:
            outcome.replies.append(text_activity(self._t("rug.not_found", locale, id=pid)))
            return
        proposal = stored.proposal
        if proposal.status in Status.FINAL and proposal.decision is not None:
            outcome.replies.append(
                text_activity(
                    self._t("rug.decide.already", locale, id=pid, state=self._decided(proposal))
                )
            )
            outcome.card = await self._case_card(proposal, self._decided(proposal))
            return
        if proposal.status != Status.WITH_RUG:
            request = proposal.complement_request
            if proposal.status == Status.MORE_INFO_REQUESTED and request is not None:
                # The card keeps who asked for what and why; a click is no decision.
                state = self._more_info_state(request.by, request.at, request.motivation)
                key = "rug.decide.awaiting_complement"
            else:
                status = self._t(f"status.{proposal.status}")
                state = self._t("rug.case.state_waiting", status=status)
                key = "rug.decide.not_with_rug"
            outcome.replies.append(text_activity(self._t(key, locale, id=pid)))
            outcome.card = await self._case_card(proposal, state)
            return
        if _is_initiator(actor, proposal):
            await self._refuse_own(actor, "decision", proposal, "rug.decide.own", outcome)
            return
        if not await self._in_rug_channel(actor):
            logger.warning("refused a decision on %s outside the RUG channel by %r", pid, actor.aad)
            await self._audit(actor.aad, "decision_refused", pid, reason="not_in_rug_channel")
            outcome.replies.append(
                text_activity(self._t("rug.decide.only_in_channel", locale, id=pid))
            )
            return
        current = await self._current_card(pid)
        if not actor.reply_to_id or actor.reply_to_id != current:
            # Only the newest case card in the channel decides: a submit that names no card
            # (no replyToId), or one the bot never posted, is as stale as an older card.
            outcome.replies.append(text_activity(self._t("rug.decide.stale", locale, id=pid)))
            outcome.card = await self._case_card(proposal, self._t("rug.case.state_stale"))
            return
        if choice != Status.APPROVED and not motivation:
            outcome.replies.append(
                text_activity(self._t(f"rug.decide.motivation_needed.{choice}", locale))
            )
            return
        change = Change()
        if choice == Status.MORE_INFO_REQUESTED:
            il = await self._initiator_locale(proposal)
            self._ask_for_more(proposal, change, member.name, actor.aad, motivation, fields, il)
            state = self._more_info_state(member.name, utc_now(), motivation)
            done = "rug.decide.complement_done"
        else:
            il = await self._initiator_locale(proposal)
            self._record_decision(proposal, change, member, actor.aad, choice, motivation, il)
            state = self._decided(proposal)
            done = "rug.decide.done"
        await self._repo.commit(proposal, change, stored.etag)
        outcome.deliver += [m["id"] for m in change.messages]
        outcome.card = await self._case_card(proposal, state)
        outcome.replies.append(text_activity(self._t(done, locale, id=pid)))

    def _more_info_state(self, by: str, at: str, motivation: str) -> str:
        return self._t("rug.case.state_more_info", by=by, when=at[:10], motivation=motivation)

    def _decided(self, proposal: Proposal) -> str:
        d = proposal.decision
        if d is None:
            return ""
        return self._t(
            "rug.case.state_decided",
            outcome=self._t(f"status.{d.outcome}"),
            by=d.by,
            when=d.at[:10],
            motivation=d.motivation or self._t("proposal.not_given"),
        )

    def _record_decision(
        self,
        proposal: Proposal,
        change: Change,
        member: Person,
        aad: str,
        outcome: str,
        motivation: str,
        locale: str = SV,
    ) -> None:
        now = utc_now()
        proposal.decision = Decision(outcome=outcome, by=member.name, at=now, motivation=motivation)
        transition = apply(
            proposal,
            DECISION_EVENTS[outcome],
            at=now,
            who=member.name,
            actor=aad,
            note=motivation,
            details={"outcome": outcome, "name": member.name, "motivation": motivation},
        )
        change.audit.append(
            self._records.audit.entry(aad, "decided", proposal.id, transition.details)
        )
        motivation_line = (
            self._t("rug.notify.motivation", locale, motivation=motivation) if motivation else ""
        )
        self._notify_initiator(
            proposal,
            change,
            f"rug.notify.{outcome}.title",
            [
                self._t(f"rug.notify.{outcome}.text", locale, id=proposal.id),
                motivation_line,
                self._t(f"rug.notify.{outcome}.next", locale),
            ],
            locale,
        )

    def _ask_for_more(
        self,
        proposal: Proposal,
        change: Change,
        who: str,
        aad: str,
        motivation: str,
        fields: list[str],
        locale: str = SV,
    ) -> None:
        now = utc_now()
        change.add(
            apply(
                proposal,
                EventKind.MORE_INFO_REQUESTED,
                at=now,
                who=who,
                actor=aad,
                note=motivation,
                details={"motivation": motivation, "fields": fields},
            ),
            proposal.id,
        )
        proposal.complement_request = ComplementRequest(
            fields=list(fields), motivation=motivation, by=who, at=now
        )
        labels = ", ".join(self._t(f"proposal.field.{f}", locale) for f in fields)
        self._notify_initiator(
            proposal,
            change,
            "rug.notify.komplettering_begard.title",
            [
                self._t("rug.notify.komplettering_begard.text", locale, id=proposal.id),
                self._t("rug.notify.fields", locale, fields=labels) if labels else "",
                self._t("rug.notify.motivation", locale, motivation=motivation),
                self._t("rug.notify.komplettering_begard.next", locale),
            ],
            locale,
            complement=True,
        )

    # ----- komplettering -------------------------------------------------------------------

    async def open_complement(
        self, person: str, pid: str, locale: str = SV
    ) -> OpenedComplement:
        """A draft copy of the proposal for its initiator to complement; any other draft is kept."""
        proposal = await self._repo.get(pid)
        if proposal is None or proposal.initiator.aad_object_id != person:
            return OpenedComplement(error="rug.complement.not_yours")
        if proposal.status != Status.MORE_INFO_REQUESTED:
            return OpenedComplement(error="rug.complement.not_requested")
        request = proposal.complement_request
        asked = request.fields if request else []
        fields = [f for f in asked if f in COMPLEMENTABLE_FIELD_IDS]
        existing = await self._repo.draft_of(person)
        if existing is not None and existing.proposal.id == pid:
            draft = existing
        else:
            if existing is not None and existing.proposal.id:
                return OpenedComplement(error="rug.complement.other_in_progress")
            if existing is not None:
                # Their own new idea waits aside and comes back after the complement.
                await self._repo.stash_draft(person, existing)
            draft = await self._repo.new_draft(person, proposal.copy())
        labels = ", ".join(self._t(f"proposal.field.{f}", locale) for f in fields)
        motivation = request.motivation if request else ""
        intro = self._t(
            "rug.complement.intro",
            locale,
            id=pid,
            motivation=motivation or self._t("proposal.not_given", locale),
        )
        if labels:
            intro += "\n\n" + self._t("rug.notify.fields", locale, fields=labels)
        return OpenedComplement(
            draft=draft, first_step=fields[0] if fields else "", fields=fields, intro=intro
        )

    async def resubmit(self, actor: Actor, person: str, draft: Draft) -> Outcome:
        """The initiator sent the complemented proposal: back to RUG."""

        async def step(outcome: Outcome) -> None:
            await self._resubmit(actor, person, draft, outcome)

        return await self._retrying(step)

    async def _resubmit(self, actor: Actor, person: str, draft: Draft, outcome: Outcome) -> None:
        locale = actor.locale
        stored = await self._repo.get_stored(draft.proposal.id)
        if stored is None or stored.proposal.initiator.aad_object_id != person:
            outcome.replies.append(text_activity(self._t("rug.complement.not_yours", locale)))
            return
        proposal = stored.proposal
        if proposal.status != Status.MORE_INFO_REQUESTED:
            outcome.replies.append(text_activity(self._t("rug.complement.not_requested", locale)))
            return
        changed = _copy_fields(draft.proposal, proposal)
        asked = proposal.complement_request.fields if proposal.complement_request else []
        who = proposal.initiator.name or person
        change = Change()
        change.add(
            apply(
                proposal,
                EventKind.COMPLETED,
                at=utc_now(),
                who=who,
                actor=person,
                note=", ".join(changed),
                details={"fields": changed},
            ),
            proposal.id,
        )
        proposal.complement_request = None
        if proposal.rug_endorsement is not None:
            # RUG sees on the new card what was changed, and what they asked for that was not.
            await self._forward(
                proposal, change, who, "resubmitted", self._complemented(who, changed, asked)
            )
        else:
            change.add(
                apply(
                    proposal,
                    EventKind.BACK_TO_ENDORSEMENT,
                    at=utc_now(),
                    who=who,
                    actor=person,
                ),
                proposal.id,
            )
            await self._request_endorsement(proposal, change)
        await self._repo.commit(proposal, change, stored.etag)
        outcome.deliver += [m["id"] for m in change.messages]
        await self._repo.discard_draft(person, person, "complemented")
        restored = await self._repo.restore_stash(person)
        reply = self._t("rug.complement.sent", locale, id=proposal.id)
        if restored:
            reply += " " + self._t("rug.complement.stash_restored", locale)
        outcome.replies.append(text_activity(reply))

    def _complemented(self, who: str, changed: list[str], asked: list[str]) -> str:
        """The case card's line for a resubmitted komplettering."""

        def labels(fields: list[str]) -> str:
            return ", ".join(self._t(f"proposal.field.{f}") for f in fields)

        line = self._t(
            "rug.case.state_complemented",
            by=who,
            when=utc_now()[:10],
            fields=labels(changed) or self._t("rug.case.nothing_changed"),
        )
        unchanged = [f for f in asked if f not in changed]
        if unchanged:
            line += " " + self._t("rug.case.asked_unchanged", fields=labels(unchanged))
        return line

    # ----- the initiator's feedback --------------------------------------------------------

    def _notify_initiator(
        self,
        proposal: Proposal,
        change: Change,
        title_key: str,
        lines: list[str],
        locale: str,
        complement: bool = False,
    ) -> None:
        """A notice card to the initiator's chat, in the language of their Teams client."""
        title = self._t(title_key, locale, id=proposal.id, title=proposal.title)
        data = {
            "title": title,
            "lines": [{"text": line} for line in lines if line],
            "complement": complement,
            "proposal": proposal.id,
        }
        card = self._cards.render("rug_notice", data, locale)
        change.messages.append(
            outbox_item(
                "person",
                proposal.initiator.aad_object_id,
                {"activity": card_activity(card, title)},
                {"kind": "notice", "proposal": proposal.id},
            )
        )

    async def _initiator_locale(self, proposal: Proposal) -> str:
        """The locale of the initiator's Teams client, stored with their chat's reference."""
        aad = proposal.initiator.aad_object_id
        reference = await self._records.references.personal(aad) if aad else None
        return locale_of(str(reference.get("locale") or "")) if reference else SV

    # ----- status for RUG ------------------------------------------------------------------

    async def cases_activity(self, actor: Actor) -> Activity:
        """'Ärenden hos RUG': open proposals, oldest first; only for RUG members and admins."""
        locale = actor.locale
        if not (self.is_rug_member(actor.aad) or self.is_admin(actor.aad)):
            return text_activity(self._t("rug.cases.not_allowed", locale))
        open_ones = await self._repo.with_status(Status.OPEN)
        if not open_ones:
            return text_activity(self._t("rug.cases.none", locale))
        items = [
            {
                "line": self._t(
                    "rug.cases.line",
                    locale,
                    id=p.id,
                    title=p.title,
                    status=self._t(f"status.{p.status}", locale),
                    when=p.created_at[:10],
                ),
                "who": initiator_line(p),
                "age": self._waiting_line(p, locale),
                "has_age": p.status == Status.AWAITING_ENDORSEMENT,
            }
            for p in open_ones
        ]
        card = self._cards.render("rug_cases", {"items": items}, locale)
        return card_activity(card, self._t("rug.cases.title", locale))


    async def portfolio_activity(self, actor: Actor, coordinator: bool = False) -> Activity:
        """'Portföljen': the counts at a glance, for RUG members, admins and coordinators."""
        locale = actor.locale
        if not (coordinator or self.is_rug_member(actor.aad) or self.is_admin(actor.aad)):
            return text_activity(self._t("portfolio.not_allowed", locale))
        submitted = await self._repo.with_status([s for s in Status.ALL if s != Status.DRAFT])
        figures = portfolio(submitted)
        if not figures.total:
            return text_activity(self._t("portfolio.none", locale))

        def top(counts: dict[str, int]) -> list[dict[str, str]]:
            shown = list(counts.items())[:_PORTFOLIO_TOP]
            return [{"title": name, "value": str(n)} for name, n in shown]

        median = figures.median_days_to_decision
        data = {
            "total": self._t("portfolio.total", locale, n=figures.total),
            "by_status": [
                {"title": self._t(f"status.{s}", locale), "value": str(n)}
                for s, n in figures.by_status.items()
            ],
            "by_organisation": top(figures.by_organisation),
            "by_target_group": top(figures.by_target_group),
            "by_success_factor": top(figures.by_success_factor),
            "median": self._t("portfolio.median", locale, days=f"{median:.0f}")
            if median is not None
            else self._t("portfolio.no_decisions", locale),
        }
        card = self._cards.render("portfolio", data, locale)
        return card_activity(card, self._t("portfolio.title", locale))

    def _waiting_line(self, proposal: Proposal, locale: str) -> str:
        """How long a proposal has waited for endorsement, and where the request is."""
        if proposal.status != Status.AWAITING_ENDORSEMENT:
            return ""
        start = parse_time(proposal.created_at)
        days = working_days_between(start, datetime.now(UTC)) if start else 0
        last = _last_request(proposal)
        if last is None:
            return self._t("rug.cases.waiting_nobody", locale, days=days)
        if last.note == CHANNEL_REQUEST:
            return self._t("rug.cases.waiting_channel", locale, days=days)
        return self._t("rug.cases.waiting_member", locale, days=days, name=last.note)

    async def case_activity(self, actor: Actor, pid: str) -> Activity:
        """'visa OH-2026-0003' (or 'bifall OH-…' typed): the case card to read, for RUG
        members and admins. Decisions are made only on the newest card in the RUG channel."""
        locale = actor.locale
        if not (self.is_rug_member(actor.aad) or self.is_admin(actor.aad)):
            return text_activity(self._t("rug.cases.not_allowed", locale))
        proposal = await self._repo.get(pid)
        if proposal is None:
            return text_activity(self._t("rug.not_found", locale, id=pid))
        state = self._decided(proposal) or self._t(
            "rug.case.state_view", locale, status=self._t(f"status.{proposal.status}", locale)
        )
        card = await self._case_card(proposal, state)
        return card_activity(card, self._t("rug.case.summary", locale, id=pid))


def _is_initiator(actor: Actor, proposal: Proposal) -> bool:
    """Whether the person acting is the proposal's initiator (by Entra object id)."""
    return bool(actor.aad) and actor.aad == proposal.initiator.aad_object_id


def _last_request(proposal: Proposal) -> Event | None:
    """The newest request for endorsement (its note: the member's name, or the channel)."""
    requests = [e for e in proposal.history if e.action == EventKind.ENDORSEMENT_REQUESTED.value]
    return requests[-1] if requests else None


def _channel_request(proposal: Proposal) -> Event | None:
    """The newest open request for endorsement sent to the RUG channel, if any."""
    requests = [
        e
        for e in proposal.history
        if e.action == EventKind.ENDORSEMENT_REQUESTED.value and e.note == CHANNEL_REQUEST
    ]
    return requests[-1] if requests else None


def _channel_of(conversation_id: str) -> str:
    """A Teams channel conversation id without its thread (';messageid=…')."""
    return conversation_id.split(";messageid=", 1)[0]


def _copy_fields(source: Proposal, target: Proposal) -> list[str]:
    """Copy every field RUG may ask about from a complemented draft; return those that changed."""
    changed: list[str] = []
    for spec in FIELD_BY_ID.values():
        if not spec.complementable:
            continue
        moved = False
        for attribute in spec.attributes:
            new = get_value(source, attribute)
            if new != get_value(target, attribute):
                set_value(target, attribute, copy.deepcopy(new))
                moved = True
        if moved:
            changed.append(spec.id)
    return changed


def _requested_fields(raw: Any) -> list[str]:
    """The fields RUG ticked on the card ("a,b"); only known field names pass."""
    if not isinstance(raw, str):
        return []
    picked = [part.strip() for part in raw.split(",")[: len(COMPLEMENTABLE_FIELD_IDS)]]
    return [f for f in COMPLEMENTABLE_FIELD_IDS if f in picked]
