"""Knowledge-base answers as cards: the answer, its source, related questions and feedback."""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity

from bot.services import Services
from dialogs.replies import card_activity
from knowledge.kb import Answer

MAX_QUESTION_CHARS = 500


def answer_card_activity(
    services: Services, answer: Answer, question: str, locale: str
) -> Activity:
    """The card a user sees for one question: answered with source, or politely declined."""
    texts = services.texts
    if answer.answered:
        data: dict[str, Any] = {
            "answer": answer.text,
            "source": texts.get("answer.source", locale, source=answer.source or ""),
            "topic": answer.topic or "",
            "related": [{"id": rid, "title": title} for rid, title in answer.related[:3]],
            "has_related": bool(answer.related),
        }
        card = services.cards.render("answer", data, locale)
        return card_activity(card, answer.text[:120])
    reason = answer.reason or "low_confidence"
    data = {
        "decline": answer.text,
        "question": question[:MAX_QUESTION_CHARS],
        "can_escalate": reason != "empty",
    }
    card = services.cards.render("decline", data, locale)
    return card_activity(card, answer.text[:120])
