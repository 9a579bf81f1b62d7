"""The proposal dialog's step kinds: how each kind of field is asked, understood and shown.

One registry (``KINDS``) maps each domain.fields.Kind to its handler; the dialog walks
domain.fields.FIELDS and asks the handler of each field's kind. A new field of an existing
kind needs no code here; a new kind is one class and one registry entry.

Pure and synchronous: a handler gets the proposal, the card inputs or typed text, and what it
needs to know (StepContext), and says whether the answer was taken.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from domain.fields import FIELDS, Field, Kind, get_value, set_value
from domain.personnummer import contains_identity_number
from domain.proposal import Proposal
from domain.validation import validate_field
from knowledge.lists import (
    ListItem,
    ListReader,
    malbild_reader,
    organisation_reader,
    target_group_reader,
)
from knowledge.malbild import Malbild
from knowledge.organisations import ORGANISATIONS, understand_organisations
from knowledge.rug import PeopleDirectory
from knowledge.skallkrav import (
    SkallkravItem,
    check_malbild,
    check_organisations,
    check_target_groups,
    recognise_malbild,
)
from knowledge.target_groups import TargetGroupList
from presentation.problems import problem_text
from presentation.texts import Texts
from rug.checklist import step_line

_LIST_SPLIT = re.compile(r"[,;\n]+")
# The sub-step that asks how the idea serves one chosen success factor.
MOTIVATION = "motivation"


def split_list(text: Any) -> list[str]:
    """Items of a comma, semicolon or line separated list."""
    return [part.strip() for part in _LIST_SPLIT.split(str(text or "")) if part.strip()]


def not_understood(items: list[ListItem], kind: str, reader: ListReader, ctx: StepContext) -> str:
    """Every item of a typed list that was not understood, named back; empty when none."""
    lines = []
    for item in items:
        if item.understood:
            continue
        if item.number is not None:
            lines.append(ctx.t("lists.unknown.number", text=item.text, count=len(reader.numbered)))
        else:
            lines.append(ctx.t(f"lists.unknown.{kind}", text=item.text[:80]))
    if not lines:
        return ""
    return "\n".join([*lines, ctx.t("lists.again")])


def read_as(items: list[ListItem], ctx: StepContext) -> list[str]:
    """How the typed items that differ from the names were read ("»tryg« … Trygg")."""
    lines = []
    for item in items:
        if item.number is not None or not item.names:
            continue
        name = ", ".join(item.names)
        if item.corrected:
            lines.append(ctx.t("lists.corrected", text=item.text, name=name))
        elif item.text.strip().casefold() != name.casefold():
            lines.append(ctx.t("lists.read_as", text=item.text, name=name))
    return lines


def numbered(position: int, title: str) -> str:
    """A choice's title with its number, so that "1, 3" can be typed."""
    return f"{position}. {title}"


@dataclass(frozen=True)
class StepContext:
    """What a step needs besides the proposal: texts and the coordinators' lists."""

    texts: Texts
    locale: str
    target_groups: TargetGroupList
    malbild: Malbild
    rug: PeopleDirectory

    def t(self, key: str, **values: Any) -> str:
        """A text in the turn's locale."""
        return self.texts.get(key, self.locale, **values)


@dataclass(frozen=True)
class Taken:
    """The outcome of answering a step.

    ``stored`` False: refused, nothing changed (``message`` says why). ``advance`` False: stored,
    but the step is asked again (a skallkrav is not met yet). ``substep``: stored, and this
    sub-step of the same step comes next (the first chosen success factor's motivation).
    """

    stored: bool
    advance: bool = True
    message: str = ""
    substep: str | None = None

    @classmethod
    def refused(cls, message: str) -> Taken:
        """Nothing was stored."""
        return cls(False, False, message)


def krav_line(item: SkallkravItem, ctx: StepContext) -> str:
    """One skallkrav's outcome as shown after a step."""
    return step_line(ctx.texts, item, ctx.locale)


