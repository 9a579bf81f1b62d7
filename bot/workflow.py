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
- Every state change is saved with a history event and appended to the audit log; nothing is
  deleted. Messages to people and to the channel go through a durable outbox.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationReference

from bot.mailer import build_message, send_message
from bot.rug_delivery import Delivery, NotYetDeliverable, Outbox, Record, RetryPolicy
from bot.rug_document import FIELD_ORDER, checklist, initiator_line, sections
from dialogs.replies import card_activity, locale_for, user_key
from knowledge.personnummer import contains_identity_number
from knowledge.rug import Person
from knowledge.similar import Candidate, find_similar
from knowledge.skallkrav import CheckContext, check_proposal
from storage.proposals import Decision, Endorsement, Proposal, Status
from storage.repository import Draft, utc_now

if TYPE_CHECKING:
    from bot.services import Services
    from dialogs.actions import CardAction

logger = logging.getLogger(__name__)

OPEN_STATUSES = (Status.AWAITING_ENDORSEMENT, Status.WITH_RUG, Status.MORE_INFO_REQUESTED)
DECISION_CHOICES = (Status.APPROVED, Status.REJECTED, Status.MORE_INFO_REQUESTED)
# Fields RUG can ask the initiator to complement (the RUG contact is not theirs to change).
COMPLEMENT_FIELDS = tuple(f for f in FIELD_ORDER if f != "rug_contact")
# The template fields copied from a complemented draft back to the proposal.
_COPIED_FIELDS = (
    "title",
    "background",
    "description",
    "organisations",
    "target_groups",
    "goal_properties",
    "success_factors",
    "expected_effects",
    "follow_up",
    "resources",
    "time_plan",
)
MAX_COMMENT_CHARS = 2000
CARD_KEY = "rugcard/{}"
COMPLEMENT_KEY = "complement/{}"
STASH_KEY = "complement-stash/{}"
SV = "sv"


@dataclass(frozen=True)
class OpenedComplement:
    """The draft to complement and where to start, or the text key of why not."""

    draft: Draft | None = None
    first_step: str = ""
    intro: str = ""
    error: str = ""


def channel_reference(turn_context: TurnContext) -> dict[str, Any]:
    """The channel's own reference: new posts start a thread instead of replying in one."""
    reference = TurnContext.get_conversation_reference(turn_context.activity)
    if reference.conversation is not None and reference.conversation.id:
        # Teams: a channel message's conversation id is "19:…@thread.tacv2;messageid=…";
        # posting to that id answers in the thread, without the suffix it starts a new post.
        reference.conversation.id = reference.conversation.id.split(";messageid=")[0]
    reference.activity_id = None
    return dict(reference.serialize())


