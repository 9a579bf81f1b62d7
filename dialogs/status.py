"""'Mina förslag': the user's draft and proposals with their status and latest event."""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from dialogs.ports import DialogServices
from dialogs.replies import card_activity, user_key
from domain.proposal import Status


def short_date(iso: str) -> str:
    """2026-11-22T10:00:00+00:00 → 2026-11-22."""
    return iso[:10] if iso else ""


async def my_proposals_activity(
    services: DialogServices, turn_context: TurnContext, locale: str
) -> Activity:
    """The status card for the person behind this turn."""
    texts = services.texts
    person = user_key(turn_context)
    repo = services.records.proposals
    draft = await repo.draft_of(person)
    proposals = await repo.for_initiator(person)
    if draft is None and not proposals:
        return Activity(type="message", text=texts.get("status.none", locale))
    items: list[dict[str, Any]] = []
    choices = services.workflow.contact_choices(person)
    for proposal in proposals:
        latest = proposal.history[-1] if proposal.history else None
        waiting = proposal.status == Status.AWAITING_ENDORSEMENT and bool(choices)
        items.append(
            {
                "proposal": proposal.id,
                "waiting": waiting,
                "choices": choices if waiting else [],
                "pick": texts.get("status.pick_member", locale, id=proposal.id),
                "line": texts.get(
                    "status.line",
                    locale,
                    id=proposal.id,
                    title=proposal.title,
                    status=texts.get(f"status.{proposal.status}", locale),
                ),
                "latest": texts.get(
                    "status.latest",
                    locale,
                    event=texts.get(f"event.{latest.action}", locale) if latest else "",
                    when=short_date(latest.at) if latest else "",
                )
                if latest
                else "",
            }
        )
    data = {
        "draft": texts.get(
            "status.draft_line",
            locale,
            title=draft.proposal.title or texts.get("proposal.resume.untitled", locale),
            when=short_date(draft.proposal.updated_at),
        )
        if draft
        else "",
        "has_draft": draft is not None,
        "items": items,
    }
    card = services.cards.render("status", data, locale)
    return card_activity(card, texts.get("status.title", locale))
