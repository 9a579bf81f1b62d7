"""Where the proposal dialog is, and where it goes next: pure functions over its state.

The state is the dialog's own (saved with the conversation): ``step`` (a field id or
``summary``), ``factor`` (the success factor whose motivation is asked, inside the målbild
step), ``review`` (editing from the summary: back to it after one step), ``pending`` (a yes/no
question waiting: "resume" or "cancel") and ``last_at``. In a komplettering, ``requested`` lists
the fields RUG asked for, in the template's order, and ``walk`` says they are being visited in
turn (each answer leads to the next requested field, the last one to the summary). The keys are
stored in users' saved conversations; renaming one breaks conversations in progress.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dialogs.steps import kind_of
from domain.fields import FIELD_BY_ID, FIELDS
from domain.proposal import Proposal

SUMMARY = "summary"
STEP_IDS = tuple(spec.id for spec in FIELDS)
# Someone who comes back after this long is asked whether to continue or start over.
RETURN_AFTER = timedelta(hours=12)

State = dict[str, Any]


def start(state: State, step: str = STEP_IDS[0], review: bool = False) -> None:
    """Put the dialog at a step (the first one by default); a walk through RUG's fields ends."""
    state.update({"step": step, "factor": None, "pending": None, "review": review, "walk": False})


def start_complement(state: State, requested: list[str]) -> None:
    """Walk the fields RUG asked for in turn, then the summary (straight there if none)."""
    fields = [f for f in requested if f in FIELD_BY_ID]
    start(state, fields[0] if fields else SUMMARY, review=True)
    state.update({"requested": fields, "walk": bool(fields)})


def requested_fields(state: State) -> list[str]:
    """The fields RUG asked to have complemented (empty outside a komplettering)."""
    return [str(f) for f in state.get("requested") or []]


def walk_position(state: State) -> tuple[int, int] | None:
    """(n, total) of the requested field being asked while walking them, from 1; else None."""
    requested = requested_fields(state)
    if not state.get("walk") or state["step"] not in requested:
        return None
    return requested.index(state["step"]) + 1, len(requested)


def position(state: State) -> str:
    """The current step as cards name it ('malbild:Trygg' while asking for a motivation)."""
    return f"{state['step']}:{state['factor']}" if state.get("factor") else str(state["step"])


def number(state: State) -> int:
    """The step's number, from 1."""
    return STEP_IDS.index(state["step"]) + 1


def advance(state: State) -> None:
    """Next step, or back to the summary when editing from it."""
    state["factor"] = None
    at = walk_position(state)
    if at is not None and at[0] < at[1]:
        state["step"] = requested_fields(state)[at[0]]
        return
    state["walk"] = False
    if state.get("review") or state["step"] == SUMMARY:
        state["step"] = SUMMARY
        return
    index = STEP_IDS.index(state["step"])
    state["step"] = STEP_IDS[index + 1] if index + 1 < len(STEP_IDS) else SUMMARY


def go_back(state: State, proposal: Proposal) -> bool:
    """One step back; False when already at the first step."""
    factors = list(proposal.success_factors)
    if state.get("factor"):
        at = factors.index(state["factor"]) if state["factor"] in factors else 0
        state["factor"] = factors[at - 1] if at > 0 else None
        return True
    if state["step"] == SUMMARY:
        state["step"] = STEP_IDS[-1]
        state["review"] = False
        return True
    walking = walk_position(state)
    if walking is not None:
        # Walking RUG's fields, "tillbaka" goes to the previous one of them.
        if walking[0] == 1:
            return False
        state["step"] = requested_fields(state)[walking[0] - 2]
        spec = FIELD_BY_ID[state["step"]]
        state["factor"] = kind_of(spec).last_factor(spec, proposal)
        return True
    index = STEP_IDS.index(state["step"])
    if index == 0:
        return False
    state["step"] = STEP_IDS[index - 1]
    spec = FIELD_BY_ID[state["step"]]
    # Back into a step with sub-steps lands on its last one (the last motivation).
    state["factor"] = kind_of(spec).last_factor(spec, proposal)
    return True


def can_skip(state: State) -> bool:
    """Optional steps can be skipped; a motivation cannot."""
    spec = FIELD_BY_ID.get(state["step"])
    return spec is not None and not spec.required and not state.get("factor")


def first_unanswered(proposal: Proposal) -> State:
    """Where to continue: the first required step without an answer, else the summary."""
    for spec in FIELDS:
        if not spec.required:
            continue
        kind = kind_of(spec)
        if not kind.is_answered(spec, proposal):
            return {"step": spec.id, "factor": None, "review": False}
        factor = kind.open_factor(spec, proposal)
        if factor is not None:
            return {"step": spec.id, "factor": factor, "review": False}
    return {"step": SUMMARY, "factor": None, "review": False}


def is_returning(state: State, now: datetime | None = None) -> bool:
    """Whether the person was away long enough to be asked to resume or start over."""
    last = state.get("last_at")
    if not last:
        return False
    try:
        then = datetime.fromisoformat(str(last))
    except ValueError:
        return False
    return (now or datetime.now(UTC)) - then > RETURN_AFTER
