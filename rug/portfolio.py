"""The portfolio of proposals in numbers: what the coordinators and RUG see at a glance.

Pure: a list of proposals in, plain counts out. The HTML report (bot/report.py), the exports
and the bot's summary card all use these figures, so they always agree.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from domain.proposal import Proposal, Status
from domain.transitions import EventKind
from knowledge.organisations import understand_organisations

_DECIDED = (EventKind.APPROVED.value, EventKind.REJECTED.value)


@dataclass(frozen=True)
class Portfolio:
    """Counts over all submitted proposals."""

    total: int
    by_status: dict[str, int]
    # Month (YYYY-MM) → status → how many proposals submitted that month are in that status now.
    by_month: dict[str, dict[str, int]]
    by_organisation: dict[str, int]
    by_target_group: dict[str, int]
    by_success_factor: dict[str, int]
    # Days from submission to RUG's decision, for every decided proposal.
    days_to_decision: list[float] = field(default_factory=list)

    @property
    def median_days_to_decision(self) -> float | None:
        """The median, or None while nothing is decided."""
        return statistics.median(self.days_to_decision) if self.days_to_decision else None


def canonical_organisations(proposal: Proposal) -> list[str]:
    """The organisations as the seven canonical names (unrecognised text kept as written);
    parties outside Omtanke Halland ("övrig part: …") are not among them."""
    names: list[str] = []
    for match in understand_organisations(proposal.organisations):
        if match.kind == "other":
            continue
        name = match.organisation or match.text
        if name not in names:
            names.append(name)
    return names


def _when(iso: str) -> datetime | None:
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        return None


def days_to_decision(proposal: Proposal) -> float | None:
    """Days from the first submission to the decision, if decided."""
    submitted = next((e.at for e in proposal.history if e.action == "submitted"), "")
    decided = next((e.at for e in reversed(proposal.history) if e.action in _DECIDED), "")
    start, end = _when(submitted or proposal.created_at), _when(decided)
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds() / 86400)


def _ordered(counter: Counter[str]) -> dict[str, int]:
    """Most frequent first, then by name."""
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def portfolio(proposals: Sequence[Proposal]) -> Portfolio:
    """The figures for a set of submitted proposals."""
    status: Counter[str] = Counter(p.status for p in proposals)
    months: dict[str, Counter[str]] = {}
    organisations: Counter[str] = Counter()
    groups: Counter[str] = Counter()
    factors: Counter[str] = Counter()
    days: list[float] = []
    for p in proposals:
        month = (p.created_at or "")[:7] or "?"
        months.setdefault(month, Counter())[p.status] += 1
        organisations.update(set(canonical_organisations(p)))
        groups.update(set(p.target_groups))
        factors.update(set(p.success_factors))
        waited = days_to_decision(p)
        if waited is not None:
            days.append(round(waited, 1))
    return Portfolio(
        total=len(proposals),
        by_status={s: status[s] for s in Status.ALL if status[s]},
        by_month={m: dict(months[m]) for m in sorted(months)},
        by_organisation=_ordered(organisations),
        by_target_group=_ordered(groups),
        by_success_factor=_ordered(factors),
        days_to_decision=sorted(days),
    )


def as_dict(figures: Portfolio) -> dict[str, object]:
    """The figures as JSON (the json export's "counts")."""
    return {
        "total": figures.total,
        "by_status": figures.by_status,
        "by_month": figures.by_month,
        "by_organisation": figures.by_organisation,
        "by_target_group": figures.by_target_group,
        "by_success_factor": figures.by_success_factor,
        "median_days_to_decision": figures.median_days_to_decision,
        "decided": len(figures.days_to_decision),
    }
