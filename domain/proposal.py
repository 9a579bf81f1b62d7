"""The proposal (förslag) model: plain classes and the export format. No I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.fields import TEXT_FIELD_IDS


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
    OPEN = (AWAITING_ENDORSEMENT, WITH_RUG, MORE_INFO_REQUESTED)


# Decision outcomes are the two final statuses.
DECISION_OUTCOMES = Status.FINAL


class ProposalFormatError(ValueError):
    """A proposal document has a field of the wrong type or an unknown value.

    ``expected`` is a code (object, text, text_list, factors, events, status, outcome) that the
    presentation layer turns into a sentence; ``value`` is the offending value for status and
    outcome; ``field`` is "" when the whole document has the wrong form. The message itself is
    English, for logs.
    """

    def __init__(self, field_name: str, expected: str, value: str = "") -> None:
        super().__init__(
            f"field {field_name!r}: expected {expected}" + (f", got {value!r}" if value else "")
        )
        self.field = field_name
        self.expected = expected
        self.value = value


def format_proposal_id(year: int, seq: int) -> str:
    """Return the readable id, e.g. OH-2026-0007."""
    return f"OH-{year:04d}-{seq:04d}"


PROPOSAL_ID = re.compile(r"OH-\d{4}-\d{4,6}")


def is_proposal_id(text: str) -> bool:
    """Whether text is exactly a proposal id as format_proposal_id writes it."""
    return PROPOSAL_ID.fullmatch(text) is not None


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
class ComplementRequest:
    """What RUG (or Omtanke) asked the initiator to complement, who asked, when and why."""

    fields: list[str]
    motivation: str
    by: str
    at: str


class _Text:
    """A free-text field of the template, kept in ``Proposal.texts`` under its field id."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Proposal | None, objtype: type | None = None) -> str:
        if obj is None:
            return self.name
        return obj.texts.get(self.name, "")

    def __set__(self, obj: Proposal, value: str) -> None:
        obj.texts[self.name] = value


