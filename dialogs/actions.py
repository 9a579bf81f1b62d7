"""Card submits (activity.value) parsed into typed actions at the boundary.

Every card action carries ``{"action": name}``; each name declares its fields and their types.
Anything else in the value is ignored, so a forged or stale card cannot smuggle data in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dialogs.steps import STEP_INPUTS
from domain.proposal import is_proposal_id
from rug.escalations import is_escalation_id

# name -> {field: (type, required)}
_SCHEMAS: dict[str, dict[str, tuple[type, bool]]] = {
    # An idea offer's "Ja" carries the title suggested from the user's own words.
    "start_proposal": {"title": (str, False)},
    "offer_declined": {},
    "help": {},
    "my_proposals": {},
    "rug_cases": {},
    "ask": {"topic": (str, False), "text": (str, False)},
    "feedback": {"topic": (str, True), "helpful": (bool, True)},
    "escalate": {"question": (str, True)},
    # Proposal dialog: the step's position, and its inputs as the step kinds name them.
    "step": {"step": (str, True), **{name: (str, False) for name in STEP_INPUTS}},
    "nav": {"nav": (str, True)},
    "resume": {"choice": (str, True)},
    "confirm": {"answer": (str, True), "about": (str, False)},
    "edit": {"field": (str, True)},
    "submit": {"draft": (str, True), "revision": (int, True)},
    "endorse": {"proposal": (str, True), "choice": (str, True), "comment": (str, False)},
    # "Mina förslag" on a proposal waiting for endorsement: a new contact, or the whole channel.
    "ask_endorsement": {"proposal": (str, True), "contact": (str, False)},
    "decide": {
        "proposal": (str, True),
        "outcome": (str, True),
        "motivation": (str, False),
        # Which parts of the proposal RUG wants complemented (comma-separated step ids).
        "fields": (str, False),
    },
    # The card of an escalated question in the coordinators' channel: its answer box.
    "escalation_answer": {"escalation": (str, True), "answer": (str, False)},
    "escalation_done": {"escalation": (str, True), "answer": (str, False)},
}
MAX_FIELD_CHARS = 5000
# Fields that name a stored thing are checked against its pattern here, before any use (the
# audit log, the logs, a lookup): a forged id cannot carry text, a newline or a personnummer.
_IDS = {"proposal": is_proposal_id, "escalation": is_escalation_id}


@dataclass(frozen=True)
class CardAction:
    """A validated card submit."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        """A field of the action, or default."""
        return self.data.get(key, default)


@dataclass(frozen=True)
class InvalidAction:
    """A card submit we cannot act on; reason is for the log, never shown raw to the user."""

    reason: str


def parse_action(value: Any) -> CardAction | InvalidAction | None:
    """Parse activity.value; None when the activity is not a card submit at all."""
    if value is None:
        return None
    if not isinstance(value, dict):
        return InvalidAction("value is not an object")
    name = value.get("action")
    if not isinstance(name, str) or name not in _SCHEMAS:
        # Not the name itself: it is user-controlled text, and message text is never logged.
        return InvalidAction(f"unknown action ({type(name).__name__}, {len(str(name))} chars)")
    data: dict[str, Any] = {}
    for key, (kind, required) in _SCHEMAS[name].items():
        raw = value.get(key)
        if raw is None or (raw == "" and kind is not str):
            if required:
                return InvalidAction(f"{name}: missing {key}")
            continue
        if kind is int and isinstance(raw, str) and raw.isdigit():
            raw = int(raw)
        if kind is bool and isinstance(raw, str) and raw in ("true", "false"):
            raw = raw == "true"
        if not isinstance(raw, kind) or (kind is int and isinstance(raw, bool)):
            return InvalidAction(f"{name}: {key} has the wrong type")
        if isinstance(raw, str) and len(raw) > MAX_FIELD_CHARS:
            return InvalidAction(f"{name}: {key} is too long")
        if key in _IDS and not _IDS[key](str(raw)):
            return InvalidAction(f"{name}: {key} is not an id")
        data[key] = raw
    return CardAction(name, data)
