"""The root dialog: decides what each message or card submit is for, and runs it."""

from __future__ import annotations

import logging

from botbuilder.core import TurnContext
from botbuilder.dialogs import (
    ComponentDialog,
    Dialog,
    DialogContext,
    DialogInstance,
    DialogReason,
    DialogTurnResult,
    DialogTurnStatus,
)

from dialogs.actions import CardAction, InvalidAction, parse_action
from dialogs.answers import answer_card_activity, record_escalation, record_feedback
from dialogs.ids import IDEA_OFFER_DIALOG, PROPOSAL_DIALOG, ROOT_DIALOG
from dialogs.intents import SMALL_TALK, Intent, Recognised, classify, mentions_proposing, recognise
from dialogs.ports import DialogServices
from dialogs.replies import (
    actor_of,
    card_activity,
    channel_reference,
    first_name,
    locale_for,
    send_outcome,
    user_key,
)
from dialogs.status import my_proposals_activity
from dialogs.wire import activity_to_send
from domain.personnummer import contains_identity_number

logger = logging.getLogger(__name__)

_DONE = DialogTurnResult(DialogTurnStatus.Complete)
# Card actions of the RUG workflow, handled whether or not a dialog is running.
_MAX_NAME_CHARS = 200
_RUG_ACTIONS = frozenset({"endorse", "decide", "rug_cases", "ask_endorsement"})
# A coordinator's answer on an escalated question's card (rug.escalations), likewise.
_ESCALATION_ACTIONS = frozenset({"escalation_answer", "escalation_done"})
_YES_NO = frozenset({Intent.YES, Intent.NO})


class IdeaOfferDialog(Dialog):
    """Waits for the answer to "Vill du att jag guidar dig steg för steg?"; the root reads it.

    Its state keeps the title suggested from the user's words, so a typed "ja" starts the
    proposal with it as well as the card's button.
    """

    def __init__(self) -> None:
        super().__init__(IDEA_OFFER_DIALOG)

    async def begin_dialog(self, dc: DialogContext, options: object = None) -> DialogTurnResult:
        """Remember the suggested title and wait."""
        title = options.get("title", "") if isinstance(options, dict) else ""
        dc.active_dialog.state["title"] = str(title)
        return Dialog.end_of_turn

    async def continue_dialog(self, dc: DialogContext) -> DialogTurnResult:
        """The root answers for it (see RootDialog._on_offer_answer)."""
        return Dialog.end_of_turn

    async def end_dialog(
        self, context: TurnContext, instance: DialogInstance, reason: DialogReason
    ) -> None:
        """Nothing to clean up."""


def _is_complement(action: CardAction) -> bool:
    """The 'Komplettera förslaget' button: confirm with answer 'complement' about a proposal."""
    return (
        action.name == "confirm"
        and action.get("answer") == "complement"
        and bool(action.get("about"))
    )


