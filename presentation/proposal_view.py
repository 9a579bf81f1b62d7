"""A proposal as people read it: the template's fields in order, each as a label and a text."""

from __future__ import annotations

from dataclasses import dataclass

from domain.fields import FIELDS, Field, Kind
from domain.proposal import Proposal
from presentation.texts import DEFAULT_LOCALE, Texts


@dataclass(frozen=True)
class Section:
    """One field of the template: its id, label and the proposal's answer."""

    field: str
    label: str
    value: str


def initiator_line(proposal: Proposal) -> str:
    """Name, organisation and e-mail of the initiator, as one line."""
    i = proposal.initiator
    return ", ".join(x for x in (i.name, i.organisation, i.email) if x)


def field_text(proposal: Proposal, spec: Field, none: str, markdown: bool = False) -> str:
    """The answer to one field as text ('' when it has none)."""
    if spec.kind == Kind.TEXT:
        return proposal.texts.get(spec.id, "")
    if spec.kind == Kind.ORGANISATIONS:
        return ", ".join(proposal.organisations)
    if spec.kind == Kind.TARGET_GROUPS:
        return ", ".join(proposal.target_groups)
    if spec.kind == Kind.MALBILD:
        name_format = "**{}**" if markdown else "{}"
        factors = "\n".join(
            f"- {name_format.format(name)}: {motivation or none}"
            for name, motivation in proposal.success_factors.items()
        )
        return "\n".join(part for part in (", ".join(proposal.goal_properties), factors) if part)
    if spec.kind == Kind.INITIATOR_ORG:
        return initiator_line(proposal)
    return proposal.rug_contact


def sections(
    proposal: Proposal, texts: Texts, locale: str = DEFAULT_LOCALE, markdown: bool = False
) -> list[Section]:
    """Every field of the template with its answer ('–' when empty), in the template's order."""
    none = texts.get("proposal.not_given", locale)
    return [
        Section(
            spec.id,
            texts.get(f"proposal.field.{spec.id}", locale),
            field_text(proposal, spec, none, markdown) or none,
        )
        for spec in FIELDS
    ]