def base_view(ctx: StepContext, spec: Field) -> dict[str, Any]:
    """The card data every step kind starts from."""
    return {
        "note": "",
        "guidance": [],
        "is_text": False,
        "multiline": spec.multiline,
        "limit": spec.limit,
        "value": "",
        "is_choices": False,
        "choice_id": "",
        "choice_label": "",
        "choices": [],
        "selected": "",
        "multi": True,
        "other_id": "",
        "other_value": "",
        "is_malbild": False,
        "goal_label": "",
        "factor_label": "",
        "goal_choices": [],
        "factor_choices": [],
        "goal_selected": "",
        "factor_selected": "",
    }


class StepKind(ABC):
    """How one kind of field is asked, understood and shown."""

    @abstractmethod
    def answer(
        self, spec: Field, proposal: Proposal, inputs: dict[str, Any], ctx: StepContext
    ) -> Taken:
        """Take the card inputs or typed text (``inputs["text"]``) into the proposal."""

    @abstractmethod
    def view(self, spec: Field, proposal: Proposal, ctx: StepContext) -> dict[str, Any]:
        """The card data that shows the step with the proposal's current answer."""

    def is_answered(self, spec: Field, proposal: Proposal) -> bool:
        """Whether the field has an answer (a required one without is asked again)."""
        return all(bool(get_value(proposal, a)) for a in spec.attributes)

    def open_factor(self, spec: Field, proposal: Proposal) -> str | None:
        """A sub-step still to answer inside the step (the målbild's motivations)."""
        return None

    def last_factor(self, spec: Field, proposal: Proposal) -> str | None:
        """The step's last sub-step, where going back into it lands."""
        return None


class TextKind(StepKind):
    """Free text, checked for length and personnummer."""

    def answer(
        self, spec: Field, proposal: Proposal, inputs: dict[str, Any], ctx: StepContext
    ) -> Taken:
        """Store a free-text answer after checking it."""
        value = str(inputs.get("text") or "").strip()
        if not value:
            return Taken.refused(ctx.t("proposal.empty_answer"))
        problem = validate_field(spec.id, value)
        if problem is not None:
            return Taken.refused(problem_text(ctx.texts, problem, ctx.locale))
        if len(value) > spec.limit:
            return Taken.refused(
                ctx.t("general.text_too_long", length=len(value), limit=spec.limit)
            )
        set_value(proposal, spec.attributes[0], value)
        return Taken(True)

    def view(self, spec: Field, proposal: Proposal, ctx: StepContext) -> dict[str, Any]:
        """A text input holding the current answer."""
        return {"is_text": True, "value": str(get_value(proposal, spec.attributes[0]) or "")}


class OrganisationsKind(StepKind):
    """Skallkrav 1, checked at once; show how the words were understood."""

    def answer(
        self, spec: Field, proposal: Proposal, inputs: dict[str, Any], ctx: StepContext
    ) -> Taken:
        """Store the organisations picked or written."""
        chosen = split_list(inputs.get("organisations"))
        reader = organisation_reader()
        typed = str(inputs.get("organisations_other") or inputs.get("text") or "")
        items = reader.read(typed)
        unknown = not_understood(items, "organisations", reader, ctx)
        if unknown:
            item = check_organisations(chosen + [n for i in items for n in i.names])
            return Taken.refused(unknown if item.met else f"{unknown}\n\n{krav_line(item, ctx)}")
        chosen += [name for item in items for name in item.names]
        chosen = list(dict.fromkeys(chosen))
        if not chosen:
            return Taken.refused(ctx.t("proposal.empty_answer"))
        proposal.organisations = chosen
        item = check_organisations(chosen)
        lines = [ctx.t("proposal.understood")]
        for match in understand_organisations(chosen):
            if match.kind == "other":
                target = ctx.t("org.other_party")
            else:
                target = match.organisation or ctx.t("proposal.not_recognised")
            lines.append(f"- {match.text} → {target}")
        return Taken(True, item.met, "\n".join(lines) + "\n\n" + krav_line(item, ctx))

    def view(self, spec: Field, proposal: Proposal, ctx: StepContext) -> dict[str, Any]:
        """The seven organisations to tick, and a text field for anything else."""
        known = [o for o in proposal.organisations if o in ORGANISATIONS]
        return {
            "is_choices": True,
            "choice_id": "organisations",
            "choice_label": ctx.t("proposal.field.organisations"),
            "choices": [
                {"title": numbered(i, name), "value": name}
                for i, name in enumerate(ORGANISATIONS, start=1)
            ],
            "selected": ",".join(known),
            "other_id": "organisations_other",
            "other_value": ", ".join(o for o in proposal.organisations if o not in ORGANISATIONS),
        }


