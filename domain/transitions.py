"""The proposal's life as a table: which event may happen in which status, and what follows.

``apply`` is pure: it checks the event against the table, changes the proposal's status,
appends the history event and returns what happened, so the caller can store the proposal
and its audit entry (and any messages) as one unit. Nothing else assigns ``status``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from domain.proposal import Proposal, Status


class EventKind(StrEnum):
    """What can happen to a proposal; the values are the history and audit actions."""

    SUBMITTED = "submitted"
    ENDORSEMENT_REQUESTED = "endorsement_requested"
    ENDORSEMENT_REMINDED = "endorsement_reminded"
    ENDORSED = "endorsed"
    ENDORSEMENT_DECLINED = "endorsement_declined"
    FORWARDED = "forwarded"
    APPROVED = "bifallen"
    REJECTED = "avslagen"
    MORE_INFO_REQUESTED = "komplettering_begard"
    COMPLETED = "completed"
    BACK_TO_ENDORSEMENT = "awaiting_endorsement"


_A, _R, _M = Status.AWAITING_ENDORSEMENT, Status.WITH_RUG, Status.MORE_INFO_REQUESTED
# (status before, event) -> status after.
TRANSITIONS: dict[tuple[str, EventKind], str] = {
    (Status.DRAFT, EventKind.SUBMITTED): _A,
    (_A, EventKind.ENDORSEMENT_REQUESTED): _A,
    (_A, EventKind.ENDORSEMENT_REMINDED): _A,
    (_A, EventKind.ENDORSED): _A,
    (_A, EventKind.ENDORSEMENT_DECLINED): _A,
    (_A, EventKind.FORWARDED): _R,
    # Omtanke itself asks for more when the skallkrav no longer hold at endorsement.
    (_A, EventKind.MORE_INFO_REQUESTED): _M,
    (_R, EventKind.APPROVED): Status.APPROVED,
    (_R, EventKind.REJECTED): Status.REJECTED,
    (_R, EventKind.MORE_INFO_REQUESTED): _M,
    (_M, EventKind.COMPLETED): _M,
    (_M, EventKind.FORWARDED): _R,
    (_M, EventKind.BACK_TO_ENDORSEMENT): _A,
}
# The outcome a decision card's choice stands for.
DECISION_EVENTS: dict[str, EventKind] = {
    Status.APPROVED: EventKind.APPROVED,
    Status.REJECTED: EventKind.REJECTED,
    Status.MORE_INFO_REQUESTED: EventKind.MORE_INFO_REQUESTED,
}


class InvalidTransition(ValueError):
    """The event cannot happen in the proposal's current status."""

    def __init__(self, status: str, event: EventKind) -> None:
        super().__init__(f"{event.value} is not possible in status {status}")
        self.status = status
        self.event = event


@dataclass(frozen=True)
class Transition:
    """What one event did: the statuses before and after, and the audit record to store."""

    event: EventKind
    before: str
    after: str
    actor: str
    details: Mapping[str, Any] = field(default_factory=dict)


def allowed(status: str, event: EventKind) -> bool:
    """Whether the event may happen in this status."""
    return (status, event) in TRANSITIONS


def apply(
    proposal: Proposal,
    event: EventKind,
    *,
    at: str,
    who: str,
    actor: str = "",
    note: str = "",
    details: Mapping[str, Any] | None = None,
) -> Transition:
    """Move the proposal by one event; InvalidTransition when the table does not allow it.

    `who` is the name in the proposal's history, `actor` the id in the audit log (the
    Entra object id of the person, or "omtanke" for the bot's own steps).
    """
    before = proposal.status
    after = TRANSITIONS.get((before, event))
    if after is None:
        raise InvalidTransition(before, event)
    proposal.status = after
    proposal.record(at, who, event.value, note)
    return Transition(event, before, after, actor or who, dict(details or {}))
