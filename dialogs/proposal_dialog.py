"""The proposal dialog: one step per field, the skallkrav checked as soon as their step is answered.

The conversation is declared as data (``STEPS``); each kind of step has one small handler.
The draft lives in the store, saved after every step; the dialog state only says where we are.
See ``proposal_dialog.md`` beside this file for the diagram.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult, DialogTurnStatus

from bot.services import Services
from dialogs.actions import CardAction, InvalidAction, parse_action
from dialogs.answers import answer_card_activity, record_feedback
from dialogs.ids import PROPOSAL_DIALOG
from dialogs.intents import Intent, recognise
from dialogs.replies import card_activity, locale_for, user_key
from dialogs.status import my_proposals_activity, short_date
from knowledge.kb import looks_like_question
from knowledge.organisations import ORGANISATIONS, split_organisations, understand_organisations
from knowledge.personnummer import contains_identity_number
from knowledge.similar import Candidate, find_similar
from knowledge.skallkrav import (
    SKALLKRAV_TITLES,
    CheckContext,
    SkallkravItem,
    check_malbild,
    check_organisations,
    check_proposal,
    check_target_groups,
    recognise_malbild,
)
from storage.errors import StoreUnavailableError
from storage.proposals import (
    LONG_TEXT_FIELDS,
    LONG_TEXT_MAX,
    SHORT_TEXT_MAX,
    TITLE_MAX,
    Initiator,
    Proposal,
    Status,
    validate_field,
)
from storage.repository import Draft, utc_now

logger = logging.getLogger(__name__)

# Someone who comes back after this long is asked whether to continue or start over.
RETURN_AFTER = timedelta(hours=12)
_STEP_INTENTS = frozenset(
    {Intent.BACK, Intent.SKIP, Intent.CANCEL, Intent.HELP, Intent.MY_PROPOSALS, Intent.IDEA}
)
_LIST_SPLIT = re.compile(r"[,;\n]+")


@dataclass(frozen=True)
class Step:
    """One question of the dialog."""

    id: str
    kind: str  # text | organisations | target_groups | malbild | rug_contact
    required: bool = True
    limit: int = LONG_TEXT_MAX
    multiline: bool = True


STEPS: tuple[Step, ...] = (
    Step("title", "text", limit=TITLE_MAX, multiline=False),
    Step("background", "text"),
    Step("description", "text"),
    Step("organisations", "organisations"),
    Step("target_groups", "target_groups"),
    Step("malbild", "malbild"),
    Step("expected_effects", "text"),
    Step("follow_up", "text"),
    Step("resources", "text", required=False),
    Step("time_plan", "text", required=False),
    Step("initiator_org", "text", limit=SHORT_TEXT_MAX, multiline=False),
    Step("rug_contact", "rug_contact", required=False),
)
STEP_BY_ID = {step.id: step for step in STEPS}
SUMMARY = "summary"
# Text steps whose answer goes to a field of the proposal of the same name.
_TEXT_FIELDS = {"title", *LONG_TEXT_FIELDS}


def _waiting() -> DialogTurnResult:
    return DialogTurnResult(DialogTurnStatus.Waiting)


def _split_list(text: str | None) -> list[str]:
    return [part.strip() for part in _LIST_SPLIT.split(text or "") if part.strip()]


class ProposalDialog(Dialog):
    """Guides one person from an idea to a complete, submitted proposal."""

    def __init__(self, services: Services) -> None:
        super().__init__(PROPOSAL_DIALOG)
        self._services = services
        self._repo = services.records.proposals
        self._texts = services.texts

    @property
    def _check_context(self) -> CheckContext:
        s = self._services
        return CheckContext(target_groups=s.target_groups, malbild=s.malbild, rug=s.rug)

    # ----- lifecycle -------------------------------------------------------------------

    async def begin_dialog(self, dc: DialogContext, options: object = None) -> DialogTurnResult:
        """Offer to resume an existing draft, or start a new one at step 1."""
        if isinstance(options, dict) and options.get("complement"):
            return await self._begin_complement(dc, str(options["complement"]))
        state = dc.active_dialog.state
        state.update({"step": STEPS[0].id, "factor": None, "pending": None, "review": False})
        state["last_at"] = utc_now()
        person = user_key(dc.context)
        draft = await self._repo.draft_of(person)
        locale = locale_for(dc.context)
        if draft is not None and self._has_content(draft.proposal):
            state["pending"] = "resume"
            await self._send_resume(dc, draft, locale)
            return _waiting()
        try:
            await self._repo.new_draft(
                person, Proposal(initiator=await self._initiator(dc.context))
            )
        except StoreUnavailableError:
            logger.exception("could not create a draft")
            await dc.context.send_activity(self._texts.get("general.cannot_save", locale))
            return await dc.end_dialog()
        await dc.context.send_activity(self._texts.get("proposal.start", locale))
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

        returning = self._is_returning(state) and action is None
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
            if field not in STEP_BY_ID:
                await dc.context.send_activity(self._texts.get("general.bad_card", locale))
                await self._prompt(dc, locale, draft)
                return _waiting()
            state.update({"step": field, "factor": None, "review": True})
            await self._prompt(dc, locale, draft)
            return _waiting()
        if name == "submit":
            return await self._on_submit(dc, draft, action, locale)
        if name == "step":
            if action.get("step") != self._position(state):
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
        if name not in ("start_proposal",):
            await dc.context.send_activity(self._texts.get("proposal.wrong_step", locale))
        await self._prompt(dc, locale, draft)
        return _waiting()

    async def _on_text(
        self, dc: DialogContext, draft: Draft, text: str, locale: str
    ) -> DialogTurnResult:
        intent = recognise(text, _STEP_INTENTS)
        if intent != Intent.NONE:
            if intent == Intent.IDEA:
                # Already describing an idea: show where we are instead of taking it as an answer.
                await self._prompt(dc, locale, draft, resumed=True)
                return _waiting()
            if intent == Intent.MY_PROPOSALS:
                await dc.context.send_activity(
                    await my_proposals_activity(self._services, dc.context, locale)
                )
                await self._prompt(dc, locale, draft, resumed=True)
                return _waiting()
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
            await dc.context.send_activity(self._texts.get("proposal.summary.summary", locale))
            await self._prompt(dc, locale, draft)
            return _waiting()
        inputs = {"text": text}
        return await self._answer(dc, draft, inputs, locale)

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
            await self._prompt(dc, locale, draft)
            return _waiting()
        if nav == "back":
            if not self._go_back(state, draft.proposal):
                await dc.context.send_activity(self._texts.get("proposal.first_step", locale))
            await self._prompt(dc, locale, draft)
            return _waiting()
        if nav == "skip":
            step = STEP_BY_ID.get(state["step"])
            if step is None or step.required or state.get("factor"):
                await dc.context.send_activity(self._texts.get("proposal.required", locale))
                await self._prompt(dc, locale, draft)
                return _waiting()
            self._advance(state, draft.proposal)
            await self._prompt(dc, locale, draft)
            return _waiting()
        await dc.context.send_activity(self._texts.get("general.bad_card", locale))
        await self._prompt(dc, locale, draft)
        return _waiting()

    # ----- answering a step ------------------------------------------------------------

    async def _answer(
        self, dc: DialogContext, draft: Draft, inputs: dict[str, Any], locale: str
    ) -> DialogTurnResult:
        """Check the answer to the current step, store it, move on (or say what is missing)."""
        state = dc.active_dialog.state
        texts = [v for k, v in inputs.items() if isinstance(v, str) and k != "step"]
        if any(contains_identity_number(t) for t in texts):
            # Refused before anything is stored, logged or echoed back.
            await dc.context.send_activity(self._texts.get("general.identity_number", locale))
            await self._prompt(dc, locale, draft)
            return _waiting()
        step = STEP_BY_ID.get(state["step"])
        if step is None:
            await self._prompt(dc, locale, draft)
            return _waiting()
        if state.get("factor"):
            ok, message = self._answer_motivation(state, draft.proposal, inputs)
        elif step.kind == "text":
            ok, message = self._answer_text(step, draft.proposal, inputs, locale)
        elif step.kind == "organisations":
            ok, message = self._answer_organisations(draft.proposal, inputs, locale)
        elif step.kind == "target_groups":
            ok, message = self._answer_target_groups(draft.proposal, inputs)
        elif step.kind == "malbild":
            ok, message = self._answer_malbild(state, draft.proposal, inputs)
        else:
            ok, message = self._answer_rug_contact(draft.proposal, inputs, locale)
        if ok is None:  # the answer was not acceptable: nothing changed
            await dc.context.send_activity(message)
            await self._prompt(dc, locale, draft)
            return _waiting()
        try:
            await self._repo.save_draft(user_key(dc.context), draft)
        except StoreUnavailableError:
            logger.exception("could not save a draft step")
            await dc.context.send_activity(self._texts.get("general.cannot_save", locale))
            return _waiting()
        if message:
            await dc.context.send_activity(message)
        if ok:
            if not (step.kind == "malbild" and state.get("factor")):
                self._advance(state, draft.proposal)
        await self._prompt(dc, locale, draft)
        return _waiting()

    def _answer_text(
        self, step: Step, proposal: Proposal, inputs: dict[str, Any], locale: str
    ) -> tuple[bool | None, str]:
        """Store a free-text answer after checking its length."""
        value = str(inputs.get("text") or "").strip()
        if not value:
            return None, self._texts.get("proposal.empty_answer", locale)
        field = "organisation" if step.id == "initiator_org" else step.id
        problem = validate_field(field, value)
        if problem is None and len(value) > step.limit:
            problem = self._texts.get(
                "general.text_too_long", locale, length=len(value), limit=step.limit
            )
        if problem:
            return None, problem
        if step.id == "initiator_org":
            proposal.initiator.organisation = value
        else:
            setattr(proposal, step.id, value)
        return True, ""

    def _answer_organisations(
        self, proposal: Proposal, inputs: dict[str, Any], locale: str
    ) -> tuple[bool | None, str]:
        """Skallkrav 1, checked at once; show how the words were understood."""
        chosen = _split_list(inputs.get("organisations"))
        chosen += split_organisations(
            str(inputs.get("organisations_other") or inputs.get("text") or "")
        )
        if not chosen:
            return None, self._texts.get("proposal.empty_answer", locale)
        proposal.organisations = chosen
        item = check_organisations(chosen)
        lines = [self._texts.get("proposal.understood", locale)]
        for match in understand_organisations(chosen):
            target = match.organisation or self._texts.get("proposal.not_recognised", locale)
            lines.append(f"- {match.text} → {target}")
        return item.met, "\n".join(lines) + "\n\n" + self._krav_line(item)

    def _answer_target_groups(
        self, proposal: Proposal, inputs: dict[str, Any]
    ) -> tuple[bool | None, str]:
        """Skallkrav 2, checked at once against the configured list."""
        groups = self._services.target_groups
        picked = _split_list(inputs.get("target_groups"))
        named = [g.name for g in (groups.by_id(p) for p in picked) if g is not None]
        other = _split_list(inputs.get("target_groups_other") or inputs.get("text"))
        texts = named + [p for p in picked if groups.by_id(p) is None] + other
        if not texts:
            return None, self._texts.get("proposal.empty_answer", "sv")
        item = check_target_groups(texts, groups)
        canonical = [g.name for g in (groups.match(t) for t in texts) if g is not None]
        unknown = [t for t in texts if groups.match(t) is None]
        proposal.target_groups = list(dict.fromkeys(canonical + unknown))
        return item.met, self._krav_line(item)

    def _answer_malbild(
        self, state: dict[str, Any], proposal: Proposal, inputs: dict[str, Any]
    ) -> tuple[bool | None, str]:
        """Skallkrav 3: goal properties and success factors, from the card or typed freely."""
        malbild = self._services.malbild
        goal_names = {p.name for p in malbild.goal_properties}
        factor_names = [f.name for f in malbild.factors]
        picked = _split_list(inputs.get("goal_properties")) + _split_list(
            inputs.get("success_factors")
        )
        typed = _split_list(inputs.get("text"))
        words: list[str] = []
        for text in picked + typed:
            words.extend(recognise_malbild(text, malbild) or [text])
        if not words:
            return None, self._texts.get("proposal.empty_answer", "sv")
        goals = [w for w in words if w in goal_names]
        factors = [w for w in words if w in factor_names]
        unknown = [w for w in words if w not in goal_names and w not in factor_names]
        item = check_malbild(goals + unknown, factors, malbild)
        if not item.met:
            return None, self._krav_line(item)
        proposal.goal_properties = list(dict.fromkeys(goals))
        ordered = [name for name in factor_names if name in factors]
        proposal.success_factors = {n: proposal.success_factors.get(n, "") for n in ordered}
        state["factor"] = ordered[0] if ordered else None
        return True, self._krav_line(item)

    def _answer_motivation(
        self, state: dict[str, Any], proposal: Proposal, inputs: dict[str, Any]
    ) -> tuple[bool | None, str]:
        """How the idea contributes to one chosen success factor."""
        value = str(inputs.get("text") or "").strip()
        if not value:
            return None, self._texts.get("proposal.empty_answer", "sv")
        problem = validate_field("success_factors", {state["factor"]: value})
        if problem:
            return None, problem
        proposal.success_factors[state["factor"]] = value
        names = list(proposal.success_factors)
        position = names.index(state["factor"]) if state["factor"] in names else len(names)
        state["factor"] = names[position + 1] if position + 1 < len(names) else None
        return True, ""

    def _answer_rug_contact(
        self, proposal: Proposal, inputs: dict[str, Any], locale: str
    ) -> tuple[bool | None, str]:
        """The RUG member the idea is anchored with (skallkrav 4 is settled by RUG itself)."""
        wanted = str(inputs.get("rug_member") or inputs.get("text") or "").strip()
        if not wanted:
            return None, self._texts.get("proposal.empty_answer", locale)
        rug = self._services.rug
        if len(rug) == 0:
            problem = validate_field("name", wanted)
            if problem:
                return None, problem
            proposal.rug_contact = wanted
            return True, ""
        person = rug.find(wanted)
        if person is None:
            return None, self._texts.get(
                "proposal.step.rug_contact.unknown", locale, name=wanted[:80]
            )
        proposal.rug_contact = person.name
        return True, ""

    # ----- moving between steps ---------------------------------------------------------

    @staticmethod
    def _position(state: dict[str, Any]) -> str:
        """The current step as cards name it ('malbild:Trygg' while asking for a motivation)."""
        return f"{state['step']}:{state['factor']}" if state.get("factor") else str(state["step"])

    @staticmethod
    def _advance(state: dict[str, Any], proposal: Proposal) -> None:
        """Next step, or back to the summary when editing from it."""
        state["factor"] = None
        if state.get("review") or state["step"] == SUMMARY:
            state["step"] = SUMMARY
            return
        index = [s.id for s in STEPS].index(state["step"])
        state["step"] = STEPS[index + 1].id if index + 1 < len(STEPS) else SUMMARY

    @staticmethod
    def _go_back(state: dict[str, Any], proposal: Proposal) -> bool:
        """One step back; False when already at the first step."""
        factors = list(proposal.success_factors)
        if state.get("factor"):
            position = factors.index(state["factor"]) if state["factor"] in factors else 0
            state["factor"] = factors[position - 1] if position > 0 else None
            return True
        ids = [s.id for s in STEPS]
        if state["step"] == SUMMARY:
            state["step"] = ids[-1]
            state["review"] = False
            return True
        index = ids.index(state["step"])
        if index == 0:
            return False
        state["step"] = ids[index - 1]
        if state["step"] == "malbild" and factors:
            state["factor"] = factors[-1]
        return True

    def _is_returning(self, state: dict[str, Any]) -> bool:
        last = state.get("last_at")
        if not last:
            return False
        try:
            then = datetime.fromisoformat(str(last))
        except ValueError:
            return False
        return datetime.now(UTC) - then > RETURN_AFTER

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
            state.update(self._first_unanswered(draft.proposal))
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
            state.update({"pending": None, "step": STEPS[0].id, "factor": None, "review": False})
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
        result = check_proposal(draft.proposal, self._check_context)
        missing = [item for item in result.items if item.number != 4 and not item.met]
        if missing:
            text = self._texts.get(
                "proposal.not_ready", locale, missing=" ".join(i.message for i in missing)
            )
            await dc.context.send_activity(text)
            await self._prompt(dc, locale, draft)
            return _waiting()
        if draft.proposal.id:
            # A submitted proposal reopened for komplettering goes back to RUG, not anew.
            return await self._submit_complement(dc, draft, locale)
        person = user_key(dc.context)
        who = draft.proposal.initiator.name or person
        try:
            proposal = await self._repo.submit(person, draft, Status.AWAITING_ENDORSEMENT, who)
        except StoreUnavailableError:
            logger.exception("could not submit a proposal")
            await dc.context.send_activity(self._texts.get("general.cannot_save", locale))
            return _waiting()
        await dc.context.send_activity(
            self._texts.get("proposal.submitted", locale, id=proposal.id, title=proposal.title)
        )
        workflow = getattr(self._services, "workflow", None)
        if workflow is not None:
            await workflow.submitted(dc.context, proposal)
        return await dc.end_dialog(proposal.id)

    async def _begin_complement(self, dc: DialogContext, proposal_id: str) -> DialogTurnResult:
        """Reopen the initiator's proposal at the fields RUG named (komplettering)."""
        locale = locale_for(dc.context)
        workflow = getattr(self._services, "workflow", None)
        if workflow is None:
            await dc.context.send_activity(self._texts.get("general.not_available", locale))
            return await dc.end_dialog()
        opened = await workflow.open_complement(user_key(dc.context), proposal_id)
        if opened.error or opened.draft is None:
            await dc.context.send_activity(self._texts.get(opened.error, locale))
            return await dc.end_dialog()
        step = opened.first_step if opened.first_step in STEP_BY_ID else SUMMARY
        dc.active_dialog.state.update(
            {"step": step, "factor": None, "pending": None, "review": True, "last_at": utc_now()}
        )
        await dc.context.send_activity(opened.intro)
        await self._prompt(dc, locale, opened.draft)
        return _waiting()

    async def _submit_complement(
        self, dc: DialogContext, draft: Draft, locale: str
    ) -> DialogTurnResult:
        """Send the complemented proposal back to RUG through the workflow."""
        workflow = getattr(self._services, "workflow", None)
        if workflow is None:
            await dc.context.send_activity(self._texts.get("general.not_available", locale))
            return _waiting()
        try:
            reply = await workflow.resubmitted(dc.context, draft)
        except StoreUnavailableError:
            logger.exception("could not resubmit a complemented proposal")
            await dc.context.send_activity(self._texts.get("general.cannot_save", locale))
            return _waiting()
        await dc.context.send_activity(reply)
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
            candidates = [
                Candidate(p.id, p.title, p.description, p.status) for p in await self._repo.all()
            ]
            card = self._summary_card(draft, locale, candidates)
            summary = self._texts.get("proposal.summary.summary", locale)
        else:
            card = self._step_card(state, draft.proposal, locale, resumed)
            summary = card["body"][1]["text"] if len(card.get("body", [])) > 1 else ""
        await dc.context.send_activity(card_activity(card, summary))

    def _step_card(
        self, state: dict[str, Any], proposal: Proposal, locale: str, resumed: bool
    ) -> dict[str, Any]:
        t = self._texts
        step = STEP_BY_ID[state["step"]]
        number = [s.id for s in STEPS].index(step.id) + 1
        factor_name = state.get("factor")
        key = f"proposal.step.{'motivation' if factor_name else step.id}"
        data: dict[str, Any] = {
            "intro": t.get("proposal.continue_here", locale) if resumed else "",
            "progress": t.get("proposal.progress", locale, n=number, total=len(STEPS)),
            "question": t.get(f"{key}.question", locale, factor=(factor_name or "").lower()),
            "example": t.get("proposal.example", locale, example=t.get(f"{key}.example", locale)),
            "note": "",
            "guidance": [],
            "position": self._position(state),
            "optional": not step.required and not factor_name,
            "is_text": False,
            "multiline": step.multiline,
            "limit": step.limit,
            "value": "",
            "is_choices": False,
            "choice_id": "",
            "choice_label": "",
            "choices": [],
            "selected": "",
            "multi": True,
            "other_id": "",
            "other_value": "",
            "is_malbild": False,
        }
        if factor_name:
            factor = next(f for f in self._services.malbild.factors if f.name == factor_name)
            data.update(
                is_text=True, multiline=True, value=proposal.success_factors.get(factor_name, "")
            )
            data["progress"] += f" – {factor.name}"
            data["note"] = factor.headline
            data["guidance"] = [
                {
                    "heading": t.get("proposal.step.motivation.employee", locale),
                    "text": "\n".join(f"- {line}" for line in factor.employee),
                },
                {
                    "heading": t.get("proposal.step.motivation.organisation", locale),
                    "text": "\n".join(f"- {line}" for line in factor.organisation),
                },
            ]
        elif step.kind == "text":
            current = (
                proposal.initiator.organisation
                if step.id == "initiator_org"
                else getattr(proposal, step.id)
            )
            data.update(is_text=True, value=current)
        elif step.kind == "organisations":
            known = [o for o in proposal.organisations if o in ORGANISATIONS]
            data.update(
                is_choices=True,
                choice_id="organisations",
                choice_label=t.get("proposal.field.organisations", locale),
                choices=[{"title": name, "value": name} for name in ORGANISATIONS],
                selected=",".join(known),
                other_id="organisations_other",
                other_value=", ".join(o for o in proposal.organisations if o not in ORGANISATIONS),
            )
        elif step.kind == "target_groups":
            groups = self._services.target_groups
            chosen = [g for g in groups.groups if g.name in proposal.target_groups]
            data.update(
                is_choices=True,
                choice_id="target_groups",
                choice_label=t.get("proposal.field.target_groups", locale),
                choices=[{"title": g.name, "value": g.id} for g in groups.groups],
                selected=",".join(g.id for g in chosen),
                other_id="target_groups_other",
                other_value=", ".join(
                    x for x in proposal.target_groups if x not in {g.name for g in chosen}
                ),
            )
            if groups.provisional:
                data["note"] = t.get("proposal.step.target_groups.provisional", locale)
        elif step.kind == "malbild":
            malbild = self._services.malbild
            data.update(
                is_malbild=True,
                goal_label=t.get("proposal.step.malbild.goals_label", locale),
                factor_label=t.get("proposal.step.malbild.factors_label", locale),
                goal_choices=[{"title": p.name, "value": p.name} for p in malbild.goal_properties],
                factor_choices=[
                    {"title": f"{f.name} – {f.headline}", "value": f.name} for f in malbild.factors
                ],
                goal_selected=",".join(proposal.goal_properties),
                factor_selected=",".join(proposal.success_factors),
            )
        else:  # rug_contact
            rug = self._services.rug
            if len(rug) == 0:
                data.update(is_text=True, multiline=False, value=proposal.rug_contact)
                data["note"] = t.get("proposal.step.rug_contact.no_list", locale)
            else:
                data.update(
                    is_choices=True,
                    multi=False,
                    choice_id="rug_member",
                    choice_label=t.get("proposal.field.rug_contact", locale),
                    choices=[
                        {
                            "title": f"{p.name} ({p.organisation})" if p.organisation else p.name,
                            "value": p.name,
                        }
                        for p in rug
                    ],
                    selected=proposal.rug_contact,
                )
        data.setdefault("goal_label", "")
        data.setdefault("factor_label", "")
        data.setdefault("goal_choices", [])
        data.setdefault("factor_choices", [])
        data.setdefault("goal_selected", "")
        data.setdefault("factor_selected", "")
        data["has_note"] = bool(data["note"])
        data["has_intro"] = bool(data["intro"])
        data["has_guidance"] = bool(data["guidance"])
        return self._services.cards.render("proposal_step", data, locale)

    def _summary_card(
        self, draft: Draft, locale: str, candidates: list[Candidate]
    ) -> dict[str, Any]:
        t = self._texts
        p = draft.proposal
        none = t.get("proposal.not_given", locale)
        factors = "\n".join(
            f"- **{name}**: {motivation or none}" for name, motivation in p.success_factors.items()
        )
        malbild_text = "\n".join(part for part in (", ".join(p.goal_properties), factors) if part)
        initiator = ", ".join(
            x for x in (p.initiator.name, p.initiator.organisation, p.initiator.email) if x
        )
        values = {
            "title": p.title,
            "background": p.background,
            "description": p.description,
            "organisations": ", ".join(p.organisations),
            "target_groups": ", ".join(p.target_groups),
            "malbild": malbild_text,
            "expected_effects": p.expected_effects,
            "follow_up": p.follow_up,
            "resources": p.resources,
            "time_plan": p.time_plan,
            "initiator_org": initiator,
            "rug_contact": p.rug_contact,
        }
        sections = [
            {
                "label": t.get(f"proposal.field.{step.id}", locale),
                "value": values[step.id] or none,
                "field": step.id,
            }
            for step in STEPS
        ]
        result = check_proposal(p, self._check_context)
        checks = []
        for item in result.items:
            if item.number == 4 and not item.met:
                key = (
                    "proposal.summary.krav4_pending"
                    if p.rug_contact
                    else "proposal.summary.krav4_pending_no_contact"
                )
                line = f"⏳ 4. {SKALLKRAV_TITLES[4]} – {t.get(key, locale)}"
                color = "Default"
            else:
                mark = "✔" if item.met else "✖"
                line = f"{mark} {item.number}. {SKALLKRAV_TITLES[item.number]} – {item.message}"
                color = "Default" if item.met else "Attention"
            checks.append({"line": line, "color": color})
        can_submit = all(item.met for item in result.items if item.number != 4) and all(
            values[s.id] for s in STEPS if s.required
        )
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
            "sections": sections,
            "checks": checks,
            "can_submit": can_submit,
            "cannot_submit": not can_submit,
            "similar": similar,
            "has_similar": bool(similar),
            "draft": draft.token,
            "revision": draft.revision,
        }
        return self._services.cards.render("proposal_summary", data, locale)

    def _help_text(self, state: dict[str, Any], locale: str) -> str:
        t = self._texts
        if state["step"] == SUMMARY:
            return t.get("proposal.summary.intro", locale)
        key = "motivation" if state.get("factor") else state["step"]
        generic = t.get("proposal.help_generic", locale)
        return f"{t.get(f'proposal.step.{key}.help', locale)}\n\n{generic}"

    def _krav_line(self, item: SkallkravItem) -> str:
        mark = "✔" if item.met else "✖"
        return f"{mark} Skallkrav {item.number}: {item.message}"

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

    @staticmethod
    def _has_content(proposal: Proposal) -> bool:
        return any(getattr(proposal, s.id, "") for s in STEPS if s.id in _TEXT_FIELDS) or bool(
            proposal.organisations or proposal.target_groups or proposal.success_factors
        )

    @staticmethod
    def _first_unanswered(proposal: Proposal) -> dict[str, Any]:
        """Where to continue: the first required step without an answer, else the summary."""
        for step in STEPS:
            if not step.required:
                continue
            if step.id in _TEXT_FIELDS and not getattr(proposal, step.id):
                return {"step": step.id, "factor": None, "review": False}
            if step.id == "organisations" and not proposal.organisations:
                return {"step": step.id, "factor": None, "review": False}
            if step.id == "target_groups" and not proposal.target_groups:
                return {"step": step.id, "factor": None, "review": False}
            if step.id == "malbild":
                if not (proposal.goal_properties or proposal.success_factors):
                    return {"step": step.id, "factor": None, "review": False}
                empty = [n for n, m in proposal.success_factors.items() if not m]
                if empty:
                    return {"step": step.id, "factor": empty[0], "review": False}
            if step.id == "initiator_org" and not proposal.initiator.organisation:
                return {"step": step.id, "factor": None, "review": False}
        return {"step": SUMMARY, "factor": None, "review": False}

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
