"""The four skallkrav (must-requirements) a proposal meets before RUG can decide on it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from knowledge.malbild import Malbild
from knowledge.organisations import MUNICIPALITIES, REGION, OrgMatch, fold, understand_organisations
from knowledge.rug import PeopleDirectory, Person
from knowledge.target_groups import TargetGroupList
from domain.proposal import Endorsement, Proposal

# Short headings for each krav, for lists and cards.
SKALLKRAV_TITLES = {
    1: "Berör både regionen och kommunerna",
    2: "Kopplat till minst en målgrupp i färdplanen",
    3: "Kopplat till minst en del av målbilden",
    4: "Godkänt av minst en deltagare i RUG",
}
# Other ways people write the målbild's parameters (folded). The ids and names come from
# the målbild itself; these cover inflections the Swedish stemmer does not join.
MALBILD_VARIANTS: dict[str, tuple[str, ...]] = {
    "personcentrerad": (
        "personcentrerat",
        "personcentrerade",
        "personcentrering",
        "personcentrerat arbetssatt",
    ),
    "sammanhallen": ("sammanhallet", "sammanhallna", "sammanhallande", "sammanhangande"),
    "nara": ("narhet", "nara vard", "nara vard och omsorg"),
    "halsoframjande": ("halsoframjandet", "framja halsa", "halsofremjande"),
    "enkel": ("enkelt", "enkla", "enkelhet"),
    "gemensam": ("gemensamt", "gemensamma", "gemensamhet"),
    "trygg": ("trygghet", "tryggt", "trygga"),
}
# Words that add nothing to which parameter is meant ("personcentrerad vård").
_FILLER = frozenset({"vard", "omsorg", "och", "i", "en", "ett", "arbetssatt", "halland"})
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
    """The outcome for one skallkrav (1–4) with a plain-Swedish message."""

    number: int
    met: bool
    message: str
    details: SkallkravDetails = field(default_factory=SkallkravDetails)


@dataclass(frozen=True)
class SkallkravResult:
    """The outcome for all four skallkrav."""

    complete: bool
    items: tuple[SkallkravItem, ...]
    unmet: list[int]
    understood_organisations: list[OrgMatch]

    @property
    def messages(self) -> list[str]:
        """The four messages, in order."""
        return [item.message for item in self.items]


def swedish_list(names: Sequence[str]) -> str:
    """Swedish list: "A", "A och B", "A, B och C"."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} och {names[-1]}"


def _quoted(texts: Iterable[str]) -> str:
    """Quote the person's own words: »Apoteket« och »Snabb«."""
    return swedish_list([f"»{t.strip()}«" for t in texts])


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
    notes = []
    if vague:
        notes.append(
            f"{_quoted(vague)} låter som en kommunal verksamhet – skriv ut vilken kommun, "
            "till exempel »Hylte kommun«."
        )
    if unknown:
        notes.append(f"Vi känner inte igen {_quoted(unknown)} som en av organisationerna.")
    tail = "".join(f" {n}" for n in notes)
    if has_region and municipalities:
        message = f"Både regionen och minst en kommun är med: {swedish_list(found)}.{tail}"
        return SkallkravItem(1, True, message, details)
    if not matches:
        message = (
            "Ingen organisation är angiven. Initiativet ska beröra både Region Halland och minst "
            "en kommun. Skriv till exempel »Region Halland och Varbergs kommun«."
        )
    elif not has_region and not municipalities:
        message = (
            "Varken Region Halland eller någon kommun är med. Initiativet ska beröra både "
            "regionen och minst en kommun. Skriv till exempel »Region Halland och Varbergs kommun«."
        )
    elif not has_region:
        message = (
            f"Region Halland är inte med (nu: {swedish_list(found)}). Initiativet ska beröra både "
            "regionen och minst en kommun. Lägg till Region Halland eller en regional "
            "verksamhet, till exempel Hallands sjukhus, Närsjukvården eller en vårdcentral."
        )
    else:
        message = (
            "Ingen kommun är med (nu: Region Halland). Initiativet ska beröra både regionen och "
            "minst en kommun. Lägg till minst en av kommunerna Kungsbacka, Varberg, Falkenberg, "
            "Hylte, Halmstad eller Laholm."
        )
    return SkallkravItem(1, False, message + tail, details)


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
    provisional = (
        " Obs: listan över målgrupper är preliminär och ska bekräftas av samordnarna."
        if groups.provisional
        else ""
    )
    not_found = f" {_quoted(unknown)} finns inte bland färdplanens målgrupper." if unknown else ""
    if recognised:
        label = "målgruppen" if len(recognised) == 1 else "målgrupperna"
        message = f"Kopplat till {label} {swedish_list(recognised)}.{not_found}{provisional}"
        return SkallkravItem(2, True, message, details)
    lead = (
        f"{_quoted(unknown)} finns inte bland färdplanens målgrupper."
        if unknown
        else "Ingen målgrupp är angiven."
    )
    message = (
        f"{lead} Initiativet ska kopplas till minst en av färdplanens målgrupper. "
        f"Välj en eller flera av: {swedish_list(groups.names())}.{provisional}"
    )
    return SkallkravItem(2, False, message, details)


