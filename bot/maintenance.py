"""Housekeeping: drafts untouched for 90 days are removed, after a reminder a week before."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bot.services import Services
from storage.expiry import REMIND_BEFORE, DraftAge, plan_sweep

logger = logging.getLogger(__name__)

# notify(person, text) delivers a message to a person's personal chat (or queues it).
Notify = Callable[[str, str], Awaitable[None]]


def _parse(iso: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def sweep_drafts(
    services: Services, notify: Notify, now: datetime | None = None
) -> tuple[int, int]:
    """Remind owners of drafts about to expire, remove expired ones; return the two counts."""
    now = now or datetime.now(UTC)
    repo = services.records.proposals
    ages: list[DraftAge] = []
    drafts = {}
    for row in await repo.draft_index():
        person = str(row.get("person", ""))
        draft = await repo.draft_of(person)
        if draft is None:
            continue
        updated = _parse(draft.proposal.updated_at or draft.proposal.created_at)
        if updated is None:
            continue
        drafts[person] = draft
        ages.append(
            DraftAge(person, updated, _parse(draft.reminded_at) if draft.reminded_at else None)
        )
    plan = plan_sweep(ages, now)
    texts = services.texts
    for person in plan.remind:
        draft = drafts[person]
        # Removal waits a full week after the reminder, whatever the draft's age.
        days_left = REMIND_BEFORE.days
        text = texts.get(
            "proposal.draft_reminder",
            title=draft.proposal.title or texts.get("proposal.resume.untitled"),
            days=days_left,
        )
        await notify(person, text)
        await repo.mark_reminded(person, draft)
    for person in plan.remove:
        await repo.discard_draft(person, "omtanke", "expired")
    if plan.remind or plan.remove:
        logger.info("draft sweep: %d reminded, %d removed", len(plan.remind), len(plan.remove))
    return len(plan.remind), len(plan.remove)
