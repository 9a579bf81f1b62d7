"""The four skallkrav (must-requirements) a proposal meets before RUG can decide on it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from domain.messages import Message, Names, Parts, Value
from domain.proposal import Endorsement, Proposal
from knowledge.malbild import Malbild
from knowledge.organisations import MUNICIPALITIES, REGION, OrgMatch, fold, understand_organisations
from knowledge.rug import PeopleDirectory, Person
from knowledge.target_groups import TargetGroupList

_FUZZY_SCORE = 85.0
# Short words ("nära", "enkel") must be spelt right: one letter off is another word.
_FUZZY_MIN_LENGTH = 6


@dataclass(frozen=True)
class CheckContext:
    """What the check needs: the target groups, the målbild and the RUG list (None if missing)."""

    target_groups: TargetGroupList
    malbild: Malbild
    rug: PeopleDirectory | None


@dataclass(frozen=True)
class SkallkravDetails:
    """What was recognised and what was not, for showing back to the person."""

    recognised: tuple[str, ...] = ()
    unrecognised: tuple[str, ...] = ()


@dataclass(frozen=True)
class SkallkravItem:
    """The outcome for one skallkrav (1–4) and what to tell the person about it.

    ``message`` is a locale key with its values (``skallkrav.<number>.<case>``);
    rug.checklist words it and shows it with the krav's title.
    """

    number: int
    met: bool
    message: Message
    details: SkallkravDetails = field(default_factory=SkallkravDetails)


@dataclass(frozen=True)
class SkallkravResult:
    """The outcome for all four skallkrav."""

    complete: bool
    items: tuple[SkallkravItem, ...]
    unmet: list[int]
    understood_organisations: list[OrgMatch]


def _quoted(texts: Iterable[str]) -> Names:
    """The person's own words, to quote: »Apoteket« och »Snabb«."""
    return Names.of((t.strip() for t in texts), quoted=True)


def _notes(*notes: Message | None) -> Parts:
    """Further sentences after a krav's message (none, one or several)."""
    return Parts(tuple(n for n in notes if n is not None), lead=" ")


def check_organisations(texts: Sequence[str]) -> SkallkravItem:
    """Krav 1: Region Halland and at least one municipality are involved."""
    return _organisations_item(understand_organisations(texts))


def _organisations_item(matches: list[OrgMatch]) -> SkallkravItem:
    """Build krav 1 from already understood organisations."""
    found: list[str] = []
    for match in matches:
        if match.organisation and match.organisation not in found:
            found.append(match.organisation)
    unknown = [m.text for m in matches if m.organisation is None and m.kind is None]
    vague = [m.text for m in matches if m.organisation is None and m.kind == "kommun"]
    has_region = REGION in found
    municipalities = [name for name in found if name in MUNICIPALITIES]
    details = SkallkravDetails(tuple(found), tuple(unknown + vague))
    notes = _notes(
        Message("skallkrav.1.vague", {"texts": _quoted(vague)}) if vague else None,
        Message("skallkrav.1.unknown", {"texts": _quoted(unknown)}) if unknown else None,
    )
    values: dict[str, Value] = {"found": Names.of(found), "notes": notes}
    if has_region and municipalities:
        return SkallkravItem(1, True, Message("skallkrav.1.met", values), details)
    if not matches:
        case = "none"
    elif not has_region and not municipalities:
        case = "neither"
    elif not has_region:
        case = "no_region"
    else:
        case = "no_municipality"
    return SkallkravItem(1, False, Message(f"skallkrav.1.{case}", values), details)


def check_target_groups(texts: Sequence[str], groups: TargetGroupList) -> SkallkravItem:
    """Krav 2: at least one target group from the configured list."""
    recognised: list[str] = []
    unknown: list[str] = []
    for text in texts:
        if not text.strip():
            continue
        group = groups.match(text)
        if group is None:
            unknown.append(text)
        elif group.name not in recognised:
            recognised.append(group.name)
    details = SkallkravDetails(tuple(recognised), tuple(unknown))
    provisional = Message("skallkrav.2.provisional") if groups.provisional else None
    if recognised:
        not_found = Message("skallkrav.2.not_found", {"texts": _quoted(unknown)})
        case = "met_one" if len(recognised) == 1 else "met_many"
        values: dict[str, Value] = {
            "groups": Names.of(recognised),
            "notes": _notes(not_found if unknown else None, provisional),
        }
        return SkallkravItem(2, True, Message(f"skallkrav.2.{case}", values), details)
    values = {
        "texts": _quoted(unknown),
        "choices": Names.of(groups.names()),
        "notes": _notes(provisional),
    }
    case = "unknown" if unknown else "none"
    return SkallkravItem(2, False, Message(f"skallkrav.2.{case}", values), details)