class TargetGroupsKind(StepKind):
    """Skallkrav 2, checked at once against the configured list."""

    def answer(
        self, spec: Field, proposal: Proposal, inputs: dict[str, Any], ctx: StepContext
    ) -> Taken:
        """Store the target groups picked or written, by their names in the list."""
        groups = ctx.target_groups
        picked = split_list(inputs.get("target_groups"))
        named = [g.name for g in (groups.by_id(p) for p in picked) if g is not None]
        reader = target_group_reader(groups)
        items = reader.read(str(inputs.get("target_groups_other") or inputs.get("text") or ""))
        texts = named + [p for p in picked if groups.by_id(p) is None]
        texts += [name for item in items for name in item.names]
        unknown = not_understood(items, "target_groups", reader, ctx)
        if unknown:
            typed = [item.text for item in items if not item.understood]
            item = check_target_groups(texts + typed, groups)
            return Taken.refused(unknown if item.met else f"{unknown}\n\n{krav_line(item, ctx)}")
        if not texts:
            return Taken.refused(ctx.t("proposal.empty_answer"))
        item = check_target_groups(texts, groups)
        canonical = [g.name for g in (groups.match(t) for t in texts) if g is not None]
        others = [t for t in texts if groups.match(t) is None]
        proposal.target_groups = list(dict.fromkeys(canonical + others))
        return Taken(True, item.met, "\n".join([*read_as(items, ctx), krav_line(item, ctx)]))

    def view(self, spec: Field, proposal: Proposal, ctx: StepContext) -> dict[str, Any]:
        """The färdplan's target groups to tick, and a text field for anything else."""
        groups = ctx.target_groups
        chosen = [g for g in groups.groups if g.name in proposal.target_groups]
        chosen_names = {g.name for g in chosen}
        data: dict[str, Any] = {
            "is_choices": True,
            "choice_id": "target_groups",
            "choice_label": ctx.t("proposal.field.target_groups"),
            "choices": [
                {"title": numbered(i, g.name), "value": g.id}
                for i, g in enumerate(groups.groups, start=1)
            ],
            "selected": ",".join(g.id for g in chosen),
            "other_id": "target_groups_other",
            "other_value": ", ".join(x for x in proposal.target_groups if x not in chosen_names),
        }
        if groups.provisional:
            data["note"] = ctx.t("proposal.step.target_groups.provisional")
        return data


