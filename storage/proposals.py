"""The proposal (förslag) model: plain dataclasses, export format, field limits. No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from knowledge.personnummer import contains_identity_number


class Status:
    """The proposal's status values, stored as these exact strings."""

    DRAFT = "utkast"
    AWAITING_ENDORSEMENT = "vantar_pa_forankring"
    WITH_RUG = "hos_rug"
    MORE_INFO_REQUESTED = "komplettering_begard"
    APPROVED = "bifallen"
    REJECTED = "avslagen"
    ALL = (DRAFT, AWAITING_ENDORSEMENT, WITH_RUG, MORE_INFO_REQUESTED, APPROVED, REJECTED)
    FINAL = (APPROVED, REJECTED)


# Decision outcomes are the two final statuses.
DECISION_OUTCOMES = Status.FINAL

TITLE_MAX = 150
LONG_TEXT_MAX = 2000
SHORT_TEXT_MAX = 200
LIST_MAX_ITEMS = 20

REQUIRED_TEXT_FIELDS = ("title", "background", "description", "expected_effects", "follow_up")
LONG_TEXT_FIELDS = (
    "background",
    "description",
    "expected_effects",
    "follow_up",
    "resources",
    "time_plan",
)
LIST_FIELDS = ("organisations", "target_groups", "goal_properties")

# Swedish names of the fields, used in the messages people read.
FIELD_LABELS = {
    "title": "Rubriken",
    "background": "Bakgrunden",
    "description": "Beskrivningen",
    "organisations": "Organisationerna",
    "target_groups": "Målgrupperna",
    "goal_properties": "Målen",
    "success_factors": "Framgångsfaktorerna",
    "expected_effects": "De förväntade effekterna",
    "follow_up": "Uppföljningen",
    "resources": "Resurserna",
    "time_plan": "Tidsplanen",
    "name": "Namnet",
    "email": "E-postadressen",
    "organisation": "Organisationen",
}

IDENTITY_NUMBER_MESSAGE = (
    "Texten verkar innehålla ett personnummer eller samordningsnummer. Skriv inte in "
    "uppgifter om patienter eller andra personer här – beskriv situationen så att ingen "
    "kan kännas igen, och ta bort numret."
)


class ProposalFormatError(ValueError):
    """A proposal document has a field of the wrong type; the message is Swedish and English."""


def format_proposal_id(year: int, seq: int) -> str:
    """Return the readable id, e.g. OH-2026-0007."""
    return f"OH-{year:04d}-{seq:04d}"


@dataclass
class Initiator:
    """The person who proposes the initiative."""

    name: str = ""
    email: str = ""
    organisation: str = ""
    aad_object_id: str = ""


@dataclass
class Endorsement:
    """A RUG member's endorsement (förankring) of the proposal."""

    name: str
    at: str
    email: str = ""
    aad_object_id: str = ""


@dataclass
class Event:
    """One line of the proposal's history."""

    at: str
    who: str
    action: str
    note: str = ""


@dataclass
class Decision:
    """RUG's decision: outcome is "bifallen" or "avslagen"."""

    outcome: str
    by: str
    at: str
    motivation: str = ""