def _malbild_terms(malbild: Malbild) -> list[tuple[str, str, str]]:
    """Every way to write each parameter: (folded term, id, display name)."""
    terms: list[tuple[str, str, str]] = []
    items = [(p.id, p.name) for p in malbild.goal_properties]
    items += [(f.id, f.name) for f in malbild.factors]
    for item_id, name in items:
        for term in (item_id, name, *MALBILD_VARIANTS.get(item_id, ())):
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
    words = [w for w in folded.split() if w not in _FILLER]
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
    not_found = f" {_quoted(unknown)} ingår inte i målbilden." if unknown else ""
    if recognised:
        return SkallkravItem(
            3, True, f"Kopplat till målbilden genom {swedish_list(recognised)}.{not_found}", details
        )
    goals = swedish_list([p.name.lower() for p in malbild.goal_properties])
    factor_names = swedish_list([f.name for f in malbild.factors])
    lead = "Ingen del av målbilden är angiven." if not unknown else not_found.strip()
    message = (
        f"{lead} Initiativet ska kopplas till minst en del av målbilden: målet att vården och "
        f"omsorgen är {goals}, eller någon av framgångsfaktorerna {factor_names}."
    )
    return SkallkravItem(3, False, message, details)


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
        return SkallkravItem(
            4,
            False,
            "Kravet kan inte kontrolleras eftersom listan över deltagare i RUG saknas. "
            "Be samordnarna för Omtanke Halland att lägga in listan.",
        )
    if endorsement is None or not (
        endorsement.name or endorsement.email or endorsement.aad_object_id
    ):
        return SkallkravItem(
            4,
            False,
            "Förslaget är inte förankrat hos någon deltagare i RUG (Regional utvecklingsgrupp). "
            "Prata med en RUG-deltagare, gärna från din egen organisation, och ange hens namn "
            "när hen har godkänt förslaget.",
        )
    who = endorsement.name or endorsement.email or endorsement.aad_object_id
    person = find_endorser(endorsement, rug)
    if person is None:
        return SkallkravItem(
            4,
            False,
            f"»{who}« finns inte på listan över deltagare i RUG. Förslaget behöver vara godkänt "
            "av minst en RUG-deltagare. Kontrollera stavningen eller be en RUG-deltagare "
            "godkänna förslaget.",
            SkallkravDetails((), (who,)),
        )
    where = f", {person.organisation}" if person.organisation else ""
    return SkallkravItem(
        4,
        True,
        f"Godkänt av {person.name} (deltagare i RUG{where}).",
        SkallkravDetails((person.name,), ()),
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
