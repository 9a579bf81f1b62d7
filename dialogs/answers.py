"""Knowledge-base answers as cards: the answer, its source, related questions and feedback."""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity

from dialogs.actions import CardAction
from dialogs.ports import DialogServices
from dialogs.replies import actor_of, card_activity, locale_for, user_key
from domain.personnummer import contains_identity_number
from knowledge.kb import Answer

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 500


def answer_card_activity(
    services: DialogServices,
    answer: Answer,
    question: str,
    locale: str,
    can_start: bool = False,
    idea_title: str = "",
) -> Activity:
    """The card a user sees for one question: answered with source, or politely declined.

    `can_start`: the question is about proposing something, so the card offers to start one
    (with `idea_title` as its title, when the question came with an idea).
    """
    texts = services.texts
    if answer.answered:
        data: dict[str, Any] = {
            "answer": answer.text,
            "source": texts.get("answer.source", locale, source=answer.source or ""),
            "topic": answer.topic or "",
            "related": [{"id": rid, "title": title} for rid, title in answer.related[:3]],
            "has_related": bool(answer.related),
            "can_start": can_start,
            "start_title": idea_title,
        }
        card = services.cards.render("answer", data, locale)
        return card_activity(card, answer.text[:120])
    reason = answer.reason or "low_confidence"
    data = {
        "decline": answer.text,
        "question": question[:MAX_QUESTION_CHARS],
        "can_escalate": reason != "empty",
        "can_start": can_start,
        "start_title": idea_title,
    }
    card = services.cards.render("decline", data, locale)
    return card_activity(card, answer.text[:120])


async def record_feedback(
    services: DialogServices, turn_context: TurnContext, action: CardAction
) -> None:
    """Store 👍/👎 for a real knowledge-base topic; a forged topic is refused, not stored."""
    locale = locale_for(turn_context)
    topic = str(action.get("topic"))
    if topic not in {entry.id for entry in services.kb.entries}:
        logger.warning("refused feedback on an unknown topic")
        await turn_context.send_activity(services.texts.get("general.bad_card", locale))
        return
    await services.records.feedback.record(
        user_key(turn_context), topic, bool(action.get("helpful"))
    )
    await turn_context.send_activity(services.texts.get("answer.thanks_feedback", locale))


async def record_escalation(
    services: DialogServices, turn_context: TurnContext, action: CardAction
) -> None:
    """Pass a declined question on to the coordinators, unless empty or holding a personnummer."""
    locale = locale_for(turn_context)
    question = str(action.get("question")).strip()
    if not question:
        await turn_context.send_activity(services.texts.get("general.bad_card", locale))
        return
    # Checked whole, then cut: a cut must not split a number past the check.
    if contains_identity_number(question):
        await turn_context.send_activity(services.texts.get("general.identity_number", locale))
        return
    question = question[:MAX_QUESTION_CHARS]
    sender = turn_context.activity.from_property
    _record, deliver = await services.escalation_desk.escalate(
        actor_of(turn_context),
        user_key(turn_context),
        (sender.id or "") if sender else "",
        question,
        await _email_of(turn_context),
    )
    await turn_context.send_activity(services.texts.get("answer.escalated", locale))
    # The card to the coordinators' channel; the outbox worker retries it if this fails.
    await services.deliver_now(deliver)


async def _email_of(turn_context: TurnContext) -> str:
    """The asker's e-mail from Teams' member record, when Teams gives one; else empty (the
    coordinators' lists are looked in next). Asked only on an escalation, never on a turn."""
    sender = turn_context.activity.from_property
    if turn_context.activity.channel_id != "msteams" or sender is None or not sender.id:
        return ""
    try:
        member = await TeamsInfo.get_member(turn_context, sender.id)
    except Exception:
        logger.info("Teams did not give the asker's member record; no e-mail from Teams")
        return ""
    email = getattr(member, "email", None) or ""
    return str(email) if isinstance(email, str) else ""
