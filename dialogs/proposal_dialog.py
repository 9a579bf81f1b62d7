"""The proposal dialog: one step per template field, the skallkrav checked as each is answered.

The steps are the fields of domain.fields, in order; how each kind of field is asked and
understood is in dialogs.steps, where the dialog is and goes next in dialogs.flow. This class
is the thin SDK part: it reads the turn, calls those, stores the draft and sends the cards.
The draft lives in the store, saved after every step; the dialog state only says where we are.
See ``proposal_dialog.md`` beside this file for the diagram.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult, DialogTurnStatus

from dialogs import flow
from dialogs.actions import CardAction, InvalidAction, parse_action
from dialogs.answers import answer_card_activity, record_feedback
from dialogs.ids import PROPOSAL_DIALOG
from dialogs.intents import SMALL_TALK, Intent, recognise
from dialogs.ports import DialogServices
from dialogs.replies import (
    actor_of,
    card_activity,
    locale_for,
    replace_clicked_card,
    send_outcome,
    user_key,
)
from dialogs.status import my_proposals_activity, short_date
from dialogs.steps import (
    MotivationStep,
    StepContext,
    Taken,
    base_view,
    has_content,
    inputs_hold_identity_number,
    kind_of,
)
from domain.clock import utc_now
from domain.fields import FIELD_BY_ID, FIELDS
from domain.personnummer import contains_identity_number
from domain.proposal import Draft, Initiator, Proposal
from knowledge.kb import looks_like_question
from knowledge.similar import Candidate, find_similar
from knowledge.skallkrav import check_proposal
from presentation.proposal_view import field_text, sections
from rug import checklist as krav
from storage.errors import ETagConflictError, StoreUnavailableError

logger = logging.getLogger(__name__)

SUMMARY = flow.SUMMARY
_STEP_INTENTS = frozenset(
    {
        Intent.SUBMIT,
        Intent.BACK,
        Intent.SKIP,
        Intent.CANCEL,
        Intent.HELP,
        Intent.MY_PROPOSALS,
        Intent.IDEA,
        Intent.CONTINUE,
    }
    | SMALL_TALK
)

# How much of a typed text the summary quotes back when it did not keep it.
_ECHO_LIMIT = 80


def _waiting() -> DialogTurnResult:
    return DialogTurnResult(DialogTurnStatus.Waiting)


class ProposalDialog(Dialog):
    """Guides one person from an idea to a complete, submitted proposal."""

    def __init__(self, services: DialogServices) -> None:
        super().__init__(PROPOSAL_DIALOG)
        self._services = services
        self._repo = services.records.proposals
        self._texts = services.texts

    def _context(self, locale: str) -> StepContext:
        s = self._services
        return StepContext(s.texts, locale, s.target_groups, s.malbild, s.rug)

    # ----- lifecycle -------------------------------------------------------------------

    async def begin_dialog(self, dc: DialogContext, options: object = None) -> DialogTurnResult:
        """Offer to resume an existing draft, or start a new one at step 1."""
        if isinstance(options, dict) and options.get("complement"):
            return await self._begin_complement(dc, str(options["complement"]))
        state = dc.active_dialog.state
        flow.start(state)
        state["last_at"] = utc_now()
        person = user_key(dc.context)
        draft = await self._repo.draft_of(person)
        locale = locale_for(dc.context)
        if draft is not None and has_content(draft.proposal):
            state["pending"] = "resume"
            await self._send_resume(dc, draft, locale)
            return _waiting()
        try:
            draft = await self._repo.new_draft(
                person, Proposal(initiator=await self._initiator(dc.context))
            )
        except StoreUnavailableError:
            logger.exception("could not create a draft")
            await dc.context.send_activity(self._texts.get("general.cannot_save", locale))
            return await dc.end_dialog()
        await dc.context.send_activity(self._texts.get("proposal.start", locale))
        title = options.get("title") if isinstance(options, dict) else None
        if title:
            # The user's own words ("en idé om …") answer the first step, checked like any
            # answer; "tillbaka" or the summary changes it.
            await dc.context.send_activity(
                self._texts.get("idea_offer.title_note", locale, title=str(title))
            )
            return await self._answer(dc, draft, {"text": str(title)}, locale)
        await self._prompt(dc, locale)
        return _waiting()

    async def continue_dialog(self, dc: DialogContext) -> DialogTurnResult:
        """Handle one message or card submit at the current step."""
        state = dc.active_dialog.state
        context = dc.context
        locale = locale_for(context)
        person = user_key(context)
        action = parse_action(context.activity.value)
        draft = await self._repo.draft_of(person)
        if draft is None:
            return await self._without_draft(dc, action, locale)

        returning = flow.is_returning(state) and action is None
        state["last_at"] = utc_now()
        if returning and state.get("pending") is None:
            state["pending"] = "resume"
            await self._send_resume(dc, draft, locale)
            return _waiting()
        if isinstance(action, InvalidAction):
            logger.warning("refused card submit in the proposal dialog: %s", action.reason)
            await context.send_activity(self._texts.get("general.bad_card", locale))
            await self._prompt(dc, locale, draft)
            return _waiting()
        if state.get("pending") == "resume":
            return await self._on_resume_answer(dc, draft, action, locale)
        if state.get("pending") == "cancel":
            return await self._on_cancel_answer(dc, draft, action, locale)
        if action is not None:
            return await self._on_action(dc, draft, action, locale)
        return await self._on_text(dc, draft, (context.activity.text or "").strip(), locale)

    # ----- routing ---------------------------------------------------------------------

    async def _on_action(
        self, dc: DialogContext, draft: Draft, action: CardAction, locale: str
    ) -> DialogTurnResult:
        state = dc.active_dialog.state
        name = action.name
        if name == "nav":
            return await self._on_nav(dc, draft, str(action.get("nav")), locale)
        if name == "edit":
            field = str(action.get("field"))
            if field not in FIELD_BY_ID:
                await dc.context.send_activity(self._texts.get("general.bad_card", locale))
                await self._prompt(dc, locale, draft)
                return _waiting()
            flow.start(state, field, review=True)
            await self._prompt(dc, locale, draft)
            return _waiting()
        if name == "submit":
            return await self._on_submit(dc, draft, action, locale)
        if name == "step":
            if action.get("step") != flow.position(state):
                await dc.context.send_activity(self._texts.get("proposal.wrong_step", locale))
                await self._prompt(dc, locale, draft)
                return _waiting()
            return await self._answer(dc, draft, action.data, locale)
        if name == "ask":
            topic = action.get("topic")
            answer = self._services.kb.answer_topic(topic, locale) if topic else None
            if answer is None:
                answer = self._services.kb.answer(str(action.get("text") or ""), locale)
            await dc.context.send_activity(
                answer_card_activity(self._services, answer, answer.text, locale)
            )
            await self._prompt(dc, locale, draft, resumed=True)
            return _waiting()
        if name == "feedback":
            await record_feedback(self._services, dc.context, action)
            return _waiting()
        if name == "help":
            return await self._on_nav(dc, draft, "help", locale)
        if name == "my_proposals":
            await dc.context.send_activity(
                await my_proposals_activity(self._services, dc.context, locale)
            )
            await self._prompt(dc, locale, draft, resumed=True)
            return _waiting()
        # start_proposal, resume/confirm without a question pending, RUG cards: re-show the step.
        if name != "start_proposal":
            await dc.context.send_activity(self._texts.get("proposal.wrong_step", locale))
        await self._prompt(dc, locale, draft)
        return _waiting()

    async def _on_text(
        self, dc: DialogContext, draft: Draft, text: str, locale: str
    ) -> DialogTurnResult:
        intent = recognise(text, _STEP_INTENTS)
        if intent in SMALL_TALK:
            # "tack!" between two steps is not an answer.
            await dc.context.send_activity(self._texts.get("small_talk.in_dialog", locale))
            await self._prompt(dc, locale, draft, resumed=True)
            return _waiting()
        if intent != Intent.NONE:
            if intent in (Intent.IDEA, Intent.CONTINUE):
                # Already describing an idea: show where we are instead of taking it as an answer.
                await self._prompt(dc, locale, draft, resumed=True)
                return _waiting()
            if intent == Intent.MY_PROPOSALS:
                await dc.context.send_activity(
                    await my_proposals_activity(self._services, dc.context, locale)
                )
                await self._prompt(dc, locale, draft, resumed=True)
                return _waiting()
            if intent == Intent.SUBMIT:
                return await self._typed_submit(dc, draft, locale)
            return await self._on_nav(dc, draft, intent.value, locale)
        if not text:
            await dc.context.send_activity(self._texts.get("proposal.empty_answer", locale))
            await self._prompt(dc, locale, draft)
            return _waiting()
        if contains_identity_number(text):
            await dc.context.send_activity(self._texts.get("general.identity_number", locale))
            await self._prompt(dc, locale, draft)
            return _waiting()
        if looks_like_question(text):
            answer = self._services.kb.answer(text, locale)
            if answer.answered:
                await dc.context.send_activity(
                    answer_card_activity(self._services, answer, text, locale)
                )
                await self._prompt(dc, locale, draft, resumed=True)
                return _waiting()
        if dc.active_dialog.state["step"] == SUMMARY:
            # Everything is answered here: say the text was not kept and how to change a part.
            await dc.context.send_activity(
                self._typed_at_summary(dc.active_dialog.state, text, locale)
            )
            await self._prompt(dc, locale, draft)
            return _waiting()
        return await self._answer(dc, draft, {"text": text}, locale)

    async def _on_nav(
        self, dc: DialogContext, draft: Draft, nav: str, locale: str
    ) -> DialogTurnResult:
        state = dc.active_dialog.state
        if nav == "cancel":
            state["pending"] = "cancel"
            card = self._services.cards.render("proposal_cancel", {}, locale)
            await dc.context.send_activity(
                card_activity(card, self._texts.get("proposal.cancel.title", locale))
            )
            return _waiting()
        if nav == "help":
            await dc.context.send_activity(self._help_text(state, locale))
        elif nav == "back":
            if not flow.go_back(state, draft.proposal):
                first = "complement_first" if flow.walk_position(state) else "first_step"
                await dc.context.send_activity(self._texts.get(f"proposal.{first}", locale))
        elif nav == "skip":
            if flow.can_skip(state):
                flow.advance(state)
            else:
                await dc.context.send_activity(self._texts.get("proposal.required", locale))
        else:
            await dc.context.send_activity(self._texts.get("general.bad_card", locale))
        await self._prompt(dc, locale, draft)
        return _waiting()

    # ----- answering a step ------------------------------------------------------------

    async def _answer(
        self, dc: DialogContext, draft: Draft, inputs: dict[str, Any], locale: str
    ) -> DialogTurnResult:
        """Check the answer to the current step, store it, move on (or say what is missing)."""
        state = dc.active_dialog.state
        if inputs_hold_identity_number(inputs):
            # Refused before anything is stored, logged or echoed back.
            await dc.context.send_activity(self._texts.get("general.identity_number", locale))
            await self._prompt(dc, locale, draft)
            return _waiting()
        spec = FIELD_BY_ID.get(state["step"])
        if spec is None:
            await self._prompt(dc, locale, draft)
            return _waiting()
        ctx = self._context(locale)
        factor = state.get("factor")
        if factor:
            taken = MotivationStep.answer(factor, draft.proposal, inputs, ctx)
        else:
            taken = kind_of(spec).answer(spec, draft.proposal, inputs, ctx)
        if not taken.stored:
            await dc.context.send_activity(taken.message)
            await self._prompt(dc, locale, draft)
            return _waiting()
        try:
            await self._repo.save_draft(user_key(dc.context), draft)
        except StoreUnavailableError:
            logger.exception("could not save a draft step")
            await dc.context.send_activity(self._texts.get("general.cannot_save", locale))
            return _waiting()
        except ETagConflictError:
            # The same person changed the draft meanwhile (another window or device).
            await dc.context.send_activity(self._texts.get("proposal.changed_elsewhere", locale))
            await self._prompt(dc, locale)
            return _waiting()
        if taken.message:
            await dc.context.send_activity(taken.message)
        self._move_on(state, factor, draft.proposal, taken)
        await self._prompt(dc, locale, draft)
        return _waiting()

    @staticmethod
    def _move_on(
        state: dict[str, Any], factor: str | None, proposal: Proposal, taken: Taken
    ) -> None:
        """After a stored answer: the next motivation, the next step, or stay."""
        if factor:
            state["factor"] = MotivationStep.next_factor(factor, proposal)
            if state["factor"] is None:
                flow.advance(state)
            return
        if taken.substep is not None:
            # Chosen success factors: their motivations come next, inside this step.
            state["factor"] = taken.substep
        elif taken.advance:
            flow.advance(state)

    # ----- resume, cancel, submit --------------------------------------------------------

    async def _on_resume_answer(
        self, dc: DialogContext, draft: Draft, action: CardAction | None, locale: str
    ) -> DialogTurnResult:
        state = dc.active_dialog.state
        if action is not None and action.name == "resume":
            choice = str(action.get("choice"))
        else:
            intent = recognise(
                dc.context.activity.text,
                frozenset({Intent.CONTINUE, Intent.RESTART, Intent.YES, Intent.NO}),
            )
            choice = {
                Intent.CONTINUE: "continue",
                Intent.YES: "continue",
                Intent.RESTART: "restart",
            }.get(intent, "")
        if choice == "continue":
            state["pending"] = None
            if draft.proposal.id and not flow.requested_fields(state):
                # A komplettering left off in an earlier dialog: walk RUG's fields again.
                return await self._begin_complement(dc, draft.proposal.id)
            if not state.get("walk"):
                # Walking RUG's fields, the step they were at is where they continue.
                state.update(flow.first_unanswered(draft.proposal))
            await self._prompt(dc, locale, draft)
            return _waiting()
        if choice == "restart":
            person = user_key(dc.context)
            try:
                await self._repo.discard_draft(person, person, "restart")
                await self._repo.new_draft(
                    person, Proposal(initiator=await self._initiator(dc.context))
                )
            except StoreUnavailableError:
                logger.exception("could not restart a draft")
                await dc.context.send_activity(self._texts.get("general.cannot_save", locale))
                return _waiting()
            flow.start(state)
            state["requested"] = []
            await dc.context.send_activity(self._texts.get("proposal.resume.restarted", locale))
            await self._prompt(dc, locale)
            return _waiting()
        await self._send_resume(dc, draft, locale)
        return _waiting()

    async def _on_cancel_answer(
        self, dc: DialogContext, draft: Draft, action: CardAction | None, locale: str
    ) -> DialogTurnResult:
        state = dc.active_dialog.state
        if action is not None and action.name == "confirm":
            yes = action.get("answer") == "yes"
        else:
            intent = recognise(
                dc.context.activity.text,
                frozenset({Intent.YES, Intent.NO, Intent.CANCEL, Intent.CONTINUE}),
            )
            if intent == Intent.NONE:
                card = self._services.cards.render("proposal_cancel", {}, locale)
                await dc.context.send_activity(card_activity(card))
                return _waiting()
            yes = intent in (Intent.YES, Intent.CANCEL)
        state["pending"] = None
        if yes:
            await dc.context.send_activity(self._texts.get("proposal.cancelled", locale))
            return await dc.end_dialog()
        await self._prompt(dc, locale, draft, resumed=True)
        return _waiting()

    async def _typed_submit(
        self, dc: DialogContext, draft: Draft, locale: str
    ) -> DialogTurnResult:
        """'skicka in' typed at any step: the summary's button when everything is answered,
        otherwise what is still missing, at the summary."""
        state = dc.active_dialog.state
        complete = self._can_submit(draft.proposal)
        if state["step"] == SUMMARY and complete:
            action = CardAction("submit", {"draft": draft.token, "revision": draft.revision})
            return await self._on_submit(dc, draft, action, locale)
        if complete:
            # Every answer is in: show the summary to confirm, as the button would need.
            await dc.context.send_activity(self._texts.get("proposal.submit_confirm", locale))
        else:
            await dc.context.send_activity(self._texts.get("proposal.submit_not_ready", locale))
        state.update({"step": SUMMARY, "factor": None})
        await self._prompt(dc, locale, draft)
        return _waiting()

    def _can_submit(self, proposal: Proposal) -> bool:
        """What the summary's "Skicka in" button needs: skallkrav 1–3 and every required part."""
        result = check_proposal(proposal, self._services.check_context)
        none = self._texts.get("proposal.not_given")
        return all(item.met for item in result.items if item.number != 4) and all(
            field_text(proposal, spec, none) for spec in FIELDS if spec.required
        )

    async def _on_submit(
        self, dc: DialogContext, draft: Draft, action: CardAction, locale: str
    ) -> DialogTurnResult:
        """Submit after the user confirmed on the summary card; refuse stale or repeated cards."""
        if action.get("draft") != draft.token:
            return await self._submitted_elsewhere(dc, str(action.get("draft")), locale, draft)
        if action.get("revision") != draft.revision or dc.active_dialog.state["step"] != SUMMARY:
            await dc.context.send_activity(self._texts.get("proposal.stale_summary", locale))
            dc.active_dialog.state.update({"step": SUMMARY, "factor": None})
            await self._prompt(dc, locale, draft)
            return _waiting()
        result = check_proposal(draft.proposal, self._services.check_context)
        missing = [item for item in result.items if item.number != 4 and not item.met]
        if missing:
            text = self._texts.get(
                "proposal.not_ready",
                locale,
                missing=" ".join(krav.message(self._texts, i, locale) for i in missing),
            )
            await dc.context.send_activity(text)
            await self._prompt(dc, locale, draft)
            return _waiting()
        if draft.proposal.id:
            # A submitted proposal reopened for komplettering goes back to RUG, not anew.
            return await self._submit_complement(dc, draft, locale)
        person = user_key(dc.context)
        try:
            proposal, created, deliver = await self._services.workflow.submit(person, draft)
        except StoreUnavailableError:
            logger.exception("could not submit a proposal")
            await dc.context.send_activity(self._texts.get("general.cannot_save", locale))
            return _waiting()
        # Of concurrent clicks on the same card only one submits; the others hear so.
        key = "proposal.submitted" if created else "proposal.already_submitted"
        await dc.context.send_activity(
            self._texts.get(key, locale, id=proposal.id, title=proposal.title)
        )
        await self._mark_summary_submitted(dc, draft, proposal.id, locale)
        await self._services.deliver_now(deliver)
        return await dc.end_dialog(proposal.id)

    async def _mark_summary_submitted(
        self, dc: DialogContext, draft: Draft, proposal_id: str, locale: str
    ) -> None:
        """Replace the clicked summary card with one that says it was submitted, no buttons."""
        if dc.context.activity.reply_to_id:
            card = self._summary_card(draft, locale, [], submitted_id=proposal_id)
            await replace_clicked_card(dc.context, card)

    async def _begin_complement(self, dc: DialogContext, proposal_id: str) -> DialogTurnResult:
        """Reopen the initiator's proposal at the fields RUG named (komplettering)."""
        locale = locale_for(dc.context)
        opened = await self._services.workflow.open_complement(
            user_key(dc.context), proposal_id, locale
        )
        if opened.error or opened.draft is None:
            await dc.context.send_activity(self._texts.get(opened.error, locale))
            return await dc.end_dialog()
        flow.start_complement(dc.active_dialog.state, opened.fields)
        dc.active_dialog.state["last_at"] = utc_now()
        await dc.context.send_activity(opened.intro)
        await self._prompt(dc, locale, opened.draft)
        return _waiting()

    async def _submit_complement(
        self, dc: DialogContext, draft: Draft, locale: str
    ) -> DialogTurnResult:
        """Send the complemented proposal back to RUG through the workflow."""
        try:
            outcome = await self._services.workflow.resubmit(
                actor_of(dc.context), user_key(dc.context), draft
            )
        except StoreUnavailableError:
            logger.exception("could not resubmit a complemented proposal")
            await dc.context.send_activity(self._texts.get("general.cannot_save", locale))
            return _waiting()
        await send_outcome(self._services, dc.context, outcome)
        return await dc.end_dialog(draft.proposal.id)

    async def _submitted_elsewhere(
        self, dc: DialogContext, token: str, locale: str, draft: Draft | None
    ) -> DialogTurnResult:
        proposal = await self._repo.submitted_for_token(token) if token else None
        if proposal is not None:
            await dc.context.send_activity(
                self._texts.get("proposal.already_submitted", locale, id=proposal.id)
            )
        else:
            await dc.context.send_activity(self._texts.get("proposal.stale_summary", locale))
        if draft is None:
            return await dc.end_dialog()
        await self._prompt(dc, locale, draft)
        return _waiting()

    async def _without_draft(
        self, dc: DialogContext, action: CardAction | InvalidAction | None, locale: str
    ) -> DialogTurnResult:
        """The draft is gone (submitted from another card, or expired): say so and end."""
        if isinstance(action, CardAction) and action.name == "submit":
            return await self._submitted_elsewhere(dc, str(action.get("draft")), locale, None)
        await dc.context.send_activity(self._texts.get("proposal.no_draft", locale))
        return await dc.end_dialog()

    # ----- what the user sees ------------------------------------------------------------

    async def _prompt(
        self, dc: DialogContext, locale: str, draft: Draft | None = None, resumed: bool = False
    ) -> None:
        """Show the current step's card (or the summary)."""
        if draft is None:
            draft = await self._repo.draft_of(user_key(dc.context))
            if draft is None:
                return
        state = dc.active_dialog.state
        if state["step"] == SUMMARY:
            everything = await self._repo.all()
            candidates = [
                Candidate(p.id, p.title, p.description, p.status)
                for p in everything
                if p.id != draft.proposal.id
            ]
            # A proposal reopened for komplettering: the stored one is what RUG saw.
            original = next((p for p in everything if p.id and p.id == draft.proposal.id), None)
            card = self._summary_card(
                draft, locale, candidates, original, flow.requested_fields(state)
            )
            summary = self._texts.get("proposal.summary.summary", locale)
        else:
            data = self._step_data(state, draft.proposal, locale, resumed)
            card = self._services.cards.render("proposal_step", data, locale)
            summary = str(data["question"])
        await dc.context.send_activity(card_activity(card, summary))

    def _step_data(
        self, state: dict[str, Any], proposal: Proposal, locale: str, resumed: bool
    ) -> dict[str, Any]:
        t = self._texts
        ctx = self._context(locale)
        spec = FIELD_BY_ID[state["step"]]
        factor = state.get("factor")
        key = f"proposal.step.{'motivation' if factor else spec.id}"
        data: dict[str, Any] = {
            **base_view(ctx, spec),
            "intro": t.get("proposal.continue_here", locale) if resumed else "",
            "progress": self._progress(state, locale),
            "question": t.get(f"{key}.question", locale, factor=(factor or "").lower()),
            "example": t.get("proposal.example", locale, example=t.get(f"{key}.example", locale)),
            "position": flow.position(state),
            "optional": not spec.required and not factor,
        }
        if factor:
            data.update(MotivationStep.view(factor, proposal, ctx))
            data["progress"] += f" – {factor}"
        else:
            data.update(kind_of(spec).view(spec, proposal, ctx))
        data["has_note"] = bool(data["note"])
        data["has_intro"] = bool(data["intro"])
        data["has_guidance"] = bool(data["guidance"])
        return data

    def _progress(self, state: dict[str, Any], locale: str) -> str:
        """The step header: "Steg 8 av 12", in a komplettering "Steg 1 av 2 som RUG bad om – …"."""
        t = self._texts
        at = flow.walk_position(state)
        if at is None:
            return t.get("proposal.progress", locale, n=flow.number(state), total=len(FIELDS))
        field = t.get(f"proposal.field.{state['step']}", locale)
        return t.get("proposal.complement_progress", locale, n=at[0], total=at[1], field=field)

    def _summary_card(
        self,
        draft: Draft,
        locale: str,
        candidates: list[Candidate],
        original: Proposal | None = None,
        requested: list[str] | None = None,
        submitted_id: str = "",
    ) -> dict[str, Any]:
        """The summary; in a komplettering each section says whether it changed.

        With `submitted_id`, the card as it stays after submit: a line with the id, no buttons.
        """
        t = self._texts
        p = draft.proposal
        before = (
            {s.field: s.value for s in sections(original, t, locale, markdown=True)}
            if original is not None
            else {}
        )
        shown = []
        for s in sections(p, t, locale, markdown=True):
            label = s.label
            if original is not None and before.get(s.field) != s.value:
                label = t.get("proposal.summary.changed", locale, label=label)
            elif s.field in (requested or []):
                label = t.get("proposal.summary.requested_unchanged", locale, label=label)
            shown.append({"label": label, "value": s.value, "field": s.field})
        result = check_proposal(p, self._services.check_context)
        checks = []
        for item in result.items:
            if item.number == 4 and not item.met:
                if not len(self._services.rug):
                    key = "proposal.summary.krav4_pending_no_list"
                elif submitted_id:
                    key = "proposal.summary.krav4_sent"
                elif p.rug_contact:
                    key = "proposal.summary.krav4_pending"
                else:
                    key = "proposal.summary.krav4_pending_no_contact"
                line = krav.checklist_line(t, 4, krav.PENDING, t.get(key, locale), locale)
                color = "Default"
            else:
                said = krav.message(t, item, locale)
                line = krav.checklist_line(t, item.number, krav.mark(item), said, locale)
                color = "Default" if item.met else "Attention"
            checks.append({"line": line, "color": color})
        can_submit = self._can_submit(p) and not submitted_id
        similar = [
            {
                "line": t.get(
                    "proposal.summary.similar_item",
                    locale,
                    id=c.id,
                    title=c.title,
                    status=t.get(f"status.{c.status}", locale),
                )
            }
            for c, _score in find_similar(p.title, p.description, candidates)
        ]
        data = {
            "sections": shown,
            "checks": checks,
            "can_submit": can_submit,
            "cannot_submit": not can_submit and not submitted_id,
            "open": not submitted_id,
            "submitted": bool(submitted_id),
            "submitted_line": t.get("proposal.summary.submitted_as", locale, id=submitted_id)
            if submitted_id
            else "",
            "similar": similar,
            "has_similar": bool(similar),
            "draft": draft.token,
            "revision": draft.revision,
        }
        return self._services.cards.render("proposal_summary", data, locale)

    def _typed_at_summary(self, state: dict[str, Any], text: str, locale: str) -> str:
        t = self._texts
        labels = ", ".join(
            t.get(f"proposal.field.{f}", locale) for f in flow.requested_fields(state)
        )
        shown = text if len(text) <= _ECHO_LIMIT else text[: _ECHO_LIMIT - 1].rstrip() + "…"
        return t.get(
            "proposal.summary.typed",
            locale,
            text=shown,
            requested=t.get("proposal.summary.typed_requested", locale, fields=labels)
            if labels
            else "",
        )

    def _help_text(self, state: dict[str, Any], locale: str) -> str:
        t = self._texts
        if state["step"] == SUMMARY:
            return t.get("proposal.summary.intro", locale)
        key = "motivation" if state.get("factor") else state["step"]
        generic = t.get("proposal.help_generic", locale)
        return f"{t.get(f'proposal.step.{key}.help', locale)}\n\n{generic}"

    async def _send_resume(self, dc: DialogContext, draft: Draft, locale: str) -> None:
        t = self._texts
        data = {
            "text": t.get(
                "proposal.resume.text",
                locale,
                title=draft.proposal.title or t.get("proposal.resume.untitled", locale),
                when=short_date(draft.proposal.updated_at),
            )
        }
        card = self._services.cards.render("proposal_resume", data, locale)
        await dc.context.send_activity(card_activity(card, t.get("proposal.resume.title", locale)))

    async def _initiator(self, context: TurnContext) -> Initiator:
        """Who is proposing, taken from Teams where possible."""
        sender = context.activity.from_property
        initiator = Initiator(
            name=(sender.name or "") if sender else "",
            aad_object_id=user_key(context),
        )
        if context.activity.channel_id == "msteams" and sender is not None and sender.aad_object_id:
            try:
                member = await asyncio.wait_for(TeamsInfo.get_member(context, sender.id), 5)
                initiator.email = (
                    getattr(member, "email", None)
                    or getattr(member, "user_principal_name", "")
                    or ""
                )
            except Exception:
                # Outside Teams (tests, terminal) there is no roster to ask; the e-mail stays empty.
                logger.info("could not look up the initiator's e-mail in Teams")
        return initiator