class RugWorkflow:
    """Moves proposals through RUG and keeps everyone informed; built once per process."""

    def __init__(self, services: Services, retry: RetryPolicy | None = None) -> None:
        self._s = services
        self.outbox = Outbox(services.settings.data_dir / "outbox.json")
        self.delivery = Delivery(self.outbox, retry)
        self.delivery.register("person", self._send_to_person)
        self.delivery.register("channel", self._send_to_channel)
        self.delivery.register("mail", self._send_mail)
        self.delivery.on_delivered("rug_card", self._remember_card)
        # One decision at a time: a double click must not decide twice.
        self._lock = asyncio.Lock()

    # ----- helpers ---------------------------------------------------------------------

    @property
    def _repo(self) -> Any:
        return self._s.records.proposals

    @property
    def _check_context(self) -> CheckContext:
        s = self._s
        return CheckContext(target_groups=s.target_groups, malbild=s.malbild, rug=s.rug)

    def _t(self, key: str, locale: str = SV, **values: Any) -> str:
        return self._s.texts.get(key, locale, **values)

    @staticmethod
    def _actor(turn_context: TurnContext) -> str:
        sender = turn_context.activity.from_property
        return (sender.aad_object_id or "") if sender else ""

    def is_rug_member(self, aad: str) -> bool:
        """True when the Entra object id belongs to a configured RUG member."""
        return self._s.rug.by_aad(aad) is not None

    def is_admin(self, aad: str) -> bool:
        """True when the Entra object id belongs to a configured admin."""
        return self._s.admins.by_aad(aad) is not None

    async def _audit(self, who: str, action: str, subject: str, **details: Any) -> None:
        await self._s.records.audit.append(who or "okänd", action, subject, details)

    async def _checked_click(
        self, turn_context: TurnContext, action: str, pid: str, choice_ok: bool, text: Any
    ) -> tuple[str, Person, str] | None:
        """A RUG card click, checked: a RUG member, a known choice, no personnummer in the text.

        Returns (acting object id, member, cleaned text), or None after telling the user why not.
        """
        locale = locale_for(turn_context)
        aad = self._actor(turn_context)
        member = self._s.rug.by_aad(aad)
        if member is None:
            await self._refuse(turn_context, action, pid)
            return None
        cleaned = str(text or "").strip()[:MAX_COMMENT_CHARS]
        if not choice_ok:
            await turn_context.send_activity(self._t("general.bad_card", locale))
            return None
        if contains_identity_number(cleaned):
            await turn_context.send_activity(self._t("general.identity_number", locale))
            return None
        return aad, member, cleaned

    async def _refuse(self, turn_context: TurnContext, action: str, subject: str) -> None:
        aad = self._actor(turn_context)
        sender = turn_context.activity.from_property
        logger.warning("refused %s on %s by %r: not a RUG member", action, subject, aad)
        await self._audit(
            aad, f"{action}_refused", subject, name=(sender.name or "") if sender else ""
        )
        await turn_context.send_activity(self._t("rug.not_member", locale_for(turn_context)))

    @staticmethod
    async def _reply(turn_context: TurnContext, text: str) -> None:
        """A confirmation after the change is stored; if it cannot be sent, the change stands."""
        try:
            await turn_context.send_activity(text)
        except Exception:
            logger.exception("could not confirm to the user; the change is stored")

    async def _update_card(self, turn_context: TurnContext, card: dict[str, Any]) -> None:
        """Replace the clicked card in place (its id is the click's replyToId)."""
        card_id = turn_context.activity.reply_to_id
        if not card_id:
            return
        activity = card_activity(card)
        activity.id = card_id
        try:
            await turn_context.update_activity(activity)
        except Exception:
            logger.exception("could not update the card %s", card_id)

    # ----- where RUG is ------------------------------------------------------------------

    async def register_channel(self, turn_context: TurnContext) -> str:
        """'registrera RUG-kanal' typed in a channel by a RUG member or admin; returns the reply."""
        locale = locale_for(turn_context)
        aad = self._actor(turn_context)
        if not (self.is_rug_member(aad) or self.is_admin(aad)):
            logger.warning("refused to register the RUG channel for %r", aad)
            await self._audit(aad, "rug_channel_refused", "rug_channel")
            return self._t("rug.channel.not_allowed", locale)
        conversation = turn_context.activity.conversation
        if conversation is None or conversation.conversation_type != "channel":
            return self._t("rug.channel.only_in_channel", locale)
        await self._store_channel(turn_context, aad)
        return self._t("rug.channel.registered", locale)

    async def bot_added_to_channel(self, turn_context: TurnContext) -> bool:
        """The bot was added to a team channel: register it when a RUG member/admin added it."""
        aad = self._actor(turn_context)
        if not (self.is_rug_member(aad) or self.is_admin(aad)):
            return False
        await self._store_channel(turn_context, aad)
        return True

    async def _store_channel(self, turn_context: TurnContext, aad: str) -> None:
        reference = channel_reference(turn_context)
        await self._s.records.references.set_rug_channel(reference, by=aad)
        await self._audit(
            aad, "rug_channel_registered", "rug_channel", conversation=reference["conversation"]
        )
        # Cards that waited for the channel can go now.
        self.delivery.wake()

    # ----- submission and endorsement ------------------------------------------------------

    async def submitted(self, turn_context: TurnContext, proposal: Proposal) -> None:
        """A new proposal: ask the RUG member it names to endorse it (skallkrav 4)."""
        await self._request_endorsement(proposal)

    async def _request_endorsement(self, proposal: Proposal) -> None:
        member = self._s.rug.find(proposal.rug_contact) if proposal.rug_contact else None
        if member is None:
            # No (known) RUG contact: it waits for endorsement; "Mina förslag" says so.
            logger.info("%s has no known RUG contact; it waits for endorsement", proposal.id)
            return
        personal = (
            await self._s.records.references.personal(member.aad_object_id)
            if member.aad_object_id
            else None
        )
        in_channel = personal is None
        card = self._endorse_card(proposal, member, mention=in_channel)
        activity = card_activity(card, self._t("rug.endorse.summary", id=proposal.id))
        now = utc_now()
        proposal.record(now, "Omtanke", "endorsement_requested", member.name)
        await self._repo.save(
            proposal,
            "omtanke",
            "endorsement_requested",
            {"member": member.name, "where": "channel" if in_channel else "personal"},
        )
        purpose = {"kind": "endorse_card", "proposal": proposal.id}
        if in_channel:
            await self.delivery.send("channel", "rug", {"activity": activity.serialize()}, purpose)
        else:
            await self.delivery.send(
                "person", member.aad_object_id, {"activity": activity.serialize()}, purpose
            )

    def _endorse_card(
        self, proposal: Proposal, member: Person, mention: bool, state: str = ""
    ) -> dict[str, Any]:
        mention_text = f"<at>{member.name}</at>"
        data = {
            "heading": f"{proposal.id} {proposal.title}",
            "ask": self._t(
                "rug.endorse.ask_mention" if mention else "rug.endorse.ask",
                mention=mention_text,
                initiator=initiator_line(proposal),
            ),
            "facts": [
                {"title": s.label, "value": s.value}
                for s in sections(proposal, self._s.texts)
                if s.field in ("organisations", "target_groups", "initiator_org")
            ],
            "description": proposal.description,
            "proposal": proposal.id,
            "open": not state,
            "state": state,
            "has_state": bool(state),
        }
        card = self._s.cards.render("rug_endorse", data)
        if mention and member.aad_object_id and not state:
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

    async def endorse(self, turn_context: TurnContext, action: CardAction) -> None:
        """'Förankra' or 'Inte nu' on an endorsement request."""
        locale = locale_for(turn_context)
        pid = str(action.get("proposal"))
        choice = str(action.get("choice"))
        checked = await self._checked_click(
            turn_context, "endorsement", pid, choice in ("yes", "no"), action.get("comment")
        )
        if checked is None:
            return
        aad, member, comment = checked
        async with self._lock:
            proposal = await self._repo.get(pid)
            if proposal is None:
                await turn_context.send_activity(self._t("rug.not_found", locale, id=pid))
                return
            if proposal.status != Status.AWAITING_ENDORSEMENT or proposal.rug_endorsement:
                status = self._t(f"status.{proposal.status}", locale)
                await turn_context.send_activity(
                    self._t("rug.endorse.already", locale, id=pid, status=status)
                )
                state = self._t("rug.endorse.state_closed", status=status)
                await self._update_card(
                    turn_context, self._endorse_card(proposal, member, False, state)
                )
                return
            now = utc_now()
            if choice == "yes":
                proposal.rug_endorsement = Endorsement(
                    name=member.name,
                    at=now,
                    email=member.email,
                    aad_object_id=member.aad_object_id,
                )
                proposal.record(now, member.name, "endorsed", comment)
                await self._repo.save(
                    proposal, aad, "endorsed", {"name": member.name, "comment": comment}
                )
                state = self._t("rug.endorse.state_yes", name=member.name, when=now[:10])
            else:
                proposal.record(now, member.name, "endorsement_declined", comment)
                await self._repo.save(
                    proposal,
                    aad,
                    "endorsement_declined",
                    {"name": member.name, "comment": comment},
                )
                state = self._t("rug.endorse.state_no", name=member.name, when=now[:10])
            # Everything that must happen is stored and queued before the clicker hears back:
            # a failing reply must not leave the proposal half-way.
            note = self._t("rug.notify.comment", comment=comment) if comment else ""
            if choice == "no":
                await self._notify_initiator(
                    proposal,
                    "rug.notify.declined.title",
                    [self._t("rug.notify.declined.text", name=member.name), note],
                )
            else:
                await self._notify_initiator(
                    proposal,
                    "rug.notify.endorsed.title",
                    [self._t("rug.notify.endorsed.text", name=member.name), note],
                )
                result = check_proposal(proposal, self._check_context)
                if result.complete:
                    await self._forward(proposal, member.name, "forwarded")
                else:
                    # Something changed since submission (e.g. the target-group list).
                    missing = " ".join(i.message for i in result.items if not i.met)
                    await self._ask_for_more(proposal, "Omtanke", "omtanke", missing, [])
            await self._update_card(
                turn_context, self._endorse_card(proposal, member, False, state)
            )
            await self._reply(turn_context, self._t(f"rug.endorse.thanks_{choice}", locale, id=pid))

    # ----- forwarding to RUG ---------------------------------------------------------------

    async def _forward(self, proposal: Proposal, who: str, reason: str) -> None:
        """Status 'hos RUG'; the case card to the channel and, if configured, the e-mail."""
        now = utc_now()
        proposal.status = Status.WITH_RUG
        proposal.record(now, who, "forwarded")
        await self._repo.save(proposal, "omtanke", "forwarded", {"reason": reason})
        card = await self._case_card(proposal)
        activity = card_activity(card, self._t("rug.case.summary", id=proposal.id))
        await self.delivery.send(
            "channel",
            "rug",
            {"activity": activity.serialize()},
            {"kind": "rug_card", "proposal": proposal.id},
        )
        smtp = self._s.settings.smtp
        if smtp is not None:
            await self.delivery.send(
                "mail", smtp.recipient, {"proposal": proposal.id, "reason": reason}
            )

    async def _case_card(self, proposal: Proposal, state: str = "") -> dict[str, Any]:
        texts = self._s.texts
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
                {"label": s.label, "value": s.value} for s in sections(proposal, texts)[1:]
            ],
            "checks": [
                {"line": line, "color": "Good" if met else "Attention"}
                for met, line in checklist(proposal, self._check_context)
            ],
            "similar": similar,
            "has_similar": bool(similar),
            "field_choices": [
                {"title": self._t(f"proposal.field.{f}"), "value": f} for f in COMPLEMENT_FIELDS
            ],
            "proposal": proposal.id,
            "open": not state,
            "state": state,
            "has_state": bool(state),
        }
        return self._s.cards.render("rug_case", data)

    async def _remember_card(self, item: Record, activity_id: str) -> None:
        """The case card's id in the channel, so a click on an older card is known as stale."""
        pid = str(item["purpose"].get("proposal"))
        await self._s.state_store.write(
            {CARD_KEY.format(pid): {"activity_id": activity_id, "at": utc_now()}}
        )

    async def _current_card(self, pid: str) -> str:
        key = CARD_KEY.format(pid)
        doc = (await self._s.state_store.read([key])).get(key)
        return str(doc["activity_id"]) if doc else ""

    # ----- decisions ---------------------------------------------------------------------

    async def decide(self, turn_context: TurnContext, action: CardAction) -> None:
        """'Bifall', 'Avslag' or 'Begär komplettering' on a case card in the RUG channel."""
        locale = locale_for(turn_context)
        pid = str(action.get("proposal"))
        outcome = str(action.get("outcome"))
        checked = await self._checked_click(
            turn_context, "decision", pid, outcome in DECISION_CHOICES, action.get("motivation")
        )
        if checked is None:
            return
        aad, member, motivation = checked
        async with self._lock:
            proposal = await self._repo.get(pid)
            if proposal is None:
                await turn_context.send_activity(self._t("rug.not_found", locale, id=pid))
                return
            if proposal.status in Status.FINAL and proposal.decision is not None:
                await turn_context.send_activity(
                    self._t("rug.decide.already", locale, id=pid, state=self._decided(proposal))
                )
                await self._update_card(
                    turn_context, await self._case_card(proposal, self._decided(proposal))
                )
                return
            if proposal.status != Status.WITH_RUG:
                state = self._t(
                    "rug.case.state_waiting", status=self._t(f"status.{proposal.status}")
                )
                await turn_context.send_activity(self._t("rug.decide.not_with_rug", locale, id=pid))
                await self._update_card(turn_context, await self._case_card(proposal, state))
                return
            current = await self._current_card(pid)
            clicked = turn_context.activity.reply_to_id
            if clicked and current and clicked != current:
                await turn_context.send_activity(self._t("rug.decide.stale", locale, id=pid))
                await self._update_card(
                    turn_context,
                    await self._case_card(proposal, self._t("rug.case.state_stale")),
                )
                return
            if outcome != Status.APPROVED and not motivation:
                await turn_context.send_activity(
                    self._t(f"rug.decide.motivation_needed.{outcome}", locale)
                )
                return
            if outcome == Status.MORE_INFO_REQUESTED:
                fields = _requested_fields(action.get("fields"))
                await self._ask_for_more(proposal, member.name, aad, motivation, fields)
                state = self._t(
                    "rug.case.state_more_info",
                    by=member.name,
                    when=utc_now()[:10],
                    motivation=motivation,
                )
            else:
                await self._record_decision(proposal, member, aad, outcome, motivation)
                state = self._decided(proposal)
            await self._update_card(turn_context, await self._case_card(proposal, state))
            await self._reply(turn_context, self._t("rug.decide.done", locale, id=pid))

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

    async def _record_decision(
        self, proposal: Proposal, member: Person, aad: str, outcome: str, motivation: str
    ) -> None:
        now = utc_now()
        proposal.decision = Decision(outcome=outcome, by=member.name, at=now, motivation=motivation)
        proposal.status = outcome
        proposal.record(now, member.name, outcome, motivation)
        await self._repo.save(
            proposal,
            aad,
            "decided",
            {"outcome": outcome, "name": member.name, "motivation": motivation},
        )
        motivation_line = (
            self._t("rug.notify.motivation", motivation=motivation) if motivation else ""
        )
        await self._notify_initiator(
            proposal,
            f"rug.notify.{outcome}.title",
            [
                self._t(f"rug.notify.{outcome}.text", id=proposal.id),
                motivation_line,
                self._t(f"rug.notify.{outcome}.next"),
            ],
        )

    async def _ask_for_more(
        self, proposal: Proposal, who: str, aad: str, motivation: str, fields: list[str]
    ) -> None:
        now = utc_now()
        proposal.status = Status.MORE_INFO_REQUESTED
        proposal.record(now, who, "komplettering_begard", motivation)
        await self._repo.save(
            proposal, aad, "komplettering_begard", {"motivation": motivation, "fields": fields}
        )
        await self._s.state_store.write(
            {
                COMPLEMENT_KEY.format(proposal.id): {
                    "fields": fields,
                    "motivation": motivation,
                    "by": who,
                    "at": now,
                }
            }
        )
        labels = ", ".join(self._t(f"proposal.field.{f}") for f in fields)
        await self._notify_initiator(
            proposal,
            "rug.notify.komplettering_begard.title",
            [
                self._t("rug.notify.komplettering_begard.text", id=proposal.id),
                self._t("rug.notify.fields", fields=labels) if labels else "",
                self._t("rug.notify.motivation", motivation=motivation),
                self._t("rug.notify.komplettering_begard.next"),
            ],
            complement=True,
        )

    # ----- komplettering -------------------------------------------------------------------

    async def open_complement(self, person: str, pid: str) -> OpenedComplement:
        """A draft copy of the proposal for its initiator to complement; any other draft is kept."""
        repo = self._repo
        proposal = await repo.get(pid)
        if proposal is None or proposal.initiator.aad_object_id != person:
            return OpenedComplement(error="rug.complement.not_yours")
        if proposal.status != Status.MORE_INFO_REQUESTED:
            return OpenedComplement(error="rug.complement.not_requested")
        key = COMPLEMENT_KEY.format(pid)
        request = (await self._s.state_store.read([key])).get(key) or {}
        fields = [f for f in request.get("fields", []) if f in COMPLEMENT_FIELDS]
        existing = await repo.draft_of(person)
        if existing is not None and existing.proposal.id == pid:
            draft = existing
        else:
            if existing is not None and existing.proposal.id:
                return OpenedComplement(error="rug.complement.other_in_progress")
            if existing is not None:
                # Their own new idea waits aside and comes back after the complement.
                await self._s.state_store.write(
                    {STASH_KEY.format(person): {"proposal": existing.proposal.to_dict()}}
                )
            draft = await repo.new_draft(person, Proposal.from_dict(proposal.to_dict()))
        labels = ", ".join(self._t(f"proposal.field.{f}") for f in fields)
        intro = self._t(
            "rug.complement.intro",
            id=pid,
            motivation=request.get("motivation") or self._t("proposal.not_given"),
        )
        if labels:
            intro += "\n\n" + self._t("rug.notify.fields", fields=labels)
        return OpenedComplement(draft=draft, first_step=fields[0] if fields else "", intro=intro)

    async def resubmitted(self, turn_context: TurnContext, draft: Draft) -> str:
        """The initiator sent the complemented proposal: back to RUG. Returns the reply."""
        locale = locale_for(turn_context)
        person = user_key(turn_context)
        async with self._lock:
            proposal = await self._repo.get(draft.proposal.id)
            if proposal is None or proposal.initiator.aad_object_id != person:
                return self._t("rug.complement.not_yours", locale)
            if proposal.status != Status.MORE_INFO_REQUESTED:
                return self._t("rug.complement.not_requested", locale)
            changed = [
                f for f in _COPIED_FIELDS if getattr(proposal, f) != getattr(draft.proposal, f)
            ]
            for name in _COPIED_FIELDS:
                setattr(proposal, name, getattr(draft.proposal, name))
            if proposal.initiator.organisation != draft.proposal.initiator.organisation:
                changed.append("initiator_org")
                proposal.initiator.organisation = draft.proposal.initiator.organisation
            who = proposal.initiator.name or person
            proposal.record(utc_now(), who, "completed", ", ".join(changed))
            await self._repo.save(proposal, person, "completed", {"fields": changed})
            await self._repo.discard_draft(person, person, "complemented")
            restored = await self._restore_stash(person)
            if proposal.rug_endorsement is not None:
                await self._forward(proposal, who, "resubmitted")
            else:
                proposal.status = Status.AWAITING_ENDORSEMENT
                await self._repo.save(proposal, person, "awaiting_endorsement")
                await self._request_endorsement(proposal)
        reply = self._t("rug.complement.sent", locale, id=proposal.id)
        if restored:
            reply += " " + self._t("rug.complement.stash_restored", locale)
        return reply

    async def _restore_stash(self, person: str) -> bool:
        key = STASH_KEY.format(person)
        doc = (await self._s.state_store.read([key])).get(key)
        if not doc:
            return False
        await self._repo.new_draft(person, Proposal.from_dict(doc["proposal"]))
        await self._s.state_store.delete([key])
        return True

    # ----- the initiator's feedback --------------------------------------------------------

    async def _notify_initiator(
        self, proposal: Proposal, title_key: str, lines: list[str], complement: bool = False
    ) -> None:
        title = self._t(title_key, id=proposal.id, title=proposal.title)
        data = {
            "title": title,
            "lines": [{"text": line} for line in lines if line],
            "complement": complement,
            "proposal": proposal.id,
        }
        card = self._s.cards.render("rug_notice", data)
        activity = card_activity(card, title)
        person = proposal.initiator.aad_object_id
        await self.delivery.send(
            "person",
            person,
            {"activity": activity.serialize()},
            {"kind": "notice", "proposal": proposal.id},
        )

    # ----- status for RUG ------------------------------------------------------------------

    async def cases_activity(self, turn_context: TurnContext) -> Activity:
        """'Ärenden hos RUG': open proposals, oldest first; only for RUG members and admins."""
        locale = locale_for(turn_context)
        aad = self._actor(turn_context)
        if not (self.is_rug_member(aad) or self.is_admin(aad)):
            return Activity(type="message", text=self._t("rug.cases.not_allowed", locale))
        open_ones = sorted(
            (p for p in await self._repo.all() if p.status in OPEN_STATUSES),
            key=lambda p: p.created_at,
        )
        if not open_ones:
            return Activity(type="message", text=self._t("rug.cases.none", locale))
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
            }
            for p in open_ones
        ]
        card = self._s.cards.render("rug_cases", {"items": items}, locale)
        return card_activity(card, self._t("rug.cases.title", locale))

    # ----- delivery --------------------------------------------------------------------------

    async def _send_to_person(self, item: Record) -> str:
        reference = await self._s.records.references.personal(str(item["target"]))
        if reference is None:
            raise NotYetDeliverable("the bot has no personal chat with this person yet")
        return await self._proactive(reference, item["payload"]["activity"])

    async def _send_to_channel(self, item: Record) -> str:
        reference = await self._s.records.references.rug_channel()
        if reference is None:
            raise NotYetDeliverable("the RUG channel is not registered yet")
        return await self._proactive(reference, item["payload"]["activity"])

    async def _proactive(self, reference: dict[str, Any], activity: dict[str, Any]) -> str:
        adapter = self._s.adapter
        if adapter is None:
            raise NotYetDeliverable("the adapter is not running")
        outcome: dict[str, Any] = {}

        async def send(turn_context: TurnContext) -> None:
            # SDK surprise: run_pipeline hands a callback's exception to on_turn_error (which
            # clears that conversation's dialog) and swallows it; catch it here to retry.
            try:
                response = await turn_context.send_activity(Activity().deserialize(activity))
                outcome["id"] = (response.id or "") if response else ""
            except Exception as error:
                outcome["error"] = error

        # Positional: CloudAdapter calls it bot_app_id, the SDK's TestAdapter bot_id.
        await adapter.continue_conversation(
            ConversationReference().deserialize(reference), send, self._s.settings.app_id or None
        )
        if "error" in outcome:
            raise outcome["error"]
        if "id" not in outcome:
            raise RuntimeError("the proactive turn did not run")
        return str(outcome["id"])

    async def _send_mail(self, item: Record) -> str:
        smtp = self._s.settings.smtp
        if smtp is None:
            raise NotYetDeliverable("e-mail (OMTANKE_SMTP_HOST) is not configured")
        pid = str(item["payload"]["proposal"])
        proposal = await self._repo.get(pid)
        if proposal is None:
            raise RuntimeError(f"proposal {pid} not found")
        checks = checklist(proposal, self._check_context)
        message = await asyncio.to_thread(
            build_message,
            smtp,
            proposal,
            self._s.texts,
            checks,
            str(item["payload"].get("reason", "forwarded")),
        )
        await send_message(smtp, message)
        logger.info("e-mailed %s to %s", pid, smtp.recipient)
        return str(message["Message-ID"])

    # ----- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start delivering the outbox in the background (pending items go out at once)."""
        self.delivery.start()

    async def close(self) -> None:
        """Stop the worker and close the outbox; undelivered items wait for the next start."""
        await self.delivery.stop()
        await self.outbox.close()


def _requested_fields(raw: Any) -> list[str]:
    """The fields RUG ticked on the card ("a,b"); only known field names pass."""
    if not isinstance(raw, str):
        return []
    picked = [part.strip() for part in raw.split(",")[: len(COMPLEMENT_FIELDS)]]
    return [f for f in COMPLEMENT_FIELDS if f in picked]


def workflow_worker(get_services: Callable[[web.Application], Services]) -> Any:
    """An aiohttp cleanup_ctx that delivers the outbox while the app runs (and at start-up)."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        workflow = get_services(app).workflow
        if workflow is not None:
            workflow.start()
        yield
        if workflow is not None:
            await workflow.delivery.stop()

    return ctx