@dataclass
class Proposal:
    """One proposed joint development initiative, from draft to decision."""

    title: str = ""
    background: str = ""
    description: str = ""
    organisations: list[str] = field(default_factory=list)
    target_groups: list[str] = field(default_factory=list)
    goal_properties: list[str] = field(default_factory=list)
    success_factors: dict[str, str] = field(default_factory=dict)
    expected_effects: str = ""
    follow_up: str = ""
    resources: str = ""
    time_plan: str = ""
    initiator: Initiator = field(default_factory=Initiator)
    rug_endorsement: Endorsement | None = None
    # The RUG member the initiator has anchored the idea with, as they wrote or picked it.
    rug_contact: str = ""
    id: str = ""
    status: str = Status.DRAFT
    history: list[Event] = field(default_factory=list)
    created_at: str = ""
    updated_at: str = ""
    decision: Decision | None = None

    def record(self, at: str, who: str, action: str, note: str = "") -> Event:
        """Append an event to the history and mark the proposal updated at that time."""
        event = Event(at=at, who=who, action=action, note=note)
        self.history.append(event)
        self.updated_at = at
        return event

    def to_export(self) -> dict[str, Any]:
        """Return the export format (the keys other tools and `omtanke check` rely on)."""
        return {
            "id": self.id,
            "status": self.status,
            "title": self.title,
            "background": self.background,
            "description": self.description,
            "organisations": list(self.organisations),
            "target_groups": list(self.target_groups),
            "goal_properties": list(self.goal_properties),
            "success_factors": dict(self.success_factors),
            "expected_effects": self.expected_effects,
            "follow_up": self.follow_up,
            "resources": self.resources,
            "time_plan": self.time_plan,
            "initiator": {
                "name": self.initiator.name,
                "email": self.initiator.email,
                "organisation": self.initiator.organisation,
                "aad_object_id": self.initiator.aad_object_id,
            },
            "rug_endorsement": _endorsement_dict(self.rug_endorsement),
            "rug_contact": self.rug_contact,
            "decision": _decision_dict(self.decision),
            "history": [_event_dict(e) for e in self.history],
        }

    @classmethod
    def from_export(cls, d: Mapping[str, Any]) -> Proposal:
        """Read the export format; missing keys → defaults, wrong types → ProposalFormatError."""
        if not isinstance(d, Mapping):
            raise _format_error("förslaget", "ett JSON-objekt", "a JSON object")
        initiator = _mapping(d, "initiator")
        return cls(
            title=_text(d, "title"),
            background=_text(d, "background"),
            description=_text(d, "description"),
            organisations=_text_list(d, "organisations"),
            target_groups=_text_list(d, "target_groups"),
            goal_properties=_text_list(d, "goal_properties"),
            success_factors=_factors(d),
            expected_effects=_text(d, "expected_effects"),
            follow_up=_text(d, "follow_up"),
            resources=_text(d, "resources"),
            time_plan=_text(d, "time_plan"),
            initiator=Initiator(
                name=_text(initiator, "name", "initiator.name"),
                email=_text(initiator, "email", "initiator.email"),
                organisation=_text(initiator, "organisation", "initiator.organisation"),
                aad_object_id=_text(initiator, "aad_object_id", "initiator.aad_object_id"),
            ),
            rug_endorsement=_endorsement(d),
            rug_contact=_text(d, "rug_contact"),
            id=_text(d, "id"),
            status=_status(d),
            history=_history(d),
            created_at=_text(d, "created_at"),
            updated_at=_text(d, "updated_at"),
            decision=_decision(d),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return everything, for storage; from_dict(to_dict()) gives an equal proposal."""
        return {**self.to_export(), "created_at": self.created_at, "updated_at": self.updated_at}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Proposal:
        """Read what to_dict wrote."""
        return cls.from_export(d)


def _endorsement_dict(e: Endorsement | None) -> dict[str, str] | None:
    """Export form of an endorsement."""
    if e is None:
        return None
    return {"name": e.name, "at": e.at, "email": e.email, "aad_object_id": e.aad_object_id}


def _decision_dict(d: Decision | None) -> dict[str, str] | None:
    """Export form of a decision."""
    if d is None:
        return None
    return {"outcome": d.outcome, "by": d.by, "at": d.at, "motivation": d.motivation}


def _event_dict(e: Event) -> dict[str, str]:
    """Export form of a history event."""
    return {"at": e.at, "who": e.who, "action": e.action, "note": e.note}


def _format_error(key: str, sv_type: str, en_type: str) -> ProposalFormatError:
    """Build the bilingual wrong-type message."""
    return ProposalFormatError(
        f"Fältet »{key}« har fel form: det ska vara {sv_type}. "
        f"(Field '{key}' has the wrong type: expected {en_type}.)"
    )


def _text(d: Mapping[str, Any], key: str, label: str | None = None) -> str:
    """A text field; missing or null means empty."""
    value = d.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _format_error(label or key, "en text", "a string")
    return value.strip()


def _text_list(d: Mapping[str, Any], key: str) -> list[str]:
    """A list of texts; missing or null means an empty list; blank items are dropped."""
    value = d.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _format_error(key, "en lista med texter", "a list of strings")
    return [v.strip() for v in value if v.strip()]


def _mapping(d: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """An object field; missing or null means empty."""
    value = d.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _format_error(key, "ett objekt", "an object")
    return value


def _factors(d: Mapping[str, Any]) -> dict[str, str]:
    """success_factors: object factor → motivation; a plain list of names is accepted too."""
    value = d.get("success_factors")
    if value is None:
        return {}
    # A hand-written file often lists just the names; the motivations are then empty.
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return {v.strip(): "" for v in value if v.strip()}
    if not isinstance(value, Mapping):
        raise _format_error(
            "success_factors",
            "ett objekt med framgångsfaktor → motivering",
            "an object mapping factor to motivation",
        )
    factors: dict[str, str] = {}
    for name, motivation in value.items():
        if not isinstance(name, str) or not (motivation is None or isinstance(motivation, str)):
            raise _format_error(
                "success_factors",
                "ett objekt med framgångsfaktor → motivering (text)",
                "an object mapping factor to a motivation string",
            )
        if name.strip():
            factors[name.strip()] = (motivation or "").strip()
    return factors


def _endorsement(d: Mapping[str, Any]) -> Endorsement | None:
    """rug_endorsement: {name, at, email?, aad_object_id?} or null."""
    if d.get("rug_endorsement") is None:
        return None
    raw = _mapping(d, "rug_endorsement")
    return Endorsement(
        name=_text(raw, "name", "rug_endorsement.name"),
        at=_text(raw, "at", "rug_endorsement.at"),
        email=_text(raw, "email", "rug_endorsement.email"),
        aad_object_id=_text(raw, "aad_object_id", "rug_endorsement.aad_object_id"),
    )


def _decision(d: Mapping[str, Any]) -> Decision | None:
    """decision: {outcome, by, at, motivation?} or null."""
    if d.get("decision") is None:
        return None
    raw = _mapping(d, "decision")
    outcome = _text(raw, "outcome", "decision.outcome")
    if outcome not in DECISION_OUTCOMES:
        raise ProposalFormatError(
            f"Beslutet »{outcome}« är okänt: det ska vara {' eller '.join(DECISION_OUTCOMES)}. "
            f"(Unknown decision outcome '{outcome}'.)"
        )
    return Decision(
        outcome=outcome,
        by=_text(raw, "by", "decision.by"),
        at=_text(raw, "at", "decision.at"),
        motivation=_text(raw, "motivation", "decision.motivation"),
    )


def _status(d: Mapping[str, Any]) -> str:
    """status: one of Status.ALL; missing means utkast."""
    status = _text(d, "status") or Status.DRAFT
    if status not in Status.ALL:
        raise ProposalFormatError(
            f"Statusen »{status}« är okänd: den ska vara en av {', '.join(Status.ALL)}. "
            f"(Unknown status '{status}'.)"
        )
    return status


def _history(d: Mapping[str, Any]) -> list[Event]:
    """history: a list of {at, who, action, note?}."""
    value = d.get("history")
    if value is None:
        return []
    if not isinstance(value, list):
        raise _format_error("history", "en lista med händelser", "a list of events")
    events = []
    for item in value:
        if not isinstance(item, Mapping):
            raise _format_error("history", "en lista med händelser", "a list of events")
        events.append(
            Event(
                at=_text(item, "at", "history.at"),
                who=_text(item, "who", "history.who"),
                action=_text(item, "action", "history.action"),
                note=_text(item, "note", "history.note"),
            )
        )
    return events


def _limit_message(label: str, limit: int, length: int) -> str:
    """The friendly too-long message."""
    return f"{label} får vara högst {limit} tecken, nu är det {length}. Korta texten lite."


def validate_field(name: str, value: Any) -> str | None:
    """Check one field's value; return a friendly Swedish message, or None when it is fine."""
    label = FIELD_LABELS.get(name, f"Fältet »{name}«")
    texts: list[str]
    if isinstance(value, str):
        texts = [value]
    elif isinstance(value, list):
        texts = [v for v in value if isinstance(v, str)]
        if len(texts) != len(value):
            return f"{label} ska vara texter."
        if len(texts) > LIST_MAX_ITEMS:
            return f"{label} får vara högst {LIST_MAX_ITEMS} stycken."
    elif isinstance(value, Mapping):
        texts = [str(k) for k in value] + [v for v in value.values() if isinstance(v, str)]
    elif value is None:
        texts = []
    else:
        return f"{label} ska vara en text."
    if any(contains_identity_number(t) for t in texts):
        return IDENTITY_NUMBER_MESSAGE
    if name in REQUIRED_TEXT_FIELDS and not "".join(texts).strip():
        return f"{label} behöver fyllas i."
    if name == "title":
        limit = TITLE_MAX
    elif name in LONG_TEXT_FIELDS or name == "success_factors":
        limit = LONG_TEXT_MAX
    else:
        limit = SHORT_TEXT_MAX
    for text in texts:
        if len(text.strip()) > limit:
            if isinstance(value, str):
                return _limit_message(label, limit, len(text.strip()))
            return f"Varje rad får vara högst {limit} tecken. Korta »{text.strip()[:40]}…«."
    return None