class RootDialog(ComponentDialog):
    """Answers questions itself and starts the proposal dialog when asked to."""

    def __init__(self, services: DialogServices, children: list[Dialog]) -> None:
        super().__init__(ROOT_DIALOG)
        self._services = services
        self._child_ids = set()
        for child in children:
            self.add_dialog(child)
            self._child_ids.add(child.id)

    async def on_begin_dialog(self, inner_dc: DialogContext, options: object) -> DialogTurnResult:
        """Route one message or card submit that arrived while no dialog was running."""
        activity = inner_dc.context.activity
        locale = locale_for(inner_dc.context)
        action = parse_action(activity.value)
        if isinstance(action, InvalidAction):
            logger.warning("refused card submit: %s", action.reason)
            await inner_dc.context.send_activity(
                self._services.texts.get("general.bad_card", locale)
            )
            return _DONE
        if action is not None:
            return await self._on_action(inner_dc, action, locale)
        text = activity.text or ""
        recognised = classify(text)
        handled = await self._on_intent(inner_dc, recognised, locale)
        if handled is not None:
            return handled
        return await self._answer(inner_dc, text, locale, recognised.title)

    async def _on_intent(
        self, inner_dc: DialogContext, recognised: Recognised, locale: str
    ) -> DialogTurnResult | None:
        """Run what a typed command or small talk asks for; None for a question."""
        intent = recognised.intent
        in_channel = actor_of(inner_dc.context).conversation_type == "channel"
        if intent == Intent.IDEA and recognised.sure:
            return await self._start_proposal(inner_dc)
        if intent == Intent.IDEA:
            return await self._offer_guidance(inner_dc, "", locale)
        if intent == Intent.IDEA_IN_WORDS:
            return await self._offer_guidance(inner_dc, recognised.title, locale)
        if intent == Intent.CONTINUE:
            if await self._services.records.proposals.draft_of(user_key(inner_dc.context)):
                return await self._start_proposal(inner_dc)
            return await self._offer_guidance(inner_dc, "", locale, no_draft=True)
        if intent in SMALL_TALK:
            return await self._small_talk(inner_dc, intent, locale)
        if intent == Intent.ABOUT:
            return await self._send_about(inner_dc, locale)
        if intent == Intent.RUG_HELP or (intent == Intent.HELP and in_channel):
            await inner_dc.context.send_activity(self._services.texts.get("rug.help", locale))
            return _DONE
        if intent == Intent.HELP:
            return await self._send_help(inner_dc, locale)
        if intent == Intent.MY_PROPOSALS:
            return await self._send_my_proposals(inner_dc, locale)
        if intent == Intent.RUG_CASES:
            return await self._send_rug_cases(inner_dc, locale)
        if intent == Intent.RUG_CASE:
            return await self._send_rug_case(inner_dc, recognised.case_id, locale)
        if intent == Intent.PORTFOLIO:
            actor = actor_of(inner_dc.context)
            coordinator = self._services.escalation_desk.is_coordinator(actor.aad)
            activity = await self._services.workflow.portfolio_activity(actor, coordinator)
            await inner_dc.context.send_activity(activity_to_send(activity))
            return _DONE
        if intent == Intent.REGISTER_CHANNEL:
            return await self._register_channel(inner_dc, locale)
        if intent == Intent.REGISTER_COORDINATOR_CHANNEL:
            return await self._register_channel(inner_dc, locale, coordinators=True)
        if intent == Intent.CANCEL:
            await inner_dc.context.send_activity(
                self._services.texts.get("general.nothing_to_cancel", locale)
            )
            return _DONE
        return None

    async def _on_action(
        self, inner_dc: DialogContext, action: CardAction, locale: str
    ) -> DialogTurnResult:
        texts = self._services.texts
        if action.name == "start_proposal":
            return await self._start_proposal(inner_dc, str(action.get("title") or ""))
        if action.name == "offer_declined":
            await inner_dc.context.send_activity(texts.get("idea_offer.declined", locale))
            return _DONE
        if action.name == "help":
            return await self._send_help(inner_dc, locale)
        if action.name == "my_proposals":
            return await self._send_my_proposals(inner_dc, locale)
        if action.name in _RUG_ACTIONS or _is_complement(action):
            return await self._on_rug_action(inner_dc, action, locale)
        if action.name in _ESCALATION_ACTIONS:
            return await self._on_escalation_action(inner_dc, action)
        if action.name == "ask":
            topic = action.get("topic")
            if topic:
                answer = self._services.kb.answer_topic(topic, locale)
                if answer is not None:
                    await inner_dc.context.send_activity(
                        answer_card_activity(self._services, answer, answer.text, locale)
                    )
                    return _DONE
            return await self._answer(inner_dc, action.get("text") or "", locale)
        if action.name == "feedback":
            await record_feedback(self._services, inner_dc.context, action)
            return _DONE
        if action.name == "escalate":
            await record_escalation(self._services, inner_dc.context, action)
            return _DONE
        if action.name == "submit":
            # A summary card clicked again after its dialog ended: never submit twice.
            proposal = await self._services.records.proposals.submitted_for_token(
                str(action.get("draft"))
            )
            if proposal is not None:
                await inner_dc.context.send_activity(
                    texts.get("proposal.already_submitted", locale, id=proposal.id)
                )
                return _DONE
        # Proposal cards (steps, summary, resume) from a dialog that has ended: stale.
        await inner_dc.context.send_activity(texts.get("general.stale_card", locale))
        return _DONE

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        """RUG cards work even while a proposal dialog is running; the dialog stays where it was."""
        if inner_dc.active_dialog is not None and inner_dc.active_dialog.id == IDEA_OFFER_DIALOG:
            return await self._on_offer_answer(inner_dc)
        action = parse_action(inner_dc.context.activity.value)
        if isinstance(action, CardAction) and action.name in _RUG_ACTIONS:
            await self._on_rug_action(inner_dc, action, locale_for(inner_dc.context))
            return DialogTurnResult(DialogTurnStatus.Waiting)
        if isinstance(action, CardAction) and action.name in _ESCALATION_ACTIONS:
            await self._on_escalation_action(inner_dc, action)
            return DialogTurnResult(DialogTurnStatus.Waiting)
        if isinstance(action, CardAction) and _is_complement(action):
            # Complementing replaces the running proposal dialog; its draft is set aside.
            await inner_dc.cancel_all_dialogs()
            return await self._on_rug_action(inner_dc, action, locale_for(inner_dc.context))
        return await super().on_continue_dialog(inner_dc)

    async def _on_rug_action(
        self, inner_dc: DialogContext, action: CardAction, locale: str
    ) -> DialogTurnResult:
        """Endorse, decide, list RUG's cases, or reopen a proposal to complement it."""
        workflow = self._services.workflow
        if action.name == "endorse":
            outcome = await workflow.endorse(actor_of(inner_dc.context), action.data)
            await send_outcome(self._services, inner_dc.context, outcome)
            return _DONE
        if action.name == "ask_endorsement":
            # The status card names each proposal's choice list after it: several can wait.
            data = dict(action.data)
            raw = inner_dc.context.activity.value or {}
            chosen = raw.get(f"contact_{data['proposal']}") if isinstance(raw, dict) else None
            if isinstance(chosen, str):
                data["contact"] = chosen[:_MAX_NAME_CHARS]
            outcome = await workflow.ask_endorsement(actor_of(inner_dc.context), data)
            await send_outcome(self._services, inner_dc.context, outcome)
            return _DONE
        if action.name == "decide":
            outcome = await workflow.decide(actor_of(inner_dc.context), action.data)
            await send_outcome(self._services, inner_dc.context, outcome)
            return _DONE
        if action.name == "rug_cases":
            return await self._send_rug_cases(inner_dc, locale)
        if PROPOSAL_DIALOG not in self._child_ids:
            return await self._start_proposal(inner_dc)
        return await inner_dc.begin_dialog(PROPOSAL_DIALOG, {"complement": action.get("about")})

    async def _send_rug_cases(self, inner_dc: DialogContext, locale: str) -> DialogTurnResult:
        activity = await self._services.workflow.cases_activity(actor_of(inner_dc.context))
        await inner_dc.context.send_activity(activity_to_send(activity))
        return _DONE

    async def _on_escalation_action(
        self, inner_dc: DialogContext, action: CardAction
    ) -> DialogTurnResult:
        """'Skicka svar' or 'Markera som klar' on an escalated question's card."""
        desk = self._services.escalation_desk
        actor = actor_of(inner_dc.context)
        if action.name == "escalation_answer":
            outcome = await desk.answer(actor, action.data)
        else:
            outcome = await desk.mark_handled(actor, action.data)
        await send_outcome(self._services, inner_dc.context, outcome)
        return _DONE

    async def _register_channel(
        self, inner_dc: DialogContext, locale: str, coordinators: bool = False
    ) -> DialogTurnResult:
        context = inner_dc.context
        register = (
            self._services.escalation_desk.register_channel
            if coordinators
            else self._services.workflow.register_channel
        )
        reply = await register(actor_of(context), channel_reference(context))
        await context.send_activity(reply)
        # Cards that waited for the channel can go now.
        self._services.wake_outbox()
        return _DONE

    async def _start_proposal(self, inner_dc: DialogContext, title: str = "") -> DialogTurnResult:
        if PROPOSAL_DIALOG not in self._child_ids:
            await inner_dc.context.send_activity(
                self._services.texts.get("general.not_available", locale_for(inner_dc.context))
            )
            return _DONE
        return await inner_dc.begin_dialog(PROPOSAL_DIALOG, {"title": title} if title else None)

    async def _offer_guidance(
        self, inner_dc: DialogContext, title: str, locale: str, no_draft: bool = False
    ) -> DialogTurnResult:
        """An idea in the user's own words: offer the guided dialog, with their words as title.

        Asked rather than started: a 14-step dialog is a lot to be dropped into by a sentence
        that may only be musing, and one click (or "ja") is cheap.
        """
        texts = self._services.texts
        if contains_identity_number(title):
            title = ""
        data = {
            "question": texts.get(
                "idea_offer.no_draft" if no_draft else "idea_offer.question", locale
            ),
            "title": title,
            "has_title": bool(title),
            "title_note": texts.get("idea_offer.title_note", locale, title=title) if title else "",
        }
        card = self._services.cards.render("idea_offer", data, locale)
        await inner_dc.context.send_activity(
            card_activity(card, texts.get("idea_offer.summary", locale))
        )
        if IDEA_OFFER_DIALOG not in self._child_ids:
            return _DONE
        return await inner_dc.begin_dialog(IDEA_OFFER_DIALOG, {"title": title})

    async def _on_offer_answer(self, inner_dc: DialogContext) -> DialogTurnResult:
        """Ja / Nej, tack to the offer, typed or clicked; anything else is routed as new."""
        assert inner_dc.active_dialog is not None
        title = str(inner_dc.active_dialog.state.get("title") or "")
        activity = inner_dc.context.activity
        await inner_dc.cancel_all_dialogs()
        if activity.value is None:
            answer = recognise(activity.text, _YES_NO)
            if answer == Intent.YES:
                return await self._start_proposal(inner_dc, title)
            if answer == Intent.NO:
                await inner_dc.context.send_activity(
                    self._services.texts.get("idea_offer.declined", locale_for(inner_dc.context))
                )
                return _DONE
        return await self.on_begin_dialog(inner_dc, None)

    async def _small_talk(
        self, inner_dc: DialogContext, intent: Intent, locale: str
    ) -> DialogTurnResult:
        """A short, warm reply with the welcome's buttons; never a refusal, never escalated."""
        texts = self._services.texts
        if intent == Intent.GREETING:
            sender = inner_dc.context.activity.from_property
            name = first_name(sender.name if sender else None)
            key = "small_talk.greeting_named" if name else "small_talk.greeting"
            text = texts.get(key, locale, name=name)
        else:
            text = texts.get(f"small_talk.{intent.value}", locale)
        card = self._services.cards.render("small_talk", {"text": text}, locale)
        await inner_dc.context.send_activity(card_activity(card, text[:120]))
        return _DONE

    async def _send_about(self, inner_dc: DialogContext, locale: str) -> DialogTurnResult:
        """Who the bot is and what it can do: the welcome card."""
        texts = self._services.texts
        card = self._services.cards.render(
            "welcome", {"greeting": texts.get("welcome.greeting", locale)}, locale
        )
        await inner_dc.context.send_activity(
            card_activity(card, texts.get("welcome.summary", locale))
        )
        return _DONE

    async def _send_rug_case(
        self, inner_dc: DialogContext, case_id: str, locale: str
    ) -> DialogTurnResult:
        actor = actor_of(inner_dc.context)
        if not (
            self._services.workflow.is_rug_member(actor.aad)
            or self._services.workflow.is_admin(actor.aad)
        ):
            # Anyone else who types an id most likely means their own proposal.
            return await self._send_my_proposals(inner_dc, locale)
        activity = await self._services.workflow.case_activity(actor, case_id)
        await inner_dc.context.send_activity(activity_to_send(activity))
        return _DONE

    async def _send_help(self, inner_dc: DialogContext, locale: str) -> DialogTurnResult:
        aad = actor_of(inner_dc.context).aad
        is_rug = self._services.workflow.is_rug_member(aad)
        card = self._services.cards.render("help", {"is_rug": is_rug}, locale)
        await inner_dc.context.send_activity(
            card_activity(card, self._services.texts.get("help.summary", locale))
        )
        return _DONE

    async def _send_my_proposals(self, inner_dc: DialogContext, locale: str) -> DialogTurnResult:
        await inner_dc.context.send_activity(
            await my_proposals_activity(self._services, inner_dc.context, locale)
        )
        return _DONE

    async def _answer(
        self, inner_dc: DialogContext, text: str, locale: str, idea_title: str = ""
    ) -> DialogTurnResult:
        """A knowledge-base answer; a question about proposing offers to start one (with the
        title of the idea the question came with, "jag har en idé om X, hur gör jag?")."""
        question = text.strip()
        if contains_identity_number(question):
            # Never look up, log or store a question that carries a personal identity number.
            await inner_dc.context.send_activity(
                self._services.texts.get("general.identity_number", locale)
            )
            return _DONE
        answer = self._services.kb.answer(question, locale)
        await inner_dc.context.send_activity(
            answer_card_activity(
                self._services,
                answer,
                question,
                locale,
                can_start=bool(idea_title) or mentions_proposing(question),
                idea_title=idea_title,
            )
        )
        return _DONE
