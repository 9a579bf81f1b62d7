"""The root dialog: decides what each message or card submit is for, and runs it."""

from __future__ import annotations

import logging
from botbuilder.dialogs import (
    ComponentDialog,
    Dialog,
    DialogContext,
    DialogTurnResult,
    DialogTurnStatus,
)
from botbuilder.schema import Activity

from dialogs.actions import CardAction, InvalidAction, parse_action
from dialogs.answers import answer_card_activity, record_escalation, record_feedback
from dialogs.ids import PROPOSAL_DIALOG, ROOT_DIALOG
from dialogs.intents import Intent, recognise
from dialogs.ports import DialogServices
from dialogs.replies import (
    actor_of,
    card_activity,
    channel_reference,
    locale_for,
    send_outcome,
)
from dialogs.status import my_proposals_activity
from domain.personnummer import contains_identity_number

logger = logging.getLogger(__name__)

_DONE = DialogTurnResult(DialogTurnStatus.Complete)
# Card actions of the RUG workflow, handled whether or not a dialog is running.
_RUG_ACTIONS = frozenset({"endorse", "decide", "rug_cases"})


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
        intent = recognise(text)
        if intent == Intent.IDEA:
            return await self._start_proposal(inner_dc)
        if intent == Intent.HELP:
            return await self._send_help(inner_dc, locale)
        if intent == Intent.MY_PROPOSALS:
            return await self._send_my_proposals(inner_dc, locale)
        if intent == Intent.RUG_CASES:
            return await self._send_rug_cases(inner_dc, locale)
        if intent == Intent.REGISTER_CHANNEL:
            return await self._register_channel(inner_dc, locale)
        if intent == Intent.CANCEL:
            await inner_dc.context.send_activity(
                self._services.texts.get("general.nothing_to_cancel", locale)
            )
            return _DONE
        return await self._answer(inner_dc, text, locale)

    async def _on_action(
        self, inner_dc: DialogContext, action: CardAction, locale: str
    ) -> DialogTurnResult:
        texts = self._services.texts
        if action.name == "start_proposal":
            return await self._start_proposal(inner_dc)
        if action.name == "help":
            return await self._send_help(inner_dc, locale)
        if action.name == "my_proposals":
            return await self._send_my_proposals(inner_dc, locale)
        if action.name in _RUG_ACTIONS or _is_complement(action):
            return await self._on_rug_action(inner_dc, action, locale)
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
        action = parse_action(inner_dc.context.activity.value)
        if isinstance(action, CardAction) and action.name in _RUG_ACTIONS:
            await self._on_rug_action(inner_dc, action, locale_for(inner_dc.context))
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
        await inner_dc.context.send_activity(Activity().deserialize(activity))
        return _DONE

    async def _register_channel(self, inner_dc: DialogContext, locale: str) -> DialogTurnResult:
        context = inner_dc.context
        reply = await self._services.workflow.register_channel(
            actor_of(context), channel_reference(context)
        )
        await context.send_activity(reply)
        # Cards that waited for the channel can go now.
        self._services.wake_outbox()
        return _DONE

    async def _start_proposal(self, inner_dc: DialogContext) -> DialogTurnResult:
        if PROPOSAL_DIALOG not in self._child_ids:
            await inner_dc.context.send_activity(
                self._services.texts.get("general.not_available", locale_for(inner_dc.context))
            )
            return _DONE
        return await inner_dc.begin_dialog(PROPOSAL_DIALOG)

    async def _send_help(self, inner_dc: DialogContext, locale: str) -> DialogTurnResult:
        card = self._services.cards.render("help", {}, locale)
        await inner_dc.context.send_activity(
            card_activity(card, self._services.texts.get("help.summary", locale))
        )
        return _DONE

    async def _send_my_proposals(self, inner_dc: DialogContext, locale: str) -> DialogTurnResult:
        await inner_dc.context.send_activity(
            await my_proposals_activity(self._services, inner_dc.context, locale)
        )
        return _DONE

    async def _answer(self, inner_dc: DialogContext, text: str, locale: str) -> DialogTurnResult:
        question = text.strip()
        if contains_identity_number(question):
            # Never look up, log or store a question that carries a personal identity number.
            await inner_dc.context.send_activity(
                self._services.texts.get("general.identity_number", locale)
            )
            return _DONE
        answer = self._services.kb.answer(question, locale)
        await inner_dc.context.send_activity(
            answer_card_activity(self._services, answer, question, locale)
        )
        return _DONE
