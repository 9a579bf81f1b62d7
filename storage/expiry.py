"""Which drafts to remind about and which to remove: a pure decision, tested without a clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DRAFT_LIFETIME = timedelta(days=90)
REMIND_BEFORE = timedelta(days=7)


@dataclass(frozen=True)
class DraftAge:
    """What the sweep needs to know about one draft."""

    person: str
    updated_at: datetime
    reminded_at: datetime | None


@dataclass(frozen=True)
class SweepPlan:
    """The people to remind and the people whose drafts go."""

    remind: tuple[str, ...]
    remove: tuple[str, ...]


def plan_sweep(drafts: list[DraftAge], now: datetime) -> SweepPlan:
    """Remind 7 days before 90 untouched days; remove only drafts whose owner was reminded."""
    remind: list[str] = []
    remove: list[str] = []
    for draft in drafts:
        idle = now - draft.updated_at
        if idle < DRAFT_LIFETIME - REMIND_BEFORE:
            continue
        if draft.reminded_at is None:
            remind.append(draft.person)
        elif idle >= DRAFT_LIFETIME and now - draft.reminded_at >= REMIND_BEFORE:
            remove.append(draft.person)
    return SweepPlan(tuple(remind), tuple(remove))
