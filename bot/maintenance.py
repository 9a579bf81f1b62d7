"""Housekeeping: drafts untouched for 90 days are removed, after a reminder a week before;
requests for endorsement nobody answered are reminded."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.services import Services
from domain.clock import parse_time
from presentation.activities import text_activity
from storage.expiry import REMIND_BEFORE, DraftAge, plan_sweep

logger = logging.getLogger(__name__)

# notify(person, text) delivers a message to a person's personal chat (or queues it).
Notify = Callable[[str, str], Awaitable[None]]
# Of several instances on one store, the lease holder sweeps; it renews the lease every
# round, and another instance takes over once a holder has missed a round.
SWEEP_LEASE = "draft-sweep"
REMIND_LEASE = "endorsement-reminders"


async def sweep_drafts(
    services: Services,
    notify: Notify,
    now: datetime | None = None,
    claim: Callable[[], Awaitable[bool]] | None = None,
) -> tuple[int, int]:
    """Remind owners of drafts about to expire, remove expired ones; return the two counts.

    Only reads until there is something to do; then `claim` (the sweep lease, when several
    instances share the store) must be won first. A day with nothing to sweep writes nothing.
    """
    now = now or datetime.now(UTC)
    repo = services.records.proposals
    ages: list[DraftAge] = []
    drafts = {}
    for person, draft in await repo.drafts():
        updated = parse_time(draft.proposal.updated_at or draft.proposal.created_at)
        if updated is None:
            continue
        drafts[person] = draft
        ages.append(
            DraftAge(person, updated, parse_time(draft.reminded_at) if draft.reminded_at else None)
        )
    plan = plan_sweep(ages, now)
    if not (plan.remind or plan.remove):
        return 0, 0
    if claim is not None and not await claim():
        return 0, 0
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


async def remind_endorsements(
    services: Services,
    now: datetime | None = None,
    claim: Callable[[], Awaitable[bool]] | None = None,
) -> int:
    """Remind RUG of requests for endorsement left unanswered; returns how many messages."""
    if claim is not None and not await claim():
        return 0
    deliver = await services.workflow.remind_waiting(now or datetime.now(UTC))
    await services.deliver_now(deliver)
    if deliver:
        logger.info("endorsement reminders: %d sent", len(deliver))
    return len(deliver)


def notify_in_personal_chat(services: Services) -> Notify:
    """Send a reminder to a person's 1:1 chat through the outbox (retried, kept across restarts)."""

    async def notify(person: str, text: str) -> None:
        await services.delivery.send(
            "person", person, {"activity": text_activity(text)}, {"kind": "draft_reminder"}
        )

    return notify


def draft_sweeper(
    get_services: Callable[[web.Application], Services],
    every: float = 86400.0,
    first_delay: float = 60.0,
) -> Any:
    """An aiohttp cleanup_ctx that sweeps drafts a minute after start-up, then once a day."""

    async def loop(services: Services) -> None:
        # Not at the very start: reading every draft competes with the first requests.
        await asyncio.sleep(first_delay)
        owner = uuid.uuid4().hex
        meta = services.records.meta
        while True:
            try:
                # Of several instances on one store, the one holding the lease sweeps.
                await sweep_drafts(
                    services,
                    notify_in_personal_chat(services),
                    claim=lambda: meta.acquire_lease(SWEEP_LEASE, owner, every * 1.5),
                )
            except Exception:
                logger.exception("the draft sweep failed; it runs again later")
            try:
                await remind_endorsements(
                    services,
                    claim=lambda: meta.acquire_lease(REMIND_LEASE, owner, every * 1.5),
                )
            except Exception:
                logger.exception("the endorsement reminders failed; they run again later")
            await asyncio.sleep(every)

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(loop(get_services(app)))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return ctx
