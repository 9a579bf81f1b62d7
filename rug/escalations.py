"""The escalation loop: a declined question goes to the coordinators and comes back answered.

question declined → the asker presses "Skicka frågan till samordnarna" → the question is stored
with who asked (name, e-mail when known, Entra id, their chat) → a card goes to the
coordinators' channel through the durable outbox → a coordinator answers in the card (or marks
it handled) → the answer goes to the asker's chat, the card is updated in place, the audit log
records it.

Modelled on rug.workflow:
- Who may answer is taken from the acting user's Entra object id and the configured
  coordinators' list (OMTANKE_COORDINATORS), never from card data; a refused click is logged
  and audited.
- The coordinators' channel is registered like RUG's ("registrera samordnarkanal", typed in the
  channel by a coordinator or an admin).
- An escalation is answered once: the eTag of its record decides between two clicks, and a
  second click is told who answered.
- Messages go through the outbox under ids made from the escalation's id, so storing one twice
  is once; `recover` (start-up) re-adds any a crash left out.

Plain Python over the storage interfaces: no botbuilder.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from domain.clock import utc_now
from domain.personnummer import contains_identity_number
from knowledge.rug import PeopleDirectory, Person
from presentation.activities import card_activity, text_activity
from presentation.cards import CardTemplates
from presentation.texts import DEFAULT_LOCALE, Texts
from rug.model import Actor, Outcome
from storage import layout
from storage.errors import ETagConflictError
from storage.records import Record, Records, outbox_item

logger = logging.getLogger(__name__)

OPEN, ANSWERED, HANDLED = "open", "answered", "handled"
MAX_ANSWER_CHARS = 2000
# The question as the card title and the asker's notice quote it.
_ABOUT_CHARS = 80
_CONFLICT_RETRIES = 5
# The ids storage.records.EscalationLog makes (and the migration of the old layout):
# "<ISO time with milliseconds>-<8 hex digits>".
_ESCALATION_ID = re.compile(r"^[0-9][0-9T:.+\-]{9,40}-[0-9a-f]{8}$")
CHANNEL_TARGET = "coordinators"


def is_escalation_id(value: str) -> bool:
    """Whether a card's escalation field has the form of a stored escalation's id."""
    return bool(_ESCALATION_ID.fullmatch(value))


def status_of(record: Record) -> str:
    """open, answered or handled; records from before the loop have only "handled"."""
    status = str(record.get("status") or "")
    if status in (OPEN, ANSWERED, HANDLED):
        return status
    return HANDLED if record.get("handled") else OPEN


def about(question: str) -> str:
    """The question shortened for a title: "Svar på din fråga om …"."""
    text = " ".join(question.split())
    return text if len(text) <= _ABOUT_CHARS else text[: _ABOUT_CHARS - 1].rstrip() + "…"


def _card_item_id(escalation_id: str) -> str:
    return f"escalation-card-{escalation_id}"


def _notice_item_id(escalation_id: str) -> str:
    return f"escalation-notice-{escalation_id}"


class EscalationDesk:
    """Passes declined questions to the coordinators and their answers back; one per process."""

    def __init__(
        self,
        *,
        records: Records,
        texts: Texts,
        cards: CardTemplates,
        coordinators: PeopleDirectory,
        admins: PeopleDirectory,
        known_people: tuple[PeopleDirectory, ...] = (),
    ) -> None:
        self._records = records
        self._log = records.escalations
        self._texts = texts
        self._cards = cards
        self._coordinators = coordinators
        self._admins = admins
        # Lists an asker's e-mail address may be found in (Teams does not send it).
        self._known = (coordinators, admins, *known_people)
        self._lock = asyncio.Lock()

    def _t(self, key: str, locale: str = DEFAULT_LOCALE, **values: Any) -> str:
        return self._texts.get(key, locale, **values)

    def is_coordinator(self, aad: str) -> bool:
        """True when the Entra object id belongs to a configured coordinator."""
        return self._coordinators.by_aad(aad) is not None

    async def _audit(self, who: str, action: str, subject: str, **details: Any) -> None:
        await self._records.audit.append(who, action, subject, details)

    # ----- where the coordinators are ------------------------------------------------------

    async def register_channel(self, actor: Actor, reference: dict[str, Any]) -> str:
        """'registrera samordnarkanal' typed in a channel by a coordinator or an admin."""
        if not (self.is_coordinator(actor.aad) or self._admins.by_aad(actor.aad) is not None):
            logger.warning("refused to register the coordinators' channel for %r", actor.aad)
            await self._audit(actor.aad, "coordinator_channel_refused", "coordinator_channel")
            return self._t("escalation.channel.not_allowed", actor.locale)
        if actor.conversation_type != "channel":
            return self._t("escalation.channel.only_in_channel", actor.locale)
        await self._records.references.set_channel(
            layout.COORDINATOR_CHANNEL, reference, by=actor.aad
        )
        await self._audit(
            actor.aad,
            "coordinator_channel_registered",
            "coordinator_channel",
            conversation=reference.get("conversation"),
        )
        return self._t("escalation.channel.registered", actor.locale)

    # ----- a question passed on --------------------------------------------------------------

    def _email_of(self, aad: str) -> str:
        for directory in self._known:
            person = directory.by_aad(aad)
            if person is not None and person.email:
                return person.email
        return ""

    async def escalate(
        self, actor: Actor, user: str, user_id: str, question: str, email: str = ""
    ) -> tuple[Record, list[str]]:
        """Store the question with who asked and queue its card; (record, outbox ids to try).

        `user` is the turn's person key (the Entra id, else channel:id), `user_id` the Teams
        user id the personal chat is stored under when there is no Entra id.
        """
        record = await self._log.record(
            user,
            question,
            actor.locale,
            name=actor.name,
            email=email or self._email_of(actor.aad),
            aad=actor.aad,
            user_id=user_id,
            conversation_id=actor.conversation_id,
            status=OPEN,
        )
        await self._audit(actor.aad or user, "escalated", str(record["id"]), name=actor.name)
        item = await self._records.outbox.add(self._card_item(record))
        return record, [item.id]

    def _card_item(self, record: Record) -> Record:
        activity = card_activity(
            self.card(record), self._t("escalation.card.summary", about=about(record["question"]))
        )
        return outbox_item(
            "channel",
            CHANNEL_TARGET,
            {"activity": activity},
            {"kind": "escalation_card", "escalation": record["id"]},
            item_id=_card_item_id(str(record["id"])),
        )

    def card(self, record: Record) -> dict[str, Any]:
        """The card in the coordinators' channel: open with an answer box, or its outcome."""
        status = status_of(record)
        when = str(record.get("at", ""))[:16].replace("T", " ")
        facts = [
            {"title": self._t("escalation.card.from"), "value": record.get("name") or "–"},
            {
                "title": self._t("escalation.card.email"),
                "value": record.get("email") or self._t("escalation.card.email_unknown"),
            },
            {"title": self._t("escalation.card.asked"), "value": when},
        ]
        state = ""
        if status == ANSWERED:
            state = self._t(
                "escalation.card.state_answered",
                by=record.get("answered_by", ""),
                when=str(record.get("answered_at", ""))[:16].replace("T", " "),
                answer=record.get("answer", ""),
            )
        elif status == HANDLED:
            state = self._t(
                "escalation.card.state_handled",
                by=record.get("answered_by") or "–",
                when=str(record.get("answered_at", ""))[:16].replace("T", " "),
            )
        data = {
            "question": record["question"],
            "facts": facts,
            "escalation": record["id"],
            "open": status == OPEN,
            "state": state,
            "has_state": bool(state),
        }
        return self._cards.render("escalation", data)

    # ----- a coordinator answers -------------------------------------------------------------

    async def answer(self, actor: Actor, data: dict[str, Any]) -> Outcome:
        """'Skicka svar' on the card: the answer to the asker, the card closed."""
        return await self._close(actor, data, ANSWERED)

    async def mark_handled(self, actor: Actor, data: dict[str, Any]) -> Outcome:
        """'Markera som klar': handled some other way; the asker is told it was taken care of."""
        return await self._close(actor, data, HANDLED)

    async def _close(self, actor: Actor, data: dict[str, Any], to: str) -> Outcome:
        eid = str(data.get("escalation"))
        action = "escalation_answer" if to == ANSWERED else "escalation_handled"
        outcome = Outcome()
        coordinator = self._coordinators.by_aad(actor.aad)
        if coordinator is None:
            logger.warning("refused %s on %r by %r: not a coordinator", action, eid, actor.aad)
            await self._audit(actor.aad, f"{action}_refused", eid, name=actor.name)
            refusal = self._t("escalation.not_coordinator", actor.locale)
            outcome.replies.append(text_activity(refusal))
            return outcome
        text = str(data.get("answer") or "").strip()
        if contains_identity_number(text):
            outcome.replies.append(text_activity(self._t("general.identity_number", actor.locale)))
            return outcome
        text = text[:MAX_ANSWER_CHARS]
        if to == ANSWERED and not text:
            outcome.replies.append(text_activity(self._t("escalation.answer_needed", actor.locale)))
            return outcome
        async with self._lock:
            for _ in range(_CONFLICT_RETRIES):
                outcome = Outcome()
                try:
                    await self._apply(actor, coordinator, eid, to, text, outcome)
                except ETagConflictError:
                    logger.info("an escalation changed under a click; looking again")
                    continue
                return outcome
        raise ETagConflictError("the escalation kept changing; the click was not applied")

    async def _apply(
        self, actor: Actor, coordinator: Person, eid: str, to: str, text: str, outcome: Outcome
    ) -> None:
        locale = actor.locale
        found = await self._log.get(eid)
        if found is None:
            outcome.replies.append(text_activity(self._t("escalation.not_found", locale)))
            return
        record = dict(found.document)
        if status_of(record) != OPEN:
            key = (
                "escalation.already_answered"
                if status_of(record) == ANSWERED
                else "escalation.already_handled"
            )
            by = record.get("answered_by") or "–"
            when = str(record.get("answered_at", ""))[:10]
            outcome.replies.append(text_activity(self._t(key, locale, by=by, when=when)))
            outcome.card = self.card(record)
            return
        now = utc_now()
        record.update(
            status=to,
            handled=True,
            answered_by=coordinator.name,
            answered_by_aad=actor.aad,
            answered_at=now,
        )
        if to == ANSWERED:
            record["answer"] = text
        await self._log.update(record, found.etag)
        await self._audit(
            actor.aad,
            "escalation_answered" if to == ANSWERED else "escalation_handled",
            eid,
            name=coordinator.name,
            asker=record.get("aad") or record.get("user"),
        )
        item = await self._records.outbox.add(self._notice_item(record))
        outcome.deliver.append(item.id)
        outcome.card = self.card(record)
        done = "escalation.answer_sent" if to == ANSWERED else "escalation.handled_done"
        outcome.replies.append(
            text_activity(self._t(done, locale, name=record.get("name") or "–"))
        )

    def _notice_item(self, record: Record) -> Record:
        """The message to the asker's chat, in the language they asked in."""
        locale = str(record.get("locale") or DEFAULT_LOCALE)
        title = self._t("escalation.notice.title", locale, about=about(record["question"]))
        if status_of(record) == ANSWERED:
            body = self._t(
                "escalation.notice.answered",
                locale,
                title=title,
                answer=record.get("answer", ""),
                by=record.get("answered_by", ""),
            )
        else:
            body = self._t(
                "escalation.notice.handled",
                locale,
                about=about(record["question"]),
                by=record.get("answered_by", ""),
            )
        target = str(record.get("aad") or record.get("user_id") or record["user"])
        return outbox_item(
            "person",
            target,
            {"activity": text_activity(body)},
            {"kind": "escalation_notice", "escalation": record["id"]},
            item_id=_notice_item_id(str(record["id"])),
        )

    async def recover(self) -> int:
        """Re-add a card or notice a crash left out between storing and queueing (start-up);
        return how many were added. Adding an item that exists is a no-op."""
        added = 0
        # One read of the outbox, not one per question (Azure: one request each).
        queued = {str(item["id"]) for item in await self._records.outbox.all()}
        for record in await self._log.all():
            if "status" not in record:
                continue  # from before the loop: never had a card
            if status_of(record) == OPEN:
                item = self._card_item(record)
            else:
                item = self._notice_item(record)
            if item["id"] not in queued:
                await self._records.outbox.add(item)
                added += 1
        return added