def _malbild_terms(malbild: Malbild) -> list[tuple[str, str, str]]:
    """Every way to write each parameter: (folded term, id, display name)."""
    terms: list[tuple[str, str, str]] = []
    items = [(p.id, p.name) for p in malbild.goal_properties]
    items += [(f.id, f.name) for f in malbild.factors]
    for item_id, name in items:
        for term in (item_id, name, *malbild.variants_of(item_id)):
            terms.append((fold(term), item_id, name))
    return terms


def recognise_malbild(text: str, malbild: Malbild) -> list[str]:
    """Return the målbild parameter names a text refers to ("Trygghet" → ["Trygg"])."""
    terms = _malbild_terms(malbild)
    folded = fold(text)
    if not folded:
        return []
    for term, _id, name in terms:
        if folded == term:
            return [name]
    words = [w for w in folded.split() if w not in malbild.filler]
    if not words:
        return []
    stripped = " ".join(words)
    for term, _id, name in terms:
        if stripped == term:
            return [name]
    found: list[str] = []
    for word in words:
        for term, _id, name in terms:
            close = (
                len(word) >= _FUZZY_MIN_LENGTH
                and len(term) >= _FUZZY_MIN_LENGTH
                and fuzz.ratio(word, term) >= _FUZZY_SCORE
            )
            if (word == term or close) and name not in found:
                found.append(name)
                break
    return found


def check_malbild(
    goal_properties: Sequence[str], factors: Iterable[str], malbild: Malbild
) -> SkallkravItem:
    """Krav 3: at least one goal property or success factor of the målbild."""
    recognised: list[str] = []
    unknown: list[str] = []
    for text in (*goal_properties, *factors):
        if not text.strip():
            continue
        names = recognise_malbild(text, malbild)
        if not names:
            unknown.append(text)
        for name in names:
            if name not in recognised:
                recognised.append(name)
    details = SkallkravDetails(tuple(recognised), tuple(unknown))
    if recognised:
        not_found = Message("skallkrav.3.not_found", {"texts": _quoted(unknown)})
        values: dict[str, Value] = {
            "found": Names.of(recognised),
            "notes": _notes(not_found if unknown else None),
        }
        return SkallkravItem(3, True, Message("skallkrav.3.met", values), details)
    values = {
        "texts": _quoted(unknown),
        "goals": Names.of(p.name.lower() for p in malbild.goal_properties),
        "factors": Names.of(f.name for f in malbild.factors),
    }
    case = "unknown" if unknown else "none"
    return SkallkravItem(3, False, Message(f"skallkrav.3.{case}", values), details)


def find_endorser(endorsement: Endorsement, rug: PeopleDirectory) -> Person | None:
    """Return the RUG member who endorsed: by object id, then e-mail, then name.

    The name alone counts only when no object id was given, so a different person with the
    same name as a member does not count.
    """
    if endorsement.aad_object_id:
        person = rug.by_aad(endorsement.aad_object_id)
        if person is not None:
            return person
    if endorsement.email:
        person = rug.by_email(endorsement.email)
        if person is not None:
            return person
    if not endorsement.aad_object_id:
        return rug.by_name(endorsement.name)
    return None


def check_endorsement(
    endorsement: Endorsement | None, rug: PeopleDirectory | None
) -> SkallkravItem:
    """Krav 4: approved (förankrat) by at least one RUG member on the configured list."""
    if rug is None or len(rug) == 0:
        return SkallkravItem(4, False, Message("skallkrav.4.no_list"))
    if endorsement is None or not (
        endorsement.name or endorsement.email or endorsement.aad_object_id
    ):
        return SkallkravItem(4, False, Message("skallkrav.4.none"))
    who = endorsement.name or endorsement.email or endorsement.aad_object_id
    person = find_endorser(endorsement, rug)
    if person is None:
        message = Message("skallkrav.4.not_listed", {"who": Names((who,), quoted=True)})
        return SkallkravItem(4, False, message, SkallkravDetails((), (who,)))
    case = "met_at" if person.organisation else "met"
    values = {"name": person.name, "organisation": person.organisation}
    return SkallkravItem(
        4, True, Message(f"skallkrav.4.{case}", values), SkallkravDetails((person.name,), ())
    )


def check_proposal(p: Proposal, ctx: CheckContext) -> SkallkravResult:
    """Check all four skallkrav for a proposal."""
    matches = understand_organisations(p.organisations)
    items = (
        _organisations_item(matches),
        check_target_groups(p.target_groups, ctx.target_groups),
        check_malbild(p.goal_properties, p.success_factors.keys(), ctx.malbild),
        check_endorsement(p.rug_endorsement, ctx.rug),
    )
    unmet = [item.number for item in items if not item.met]
    return SkallkravResult(
        complete=not unmet, items=items, unmet=unmet, understood_organisations=matches
    )