@dataclass(init=False)
class Proposal:
    """One proposed joint development initiative, from draft to decision.

    The template's free-text fields live in ``texts`` by field id (domain.fields); the named
    attributes below (``title``, ``background``, …) read and write the same dict.
    """

    texts: dict[str, str]
    organisations: list[str]
    target_groups: list[str]
    goal_properties: list[str]
    success_factors: dict[str, str]
    initiator: Initiator
    rug_endorsement: Endorsement | None
    # The RUG member the initiator has anchored the idea with, as they wrote or picked it.
    rug_contact: str
    id: str
    status: str
    history: list[Event]
    created_at: str
    updated_at: str
    decision: Decision | None
    complement_request: ComplementRequest | None

    title = _Text()
    background = _Text()
    description = _Text()
    expected_effects = _Text()
    follow_up = _Text()
    resources = _Text()
    time_plan = _Text()

    def __init__(
        self,
        *,
        texts: Mapping[str, str] | None = None,
        organisations: list[str] | None = None,
        target_groups: list[str] | None = None,
        goal_properties: list[str] | None = None,
        success_factors: dict[str, str] | None = None,
        initiator: Initiator | None = None,
        rug_endorsement: Endorsement | None = None,
        rug_contact: str = "",
        id: str = "",
        status: str = Status.DRAFT,
        history: list[Event] | None = None,
        created_at: str = "",
        updated_at: str = "",
        decision: Decision | None = None,
        complement_request: ComplementRequest | None = None,
        **text_fields: str,
    ) -> None:
        unknown = set(text_fields) - set(TEXT_FIELD_IDS)
        if unknown:
            raise TypeError(f"Proposal has no text field {sorted(unknown)[0]!r}")
        self.texts = {name: "" for name in TEXT_FIELD_IDS}
        self.texts.update(texts or {})
        self.texts.update(text_fields)
        self.organisations = list(organisations or [])
        self.target_groups = list(target_groups or [])
        self.goal_properties = list(goal_properties or [])
        self.success_factors = dict(success_factors or {})
        self.initiator = initiator or Initiator()
        self.rug_endorsement = rug_endorsement
        self.rug_contact = rug_contact
        self.id = id
        self.status = status
        self.history = list(history or [])
        self.created_at = created_at
        self.updated_at = updated_at
        self.decision = decision
        self.complement_request = complement_request

    def record(self, at: str, who: str, action: str, note: str = "") -> Event:
        """Append an event to the history and mark the proposal updated at that time."""
        event = Event(at=at, who=who, action=action, note=note)
        self.history.append(event)
        self.updated_at = at
        return event

    def copy(self) -> Proposal:
        """An independent copy (for a draft made from a submitted proposal)."""
        return Proposal.from_dict(self.to_dict())

    def to_export(self) -> dict[str, Any]:
        """Return the export format (the keys other tools and `omtanke check` rely on)."""
        return {
            "id": self.id,
            "status": self.status,
            **{name: self.texts.get(name, "") for name in TEXT_FIELD_IDS},
            "organisations": list(self.organisations),
            "target_groups": list(self.target_groups),
            "goal_properties": list(self.goal_properties),
            "success_factors": dict(self.success_factors),
            "initiator": {
                "name": self.initiator.name,
                "email": self.initiator.email,
                "organisation": self.initiator.organisation,
                "aad_object_id": self.initiator.aad_object_id,
            },
            "rug_endorsement": _endorsement_dict(self.rug_endorsement),
            "rug_contact": self.rug_contact,
            "decision": _decision_dict(self.decision),
            "complement_request": _complement_dict(self.complement_request),
            "history": [_event_dict(e) for e in self.history],
        }

    @classmethod
    def from_export(cls, d: Mapping[str, Any]) -> Proposal:
        """Read the export format; missing keys → defaults, wrong types → ProposalFormatError."""
        if not isinstance(d, Mapping):
            raise ProposalFormatError("", "object")
        initiator = _mapping(d, "initiator")
        return cls(
            texts={name: _text(d, name) for name in TEXT_FIELD_IDS},
            organisations=_text_list(d, "organisations"),
            target_groups=_text_list(d, "target_groups"),
            goal_properties=_text_list(d, "goal_properties"),
            success_factors=_factors(d),
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
            complement_request=_complement(d),
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


def _complement_dict(c: ComplementRequest | None) -> dict[str, Any] | None:
    """Export form of a komplettering request."""
    if c is None:
        return None
    return {"fields": list(c.fields), "motivation": c.motivation, "by": c.by, "at": c.at}


def _event_dict(e: Event) -> dict[str, str]:
    """Export form of a history event."""
    return {"at": e.at, "who": e.who, "action": e.action, "note": e.note}


def _text(d: Mapping[str, Any], key: str, label: str | None = None) -> str:
    """A text field; missing or null means empty."""
    value = d.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ProposalFormatError(label or key, "text")
    return value.strip()


def _text_list(d: Mapping[str, Any], key: str) -> list[str]:
    """A list of texts; missing or null means an empty list; blank items are dropped."""
    value = d.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProposalFormatError(key, "text_list")
    return [v.strip() for v in value if v.strip()]


def _mapping(d: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """An object field; missing or null means empty."""
    value = d.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ProposalFormatError(key, "object")
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
        raise ProposalFormatError("success_factors", "factors")
    factors: dict[str, str] = {}
    for name, motivation in value.items():
        if not isinstance(name, str) or not (motivation is None or isinstance(motivation, str)):
            raise ProposalFormatError("success_factors", "factors")
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
        raise ProposalFormatError("decision.outcome", "outcome", outcome)
    return Decision(
        outcome=outcome,
        by=_text(raw, "by", "decision.by"),
        at=_text(raw, "at", "decision.at"),
        motivation=_text(raw, "motivation", "decision.motivation"),
    )


def _complement(d: Mapping[str, Any]) -> ComplementRequest | None:
    """complement_request: {fields, motivation, by, at} or null."""
    if d.get("complement_request") is None:
        return None
    raw = _mapping(d, "complement_request")
    return ComplementRequest(
        fields=_text_list(raw, "fields"),
        motivation=_text(raw, "motivation", "complement_request.motivation"),
        by=_text(raw, "by", "complement_request.by"),
        at=_text(raw, "at", "complement_request.at"),
    )


def _status(d: Mapping[str, Any]) -> str:
    """status: one of Status.ALL; missing means utkast."""
    status = _text(d, "status") or Status.DRAFT
    if status not in Status.ALL:
        raise ProposalFormatError("status", "status", status)
    return status


def _history(d: Mapping[str, Any]) -> list[Event]:
    """history: a list of {at, who, action, note?}."""
    value = d.get("history")
    if value is None:
        return []
    if not isinstance(value, list):
        raise ProposalFormatError("history", "events")
    events = []
    for item in value:
        if not isinstance(item, Mapping):
            raise ProposalFormatError("history", "events")
        events.append(
            Event(
                at=_text(item, "at", "history.at"),
                who=_text(item, "who", "history.who"),
                action=_text(item, "action", "history.action"),
                note=_text(item, "note", "history.note"),
            )
        )
    return events


@dataclass
class Draft:
    """A proposal being written: one per person, saved after every step.

    ``token`` identifies the draft across its life (a submitted draft keeps it, so a second
    click on the same summary card finds the proposal); ``revision`` goes up with every save
    so an older summary card is known as stale; ``etag`` is the stored version it was read at.
    """

    proposal: Proposal
    token: str
    revision: int = 0
    # When the person was told the draft is about to expire (empty: not yet).
    reminded_at: str = ""
    etag: str | None = None