class MalbildKind(StepKind):
    """Skallkrav 3: goal properties and success factors, then a motivation for each factor."""

    def answer(
        self, spec: Field, proposal: Proposal, inputs: dict[str, Any], ctx: StepContext
    ) -> Taken:
        """Store the goal properties and success factors picked or written."""
        malbild = ctx.malbild
        goal_names = {p.name for p in malbild.goal_properties}
        factor_names = [f.name for f in malbild.factors]
        picked = split_list(inputs.get("goal_properties")) + split_list(
            inputs.get("success_factors")
        )
        reader = malbild_reader(malbild)
        items = reader.read(str(inputs.get("text") or ""))
        refusal = not_understood(items, "malbild", reader, ctx)
        if refusal:
            item = check_malbild([i.text for i in items if not i.understood], picked, malbild)
            return Taken.refused(
                refusal if item.met or picked else f"{refusal}\n\n{krav_line(item, ctx)}"
            )
        words: list[str] = []
        for text in picked:
            words.extend(recognise_malbild(text, malbild) or [text])
        words += [name for item in items for name in item.names]
        if not words:
            return Taken.refused(ctx.t("proposal.empty_answer"))
        goals = [w for w in words if w in goal_names]
        factors = [w for w in words if w in factor_names]
        others = [w for w in words if w not in goal_names and w not in factor_names]
        item = check_malbild(goals + others, factors, malbild)
        if not item.met:
            return Taken.refused(krav_line(item, ctx))
        proposal.goal_properties = list(dict.fromkeys(goals))
        ordered = [name for name in factor_names if name in factors]
        proposal.success_factors = {n: proposal.success_factors.get(n, "") for n in ordered}
        # With factors chosen, their motivations are asked next, inside this step.
        message = "\n".join([*read_as(items, ctx), krav_line(item, ctx)])
        return Taken(True, not ordered, message, ordered[0] if ordered else None)

    def view(self, spec: Field, proposal: Proposal, ctx: StepContext) -> dict[str, Any]:
        """The goal properties and success factors to tick."""
        malbild = ctx.malbild
        return {
            "is_malbild": True,
            "goal_label": ctx.t("proposal.step.malbild.goals_label"),
            "factor_label": ctx.t("proposal.step.malbild.factors_label"),
            "goal_choices": [
                {"title": numbered(i, p.name), "value": p.name}
                for i, p in enumerate(malbild.goal_properties, start=1)
            ],
            "factor_choices": [
                {"title": numbered(i, f"{f.name} – {f.headline}"), "value": f.name}
                for i, f in enumerate(malbild.factors, start=len(malbild.goal_properties) + 1)
            ],
            "goal_selected": ",".join(proposal.goal_properties),
            "factor_selected": ",".join(proposal.success_factors),
        }

    def is_answered(self, spec: Field, proposal: Proposal) -> bool:
        """A goal property or success factor is chosen."""
        return bool(proposal.goal_properties or proposal.success_factors)

    def open_factor(self, spec: Field, proposal: Proposal) -> str | None:
        """The first chosen success factor without a motivation."""
        empty = [name for name, motivation in proposal.success_factors.items() if not motivation]
        return empty[0] if empty else None

    def last_factor(self, spec: Field, proposal: Proposal) -> str | None:
        """The last chosen success factor."""
        factors = list(proposal.success_factors)
        return factors[-1] if factors else None


class MotivationStep:
    """The sub-step of the målbild: how the idea serves one chosen success factor."""

    @staticmethod
    def answer(factor: str, proposal: Proposal, inputs: dict[str, Any], ctx: StepContext) -> Taken:
        """Store the motivation for `factor`."""
        value = str(inputs.get("text") or "").strip()
        if not value:
            return Taken.refused(ctx.t("proposal.empty_answer"))
        problem = validate_field("success_factors", {factor: value})
        if problem is not None:
            return Taken.refused(problem_text(ctx.texts, problem, ctx.locale))
        proposal.success_factors[factor] = value
        return Taken(True)

    @staticmethod
    def view(factor_name: str, proposal: Proposal, ctx: StepContext) -> dict[str, Any]:
        """A text input with the factor's statements from the målbild as guidance."""
        factor = next(f for f in ctx.malbild.factors if f.name == factor_name)
        return {
            "is_text": True,
            "multiline": True,
            "value": proposal.success_factors.get(factor_name, ""),
            "note": factor.headline,
            "guidance": [
                {
                    "heading": ctx.t("proposal.step.motivation.employee"),
                    "text": "\n".join(f"- {line}" for line in factor.employee),
                },
                {
                    "heading": ctx.t("proposal.step.motivation.organisation"),
                    "text": "\n".join(f"- {line}" for line in factor.organisation),
                },
            ],
        }

    @staticmethod
    def next_factor(factor: str, proposal: Proposal) -> str | None:
        """The chosen factor after `factor`, if any."""
        names = list(proposal.success_factors)
        position = names.index(factor) if factor in names else len(names)
        return names[position + 1] if position + 1 < len(names) else None


# A refused RUG name is answered with the members' names when there are this few.
_LIST_MEMBERS_UP_TO = 8


class RugContactKind(StepKind):
    """The RUG member the idea is anchored with (skallkrav 4 is settled by RUG itself)."""

    def answer(
        self, spec: Field, proposal: Proposal, inputs: dict[str, Any], ctx: StepContext
    ) -> Taken:
        """Store the member picked or named; a name must be on the RUG list when there is one."""
        wanted = str(inputs.get("rug_member") or inputs.get("text") or "").strip()
        if not wanted:
            return Taken.refused(ctx.t("proposal.empty_answer"))
        if len(ctx.rug) == 0:
            problem = validate_field("name", wanted)
            if problem is not None:
                return Taken.refused(problem_text(ctx.texts, problem, ctx.locale))
            proposal.rug_contact = wanted
            return Taken(True)
        person = ctx.rug.find(wanted)
        if person is None:
            names = [p.name for p in ctx.rug if not _is_initiator(p.aad_object_id, proposal)]
            members = (
                ctx.t("proposal.step.rug_contact.members", names=", ".join(names))
                if len(names) <= _LIST_MEMBERS_UP_TO
                else ""
            )
            return Taken.refused(
                ctx.t("proposal.step.rug_contact.unknown", name=wanted[:80], members=members)
            )
        if _is_initiator(person.aad_object_id, proposal):
            # Skallkrav 4 is anchoring with someone else in RUG: nobody endorses their own idea.
            return Taken.refused(ctx.t("proposal.step.rug_contact.self"))
        proposal.rug_contact = person.name
        return Taken(True)

    def view(self, spec: Field, proposal: Proposal, ctx: StepContext) -> dict[str, Any]:
        """A pick list of the RUG members, or a name field when no list is configured."""
        if len(ctx.rug) == 0:
            return {
                "is_text": True,
                "multiline": False,
                "value": proposal.rug_contact,
                "note": ctx.t("proposal.step.rug_contact.no_list"),
            }
        return {
            "is_choices": True,
            "multi": False,
            "choice_id": "rug_member",
            "choice_label": ctx.t("proposal.field.rug_contact"),
            "choices": [
                {
                    "title": f"{p.name} ({p.organisation})" if p.organisation else p.name,
                    "value": p.name,
                }
                for p in ctx.rug
                if not _is_initiator(p.aad_object_id, proposal)
            ],
            "selected": proposal.rug_contact,
        }


def _is_initiator(aad: str, proposal: Proposal) -> bool:
    """Whether a RUG member (by Entra id) is the proposal's initiator."""
    return bool(aad) and aad == proposal.initiator.aad_object_id


KINDS: dict[Kind, StepKind] = {
    Kind.TEXT: TextKind(),
    Kind.INITIATOR_ORG: TextKind(),
    Kind.ORGANISATIONS: OrganisationsKind(),
    Kind.TARGET_GROUPS: TargetGroupsKind(),
    Kind.MALBILD: MalbildKind(),
    Kind.RUG_CONTACT: RugContactKind(),
}
# Every card input a step can send (the "step" card action's fields).
STEP_INPUTS = (
    "text",
    "organisations",
    "organisations_other",
    "target_groups",
    "target_groups_other",
    "goal_properties",
    "success_factors",
    "rug_member",
)


def kind_of(spec: Field) -> StepKind:
    """The handler of a field's kind."""
    return KINDS[spec.kind]


_CONTENT_KINDS = (Kind.TEXT, Kind.ORGANISATIONS, Kind.TARGET_GROUPS, Kind.MALBILD)


def has_content(proposal: Proposal) -> bool:
    """Whether a draft holds anything worth resuming (who the initiator is does not count)."""
    return any(
        kind_of(spec).is_answered(spec, proposal) for spec in FIELDS if spec.kind in _CONTENT_KINDS
    )


def inputs_hold_identity_number(inputs: dict[str, Any]) -> bool:
    """Whether any typed or card text carries a personnummer (refused before anything else)."""
    return any(
        contains_identity_number(v) for k, v in inputs.items() if isinstance(v, str) and k != "step"
    )
